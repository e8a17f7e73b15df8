"""The webhook engine: subscriptions, the outbox, retries by hand, pruning.

Functions take the ``Session`` and ``now``; they never commit and never read the clock.
Refusals raise ``DomainError``:

========================  ======  ===================================================
code                      status  when
========================  ======  ===================================================
invalid_webhook_url       422     see ``netguard.check_url`` (``reason``)
invalid_webhook_events    422     none, or a name not in ``EVENTS`` (``unknown``)
invalid_webhook_secret    422     a secret given by hand is shorter than 16 or longer
                                  than 128 characters, or not printable ASCII
webhook_limit_reached     409     the unit has ``MAX_WEBHOOKS`` active webhooks
webhook_not_found         404     not a webhook of the unit
delivery_not_found        404     not a delivery of that webhook
webhook_inactive          409     a retry on a deactivated webhook
========================  ======  ===================================================

The outbox: ``queue_event`` adds one ``WebhookDelivery`` per active webhook of the unit
subscribed to the event, in the caller's transaction. A rolled-back change therefore sends
nothing and a committed one is never lost; ``onestop.webhooks.delivery`` sends the rows
after the commit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from onestop.queueing.catalog import subscriptions
from onestop.queueing.errors import DomainError, NotFound
from onestop.units.models import Unit
from onestop.webhooks.models import EVENTS, RETRY_STATES, Webhook, WebhookDelivery
from onestop.webhooks.netguard import check_url

MAX_WEBHOOKS = 20
SECRET_PREFIX = "whsec_"
#: ``session.info`` key: this transaction queued deliveries (the worker is woken on commit)
QUEUED = "webhooks_queued"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def normalize_events(events: Iterable[str]) -> list[str]:
    """The event names, known, unique, in ``EVENTS`` order; ``invalid_webhook_events``."""
    names = {str(e).strip() for e in events}
    unknown = sorted(names - set(EVENTS))
    if unknown or not names:
        raise DomainError("invalid_webhook_events", status=422, unknown=unknown or None)
    return [e for e in EVENTS if e in names]


def _check_secret(secret: str) -> str:
    if not 16 <= len(secret) <= 128 or not all(33 <= ord(c) < 127 for c in secret):
        raise DomainError("invalid_webhook_secret", status=422)
    return secret


def create_webhook(session: Session, unit: Unit, url: str, events: Iterable[str], *, now: dt.datetime,
                   allow_loopback: bool = False, secret: str | None = None,
                   created_by_id: int | None = None) -> Webhook:
    """A new active webhook of ``unit``; its ``secret`` is generated unless given."""
    url = check_url(url, allow_loopback)
    names = normalize_events(events)
    active = session.scalar(select(func.count()).select_from(Webhook)
                            .where(Webhook.unit_id == unit.id, Webhook.active.is_(True))) or 0
    if active >= MAX_WEBHOOKS:
        raise DomainError("webhook_limit_reached", limit=MAX_WEBHOOKS)
    webhook = Webhook(unit_id=unit.id, url=url, events=names, active=True, created_at=now,
                      secret=_check_secret(secret) if secret is not None else new_secret(),
                      created_by_id=created_by_id)
    session.add(webhook)
    session.flush()
    return webhook


def find_webhook(session: Session, webhook_id: int, unit_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id) if 0 < webhook_id < 2**31 else None
    if webhook is None or webhook.unit_id != unit_id:
        raise NotFound("webhook_not_found")
    return webhook


def deactivate_webhook(session: Session, webhook: Webhook, *, now: dt.datetime) -> Webhook:
    """Stop sending (idempotent). Deliveries still waiting become ``dead``; the log stays."""
    if webhook.active:
        webhook.active, webhook.deactivated_at = False, now
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.state.in_(RETRY_STATES))
            .values(state="dead", next_attempt_at=None, last_error="webhook_inactive")
            .execution_options(synchronize_session=False))
        session.flush()
    return webhook


def queue_event(session: Session, unit_id: int, event: str, data: Mapping[str, Any], *,
                now: dt.datetime) -> int:
    """Queue ``event`` with ``data`` for every active webhook of the unit subscribed to it,
    in the caller's transaction; the number of deliveries queued.

    For signal receivers (``onestop.webhooks.subscriber``, and the ratings work later).
    ``data`` must hold no personal data of citizens.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event}")
    # on the path of every ticket issued and called: held per process, checked against the
    # unit's catalog version (onestop/queueing/catalog.py)
    targets = [hook_id for hook_id, events in subscriptions(session, unit_id) if event in events]
    for webhook_id in targets:
        session.add(WebhookDelivery(webhook_id=webhook_id, event=event, payload=dict(data),
                                    state="pending", attempts=0, next_attempt_at=now, created_at=now,
                                    last_error=""))
    if targets:
        session.info[QUEUED] = True
    return len(targets)


def find_delivery(session: Session, webhook: Webhook, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id) if 0 < delivery_id < 2**31 else None
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound("delivery_not_found")
    return delivery


def retry_delivery(session: Session, webhook: Webhook, delivery: WebhookDelivery, *,
                   now: dt.datetime) -> WebhookDelivery:
    """Send the delivery again as soon as a worker can (any state).

    The attempt count is kept: a ``dead`` delivery gets one more attempt (and is dead again
    if it fails), a ``failed`` one continues its schedule, a ``delivered`` one is sent again
    (receivers deduplicate on the delivery id).
    """
    if not webhook.active:
        raise DomainError("webhook_inactive")
    delivery.state, delivery.next_attempt_at = ("failed" if delivery.attempts else "pending"), now
    delivery.delivered_at = None
    session.flush()
    session.info[QUEUED] = True
    return delivery


def deliveries(session: Session, webhook: Webhook, *, state: str | None = None, limit: int = 50,
               before_id: int | None = None) -> list[WebhookDelivery]:
    """The webhook's deliveries, newest first (``before_id`` pages back)."""
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if state:
        query = query.where(WebhookDelivery.state == state)
    if before_id:
        query = query.where(WebhookDelivery.id < before_id)
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def delivery_counts(session: Session, webhook_ids: list[int]) -> dict[int, dict[str, int]]:
    """``{webhook_id: {state: count}}``."""
    if not webhook_ids:
        return {}
    rows = session.execute(select(WebhookDelivery.webhook_id, WebhookDelivery.state, func.count())
                           .where(WebhookDelivery.webhook_id.in_(webhook_ids))
                           .group_by(WebhookDelivery.webhook_id, WebhookDelivery.state)).all()
    counts: dict[int, dict[str, int]] = {i: {} for i in webhook_ids}
    for webhook_id, state, count in rows:
        counts[webhook_id][state] = int(count)
    return counts


def prune(session: Session, *, before: dt.datetime) -> int:
    """Delete delivered and dead deliveries created before ``before``; how many."""
    result = session.execute(delete(WebhookDelivery).where(
        WebhookDelivery.state.in_(("delivered", "dead")), WebhookDelivery.created_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
