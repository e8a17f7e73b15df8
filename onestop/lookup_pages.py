"""Public dossier lookup pages (tra cứu hồ sơ): what a phone opens from the receipt's QR.

``/lookup/<code>?k=<token>`` shows the dossier's status; ``/lookup/`` is a form for the
code and the last four digits of the phone (a USB scanner may also type the QR's URL into
it). Rate limited like ``GET /api/v1/lookup``; nothing here changes data.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from onestop.api.common import resolve_unit
from onestop.api.integrations import provincial_lookup
from onestop.api.lookup import address_limit, code_key, code_limit, find_public, not_phone_lookup
from onestop.api.ratings import dossier_rating_form
from onestop.dossiers.lookup import parse_scanned
from onestop.extensions import limiter
from onestop.queueing.errors import NotFound

bp = Blueprint("lookup", __name__, url_prefix="/lookup")


def _no_lookup() -> bool:
    return not request.args.get("code")


@bp.after_request
def _private(response: Any) -> Any:
    # the URL holds the token: keep it out of caches and of other sites' Referer headers
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _render_result(code: str, token: str | None, phone4: str | None) -> tuple[str, int]:
    try:
        dossier, view = find_public(code, token, phone4)
    except NotFound:
        return render_template("lookup/form.html", code=code, not_found=True), 404
    # the QR page (code and key) may rate the dossier once (onestop/ratings, docs/ratings.md)
    rating = dossier_rating_form(dossier, token) if token else None
    return render_template("lookup/view.html", view=view, rating=rating), 200


@bp.get("/")
@limiter.shared_limit(address_limit, scope="lookup", exempt_when=_no_lookup)
@limiter.shared_limit(code_limit, scope="lookup-code", key_func=code_key, exempt_when=not_phone_lookup)
def form() -> Any:
    """The lookup form; with ``code`` and ``phone4`` (or a scanned URL in ``code``) the result."""
    raw = (request.args.get("code") or "")[:300]
    if not raw:
        return render_template("lookup/form.html", code="", not_found=False)
    code, token = parse_scanned(raw)
    if token:
        return redirect(url_for("lookup.view", code=code, k=token))
    phone4 = (request.args.get("phone4") or "")[:8]
    if not phone4:  # a code known only to the province's system: its status, nothing personal
        try:
            province = provincial_lookup(code, resolve_unit().tz)
        except NotFound:
            return render_template("lookup/form.html", code=code, not_found=True), 404
        if province is not None:
            return render_template("lookup/view.html", view=province, rating=None), 200
    return _render_result(code, None, phone4)


@bp.get("/<code>")
@limiter.shared_limit(address_limit, scope="lookup")
def view(code: str) -> tuple[str, int]:
    """The status page the receipt's QR opens."""
    token = (request.args.get("k") or "")[:64]
    if not token:
        return render_template("lookup/form.html", code=code[:64], not_found=False), 200
    return _render_result(code[:64], token, None)
