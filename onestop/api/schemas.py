"""Pydantic models of the API: inputs are strict and bounded, outputs document the contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Priority = Literal["none", "elderly", "disabled", "pregnant", "meritorious"]
# ?units=CODE,CODE (overview, reports): short enough that any such value, percent-encoded, stays
# within the server's request line (8 KiB, else a bare 414); the overview page asks for every
# tile instead of a longer list (onestop/manager/static/manager/overview.js)
MAX_UNITS_PARAM = 300


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="after")
    def _no_nul(self) -> Strict:
        # PostgreSQL cannot store NUL in text, and no screen should ever show one
        if any(isinstance(v, str) and "\x00" in v for v in self.__dict__.values()):
            raise ValueError("NUL characters are not allowed")
        return self


class TokenIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    # a password is checked exactly as typed (the sign-in page does not strip it either)
    password: Annotated[str, StringConstraints(strip_whitespace=False)] = Field(
        min_length=1, max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: str
    unit_id: int | None


class TokenOut(BaseModel):
    token: str
    token_type: str = "Bearer"
    expires_at: str
    user: UserOut


class ServiceOut(BaseModel):
    id: int
    code: str
    name: str
    name_en: str
    prefix: str
    zone: str
    open_now: bool
    closed_reason: str | None
    weekdays: list[int]
    windows: list[list[str]]
    waiting: int
    estimated_wait_minutes: int
    # counters serving the field that are open now (0: nobody serves it, the wait is unknown)
    counters_open: int = 0


class ServiceList(BaseModel):
    services: list[ServiceOut]


class TicketIn(Strict):
    service_id: int = Field(ge=1, le=2**31 - 1)
    priority: Priority = "none"
    # the procedure chosen at the kiosk: a procedure of the unit in that field (else 422)
    procedure_code: str | None = Field(default=None, min_length=1, max_length=40)
    # staff only (reception desk, clerks): a note for the clerk who calls it, the citizen's phone
    note: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    priority_reason: str | None = Field(default=None, max_length=200)  # kept on an event


class CounterBrief(BaseModel):
    id: int
    number: int
    name: str


class TicketDossier(BaseModel):
    """The dossier a ticket was taken for (onestop/dossiers/pickup.py): the clerk opens it."""

    code: str
    purpose: str  # "pickup" (nhận kết quả) or "supplement" (nộp bổ sung)


class TicketBooking(BaseModel):
    """The booking (lịch hẹn) a ticket was checked in for: its code (staff only) and slot."""

    code: str | None
    start: str


class TicketOut(BaseModel):
    id: int
    number: int
    label: str
    service_id: int
    service: str
    state: str
    priority: str
    source: str
    business_date: str
    waiting_ahead: int  # in the real call order (priority first, or N:1 interleaved)
    estimated_wait_minutes: int
    # counters open for the ticket's field while it waits (0: none, never "soon"); else null
    counters_open: int | None = None
    issued_at: str
    called_at: str | None
    recall_count: int
    print_state: str
    counter: CounterBrief | None
    procedure_code: str | None = None  # the procedure chosen at the kiosk, and its name
    procedure: str | None = None
    dossier: TicketDossier | None = None  # a ticket taken for a dossier; staff answers only
    booking: TicketBooking | None = None  # a ticket checked in for a booking (source "booking")
    print_error: ErrorBody | None = None  # when this request's print failed (kiosk issue, reprint)
    print_job_id: int | None = None
    note: str | None = None  # for the clerk who calls it (reception desk, a transfer); staff only


class ClerkOut(BaseModel):
    """The clerk at a counter as anyone may see them: the display name (None when the
    account has none), never the login."""

    id: int
    full_name: str | None


class ServingOut(BaseModel):
    id: int
    label: str
    state: str
    service_id: int
    service: str
    booked: bool = False  # checked in for a booking (lịch hẹn): the hall display's badge


class CounterOut(BaseModel):
    id: int
    number: int
    name: str
    zone: str
    state: str
    pause_reason: str | None
    service_ids: list[int]
    service_mode: str
    clerk: ClerkOut | None
    serving: ServingOut | None


class CounterList(BaseModel):
    counters: list[CounterOut]


class FinishIn(Strict):
    outcome: str = Field(default="served", min_length=1, max_length=40,
                         pattern=r"^[a-z][a-z0-9_]*$")


class TransferIn(Strict):
    service_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    counter_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    note: str | None = Field(default=None, max_length=200)  # for the next clerk
    return_here: bool = False  # "trả về quầy tôi": back to this counter once finished there


class PauseIn(Strict):
    reason: str = Field(min_length=1, max_length=200)


class ParkIn(Strict):
    note: str = Field(default="", max_length=200)


class CallTicketIn(Strict):
    ticket_id: int = Field(ge=1, le=2**31 - 1)
    reason: str | None = Field(default=None, max_length=200)  # why out of order (kept on the event)


class DisplayQuery(Strict):
    unit: str | None = Field(default=None, max_length=40)
    zone: str | None = Field(default=None, max_length=200)


class UnitQuery(Strict):
    unit: str | None = Field(default=None, max_length=40)


class OkOut(BaseModel):
    ok: bool = True


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody
