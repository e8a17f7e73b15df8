"""``/admin/display`` and ``/admin/ratings``: unit settings kept in ``Unit.settings``.

Hall displays read ``display_*`` and ``announcement_*`` from ``/display/config.json`` when
they load and again on their periodic resync (at most 5 minutes, ``RESYNC_MS`` in
``queue_display/static/display/hall.js``); announcements built on the server use the new
voice settings from the next call. Rating tablets read the scale on every rating screen.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from hardware.voice import Announcer, VoiceSettings, folders, libespeak
from hardware.voice.languages import LANGUAGES, languages, sentence
from onestop.backoffice import bp
from onestop.backoffice.common import audit, done, unit
from onestop.backoffice.forms import DisplayForm, RatingsForm, reasons_of
from onestop.units.models import Unit

DISPLAY_KEYS = ("display_notice", "display_recent_calls", "display_highlight_seconds",
                "announcement_template", "announcement_repeat", "announcement_number_mode",
                "announcement_style", "announcement_voice", "announcement_espeak_speed",
                "announcement_read_prefix", "announcement_chime")
RATING_KEYS = ("rating_scale", "rating_reasons", "rating_timeout_seconds")
# the announcement languages (issue 23 item 2): one choice per place in the order, from the
# languages the hall has a sentence and a voice for (hardware/voice/languages.py)
LANGUAGE_NAMES = {"vi": _l("Tiếng Việt"), "en": _l("Tiếng Anh (English)")}
LANG_KEYS = tuple(f"announcement_lang_{n}" for n in range(1, len(LANGUAGES) + 1))


class DisplayLanguagesForm(DisplayForm):
    """The display settings with the announcement languages in order (the first required)."""


for _n, _key in enumerate(LANG_KEYS, 1):
    _choices = [(lang, LANGUAGE_NAMES.get(lang, lang)) for lang in LANGUAGES]
    setattr(DisplayLanguagesForm, _key, SelectField(
        _l("Ngôn ngữ đọc thứ %(n)s", n=_n), choices=_choices if _n == 1 else [("", "—"), *_choices],
        validate_choice=False, description=_l("Thứ tự đọc khi gọi số") if _n == 1 else ""))


def _language_data(u: Unit) -> dict[str, str]:
    chosen = languages(u.setting("announcement_languages"))
    return {key: chosen[i] if i < len(chosen) else "" for i, key in enumerate(LANG_KEYS)}


def _samples(u: Unit) -> list[dict[str, str]]:
    """A "Nghe thử" per language: an example call said by this server's voice for it."""
    settings = VoiceSettings.from_settings(u.setting)
    out = []
    for lang in LANGUAGES:
        text = sentence(lang, "A012", 3, settings)
        out.append({"lang": lang, "name": str(LANGUAGE_NAMES.get(lang, lang)), "text": text,
                    "url": url_for("kiosk.say_wav", text=text, lang=lang)})
    return out


VOICE_NAMES = {"clips": _l("Đoạn ghi âm"), "espeak": _l("Giọng máy chủ (espeak-ng)"),
               "browser": _l("Giọng của trình duyệt"), "chime": _l("Chỉ chuông")}


def _current(u: Unit, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: u.setting(key) for key in keys}


def _save(u: Unit, values: dict[str, Any]) -> None:
    before = _current(u, tuple(values))
    u.settings = {**(u.settings or {}), **values}  # a new dict: JSON columns track assignment
    audit("update", "unit_settings", u.id, before, _current(u, tuple(values)), unit_id=u.id)


@bp.route("/display", methods=["GET", "POST"])
def display() -> Any:
    u = unit()
    form = DisplayLanguagesForm(data={**_current(u, DISPLAY_KEYS), **_language_data(u)})
    if form.validate_on_submit():
        values = {key: getattr(form, key).data for key in DISPLAY_KEYS}
        if any(key in request.form for key in LANG_KEYS):  # a form without them keeps the order
            values["announcement_languages"] = languages(
                [getattr(form, key).data for key in LANG_KEYS if getattr(form, key).data])
        values["display_notice"] = (values["display_notice"] or "").strip()
        values["announcement_read_prefix"] = bool(values["announcement_read_prefix"])
        values["announcement_chime"] = bool(values["announcement_chime"])
        _save(u, values)
        return done(_l("Đã lưu. Màn hình gọi số nhận thay đổi trong vòng 5 phút (hoặc khi tải lại trang)."),
                    "backoffice.display")
    return render_template("backoffice/display_settings.html", form=form, keys=DISPLAY_KEYS + LANG_KEYS,
                           title=_l("Màn hình và âm thanh"), voice=_voice_status(u),
                           samples=_samples(u)), \
        422 if form.errors else 200


def _voice_status(u: Unit) -> dict[str, Any]:
    """The voice this server really uses for the unit's choice, its fallbacks, and why a
    chosen back end is skipped, in words for the administrator."""
    clips, cache = folders(current_app.config)
    ann = Announcer(VoiceSettings.from_settings(u.setting), clips, cache)
    status = ann.status(str(u.setting("announcement_voice") or "auto"))
    return {"active": VOICE_NAMES[status.active], "detail": _voice_detail(ann, status.active),
            "fallbacks": [VOICE_NAMES[name] for name in status.fallbacks],
            "skipped": [(VOICE_NAMES[name], _skipped_reason(ann, name)) for name, _ in status.skipped],
            "server": status.active in ("clips", "espeak")}


def _voice_detail(ann: Announcer, name: str) -> str:
    if name == "clips":
        return _("bộ đoạn ghi âm trong %(folder)s", folder=str(ann.clips_dir))
    if name == "espeak":
        espeak = ann.espeak()
        if espeak.binary:
            return _("chương trình %(path)s, giọng %(voice)s", path=espeak.binary, voice=espeak.voice)
        return _("thư viện libespeak-ng của gói espeakng-loader %(version)s, giọng %(voice)s",
                 version=libespeak.version(), voice=espeak.voice)
    if name == "browser":
        return _("máy chủ không có giọng đọc: màn hình dùng giọng tiếng Việt của trình duyệt nếu có")
    return _("chỉ phát chuông, không đọc số")


def _skipped_reason(ann: Announcer, name: str) -> str:
    if name == "clips":
        return _("chưa có đoạn ghi âm trong %(folder)s", folder=str(ann.clips_dir))
    return _("chưa cài espeak-ng (gói espeakng-loader hoặc gói Debian espeak-ng)")


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
