"""``/admin/procedures``: import and export the procedure catalogue.

The upload goes through ``onestop.procedures_io.import_file`` (what ``onestop procedures
import`` runs): the whole file is checked first and every problem is listed with its line
number; one error and nothing is imported.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import Response, render_template
from flask_babel import gettext
from sqlalchemy import func, select

from onestop import procedures_io
from onestop.backoffice import bp
from onestop.backoffice.common import audit, done, session, unit
from onestop.backoffice.forms import ProceduresImportForm
from onestop.dossiers.models import Procedure
from onestop.queueing.models import Service

SHOWN = 500  # rows listed on the page; the export has them all


def _active_count(unit_id: int) -> int:
    return session().scalar(select(func.count()).select_from(Procedure)
                            .where(Procedure.unit_id == unit_id, Procedure.active.is_(True))) or 0


def _page(form: ProceduresImportForm, errors: list[str] | None = None, status: int = 200) -> Any:
    u = unit()
    rows = session().execute(
        select(Procedure, Service.name).outerjoin(Service, Service.id == Procedure.service_id)
        .where(Procedure.unit_id == u.id, Procedure.active.is_(True))
        .order_by(Service.sort_order, Procedure.code).limit(SHOWN)).all()
    return render_template("backoffice/procedures.html", form=form, rows=rows, errors=errors or [],
                           total=_active_count(u.id), shown=SHOWN), status


@bp.get("/procedures")
def procedures() -> Any:
    return _page(ProceduresImportForm())


@bp.post("/procedures")
def procedures_import() -> Any:
    form = ProceduresImportForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    upload = form.file.data
    name = Path(upload.filename or "").name
    if Path(name).suffix.lower() not in (".csv", ".json"):
        form.file.errors.append(gettext("Cần tệp .csv hoặc .json."))
        return _page(form, status=422)
    data = upload.read(procedures_io.MAX_BYTES + 1)
    u = unit()
    before = _active_count(u.id)
    with tempfile.TemporaryDirectory(prefix="onestop-import-") as tmp:
        path = Path(tmp) / f"upload{Path(name).suffix.lower()}"
        path.write_bytes(data)
        try:
            summary = procedures_io.import_file(session(), u, path, replace=bool(form.replace.data))
        except procedures_io.ProcedureImportError as error:
            session().rollback()
            return _page(form, errors=list(error.errors), status=422)
    after = {"file": name, "created": summary.created, "updated": summary.updated,
             "deactivated": summary.deactivated, "active": _active_count(u.id)}
    audit("import", "procedure", name, {"active": before}, after, unit_id=u.id, diff=False)
    return done(gettext("Đã nhập %(n)d thủ tục: %(c)d mới, %(u)d cập nhật, %(d)d ngừng hiển thị.",
                        n=summary.created + summary.updated, c=summary.created, u=summary.updated,
                        d=summary.deactivated), "backoffice.procedures")


@bp.get("/procedures/export.<fmt>")
def procedures_export(fmt: str) -> Response:
    if fmt not in ("csv", "json"):
        from onestop.queueing.errors import NotFound

        raise NotFound("not_found")
    u = unit()
    rows = procedures_io.export_rows(session(), u)
    body = procedures_io.to_csv(rows) if fmt == "csv" else procedures_io.to_json(rows)
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    filename = f"thu-tuc-{u.code}.{fmt}"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

