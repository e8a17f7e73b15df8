"""Outgoing webhooks: a unit's subscriptions and the log (and outbox) of their deliveries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onestop.accounts.models import _in
from onestop.db import Base, UTCDateTime, utcnow
from onestop.units.models import follow_catalog

#: every event a webhook may subscribe to (``rating.created`` comes with the ratings work)
EVENTS = ("ticket.issued", "ticket.called", "dossier.received", "dossier.changed", "rating.created",
          "dossier.ready", "dossier.supplement_requested", "dossier.returned")
DELIVERY_STATES = ("pending", "delivered", "failed", "dead")
#: states a delivery is still sent from (``failed`` = will retry)
RETRY_STATES = ("pending", "failed")
MAX_URL = 500
MAX_ERROR = 500


class Webhook(Base):
    """A unit's subscription: signed POSTs of ``events`` to ``url``.

    ``secret`` signs every delivery (HMAC-SHA256), so it is stored as given; the API shows it
    once, when the webhook is created. A webhook is never deleted, only deactivated, so that
    its delivery log stays readable.
    """

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    url: Mapped[str] = mapped_column(String(MAX_URL))
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# every change raises the unit's catalog_version: each process keeps the unit's active
# subscriptions (onestop/queueing/catalog.py) instead of reading them on every call
follow_catalog(Webhook.__table__)  # type: ignore[arg-type]


class WebhookDelivery(Base):
    """One event for one webhook: the outbox row written in the transaction of the change,
    then the log of its sending.

    ``pending`` (not tried yet) -> ``delivered`` (a 2xx answer), or ``failed`` (will be
    retried at ``next_attempt_at``) -> ... -> ``dead`` (gave up after the last attempt).
    ``next_attempt_at`` is null once the delivery is delivered or dead. While a worker is
    sending, ``next_attempt_at`` holds the end of its claim (see ``delivery.claim``).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"state IN {_in(DELIVERY_STATES)}", name="state"),
        CheckConstraint(f"event IN {_in(EVENTS)}", name="event"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(String(MAX_ERROR), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
