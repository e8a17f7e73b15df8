"""Queue models: services (lĩnh vực), counters (quầy), tickets and their audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from onestop.accounts.models import _in
from onestop.db import Base, UTCDateTime, utcnow
from onestop.units.models import follow_catalog

TICKET_STATES = (
    "waiting", "called", "serving", "parked", "done", "missed", "transferred", "cancelled", "expired"
)
ACTIVE_STATES = ("waiting", "called", "serving", "parked", "missed")
PRIORITIES = ("none", "elderly", "disabled", "pregnant", "meritorious")
# "booking": checked in for a booking; "remote": taken from a phone (onestop/bookings/);
# "reception": handed out at the reception desk
SOURCES = ("kiosk", "counter", "appointment", "api", "booking", "remote", "reception")
# why a ticket linked to a dossier was taken: to collect the result, or to hand in a supplement
TICKET_PURPOSES = ("pickup", "supplement")
COUNTER_STATES = ("open", "paused", "closed")
# a ticket at a counter right now (ix_tickets_current; a query written with this very text
# can use the partial index)
CURRENT_WHERE = "state IN ('called', 'serving')"
SERVICE_MODES = ("fifo", "order", "weighted")


class Service(Base):
    """A field (lĩnh vực) with its numbering, schedule and daily cap."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("unit_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(8), default="")
    block_start: Mapped[int | None] = mapped_column()
    block_end: Mapped[int | None] = mapped_column()
    daily_cap: Mapped[int | None] = mapped_column()
    # ISO weekdays served (1 = Monday ... 7 = Sunday)
    weekdays: Mapped[list[Any]] = mapped_column(default=lambda: [1, 2, 3, 4, 5])
    # opening windows as [["07:30", "11:30"], ["13:30", "17:00"]] in the unit's local time
    windows: Mapped[list[Any]] = mapped_column(default=lambda: [["07:30", "11:30"], ["13:30", "17:00"]])
    cutoff_minutes: Mapped[int] = mapped_column(default=0)
    zone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    # "waiting too long" after this many minutes (null: the unit's alert_wait_minutes)
    alert_wait_minutes: Mapped[int | None] = mapped_column()
    # bookings (lịch hẹn): None = the field takes none; else its settings, the keys and
    # defaults of onestop/bookings/settings.py
    booking: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class Counter(Base):
    """A counter (quầy) with the services it serves and the clerk signed in there."""

    __tablename__ = "counters"
    __table_args__ = (
        UniqueConstraint("unit_id", "number"),
        CheckConstraint(f"state IN {_in(COUNTER_STATES)}", name="state"),
        CheckConstraint(f"service_mode IN {_in(SERVICE_MODES)}", name="service_mode"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    number: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(120), default="")
    zone: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[str] = mapped_column(String(10), default="closed")
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    service_mode: Mapped[str] = mapped_column(String(10), default="fifo")
    # normal calls since the last priority call, for N:1 interleaving
    calls_since_priority: Mapped[int] = mapped_column(default=0)
    links: Mapped[list[CounterService]] = relationship(
        order_by="CounterService.position", cascade="all, delete-orphan", lazy="selectin"
    )

    # the ids of the services served, as one string ("3,1,2", in no order), loaded with the
    # counter by ``engine.lock_counter`` so that a call needs no second query for its links
    served: Mapped[str | None] = query_expression()

    @property
    def service_ids(self) -> list[int]:
        return [link.service_id for link in self.links]

    @property
    def served_ids(self) -> list[int]:
        """The ids of the services served, in no set order: from ``served`` when the counter
        was loaded with it, else from ``links``."""
        if "links" not in self.__dict__ and self.served is not None:
            return [int(x) for x in self.served.split(",") if x]
        return self.service_ids


class CounterService(Base):
    __tablename__ = "counter_services"
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    weight: Mapped[int] = mapped_column(default=1)


class Ticket(Base):
    """A queue ticket. ``queue_at`` orders the queue: the issue time, or later when re-queued."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("issued_service_id", "business_date", "number"),
        CheckConstraint(f"state IN {_in(TICKET_STATES)}", name="state"),
        CheckConstraint(f"priority IN {_in(PRIORITIES)}", name="priority"),
        CheckConstraint(f"source IN {_in(SOURCES)}", name="source"),
        CheckConstraint(f"purpose IN {_in(TICKET_PURPOSES)}", name="purpose"),
        # one ticket per dossier and day (pickup tickets, onestop/dossiers/pickup.py); NULLs
        # are distinct, so every other ticket is free
        Index("ux_tickets_dossier_day", "dossier_id", "business_date", unique=True),
        Index("ix_tickets_queue", "unit_id", "business_date", "state", "service_id", "queue_at"),
        # the heads of each field's queue, per priority class (onestop/queueing/policy.py)
        Index("ix_tickets_waiting", "unit_id", "business_date", "state", "service_id", "priority",
              "queue_at"),
        Index("ix_tickets_target", "target_counter_id", "unit_id", "business_date", "state",
              "queue_at"),
        # the ticket at a counter (asked on every call-next), the one its rating tablet
        # asks about, and a counter's day: without them, each search read every ticket the
        # counter ever served
        Index("ix_tickets_at_counter", "counter_id", "state", "finished_at"),
        Index("ix_tickets_counter_day", "counter_id", "business_date", "service_id"),
        # the ticket at each counter (every display snapshot): only the few tickets called or
        # served right now, so that SQLite with statistics (after ANALYZE) never prefers a
        # scan of the year's history (docs/postgres-performance.md)
        Index("ix_tickets_current", "counter_id", sqlite_where=text(CURRENT_WHERE),
              postgresql_where=text(CURRENT_WHERE)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    issued_service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    business_date: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16), default="none")
    source: Mapped[str] = mapped_column(String(16), default="api")
    state: Mapped[str] = mapped_column(String(16), default="waiting")
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    queue_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    called_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    serving_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    target_counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    recall_count: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(String(40))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    print_state: Mapped[str] = mapped_column(String(16), default="none")
    # the procedure (thủ tục) chosen at the kiosk: a code of the unit's procedures, or None
    procedure_code: Mapped[str | None] = mapped_column(String(40))
    # the dossier this ticket was taken for (collect the result / hand in a supplement) and
    # why; dossiers.ticket_id points the other way (the ticket it was received under), so
    # the reference is added after both tables exist
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", use_alter=True))
    purpose: Mapped[str | None] = mapped_column(String(16))
    # the province's dossier code the clerk linked to this ticket (onestop/integrations)
    provincial_code: Mapped[str | None] = mapped_column(String(64))
    # the citizen's mobile number (E.164) when known: a number taken from a phone that gave
    # one, a booking's check-in (onestop/bookings/); for their messages
    phone: Mapped[str | None] = mapped_column(String(16))
    # a number taken from a phone: a hash of the address it came from, for the per-address
    # daily limit (never the address itself)
    origin: Mapped[str | None] = mapped_column(String(16))
    # a note for the clerk who calls the ticket (reception desk, a transfer), and the
    # counter a transferred ticket returns to when the target finishes it ("trả về quầy tôi")
    note: Mapped[str | None] = mapped_column(String(200))
    return_counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    service: Mapped[Service] = relationship(foreign_keys=[service_id], lazy="joined")
    counter: Mapped[Counter | None] = relationship(foreign_keys=[counter_id])


class TicketEvent(Base):
    """Every change of a ticket: the audit trail and the source of every report."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CounterEvent(Base):
    """Open, pause, resume, close of a counter: for staffing reports and the audit trail."""

    __tablename__ = "counter_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str] = mapped_column(String(10))
    to_state: Mapped[str] = mapped_column(String(10))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


# ``units.catalog_version`` follows every change to a unit's services, whoever makes it
# (onestop/queueing/catalog.py keeps the fields' names per process against it)
follow_catalog(Service.__table__)  # type: ignore[arg-type]
