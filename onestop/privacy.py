"""Applicants' personal data (Nghị định 13/2023/NĐ-CP): retention and export on request.

- :func:`purge`: a dossier that was returned, rejected or withdrawn more than the unit's
  ``personal_data_retention_days`` ago (default 365, ``Unit.settings``) loses its
  applicant's personal fields: the name becomes ``(đã xoá)``; ID number, phone, e-mail,
  address and "on behalf of" are emptied; ``personal_erased_at`` is set. Everything the
  statistics and the tracking book count (code, procedure, field, dates, state, documents
  received, events) stays. Run by ``onestop privacy purge [--dry-run]`` and by the nightly
  ``onestop day-close``. Each run that erases something writes one audit entry per unit.
- :func:`export_person`: every dossier held about one ID number, as plain JSON-ready data
  (``onestop privacy export --id-number N``, ``GET /api/v1/privacy/person?id_number=``).

Plain functions: the caller passes the session and the clock and commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop.audit import engine as audit
from onestop.dossiers.models import CLOSED_STATES, Dossier, DossierEvent
from onestop.units.models import Unit

ERASED_NAME = "(đã xoá)"
RETENTION_KEY = "personal_data_retention_days"
PERSONAL_FIELDS = ("applicant_name", "applicant_id_number", "applicant_phone", "applicant_email",
                   "applicant_address", "on_behalf_of")


@dataclass
class PurgeResult:
    """What one purge run erased (or, dry, would erase), per unit code."""

    codes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.codes.values())


def mask_id_number(id_number: str) -> str:
    """Only the last three digits: ``001203004567`` -> ``*********567``."""
    return "*" * max(len(id_number) - 3, 0) + id_number[-3:]


def retention_days(unit: Unit) -> int:
    try:
        return max(0, int(unit.setting(RETENTION_KEY)))
    except (TypeError, ValueError):
        return 365


def due_for_erasure(session: Session, unit: Unit, now: dt.datetime) -> list[Dossier]:
    """Closed dossiers of ``unit`` past the retention time, not erased yet."""
    cutoff = now - dt.timedelta(days=retention_days(unit))
    closed_at = func.coalesce(Dossier.closed_at, Dossier.updated_at)
    return list(session.scalars(
        select(Dossier).where(Dossier.unit_id == unit.id, Dossier.state.in_(CLOSED_STATES),
                              Dossier.personal_erased_at.is_(None), closed_at < cutoff)
        .order_by(Dossier.id)))


def erase(dossier: Dossier, now: dt.datetime) -> None:
    """Blank the applicant's personal fields of one dossier (the columns are NOT NULL: '')."""
    dossier.applicant_name = ERASED_NAME
    dossier.applicant_id_number = ""
    dossier.applicant_phone = ""
    dossier.applicant_email = ""
    dossier.applicant_address = ""
    dossier.on_behalf_of = ""
    dossier.personal_erased_at = now


def purge(session: Session, now: dt.datetime, *, unit: Unit | None = None,
          dry_run: bool = False) -> PurgeResult:
    """Erase (or with ``dry_run`` only list) the personal data past retention, in ``unit``
    or in every unit."""
    units = [unit] if unit is not None else list(session.scalars(select(Unit).order_by(Unit.id)))
    result = PurgeResult()
    for one in units:
        due = due_for_erasure(session, one, now)
        if not due:
            continue
        result.codes[one.code] = [d.code for d in due]
        if dry_run:
            continue
        for dossier in due:
            erase(dossier, now)
        from onestop.notify.engine import erase_dossiers  # their message addresses go too

        erase_dossiers(session, [d.id for d in due], now)
        audit.record(session, action="purge", entity="dossier", entity_id=f"{len(due)} dossiers",
                     unit_id=one.id, actor_name="onestop privacy purge", at=now,
                     after={"codes": [d.code for d in due][:500],
                            "retention_days": retention_days(one)})
    session.flush()
    return result


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def _dossier_out(session: Session, dossier: Dossier) -> dict[str, Any]:
    unit = session.get(Unit, dossier.unit_id)
    events = session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                             .order_by(DossierEvent.id))
    return {
        "code": dossier.code, "unit": {"code": unit.code, "name": unit.name} if unit else None,
        "procedure": {"code": dossier.procedure.code, "name": dossier.procedure.name},
        "state": dossier.state, "received_at": _iso(dossier.received_at),
        "appointment_at": _iso(dossier.due_at), "closed_at": _iso(dossier.closed_at),
        "applicant": {"name": dossier.applicant_name, "id_number": dossier.applicant_id_number,
                      "phone": dossier.applicant_phone, "email": dossier.applicant_email,
                      "address": dossier.applicant_address, "on_behalf_of": dossier.on_behalf_of},
        "documents": list(dossier.documents or []),
        "events": [{"at": _iso(e.at), "action": e.action, "to_state": e.to_state, "note": e.note}
                   for e in events],
    }


def export_person(session: Session, id_number: str, now: dt.datetime, *,
                  unit_id: int | None = None) -> dict[str, Any]:
    """Every dossier whose applicant gave ``id_number`` (in ``unit_id`` only, if given)."""
    query = select(Dossier).where(Dossier.applicant_id_number == id_number).order_by(Dossier.id)
    if unit_id is not None:
        query = query.where(Dossier.unit_id == unit_id)
    dossiers = list(session.scalars(query)) if id_number else []
    return {
        "id_number": id_number, "generated_at": now.isoformat(),
        "legal_basis": "Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân",
        "purposes": "Tiếp nhận, giải quyết và trả kết quả thủ tục hành chính (Bộ phận Một cửa)",
        "retention": "Xoá thông tin cá nhân sau thời hạn lưu giữ kể từ khi trả kết quả",
        "dossiers": [_dossier_out(session, d) for d in dossiers],
    }
