"""Unit (đơn vị): a service centre, with its own timezone and queue policy settings."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from onestop.db import Base

# Queue policy defaults; a unit overrides any of them in ``Unit.settings``.
UNIT_DEFAULTS: dict[str, Any] = {
    "priority_mode": "strict",  # "strict": priority first; "interleave": N normal : 1 priority
    "interleave_normal": 3,
    "priority_classes": ["elderly", "disabled", "pregnant", "meritorious"],
    "recall_limit": 3,  # calls beyond this mark the ticket missed
    "transfer_keeps_place": True,
    "default_service_minutes": 5.0,
    "ticket_footer": "Xin cảm ơn Quý công dân!",
    # a ticket issued for a chosen procedure lists that procedure's documents on its slip
    "slip_documents": True,
    # hall display and announcements (queue_display/, hardware/voice/README.md)
    "display_notice": "",  # the scrolling notice line at the foot of hall displays
    "display_recent_calls": 6,
    "display_highlight_seconds": 8,
    "announcement_template": "Xin mời công dân có số thứ tự {số} đến quầy số {quầy}",
    "announcement_repeat": 2,  # times the sentence is said (1-3)
    "announcement_number_mode": "words",  # "words" (mười hai) or "digits" (không một hai)
    "announcement_read_prefix": True,  # "A012": "A, mười hai"; False: "mười hai"
    "announcement_style": "north",  # "north": linh, nghìn; "south": lẻ, ngàn
    "announcement_chime": True,
    "announcement_voice": "auto",  # auto, clips, espeak, browser, chime; a display may override
    "announcement_espeak_voice": "vi",
    "announcement_espeak_speed": 150,
    # dossiers (onestop/units/calendar.py): a dossier received after this local time counts
    # from the next working day, and appointments fall due at this time of their day
    "office_closing": "17:00",
    # a citizen back for a result or a supplement (onestop/dossiers/pickup.py): the code of
    # the field that returns results, or "" for the counter that received the dossier
    "returns_service": "",
    # lobby kiosk (kiosk/): seconds without a touch before a kiosk screen goes back home
    # (and back to Vietnamese); a ticket whose print failed stays three times as long
    "kiosk_idle_seconds": 20,
    # satisfaction ratings (onestop/ratings/): "3" = the three levels of Thông tư
    # 01/2018/TT-VPCP; "5" = five levels. The lowest level asks for one of these reasons.
    "rating_scale": "3",
    "rating_reasons": [
        "Thời gian chờ lâu",
        "Thái độ phục vụ chưa tốt",
        "Hướng dẫn chưa rõ ràng",
        "Yêu cầu bổ sung giấy tờ nhiều lần",
        "Cơ sở vật chất chưa tốt",
    ],
    "rating_timeout_seconds": 30,  # the tablet goes back to idle and records "not rated"
    # reports and staffing advice (onestop/reports/): the wait a citizen should not exceed
    "target_wait_minutes": 15,
    # manager dashboard (onestop/reports/live.py): device kinds that report in regularly, and
    # how long one may stay silent before it is an alarm (today only print agents report in)
    # every kind sends a heartbeat (its pages once a minute, the agent with its status)
    "device_heartbeat_kinds": ["kiosk", "display", "counter-display", "tablet", "agent"],
    "device_stale_minutes": 5,
    # privacy (onestop/privacy.py, Nghị định 13/2023/NĐ-CP): days after a dossier is returned,
    # rejected or withdrawn before the applicant's personal fields are erased (stats stay)
    "personal_data_retention_days": 365,
    # bookings and numbers from a phone (onestop/bookings/, issue 20): a booked citizen checks
    # in from this many minutes before the slot to this many after; outside that, a normal
    # ticket instead (True) or a refusal; numbers from the phone allowed, the share of a
    # field's daily cap they may take, and how many per phone and per address a day
    "booking_checkin_early_minutes": 15,
    "booking_checkin_late_minutes": 10,
    "booking_outside_gets_ticket": True,
    "remote_tickets": False,
    "remote_share": 0.3,
    "remote_per_phone_per_day": 2,
    "remote_per_address_per_day": 5,
    # messages to citizens (onestop/notify/, issue 21): "còn N người" when this many are ahead
    # in the call order; messages a phone or e-mail may receive a day; the unit's own texts
    # ({event: {"vi", "en"}}, empty: the defaults in onestop/notify/templates.py)
    "notify_ahead": 3,
    "notify_daily_limit": 20,
    "notify_templates": {},
    # the desk and the clerk's moves (onestop/queueing/desk.py, issue 22): a clerk may call a
    # waiting number out of order; a field whose longest wait passes this many minutes raises
    # "chờ quá lâu" on its counters and the dashboard (0: never; a field may set its own);
    # the manager's timed message on the hall displays ({"text", "until"}, until in UTC ISO)
    "out_of_order_calls": False,
    "alert_wait_minutes": 30,
    "display_message": {},
    # announcements in more than one language (hardware/voice/languages.py, issue 23): the
    # languages each call is said in, in order ("vi", "en")
    "announcement_languages": ["vi"],
}


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # raised by triggers on every change to the unit's services or webhooks (what each process
    # keeps, onestop/queueing/catalog.py); starts at a random number so that a database made
    # anew never matches a process's cache
    catalog_version: Mapped[int] = mapped_column(BigInteger, default=lambda: secrets.randbits(48))

    def setting(self, key: str) -> Any:
        return (self.settings or {}).get(key, UNIT_DEFAULTS[key])

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, when: dt.datetime) -> dt.datetime:
        return when.astimezone(self.tz)

    def business_date(self, when: dt.datetime) -> dt.date:
        """The calendar date at ``when`` in the unit's own timezone."""
        return self.local(when).date()



