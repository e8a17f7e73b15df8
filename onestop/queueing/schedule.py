"""Opening rules of a service: weekdays, windows, cut-off. Pure functions of local time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from onestop.queueing.models import Service


def _hm(value: str) -> dt.time:
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def windows(service: Service) -> list[tuple[dt.time, dt.time]]:
    return [(_hm(start), _hm(end)) for start, end in (service.windows or [])]


@dataclass(frozen=True)
class Availability:
    """Whether a ticket may be issued now; if not, the contract ``code`` and a ``reason``."""

    open: bool
    code: str | None = None
    reason: str | None = None


def availability(service: Service, local_now: dt.datetime, always_open: bool = False) -> Availability:
    """Check activity, weekday, windows and cut-off at ``local_now`` (the unit's local time).

    Codes follow the API contract: ``service_closed`` (reason ``inactive`` or
    ``not_served_today``) and ``outside_hours`` (reason ``before_opening``, ``between_windows``,
    ``after_closing`` or ``past_cutoff``).
    """
    if not service.active:
        return Availability(False, "service_closed", "inactive")
    if always_open:
        return Availability(True)
    if local_now.isoweekday() not in (service.weekdays or []):
        return Availability(False, "service_closed", "not_served_today")
    now_t = local_now.time()
    spans = windows(service)
    if not spans:
        return Availability(True)
    cutoff = dt.timedelta(minutes=service.cutoff_minutes or 0)
    for start, end in spans:
        if start <= now_t < end:
            last = (dt.datetime.combine(local_now.date(), end) - cutoff).time()
            if now_t >= last:
                return Availability(False, "outside_hours", "past_cutoff")
            return Availability(True)
    if now_t < spans[0][0]:
        return Availability(False, "outside_hours", "before_opening")
    if now_t >= spans[-1][1]:
        return Availability(False, "outside_hours", "after_closing")
    return Availability(False, "outside_hours", "between_windows")
