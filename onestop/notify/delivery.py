"""Sending messages: the claim, the "still timely" check, the channels, retries, dead.

Rows are claimed one at a time with a compare-and-set ``UPDATE ... WHERE state = 'pending'
AND next_attempt_at <= now`` that also moves ``next_attempt_at`` to the end of a lease and
counts the attempt (the webhooks' way, onestop/webhooks/delivery.py): only the worker whose
update changed the row sends it, so two loops (threads, processes, instances on PostgreSQL)
never send one message twice. The result is written back only if the row still carries the
claimed attempt. No transaction is open while a message is on the wire.

Before sending, in the claim's transaction, a message whose moment has passed is
``dropped``, not sent late: ``ticket.near`` and ``ticket.transferred`` once the ticket no
longer waits, ``ticket.called`` once it is no longer called or served, a booking's messages
once it is no longer booked (or has started), ``dossier.*`` once the dossier left that state;
also when the subscription was erased, and when the address already received
``notify_daily_limit`` messages in the last 24 hours.

A phone gets Zalo ZNS when ``ZNS_URL`` is set and the event has a ZNS template
(``ZNS_TEMPLATES``), with SMS as the fallback when ZNS refuses or fails; otherwise SMS.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from onestop.db import utcnow
from onestop.dossiers.models import Dossier
from onestop.notify import channels, templates
from onestop.notify.channels import Outcome
from onestop.notify.config import NotifyConfig
from onestop.notify.models import MAX_ERROR, NotifyMessage, NotifySubscription
from onestop.queueing.models import Ticket
from onestop.units.models import Unit

log = logging.getLogger(__name__)
SUBJECTS = {"ticket.near": ("waiting",), "ticket.transferred": ("waiting",),
            "ticket.called": ("called", "serving"), "dossier.ready": ("ready",),
            "dossier.supplement_requested": ("supplement_requested",),
            "booking.confirmed": ("booked",), "booking.reminder": ("booked",)}
SUBJECT_LINES = {"vi": "{unit}: thông báo", "en": "{unit}: notice"}


@dataclass(frozen=True)
class Claimed:
    """A message this worker holds, rendered, with where it goes."""

    id: int
    event: str
    attempts: int
    kind: str
    address: str
    text: str
    sms: str
    subject: str
    zns_data: dict[str, str]


@dataclass
class PassResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    dropped: int = 0
    ids: list[int] = field(default_factory=list)

    def add(self, state: str, message_id: int) -> None:
        setattr(self, state, getattr(self, state) + 1)
        self.ids.append(message_id)


Observer = Callable[[str, str], None]  # (channel, outcome): /metrics


def _observe(channel: str, outcome: str) -> None:
    from onestop.ops.metrics import NOTIFY_MESSAGES

    NOTIFY_MESSAGES.labels(channel, outcome).inc()


# --- due, claim ----------------------------------------------------------------------------------


def due(factory: sessionmaker[Session], now: dt.datetime, limit: int) -> list[int]:
    with factory() as session:
        ids = session.scalars(select(NotifyMessage.id).where(
            NotifyMessage.state == "pending", NotifyMessage.next_attempt_at <= now)
            .order_by(NotifyMessage.next_attempt_at, NotifyMessage.id).limit(limit)).all()
        session.commit()
    return [int(i) for i in ids]


def next_due_at(factory: sessionmaker[Session]) -> dt.datetime | None:
    with factory() as session:
        when = session.scalar(select(func.min(NotifyMessage.next_attempt_at))
                              .where(NotifyMessage.state == "pending"))
        session.commit()
    return when if isinstance(when, dt.datetime) else None


def _subject_state(session: Session, message: NotifyMessage, now: dt.datetime) -> str | None:
    if message.subject == "ticket":
        ticket = session.get(Ticket, message.subject_id)
        return ticket.state if ticket is not None else None
    if message.subject == "dossier":
        dossier = session.get(Dossier, message.subject_id)
        return dossier.state if dossier is not None else None
    from onestop.bookings.models import Booking

    booking = session.get(Booking, message.subject_id)
    if booking is None:
        return None
    return "started" if booking.state == "booked" and booking.start <= now else booking.state


def why_drop(session: Session, message: NotifyMessage, sub: NotifySubscription | None, unit: Unit,
             now: dt.datetime) -> str | None:
    """Why ``message`` must not be sent now (None: send it)."""
    if sub is None:
        return "erased"
    wanted = SUBJECTS.get(message.event)
    if wanted is not None and _subject_state(session, message, now) not in wanted:
        return "too_late"
    since = now - dt.timedelta(hours=24)
    sent = session.scalar(select(func.count()).select_from(NotifyMessage).join(
        NotifySubscription, NotifySubscription.id == NotifyMessage.subscription_id).where(
        NotifySubscription.address == sub.address, NotifyMessage.state == "sent",
        NotifyMessage.sent_at >= since)) or 0
    return "daily_limit" if sent >= int(unit.setting("notify_daily_limit")) else None


def _render(message: NotifyMessage, sub: NotifySubscription, unit: Unit, config: NotifyConfig) -> Claimed:
    values = dict(message.data or {})
    text = templates.text_for(unit, message.event, sub.lang, values)
    sms = templates.sms_text(unit, message.event, sub.lang, values, ascii_only=config.sms_ascii,
                             max_chars=config.sms_max_chars)
    subject = templates.render(SUBJECT_LINES["en" if sub.lang == "en" else "vi"], {"unit": unit.name})
    zns_data = {"unit": unit.name, **{k: str(v) for k, v in values.items()}}
    return Claimed(message.id, message.event, message.attempts, sub.address_kind, sub.address, text, sms,
                   subject, zns_data)


def claim(factory: sessionmaker[Session], message_id: int, now: dt.datetime,
          config: NotifyConfig) -> Claimed | str | None:
    """Take the message for one attempt: rendered (``Claimed``), ``"dropped"`` (its moment
    passed: recorded), or None if another worker has it or it is not due."""
    lease = now + dt.timedelta(seconds=config.lease_s)
    with factory() as session:
        result = session.execute(
            update(NotifyMessage).where(NotifyMessage.id == message_id, NotifyMessage.state == "pending",
                                        NotifyMessage.next_attempt_at <= now)
            .values(attempts=NotifyMessage.attempts + 1, next_attempt_at=lease)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            return None
        message = session.get(NotifyMessage, message_id)
        assert message is not None
        sub = session.get(NotifySubscription, message.subscription_id) if message.subscription_id else None
        unit = session.get(Unit, message.unit_id)
        assert unit is not None
        reason = why_drop(session, message, sub, unit, now)
        if reason is not None or sub is None:
            message.state, message.next_attempt_at, message.last_error = "dropped", None, reason or "erased"
            session.commit()
            return "dropped"
        claimed = _render(message, sub, unit, config)
        session.commit()
    return claimed


# --- send, record --------------------------------------------------------------------------------


def send(claimed: Claimed, config: NotifyConfig, observe: Observer = _observe) -> tuple[str, Outcome]:
    """Send over the right channel (ZNS then SMS for a phone): ``(channel, outcome)``."""
    if claimed.kind == "email":
        return "email", channels.send_email(config, claimed.address, claimed.subject, claimed.text)
    template_id = config.zns_templates.get(claimed.event)
    if config.zns_url and template_id:
        outcome = channels.send_zns(config, claimed.address, template_id, claimed.zns_data,
                                    tracking_id=f"onestop-{claimed.id}")
        if outcome.ok or not config.sms_url:
            return "zns", outcome
        observe("zns", "fallback")
        log.info("message %s: ZNS failed (%s), sending by SMS", claimed.id, outcome.error)
    return "sms", channels.send_sms(config, claimed.address, claimed.sms)


def outcome_values(outcome: Outcome, attempts: int, now: dt.datetime, config: NotifyConfig) -> dict[str, Any]:
    values: dict[str, Any] = {"last_error": outcome.error[:MAX_ERROR]}
    if outcome.ok:
        return {**values, "state": "sent", "sent_at": now, "next_attempt_at": None}
    if outcome.refused or attempts >= config.max_attempts:
        return {**values, "state": "dead", "next_attempt_at": None}
    return {**values, "next_attempt_at": now + dt.timedelta(seconds=config.backoff(attempts))}


def record(factory: sessionmaker[Session], claimed: Claimed, channel: str, outcome: Outcome,
           now: dt.datetime, config: NotifyConfig) -> str | None:
    """Write the attempt's outcome (``sent``, ``failed``, ``dead``); None if the claim was lost."""
    values = {**outcome_values(outcome, claimed.attempts, now, config), "channel": channel}
    with factory() as session:
        result = session.execute(
            update(NotifyMessage).where(NotifyMessage.id == claimed.id, NotifyMessage.state == "pending",
                                        NotifyMessage.attempts == claimed.attempts)
            .values(**values).execution_options(synchronize_session=False))
        session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("message %s: attempt %s not recorded (claim lost)", claimed.id, claimed.attempts)
        return None
    return str(values.get("state", "failed"))