def catalog_triggers(table: str, dialect: str) -> list[str]:
    """SQL that makes every insert, update or delete of ``table``'s rows raise the
    ``catalog_version`` of their unit (``table`` has a ``unit_id``)."""
    bump = "UPDATE units SET catalog_version = catalog_version + 1 WHERE id = {}.unit_id;"
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION onestop_catalog_changed() RETURNS trigger AS $$ BEGIN"
            f" IF TG_OP <> 'INSERT' THEN {bump.format('OLD')} END IF;"
            " IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.unit_id <> OLD.unit_id) THEN"
            f" {bump.format('NEW')} END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER tr_{table}_catalog AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION onestop_catalog_changed()",
        ]
    return [
        f"CREATE TRIGGER tr_{table}_catalog_insert AFTER INSERT ON {table} BEGIN"
        f" {bump.format('NEW')} END",
        f"CREATE TRIGGER tr_{table}_catalog_update AFTER UPDATE ON {table} BEGIN"
        " UPDATE units SET catalog_version = catalog_version + 1"
        " WHERE id IN (OLD.unit_id, NEW.unit_id); END",
        f"CREATE TRIGGER tr_{table}_catalog_delete AFTER DELETE ON {table} BEGIN"
        f" {bump.format('OLD')} END",
    ]


def follow_catalog(table: Table) -> None:
    """Create ``table``'s catalog triggers with the table (``create_all``; migrations call
    ``catalog_triggers`` themselves)."""
    for dialect in ("sqlite", "postgresql"):
        for sql in catalog_triggers(table.name, dialect):
            event.listen(table, "after_create", DDL(sql).execute_if(dialect=dialect))

UNIT_DAY_KINDS = ("off", "working")


class UnitDay(Base):
    """A unit's own exception to the national calendar: a day off (``off``) or a make-up
    working day (``working``, e.g. a Saturday worked in exchange for a bridge day)."""

    __tablename__ = "unit_days"
    __table_args__ = (
        UniqueConstraint("unit_id", "date"),
        CheckConstraint("kind IN ('off', 'working')", name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(String(200), default="")
