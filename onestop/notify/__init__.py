"""Messages to citizens (issue 21): "còn 3 người", "mời đến quầy số 3", "hồ sơ đã có kết quả"
by SMS, Zalo ZNS or e-mail, reliably and lawfully.

models.py      NotifySubscription (a phone or e-mail attached to a ticket, booking or
               dossier), NotifyMessage (the outbox and the delivery log)
config.py      the SMS_*, ZNS_*, SMTP_*, NOTIFY_* settings
templates.py   the texts per event (Vietnamese, English), defaults in code, per unit edits
engine.py      subscribe, queue a message, the "near" check, erasure, listings
subscriber.py  engine signals -> messages, in the transaction of the change
channels.py    the wire: SMS gateway (JSON over HTTP), Zalo ZNS, SMTP
delivery.py    claim, still-timely check, send, record, backoff, dead
worker.py      the background loop of a server process (onestop/outbox_loop.py)
"""
