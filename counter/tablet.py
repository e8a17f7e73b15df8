"""The rating tablet (máy tính bảng đánh giá) bound to one counter: ``/counter/tablet``.

A browser paired as a device of kind ``tablet`` with a ``counter_id`` (device cookie
``onestop_device``) gets the idle screen (counter and clerk on duty); ``rating.requested``
on the /counter Socket.IO namespace turns it into the rating screen, driven by
``static/counter/tablet.js``. Any other browser gets the pairing screen.
``/counter/tablet/state.json`` is what the script reloads on (re)connect and on
``counter.changed``: counter, clerk, levels, reasons, timeout, and a finished ticket still
waiting for its rating (so that a reloaded tablet asks again).
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _

from counter import bp
from onestop.accounts.auth import current_device
from onestop.accounts.models import Device
from onestop.api.common import now
from onestop.api.ratings import level_list
from onestop.extensions import db
from onestop.queueing.errors import DomainError
from onestop.queueing.models import Counter
from onestop.ratings import engine, scales
from onestop.ratings.realtime import clerk_brief, request_payload
from onestop.units.models import Unit


def _tablet() -> tuple[Device, Counter, Unit] | None:
    device = current_device()
    if device is None or device.kind != "tablet" or device.counter_id is None:
        return None
    counter = db.session.get(Counter, device.counter_id)
    unit = db.session.get(Unit, device.unit_id)
    if counter is None or unit is None or counter.unit_id != unit.id:
        return None
    return device, counter, unit


def texts() -> dict[str, str]:
    """What the script shows, in the page's language."""
    return {
        "no_clerk": _("Quầy chưa có cán bộ làm việc"),
        "ticket": _("Số thứ tự"),
        "countdown": _("Màn hình tự đóng sau {n} giây"),
        "pick_reason": _("Chọn ít nhất một lý do hoặc ghi ý kiến."),
        "send_failed": _("Chưa gửi được đánh giá. Vui lòng thử lại."),
        "offline": _("Mất kết nối, đang kết nối lại…"),
    }


def state(device: Device, counter: Counter, unit: Unit) -> dict[str, Any]:
    session = db.session()
    timeout = scales.timeout_seconds(unit.setting("rating_timeout_seconds"))
    pending = engine.pending_ticket(session, counter.id, now=now(), timeout_seconds=timeout)
    return {
        "device": {"id": device.id, "name": device.name},
        "counter": {"id": counter.id, "number": counter.number, "name": counter.name,
                    "state": counter.state},
        "clerk": clerk_brief(session, counter.clerk_id),
        "scale": scales.scale_code(unit.setting("rating_scale")),
        "levels": level_list(unit),
        "reasons": [{"value": r, "label": _(r)}
                    for r in scales.reasons(unit.setting("rating_reasons"))],
        "timeout_seconds": timeout,
        "pending": request_payload(session, unit, pending, counter) if pending else None,
    }


@bp.get("/tablet")
def tablet() -> Any:
    """The rating screen of a paired tablet; the pairing screen for anything else."""
    found = _tablet()
    if found is None:
        return pair_page()
    config = {**state(*found), "texts": texts(), "rate_url": url_for("api.rate_ticket"),
              "state_url": url_for("counter.tablet_state"),
              "lang": request.args.get("lang") or ""}
    db.session.commit()
    return render_template("counter/tablet.html", config=config, counter=found[1], unit=found[2])


@bp.get("/tablet/pair")
def pair_page() -> Any:
    """Pair this browser as the rating tablet of a counter: ``?code=XXXX`` pairs at once."""
    device = current_device()
    return render_template("counter/tablet_pair.html", device=device,
                           code=request.args.get("code", "")[:16])


@bp.get("/tablet/state.json")
def tablet_state() -> dict[str, Any]:
    found = _tablet()
    if found is None:
        raise DomainError("not_counter_tablet", status=403)
    out = state(*found)
    db.session.commit()
    return out
