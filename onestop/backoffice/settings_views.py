"""``/admin/display`` and ``/admin/ratings``: unit settings kept in ``Unit.settings``.

Hall displays read ``display_*`` and ``announcement_*`` from ``/display/config.json`` when
they load and again on their periodic resync (at most 5 minutes, ``RESYNC_MS`` in
``queue_display/static/display/hall.js``); announcements built on the server use the new
voice settings from the next call. Rating tablets read the scale on every rating screen.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l

from onestop.backoffice import bp
from onestop.backoffice.common import audit, done, unit
from onestop.backoffice.forms import DisplayForm, RatingsForm, reasons_of
from onestop.units.models import Unit

DISPLAY_KEYS = ("display_notice", "display_recent_calls", "display_highlight_seconds",
                "announcement_template", "announcement_repeat", "announcement_number_mode",
                "announcement_style", "announcement_voice", "announcement_espeak_speed",
                "announcement_read_prefix", "announcement_chime")
RATING_KEYS = ("rating_scale", "rating_reasons", "rating_timeout_seconds")


def _current(u: Unit, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: u.setting(key) for key in keys}


def _save(u: Unit, values: dict[str, Any]) -> None:
    before = _current(u, tuple(values))
    u.settings = {**(u.settings or {}), **values}  # a new dict: JSON columns track assignment
    audit("update", "unit_settings", u.id, before, _current(u, tuple(values)), unit_id=u.id)


@bp.route("/display", methods=["GET", "POST"])
def display() -> Any:
    u = unit()
    form = DisplayForm(data=_current(u, DISPLAY_KEYS))
    if form.validate_on_submit():
        values = {key: getattr(form, key).data for key in DISPLAY_KEYS}
        values["display_notice"] = (values["display_notice"] or "").strip()
        values["announcement_read_prefix"] = bool(values["announcement_read_prefix"])
        values["announcement_chime"] = bool(values["announcement_chime"])
        _save(u, values)
        return done(_l("Đã lưu. Màn hình gọi số nhận thay đổi trong vòng 5 phút (hoặc khi tải lại trang)."),
                    "backoffice.display")
    return render_template("backoffice/settings_form.html", form=form, keys=DISPLAY_KEYS,
                           title=_l("Màn hình và âm thanh")), 422 if form.errors else 200


@bp.route("/ratings", methods=["GET", "POST"])
def ratings() -> Any:
    u = unit()
    current = _current(u, RATING_KEYS)
    current["rating_reasons"] = "\n".join(str(r) for r in current["rating_reasons"] or [])
    current["rating_scale"] = str(current["rating_scale"])
    form = RatingsForm(data=current)
    if form.validate_on_submit():
        _save(u, {"rating_scale": form.rating_scale.data,
                  "rating_reasons": reasons_of(form.rating_reasons.data),
                  "rating_timeout_seconds": form.rating_timeout_seconds.data})
        return done(_l("Đã lưu cài đặt đánh giá."), "backoffice.ratings")
    return render_template("backoffice/settings_form.html", form=form, keys=RATING_KEYS,
                           title=_l("Đánh giá hài lòng")), 422 if form.errors else 200
