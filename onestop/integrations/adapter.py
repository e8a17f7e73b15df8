"""The adapter interface: what the rest of onestop asks of the province's system.

One adapter per kind of provincial system; ``http_json.JsonHttpAdapter`` is the first (JSON
over HTTP, the national portal's field names). An adapter never raises for the other side's
faults (down, slow, garbage): it answers ``reachable=False`` / ``ok=False`` with the reason,
within its time limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ProvincialStatus:
    """What the province said of a dossier code.

    ``reachable`` False: no usable answer in time (down, slow, an error, garbage), ``error``
    says which. ``found`` False with ``reachable`` True: the province does not know the code.
    """

    code: str
    reachable: bool
    found: bool = False
    status_code: str | None = None
    procedure: str = ""
    received_at: dt.datetime | None = None
    appointment_at: dt.datetime | None = None
    error: str = ""


@dataclass(frozen=True)
class PushAnswer:
    """What one push gave: ``ok`` (stored there), else the HTTP status (None without an
    answer) and the reason. ``answered`` False: the province did not answer at all, so the
    next pushes would not fare better in this pass."""

    ok: bool
    status: int | None = None
    error: str = ""
    answered: bool = True


class ProvinceAdapter(Protocol):
    """The province's TTHC information system, as onestop uses it."""

    def get_status(self, code: str) -> ProvincialStatus:
        """The status of the dossier ``code`` there (the whole call within the time limit)."""

    def push(self, body: dict[str, Any]) -> PushAnswer:
        """Send one queued request body (a state change) there."""
