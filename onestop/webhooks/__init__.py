"""Outgoing webhooks: signed HTTP POSTs of engine events to other systems (the provincial
one-stop information system).

models.py      Webhook (per unit), WebhookDelivery (the outbox and the delivery log)
engine.py      subscriptions, ``queue_event`` (the outbox), retries by hand, pruning
subscriber.py  engine signals -> deliveries, in the transaction of the change
delivery.py    the signed POST, the compare-and-set claim, backoff; the integrator's recipe
worker.py      the background loop of a server process
netguard.py    which URLs and addresses a webhook may reach (SSRF care)
config.py      the WEBHOOK_* settings
"""
