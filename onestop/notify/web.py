"""What the citizens' pages need to offer messages: ``notify_info()`` in templates (the
kiosk's ticket screen, the ticket page ``/t/``) says which kinds of address can be given and
at how many people ahead "còn N người" is sent."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from onestop.notify.config import NotifyConfig


def notify_info(unit: Any = None) -> dict[str, Any]:
    config = NotifyConfig.of(current_app.config)
    ahead = 3
    if unit is None:
        try:
            from onestop.api.common import resolve_unit

            unit = resolve_unit()
        except Exception:  # noqa: BLE001 - a page without a unit offers nothing
            unit = None
    if unit is not None:
        ahead = int(unit.setting("notify_ahead"))
    return {"phone": config.phone_enabled, "email": bool(config.smtp_url), "ahead": ahead}


def init_app(app: Flask) -> None:
    app.jinja_env.globals["notify_info"] = notify_info
