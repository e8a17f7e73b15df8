"""Every Socket.IO event name, in one place. Names are ``noun.verb``.

==================  ==========================  ==============================================
event               namespaces                  payload
==================  ==========================  ==============================================
state               /display                    display snapshot (GET /api/v1/display/state)
ticket.called       /display, /counter          {ticket: {id, label, service, service_id},
                                                 counter: {id, number, name}, recall, at,
                                                 waiting: [{service_id, waiting}] (the
                                                 called field's count after the call)}
ticket.issued       /counter                    {ticket: {id, label, service_id, priority}, at}
ticket.changed      /counter                    {ticket: {id, label, state, service_id,
                                                 counter_id}, action, at}
queue.changed       /display, /counter          {unit_id, waiting: [{service_id, waiting}]};
                                                 on /display without the counts a
                                                 ticket.called just carried (unchanged)
counter.changed     /display, /counter          {counter: {id, number, name, state,
                                                 pause_reason, clerk_id, zone, serving:
                                                 {id, label, state, service_id, service}
                                                 or null}}; on /display also when a
                                                 ticket leaves the counter (once per commit),
                                                 then with left: {id, label, outcome: done|
                                                 missed|parked|transferred|...} (else null)
day.closed          /counter                    {unit_id, business_date, expired}
dossier.received    /counter                    {dossier: {code, state, procedure_code,
                                                 service_id, appointment_at, due_at}, at}
                                                 (no applicant data: tablets share the room)
dossier.changed     /counter                    {dossier: {...as above}, action (state,
                                                 apology), from_state, at}
printer.alarm       /counter                    {unit_id, reason, error, detail, device: {id,
                                                 name, kind}, ticket: {id, label} or null,
                                                 job_id, at} (onestop/printing/relay.py)
job.print           /agent (server -> agent)    {job_id, kind, ticket_id, label, data
                                                 (ESC/POS, base64), expires_in (seconds)}
job.ack             /agent (agent -> server)    {job_id, state: printed|sent|failed|expired,
                                                 error, detail}; answered {recorded: bool}
rating.requested    /counter (room c{id})       {ticket: {id, label, service, service_id},
                                                 counter: {id, number, name}, clerk: {id,
                                                 name}, scale, levels, timeout_seconds, at}:
                                                 the counter's tablet shows the rating screen
rating.created      /counter                    {rating: {id, ticket_id, dossier_id, level,
                                                 score, counter_id, service_id, source}, at}
agent.status        /agent (agent -> server)    {state: online|paper_near_end|paper_out|
                                                 offline|unknown, detail}
queue.wait_alert    /counter                    {unit_id, alerts: [{service_id, service,
                                                 ticket_id, label, waited_minutes, threshold}],
                                                 at}: fields waiting too long, when the list
                                                 changes (onestop/realtime/desk.py)
display.message     /display                    {unit_id, message: {text, until} or {}}: the
                                                 manager's timed hall message
==================  ==========================  ==============================================

Rooms: ``u{unit_id}`` (whole unit) and ``u{unit_id}z{zone}`` (one zone) on /display;
``u{unit_id}`` and ``c{counter_id}`` on /counter; ``a{device_id}`` (one print agent) on /agent;
``d{device_id}`` (one paired device) on every namespace it joins, so that a revoked or
re-keyed device's sockets can be closed.
"""

STATE = "state"
TICKET_CALLED = "ticket.called"
TICKET_ISSUED = "ticket.issued"
TICKET_CHANGED = "ticket.changed"
QUEUE_CHANGED = "queue.changed"
COUNTER_CHANGED = "counter.changed"
DAY_CLOSED = "day.closed"
DOSSIER_RECEIVED = "dossier.received"
DOSSIER_CHANGED = "dossier.changed"
PRINTER_ALARM = "printer.alarm"
JOB_PRINT = "job.print"
JOB_ACK = "job.ack"
AGENT_STATUS = "agent.status"
RATING_REQUESTED = "rating.requested"
RATING_CREATED = "rating.created"

DISPLAY_NS = "/display"
COUNTER_NS = "/counter"
AGENT_NS = "/agent"


def unit_room(unit_id: int) -> str:
    return f"u{unit_id}"


def zone_room(unit_id: int, zone: str) -> str:
    return f"u{unit_id}z{zone}"


def counter_room(counter_id: int) -> str:
    return f"c{counter_id}"


def agent_room(device_id: int) -> str:
    return f"a{device_id}"


def device_room(device_id: int) -> str:
    return f"d{device_id}"
