"""Reports of several units (issue 22 item 5): a row per unit and a ranking on the QĐ 766
indicators the one-unit report computes.

Each unit's figures are its own report's summary (``figures.build`` through the API's
``_summary``), unchanged. The ranking orders the units on each indicator, best first:

- ``satisfaction_rate``: satisfied ratings / ratings given (TT 01/2018, QĐ 766), higher first;
- ``on_time_rate``: dossiers with a result early or on time / finished (QĐ 766), higher first;
- ``service_level``: the share of waits within the unit's target, higher first;
- ``avg_wait_minutes``: the average wait, lower first.

A unit without a figure for an indicator (no ratings, no dossiers) is left out of that
indicator's order. ``rank`` is the units' order on the mean of their places over the
indicators they have (ties: the unit code), units with none last, unranked (``None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onestop.reports.exports import N_, Column, Table, Translate

#: (key, msgid, higher is better)
INDICATORS: tuple[tuple[str, str, bool], ...] = (
    ("satisfaction_rate", N_("Tỷ lệ hài lòng"), True),
    ("on_time_rate", N_("Tỷ lệ đúng hạn"), True),
    ("service_level", N_("Tỷ lệ chờ đạt chuẩn"), True),
    ("avg_wait_minutes", N_("Chờ TB (phút)"), False),
)
UNIT_COLUMNS: tuple[Column, ...] = (
    Column(N_("Số phiếu cấp"), "issued"), Column(N_("Đã phục vụ"), "served"),
    Column(N_("Chờ TB (phút)"), "avg_wait_minutes", "minutes"),
    Column(N_("Tỷ lệ chờ đạt chuẩn"), "service_level", "share"),
    Column(N_("Tỷ lệ hài lòng"), "satisfaction_rate", "share"),
    Column(N_("Tỷ lệ đúng hạn"), "on_time_rate", "share"),
    Column(N_("Xếp hạng"), "rank"),
)


def indicators(summary: dict[str, Any]) -> dict[str, Any]:
    """The ranked indicators of one unit's summary."""
    return {"satisfaction_rate": (summary.get("ratings") or {}).get("satisfaction_rate"),
            "on_time_rate": (summary.get("dossiers") or {}).get("on_time_rate"),
            "service_level": summary.get("service_level"),
            "avg_wait_minutes": summary.get("avg_wait_minutes")}


def ranking(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``rows``: ``{"unit": {"code", ...}, "indicators": {...}}``. Each indicator's order
    (unit codes, best first) and each unit's overall rank."""
    orders: dict[str, list[str]] = {}
    places: dict[str, list[int]] = {r["unit"]["code"]: [] for r in rows}
    for key, _label, higher in INDICATORS:
        valued = [r for r in rows if r["indicators"][key] is not None]
        valued.sort(key=lambda r: ((-1 if higher else 1) * float(r["indicators"][key]), r["unit"]["code"]))
        orders[key] = [r["unit"]["code"] for r in valued]
        for place, r in enumerate(valued, start=1):
            places[r["unit"]["code"]].append(place)
    scored = sorted((sum(p) / len(p), code) for code, p in places.items() if p)
    rank = {code: i for i, (_score, code) in enumerate(scored, start=1)}
    return {"by_indicator": orders, "rank": {code: rank.get(code) for code in places}}


def summary(period: dict[str, str],
            per_unit: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """The several units' answer: ``per_unit`` is ``(unit brief, its summary)`` each."""
    rows = [{"unit": unit, "indicators": indicators(s), **s} for unit, s in per_unit]
    ranked = ranking(rows)
    for row in rows:
        row["rank"] = ranked["rank"][row["unit"]["code"]]
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["unit"]["code"]))
    return {**period, "units": rows, "ranking": ranked["by_indicator"]}


def tables(answer: dict[str, Any], translate: Translate) -> list[Table]:
    """The several units' export: one row per unit in rank order, then each indicator's order."""
    t = translate
    rows = [[r["unit"]["name"], r["issued"], r["served"], r["avg_wait_minutes"], r["service_level"],
             r["indicators"]["satisfaction_rate"], r["indicators"]["on_time_rate"], r["rank"]]
            for r in answer["units"]]
    out = [Table(t(N_("Tổng hợp theo đơn vị")),
                 [Column(t(N_("Đơn vị")), "name", "text"),
                  *(Column(t(c.label), c.key, c.kind) for c in UNIT_COLUMNS)],
                 rows)]
    names = {r["unit"]["code"]: r["unit"]["name"] for r in answer["units"]}
    for key, label, _higher in INDICATORS:
        out.append(Table(t(N_("Xếp hạng: %(indicator)s")).replace("%(indicator)s", t(label)),
                         [Column(t(N_("Hạng")), "place"), Column(t(N_("Đơn vị")), "name", "text")],
                         [[i, names[code]] for i, code in enumerate(answer["ranking"][key], start=1)]))
    return out
