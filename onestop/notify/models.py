"""Subscriptions and the message outbox (issue 21; docs/notifications.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onestop.accounts.models import _in
from onestop.db import Base, UTCDateTime

SUBJECTS = ("ticket", "booking", "dossier")
ADDRESS_KINDS = ("phone", "email")
EVENTS = ("ticket.near", "ticket.called", "ticket.transferred", "booking.confirmed",
          "booking.reminder", "booking.cancelled", "dossier.ready", "dossier.supplement_requested")
MESSAGE_STATES = ("pending", "sent", "dead", "dropped")
CHANNELS = ("sms", "zns", "email")
MAX_ERROR = 300


class NotifySubscription(Base):
    """A phone (``+84…``, normalised) or e-mail address that wants the messages of one ticket,
    booking or dossier. Erased with its subject's personal data: at day close for tickets and
    bookings of the day, with the dossier's retention (``onestop.privacy``) for dossiers."""

    __tablename__ = "notify_subscriptions"
    __table_args__ = (
        CheckConstraint(f"subject IN {_in(SUBJECTS)}", name="subject"),
        CheckConstraint(f"address_kind IN {_in(ADDRESS_KINDS)}", name="address_kind"),
        UniqueConstraint("subject", "subject_id", "address"),
        Index("ix_notify_subscriptions_unit_day", "unit_id", "business_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    subject: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[int] = mapped_column()
    business_date: Mapped[dt.date] = mapped_column()  # tickets and bookings: erased after it
    address_kind: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(254))
    lang: Mapped[str] = mapped_column(String(2), default="vi")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class NotifyMessage(Base):
    """One message to send for one event to one subscription: written in the transaction of
    the event, then the log of its sending.

    ``pending`` (due at ``next_attempt_at``; ``attempts`` > 0: failed and retried) ->
    ``sent``, ``dead`` (gave up), or ``dropped`` (its moment passed, the subscription was
    erased, or the address reached its daily limit: never sent late). ``dedup`` makes one
    message per subscription and event occurrence. ``masked``: the address as staff see it,
    kept when the subscription is erased."""

    __tablename__ = "notify_messages"
    __table_args__ = (
        CheckConstraint(f"state IN {_in(MESSAGE_STATES)}", name="state"),
        CheckConstraint(f"event IN {_in(EVENTS)}", name="event"),
        UniqueConstraint("subscription_id", "dedup"),
        Index("ix_notify_messages_due", "state", "next_attempt_at"),
        Index("ix_notify_messages_subject", "subject", "subject_id"),
        Index("ix_notify_messages_unit_created", "unit_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("notify_subscriptions.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[int] = mapped_column()
    event: Mapped[str] = mapped_column(String(40))
    dedup: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    masked: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(8), default="pending")
    channel: Mapped[str | None] = mapped_column(String(8))  # the channel that sent it (or last tried)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(MAX_ERROR), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