def send_one(factory: sessionmaker[Session], message_id: int, now: dt.datetime, config: NotifyConfig,
             observe: Observer = _observe) -> str | None:
    claimed = claim(factory, message_id, now, config)
    if claimed is None:
        return None
    if claimed == "dropped":
        observe("-", "dropped")
        return "dropped"
    assert isinstance(claimed, Claimed)
    channel, outcome = send(claimed, config, observe)
    state = record(factory, claimed, channel, outcome, utcnow(), config)
    if state is not None:
        observe(channel, state)
        if state != "sent":  # never the address: only the id, the event and why
            log.info("message %s (%s) attempt %s via %s: %s", claimed.id, claimed.event, claimed.attempts,
                     channel, outcome.error)
    return state


def run_pass(factory: sessionmaker[Session], config: NotifyConfig, now: dt.datetime | None = None,
             observe: Observer = _observe) -> PassResult:
    """Send every message due at ``now`` (default: the clock) once; safe to run from several
    loops at the same time (``claim``)."""
    now = now or utcnow()
    result = PassResult()
    for message_id in due(factory, now, config.batch):
        state = send_one(factory, message_id, now, config, observe)
        if state is not None:
            result.add(state, message_id)
    return result


def retry_dead(session: Session, unit_id: int, now: dt.datetime) -> int:
    """Send the unit's dead messages of the last day again (an administrator's choice)."""
    result = session.execute(update(NotifyMessage).where(
        NotifyMessage.unit_id == unit_id, NotifyMessage.state == "dead",
        NotifyMessage.created_at >= now - dt.timedelta(days=1))
        .values(state="pending", attempts=0, next_attempt_at=now, last_error="")
        .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
