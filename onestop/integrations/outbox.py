"""Sending pushes to the province: the claim, the answer, retries with backoff, dead.

Pushes of one dossier go in order: only the oldest pending push of each dossier is tried,
so a retried old state never lands after a newer one. Rows are claimed with a
compare-and-set ``UPDATE ... WHERE state = 'pending' AND next_attempt_at <= now`` that also
moves ``next_attempt_at`` to the end of a lease and counts the attempt (the webhooks' way,
onestop/webhooks/delivery.py): two loops (threads, processes, instances) never send the same
push twice at once. No transaction is open while a request is in flight. When the province
does not answer at all, the rest of the pass waits for the next one (one time-out per pass,
not one per dossier).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from onestop.db import utcnow
from onestop.integrations.adapter import ProvinceAdapter, PushAnswer
from onestop.integrations.config import ProvinceConfig
from onestop.integrations.models import MAX_ERROR, ProvincePush

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    id: int
    dossier_id: int
    payload: dict[str, Any]
    attempts: int


@dataclass
class PassResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    ids: list[int] = field(default_factory=list)


def due(factory: sessionmaker[Session], now: dt.datetime, limit: int) -> list[int]:
    """Ids of the pushes to try now: the oldest pending push of each dossier, if it is due."""
    with factory() as session:
        heads = (select(func.min(ProvincePush.id)).where(ProvincePush.state == "pending")
                 .group_by(ProvincePush.dossier_id))
        ids = session.scalars(select(ProvincePush.id).where(
            ProvincePush.id.in_(heads), ProvincePush.next_attempt_at <= now)
            .order_by(ProvincePush.id).limit(limit)).all()
        session.commit()
    return [int(i) for i in ids]


def next_due_at(factory: sessionmaker[Session]) -> dt.datetime | None:
    """When the next push falls due (None when nothing waits)."""
    with factory() as session:
        when = session.scalar(select(func.min(ProvincePush.next_attempt_at))
                              .where(ProvincePush.state == "pending"))
        session.commit()
    return when if isinstance(when, dt.datetime) else None


def claim(factory: sessionmaker[Session], push_id: int, now: dt.datetime,
          config: ProvinceConfig) -> Claimed | None:
    """Take the push for one attempt, or None if it is not due any more."""
    lease = now + dt.timedelta(seconds=config.lease_s)
    with factory() as session:
        result = session.execute(
            update(ProvincePush)
            .where(ProvincePush.id == push_id, ProvincePush.state == "pending",
                   ProvincePush.next_attempt_at <= now)
            .values(attempts=ProvincePush.attempts + 1, next_attempt_at=lease, last_attempt_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            return None
        push = session.get(ProvincePush, push_id)
        assert push is not None
        claimed = Claimed(push.id, push.dossier_id, dict(push.payload or {}), push.attempts)
        session.commit()
    return claimed


def outcome(answer: PushAnswer, attempts: int, now: dt.datetime, config: ProvinceConfig) -> dict[str, Any]:
    """The columns after an attempt: sent, pending again (with the next time), or dead."""
    values: dict[str, Any] = {"last_status_code": answer.status, "last_error": answer.error[:MAX_ERROR]}
    if answer.ok:
        return {**values, "state": "sent", "sent_at": now, "next_attempt_at": None}
    if attempts >= config.max_attempts:
        return {**values, "state": "dead", "next_attempt_at": None}
    return {**values, "next_attempt_at": now + dt.timedelta(seconds=config.backoff(attempts))}


def record(factory: sessionmaker[Session], claimed: Claimed, answer: PushAnswer, now: dt.datetime,
           config: ProvinceConfig) -> str | None:
    """Write the attempt's outcome (``sent``, ``failed``, ``dead``); None if the claim was lost."""
    values = outcome(answer, claimed.attempts, now, config)
    with factory() as session:
        result = session.execute(
            update(ProvincePush)
            .where(ProvincePush.id == claimed.id, ProvincePush.attempts == claimed.attempts,
                   ProvincePush.state == "pending")
            .values(**values).execution_options(synchronize_session=False))
        session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("province push %s: attempt %s not recorded (claim lost)", claimed.id, claimed.attempts)
        return None
    return str(values.get("state", "failed"))


def send_one(factory: sessionmaker[Session], push_id: int, now: dt.datetime, config: ProvinceConfig,
             adapter: ProvinceAdapter) -> tuple[str | None, bool]:
    """Claim, send, record one push: its new state (None if not claimed) and whether the
    province answered at all."""
    claimed = claim(factory, push_id, now, config)
    if claimed is None:
        return None, True
    try:
        answer = adapter.push(claimed.payload)
    except Exception as exc:  # noqa: BLE001 - recorded on the push like any failure
        answer = PushAnswer(False, None, f"adapter_error: {exc}", answered=False)
    if not answer.ok:
        log.info("province push %s (dossier %s) attempt %s failed: %s", claimed.id, claimed.dossier_id,
                 claimed.attempts, answer.error)
    return record(factory, claimed, answer, now, config), answer.answered


def run_pass(factory: sessionmaker[Session], config: ProvinceConfig, adapter: ProvinceAdapter,
             now: dt.datetime | None = None) -> PassResult:
    """Send every push due at ``now`` (default: the clock) once; safe to run from several
    loops at the same time (``claim``)."""
    now = now or utcnow()
    result = PassResult()
    tried: set[int] = set()
    while len(tried) < config.batch:
        # a dossier's next push becomes its head once the one before it is sent
        ids = [i for i in due(factory, now, config.batch) if i not in tried]
        if not ids:
            break
        for push_id in ids:
            tried.add(push_id)
            state, answered = send_one(factory, push_id, now, config, adapter)
            if state is not None:
                setattr(result, state, getattr(result, state) + 1)
                result.ids.append(push_id)
            if not answered:
                return result
    return result


def retry_dead(session: Session, now: dt.datetime, push_ids: list[int] | None = None) -> int:
    """Send dead pushes again (all, or those of ``push_ids``): pending, attempts from zero."""
    query = update(ProvincePush).where(ProvincePush.state == "dead")
    if push_ids is not None:
        query = query.where(ProvincePush.id.in_(push_ids))
    result = session.execute(query.values(state="pending", attempts=0, next_attempt_at=now, last_error="")
                             .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def counts(session: Session) -> dict[str, int]:
    """How many pushes are in each state (the back office, /metrics)."""
    rows = session.execute(select(ProvincePush.state, func.count()).group_by(ProvincePush.state)).all()
    found = {str(state): int(n) for state, n in rows}
    return {state: found.get(state, 0) for state in ("pending", "sent", "dead")}
