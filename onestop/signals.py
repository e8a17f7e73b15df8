"""Domain signals: the only way the engine tells the rest of the system what happened.

Each signal is sent with the SQLAlchemy ``Session`` as sender, after the change has been
flushed and before it is committed. ``onestop.realtime`` turns them into Socket.IO events
*after commit* (a rolled-back change announces nothing).

=====================  ==============================================================
signal                 keyword arguments
=====================  ==============================================================
ticket_issued          ticket
ticket_called          ticket, counter, recall (bool)
ticket_changed         ticket, action (str: skip, finish, transfer, park, requeue, ...)
counter_changed        counter
queue_changed          unit_id, service_ids (list[int])
day_closed             unit_id, business_date, expired (int)
dossier_received       dossier
dossier_changed        dossier, action (str: state, apology), from_state (str)
dossier_ready          dossier, from_state, details ({pickup_place?}): the result is
                       available (sent after dossier_changed, for the citizen's messages)
dossier_supplement_    dossier, from_state, details ({missing: [str], reason}): the
  requested            citizen must hand in what is missing
dossier_returned       dossier, from_state, details ({collected_by: {by_applicant, name,
                       id_number?, authorisation?}}): the result was handed over
rating_created         rating
device_disowned        device (revoked, or its token rotated: its open sockets must go)
user_disowned          user_id, token_hash (a revoked API token; None: the account was
                       disabled or all its tokens revoked): its open /counter sockets must go
booking_changed        booking, action (str: booked, cancelled, checked_in, no_show): a
                       booking (onestop/bookings/) changed
display_message_       unit_id, message ({text, until} or {}): the manager's timed
  changed              message on the hall displays (onestop/api/desk.py)
=====================  ==============================================================

``ticket`` is a ``Ticket``, except for the ``finish`` that call-next makes before calling
the next ticket: there it is the row of the finishing ``UPDATE ... RETURNING``, with the
same attribute names (every column) but no relationships. A receiver that needs one (the
ticket's counter, say) loads it by id; the field's name and zone come from
``onestop.queueing.catalog``.
"""

from blinker import Namespace

_ns = Namespace()

ticket_issued = _ns.signal("ticket-issued")
ticket_called = _ns.signal("ticket-called")
ticket_changed = _ns.signal("ticket-changed")
counter_changed = _ns.signal("counter-changed")
queue_changed = _ns.signal("queue-changed")
day_closed = _ns.signal("day-closed")
dossier_received = _ns.signal("dossier-received")
dossier_changed = _ns.signal("dossier-changed")
dossier_ready = _ns.signal("dossier-ready")
dossier_supplement_requested = _ns.signal("dossier-supplement-requested")
dossier_returned = _ns.signal("dossier-returned")
rating_created = _ns.signal("rating-created")
device_disowned = _ns.signal("device-disowned")
user_disowned = _ns.signal("user-disowned")
booking_changed = _ns.signal("booking-changed")
display_message_changed = _ns.signal("display-message-changed")
