"""Administrative procedures (thủ tục hành chính), dossiers (hồ sơ) and their audit trail."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onestop.accounts.models import _in
from onestop.db import Base, UTCDateTime, utcnow

DOSSIER_STATES = (
    "received", "processing", "supplement_requested", "ready", "returned", "rejected", "withdrawn"
)
# a dossier in one of these is still with the office and can run late; a dossier waiting for
# the citizen's supplement is not (the legal time restarts when the supplement comes in)
RUNNING_STATES = ("received", "processing")
CLOSED_STATES = ("returned", "rejected", "withdrawn")
# how each document was handed in, as BM.01's "Hình thức" column prints it
DOCUMENT_FORMS = {"ban_chinh": "Bản chính", "ban_sao": "Bản sao", "ban_chup": "Bản chụp"}
DEFAULT_DOCUMENT_FORM = "ban_chinh"  # the original, unless the clerk says otherwise


def fold(text: str) -> str:
    """Lower case without diacritics (đ -> d), for search that needs no accents."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


SEARCH_TEXT = 600


def dossier_search_text(code: str, name: str, id_number: str, phone: str, on_behalf_of: str = "") -> str:
    """What the dossier desk's search looks in: the code, the names without diacritics, the
    ID number and the phone, lower case (``Dossier.search_text``)."""
    parts = (code.lower(), fold(name), id_number, phone, fold(on_behalf_of))
    return " ".join(p for p in parts if p)[:SEARCH_TEXT]


def _search_default(context: Any) -> str:
    # a column default, so that bulk inserts (the demo's history) fill it as well
    row = context.get_current_parameters()
    return dossier_search_text(row.get("code") or "", row.get("applicant_name") or "",
                               row.get("applicant_id_number") or "", row.get("applicant_phone") or "",
                               row.get("on_behalf_of") or "")


class Procedure(Base):
    __tablename__ = "procedures"
    __table_args__ = (UniqueConstraint("unit_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(500))
    processing_days: Mapped[int] = mapped_column(default=0)  # working days; 0 = same day
    fee: Mapped[str] = mapped_column(String(200), default="")
    documents: Mapped[list[Any]] = mapped_column(default=list)
    search_text: Mapped[str] = mapped_column(String(600), default="")
    active: Mapped[bool] = mapped_column(default=True)

    def refresh_search(self) -> None:
        self.search_text = fold(f"{self.code} {self.name}")


class Dossier(Base):
    """A dossier (hồ sơ) received at the one-stop desk.

    ``code`` is ``{unit code}-{yyMMdd}-{NNNN}`` (daily sequence per unit). The tracking book
    (sổ theo dõi hồ sơ) has one volume per field and year (``book_volume``, e.g.
    ``TPHT/2026``); ``book_line`` is the dossier's line in it. Overdue is derived, see
    ``onestop.dossiers.engine.is_overdue``.
    """

    __tablename__ = "dossiers"
    __table_args__ = (
        UniqueConstraint("unit_id", "business_date", "number"),
        UniqueConstraint("unit_id", "book_volume", "book_line"),
        CheckConstraint(f"state IN {_in(DOSSIER_STATES)}", name="state"),
        # the dossier desk's list, newest received first (onestop/dossiers/search.py): read
        # along these from the newest, a page stops after its rows and a date range bounds
        # received_at, so a year of dossiers costs what a week does (migration 0017)
        Index("ix_dossiers_unit_received", "unit_id", "received_at", "id"),
        Index("ix_dossiers_unit_state_received", "unit_id", "state", "received_at", "id"),
        Index("ix_dossiers_unit_service_received", "unit_id", "service_id", "received_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[int] = mapped_column()
    book_year: Mapped[int] = mapped_column()
    book_volume: Mapped[str] = mapped_column(String(64))
    book_line: Mapped[int] = mapped_column()
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_id_number: Mapped[str] = mapped_column(String(12))
    applicant_phone: Mapped[str] = mapped_column(String(16))
    applicant_email: Mapped[str] = mapped_column(String(254), default="")
    applicant_address: Mapped[str] = mapped_column(String(300), default="")
    on_behalf_of: Mapped[str] = mapped_column(String(200), default="")
    documents: Mapped[list[Any]] = mapped_column(default=list)  # [{"name", "count", "form"}]
    state: Mapped[str] = mapped_column(String(24), default="received")
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    appointment_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    new_appointment_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    supplement_count: Mapped[int] = mapped_column(default=0)
    supplement_note: Mapped[str] = mapped_column(String(1000), default="")
    apology_count: Mapped[int] = mapped_column(default=0)
    apology_reason: Mapped[str] = mapped_column(String(1000), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # privacy retention: when the applicant's personal fields were erased (statistics stay)
    personal_erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # the dossier's code in the province's TTHC information system (onestop/integrations)
    provincial_code: Mapped[str | None] = mapped_column(String(64), index=True)
    # the desk's search (dossier_search_text): filled on insert, refreshed on every update
    search_text: Mapped[str] = mapped_column(String(SEARCH_TEXT), default=_search_default,
                                             server_default="")
    procedure: Mapped[Procedure] = relationship(lazy="joined")

    def refresh_search(self) -> None:
        self.search_text = dossier_search_text(self.code or "", self.applicant_name or "",
                                               self.applicant_id_number or "",
                                               self.applicant_phone or "", self.on_behalf_of or "")

    @property
    def due_at(self) -> dt.datetime:
        """The appointment in force: the apology's new date, else the original one."""
        return self.new_appointment_at or self.appointment_at


class DossierEvent(Base):
    """Every change of a dossier (who, when, from, to, note): audit trail and reports."""

    __tablename__ = "dossier_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    note: Mapped[str] = mapped_column(String(1000), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


@event.listens_for(Dossier, "before_update")
def _refresh_search(_mapper: Any, _connection: Any, dossier: Dossier) -> None:
    # an erased applicant (onestop/privacy.py) must not stay findable by name or ID number
    dossier.refresh_search()
