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


# who hears of each outcome: /metrics adds its counter here (onestop/ops/metrics.py), so that
# sending knows nothing of the web layer
OBSERVERS: list[Observer] = []


def _observe(channel: str, outcome: str) -> None:
    for observer in OBSERVERS:
        observer(channel, outcome)


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


def _subject_states(session: Session, messages: list[NotifyMessage],
                    now: dt.datetime) -> dict[tuple[str, int], str]:
    """The state of each message's ticket, booking or dossier (one query per kind): a booking
    past its start counts as ``started``."""
    from onestop.bookings.models import Booking

    wanted: dict[str, set[int]] = {}
    for message in messages:
        wanted.setdefault(message.subject, set()).add(message.subject_id)
    out: dict[tuple[str, int], str] = {}
    if wanted.get("ticket"):
        rows = session.execute(select(Ticket.id, Ticket.state).where(Ticket.id.in_(wanted["ticket"])))
        out.update({("ticket", int(i)): str(state) for i, state in rows})
    if wanted.get("dossier"):
        rows = session.execute(select(Dossier.id, Dossier.state).where(Dossier.id.in_(wanted["dossier"])))
        out.update({("dossier", int(i)): str(state) for i, state in rows})
    if wanted.get("booking"):
        for i, state, start in session.execute(select(Booking.id, Booking.state, Booking.start)
                                               .where(Booking.id.in_(wanted["booking"]))):
            out[("booking", int(i))] = "started" if state == "booked" and start <= now else str(state)
    return out


def _sent_today(session: Session, addresses: set[str], now: dt.datetime) -> dict[str, int]:
    """Messages sent to each address in the last 24 hours (one grouped query)."""
    if not addresses:
        return {}
    rows = session.execute(select(NotifySubscription.address, func.count()).join(
        NotifyMessage, NotifyMessage.subscription_id == NotifySubscription.id).where(
        NotifySubscription.address.in_(addresses), NotifyMessage.state == "sent",
        NotifyMessage.sent_at >= now - dt.timedelta(hours=24)).group_by(NotifySubscription.address))
    return {str(address): int(n) for address, n in rows}


def why_drop(message: NotifyMessage, sub: NotifySubscription | None, unit: Unit, state: str | None,
             sent: int) -> str | None:
    """Why ``message`` must not be sent now (None: send it)."""
    if sub is None:
        return "erased"
    wanted = SUBJECTS.get(message.event)
    if wanted is not None and state not in wanted:
        return "too_late"
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


def claim(factory: sessionmaker[Session], message_ids: list[int], now: dt.datetime,
          config: NotifyConfig) -> tuple[list[Claimed], list[int]]:
    """Take these messages for one attempt each, in one transaction: ``(claimed, dropped)``.

    The claim is one ``UPDATE ... WHERE state = 'pending' AND next_attempt_at <= now ...
    RETURNING id``: a message another worker holds, or no longer due, is not returned. Of
    those taken, a message whose moment passed is ``dropped`` here (recorded); the others
    come back rendered."""
    lease = now + dt.timedelta(seconds=config.lease_s)
    with factory() as session:
        taken = session.execute(
            update(NotifyMessage).where(NotifyMessage.id.in_(message_ids), NotifyMessage.state == "pending",
                                        NotifyMessage.next_attempt_at <= now)
            .values(attempts=NotifyMessage.attempts + 1, next_attempt_at=lease)
            .returning(NotifyMessage.id).execution_options(synchronize_session=False)).scalars().all()
        if not taken:
            session.rollback()
            return [], []
        messages = list(session.scalars(select(NotifyMessage).where(NotifyMessage.id.in_(taken))
                                        .order_by(NotifyMessage.id)))
        sub_ids = {m.subscription_id for m in messages if m.subscription_id}
        subs = {s.id: s for s in session.scalars(select(NotifySubscription)
                                                 .where(NotifySubscription.id.in_(sub_ids)))}
        unit_ids = {m.unit_id for m in messages}
        units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
        states = _subject_states(session, messages, now)
        sent = _sent_today(session, {s.address for s in subs.values()}, now)
        claimed, dropped = [], []
        for message in messages:
            sub = subs.get(message.subscription_id or 0)
            unit = units[message.unit_id]
            reason = why_drop(message, sub, unit, states.get((message.subject, message.subject_id)),
                              sent.get(sub.address, 0) if sub else 0)
            if reason is not None or sub is None:
                message.state, message.next_attempt_at = "dropped", None
                message.last_error = reason or "erased"
                dropped.append(message.id)
                continue
            sent[sub.address] = sent.get(sub.address, 0) + 1  # the limit counts this pass too
            claimed.append(_render(message, sub, unit, config))
        session.commit()
    return claimed, dropped


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


def record(factory: sessionmaker[Session], results: list[tuple[Claimed, str, Outcome]], now: dt.datetime,
           config: NotifyConfig) -> list[str | None]:
    """Write each attempt's outcome (``sent``, ``failed``, ``dead``) in one transaction; None
    for one whose claim was lost (its row no longer carries the attempt)."""
    states: list[str | None] = []
    with factory() as session:
        for claimed, channel, outcome in results:
            values = {**outcome_values(outcome, claimed.attempts, now, config), "channel": channel}
            result = session.execute(
                update(NotifyMessage).where(NotifyMessage.id == claimed.id, NotifyMessage.state == "pending",
                                            NotifyMessage.attempts == claimed.attempts)
                .values(**values).execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                log.warning("message %s: attempt %s not recorded (claim lost)", claimed.id, claimed.attempts)
                states.append(None)
            else:
                states.append(str(values.get("state", "failed")))
        session.commit()
    return states


def chunk_size(config: NotifyConfig) -> int:
    """Messages claimed at once: all sent (two channels each at worst) well within the lease."""
    return max(1, int(config.lease_s / (2 * config.timeout_s)) - 1)


def send_chunk(factory: sessionmaker[Session], message_ids: list[int], now: dt.datetime, config: NotifyConfig,
               result: PassResult, observe: Observer = _observe) -> None:
    """Claim, send and record a few messages."""
    claimed, dropped = claim(factory, message_ids, now, config)
    for message_id in dropped:
        observe("-", "dropped")
        result.add("dropped", message_id)
    sent = [(c, *send(c, config, observe)) for c in claimed]
    for (one, channel, outcome), state in zip(sent, record(factory, sent, utcnow(), config), strict=True):
        if state is None:
            continue
        observe(channel, state)
        result.add(state, one.id)
        if state != "sent":  # never the address: only the id, the event and why
            log.info("message %s (%s) attempt %s via %s: %s", one.id, one.event, one.attempts, channel,
                     outcome.error)


def run_pass(factory: sessionmaker[Session], config: NotifyConfig, now: dt.datetime | None = None,
             observe: Observer = _observe) -> PassResult:
    """Send every message due at ``now`` (default: the clock) once; safe to run from several
    loops at the same time (``claim``)."""
    now = now or utcnow()
    result = PassResult()
    ids = due(factory, now, config.batch)
    size = chunk_size(config)
    for start in range(0, len(ids), size):
        send_chunk(factory, ids[start:start + size], now, config, result, observe)
    return result


def retry_dead(session: Session, unit_id: int, now: dt.datetime) -> int:
    """Send the unit's dead messages of the last day again (an administrator's choice)."""
    result = session.execute(update(NotifyMessage).where(
        NotifyMessage.unit_id == unit_id, NotifyMessage.state == "dead",
        NotifyMessage.created_at >= now - dt.timedelta(days=1))
        .values(state="pending", attempts=0, next_attempt_at=now, last_error="")
        .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
