"""Reports of several units (issue 22 item 5): ``units=CODE,CODE`` on the summary and the
export for supervisors and admins, a row per unit with its own figures and a ranking on the
QĐ 766 indicators; the one-unit parameters unchanged; a supervisor never reads another's unit."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.api.helpers import assert_error, ok
from tests.conftest import bearer, token_for
from tests.overview.helpers import PASSWORD

SUMMARY = "/api/v1/reports/summary"
EXPORT = "/api/v1/reports/export"


def rows(body):
    return {r["unit"]["code"]: r for r in body["units"]}


def test_a_supervisor_ranks_their_units(client, units):
    sup = token_for(client, "giamsat2", PASSWORD)
    body = ok(client.get(f"{SUMMARY}?preset=month", headers=bearer(sup)))  # no units: all theirs
    got = rows(body)
    assert sorted(got) == ["X02", "X04"]
    assert (got["X02"]["issued"], got["X02"]["served"]) == (7, 3)
    assert (got["X04"]["issued"], got["X04"]["served"]) == (4, 3)
    assert got["X02"]["ratings"]["satisfaction_rate"] == round(2 / 3, 4)
    assert got["X04"]["ratings"]["satisfaction_rate"] == 1.0
    assert body["ranking"]["satisfaction_rate"] == ["X04", "X02"]
    assert body["ranking"]["on_time_rate"] == []  # no dossier finished: nobody ranked on it
    assert [r["unit"]["code"] for r in body["units"]] == ["X04", "X02"]  # in rank order
    assert (got["X04"]["rank"], got["X02"]["rank"]) == (1, 2)
    same = ok(client.get(f"{SUMMARY}?preset=month&units=X04,X02", headers=bearer(sup)))
    assert [r["unit"]["code"] for r in same["units"]] == ["X04", "X02"]


def test_a_supervisor_never_reads_another_unit(client, units):
    sup = token_for(client, "giamsat", PASSWORD)
    assert_error(client.get(f"{SUMMARY}?units=X02,X03", headers=bearer(sup)), 404, "unit_not_found")
    assert_error(client.get(f"{SUMMARY}?units=X03", headers=bearer(sup)), 404, "unit_not_found")
    assert_error(client.get(f"{EXPORT}?units=X03", headers=bearer(sup)), 404, "unit_not_found")
    assert_error(client.get(f"{SUMMARY}?units=X02&service_id=1", headers=bearer(sup)), 422,
                 "filters_need_one_unit")
    # a manager keeps the one-unit report, not several
    manager = token_for(client, "manager")
    assert_error(client.get(f"{SUMMARY}?units=X02", headers=bearer(manager)), 403, "forbidden")
    assert "units" not in ok(client.get(f"{SUMMARY}?preset=month", headers=bearer(manager)))
    assert_error(client.get(f"{SUMMARY}?units=X02", headers=bearer(token_for(client, "clerk1"))), 403,
                 "forbidden")


def test_an_admin_reads_any_units_and_the_old_parameters_still_work(client, units):
    admin = token_for(client, "quantri", PASSWORD)
    body = ok(client.get(f"{SUMMARY}?preset=month&units=X02,X03,X04", headers=bearer(admin)))
    assert sorted(rows(body)) == ["X02", "X03", "X04"]
    assert rows(body)["X03"]["issued"] == 1 and rows(body)["X03"]["served"] == 0
    bound = token_for(client, "admin")  # the demo unit's admin: that unit only
    assert_error(client.get(f"{SUMMARY}?units=X02", headers=bearer(bound)), 404, "unit_not_found")
    one = ok(client.get(f"{SUMMARY}?preset=month", headers=bearer(bound)))  # as before: its own unit
    assert "units" not in one and "issued" in one


def test_the_export_of_several_units(client, units):
    sup = token_for(client, "giamsat2", PASSWORD)
    res = client.get(f"{EXPORT}?preset=month&format=xlsx", headers=bearer(sup))
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    assert 'filename="bao-cao-2-don-vi-' in res.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(res.data))
    cells = [[c.value for c in row] for ws in book.worksheets for row in ws.iter_rows()]
    flat = [v for row in cells for v in row if v is not None]
    assert "UBND xã Tân Tiến" in flat and "UBND xã Hòa Lạc" in flat
    first = next(row for row in cells if "UBND xã Tân Tiến" in row)
    assert first[-1] == 1  # rank 1: every rating satisfied
    csv = client.get(f"{EXPORT}?preset=month&format=csv", headers=bearer(sup))
    assert csv.status_code == 200 and "Tổng hợp theo đơn vị" in csv.data.decode("utf-8-sig")
    pdf = client.get(f"{EXPORT}?preset=month&format=pdf", headers=bearer(sup))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
