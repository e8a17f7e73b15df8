"""PrintJob: one row for every print, sent directly or handed to a print agent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from onestop.accounts.models import _in
from onestop.db import Base, UTCDateTime

PRINT_JOB_KINDS = ("ticket", "reprint", "test")
PRINT_JOB_STATES = ("pending", "sent", "printed", "failed", "expired")
#: states a job never leaves (an agent's late ack may still turn ``expired`` into printed/sent)
DONE_STATES = ("sent", "printed", "failed", "expired")


class PrintJob(Base):
    """A print of a ticket (or a test slip) on one device's printer.

    ``device_id`` is the device whose printer it is (the issuing kiosk, or the device of a
    counter for a reprint there); ``agent_device_id`` is set when a print agent holds that
    printer, and the job then waits as ``pending`` (with its ESC/POS ``payload``) until the
    agent acknowledges it or ``expires_at`` passes. Direct prints are written once, already
    done, without a payload (a reprint renders the ticket again). ``error`` is a stable
    code (``printer_paper_out``, ``printer_unreachable``, ...), ``detail`` what the driver said.
    """

    __tablename__ = "print_jobs"
    __table_args__ = (
        CheckConstraint(f"kind IN {_in(PRINT_JOB_KINDS)}", name="kind"),
        CheckConstraint(f"state IN {_in(PRINT_JOB_STATES)}", name="state"),
        Index("ix_print_jobs_agent_state", "agent_device_id", "state"),
        Index("ix_print_jobs_unit_created", "unit_id", "created_at"),
        # the jobs still waiting for an agent (``service.expire_due``, on every slip sent to
        # an agent): a handful, however many a year printed (migration 0017)
        Index("ix_print_jobs_pending", "unit_id", "expires_at",
              sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    agent_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8), default="ticket")
    printer_uri: Mapped[str] = mapped_column(String(300), default="")
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
