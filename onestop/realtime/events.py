"""Every Socket.IO event name, in one place. Names are ``noun.verb``.

==================  ==========================  ==============================================
event               namespaces                  payload
==================  ==========================  ==============================================
state               /display                    display snapshot (GET /api/v1/display/state)
ticket.called       /display, /counter          {ticket: {id, label, service, service_id},
                                                 counter: {id, number, name}, recall, at}
ticket.issued       /counter                    {ticket: {id, label, service_id, priority}, at}
ticket.changed      /counter                    {ticket: {id, label, state, service_id,
                                                 counter_id}, action, at}
queue.changed       /display, /counter          {unit_id, waiting: [{service_id, waiting}]}
counter.changed     /display, /counter          {counter: {id, number, name, state,
                                                 pause_reason, clerk_id}}
day.closed          /counter                    {unit_id, business_date, expired}
==================  ==========================  ==============================================

Rooms: ``u{unit_id}`` (whole unit) and ``u{unit_id}z{zone}`` (one zone) on /display;
``u{unit_id}`` and ``c{counter_id}`` on /counter.
"""

STATE = "state"
TICKET_CALLED = "ticket.called"
TICKET_ISSUED = "ticket.issued"
TICKET_CHANGED = "ticket.changed"
QUEUE_CHANGED = "queue.changed"
COUNTER_CHANGED = "counter.changed"
DAY_CLOSED = "day.closed"

DISPLAY_NS = "/display"
COUNTER_NS = "/counter"


def unit_room(unit_id: int) -> str:
    return f"u{unit_id}"


def zone_room(unit_id: int, zone: str) -> str:
    return f"u{unit_id}z{zone}"


def counter_room(counter_id: int) -> str:
    return f"c{counter_id}"
