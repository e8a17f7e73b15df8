"""``/admin/devices``: register devices, edit them (name, counter, printer), revoke them,
rotate their token.

The token and pairing code are shown once, on the page that answers the change (never
stored in clear, never redirected through the session); the API has the same actions
(``POST /api/v1/devices/{id}/revoke`` and ``/rotate``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.validators import ValidationError

from onestop.accounts import engine as accounts
from onestop.accounts.models import Device
from onestop.backoffice import bp
from onestop.backoffice.common import audit, done, now, session, snapshot, unit
from onestop.backoffice.forms import KIND_CHOICES, ConfirmForm, DeviceForm
from onestop.queueing.errors import NotFound
from onestop.queueing.models import Counter

NEW_SECRET = {"token": "(mới / new)", "pairing_code": "(mới / new)"}


class DeviceEditForm(DeviceForm):
    """The registration form without the kind: a kiosk stays a kiosk (another kind of screen
    is another device, paired anew)."""

    kind = None  # type: ignore[assignment]

    def __init__(self, device_kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.device_kind = device_kind

    def validate_counter_id(self, field: Any) -> None:
        if self.device_kind in accounts.COUNTER_KINDS and not field.data:
            raise ValidationError(_l("Thiết bị này cần gắn với một quầy."))


def _counters() -> list[Counter]:
    return list(session().scalars(select(Counter).where(Counter.unit_id == unit().id)
                                  .order_by(Counter.number)))


def _device(device_id: int) -> Device:
    device = session().get(Device, device_id) if device_id < 2**31 else None
    if device is None or device.unit_id != unit().id:
        raise NotFound("device_not_found")
    return device


@bp.get("/devices")
def devices() -> str:
    from onestop.api.printing import status_label

    rows = session().scalars(select(Device).where(Device.unit_id == unit().id)
                             .order_by(Device.revoked_at.is_not(None), Device.kind, Device.name))
    counters = {c.id: c.number for c in _counters()}
    return render_template("backoffice/devices.html", devices=list(rows), kinds=dict(KIND_CHOICES),
                           counters=counters, status_label=status_label, when=_when)


def _when(value: Any) -> str:
    return unit().local(value).strftime("%d/%m/%Y %H:%M") if value else "—"


@bp.route("/devices/new", methods=["GET", "POST"])
def device_new() -> Any:
    form = DeviceForm()
    counters = _counters()
    form.counter_id.choices = _counter_choices(counters)
    if form.validate_on_submit():
        number = next((c.number for c in counters if c.id == form.counter_id.data), None)
        device, token, code = accounts.add_device(
            session(), unit(), form.kind.data, form.name.data.strip(), now=now(),
            counter_number=number, printer_uri=(form.printer_uri.data or "").strip() or None)
        audit("create", "device", device.id, None, snapshot(device), unit_id=device.unit_id)
        session().commit()
        return _secret_page(device, token, code, created=True)
    return render_template("backoffice/device_form.html", form=form), 422 if form.errors else 200


def _counter_choices(counters: list[Counter]) -> list[tuple[int, str]]:
    return [(0, "—")] + [(c.id, f"{c.number} — {c.name}") for c in counters]


@bp.route("/devices/<int:device_id>/edit", methods=["GET", "POST"])
def device_edit(device_id: int) -> Any:
    """Name, counter and printer of a paired device, changed in place: the device keeps its
    token (nothing to do at the kiosk), the change is audited."""
    device = _device(device_id)
    if device.revoked_at is not None:
        abort(409)
    form = DeviceEditForm(device.kind, obj=device)
    counters = _counters()
    form.counter_id.choices = _counter_choices(counters)
    if request.method == "GET":
        form.counter_id.data = device.counter_id or 0
    if form.validate_on_submit():
        number = next((c.number for c in counters if c.id == form.counter_id.data), None)
        before = snapshot(device)
        accounts.update_device(session(), device, name=form.name.data.strip(), counter_number=number,
                               printer_uri=(form.printer_uri.data or "").strip() or None)
        audit("update", "device", device.id, before, snapshot(device), unit_id=device.unit_id)
        return done(_l("Đã lưu thiết bị %(name)s.", name=device.name), "backoffice.devices")
    return (render_template("backoffice/device_form.html", form=form, device=device,
                            kinds=dict(KIND_CHOICES)), 422 if form.errors else 200)


def _secret_page(device: Device, token: str, code: str, *, created: bool) -> str:
    return render_template("backoffice/device_secret.html", device=device, token=token, code=code,
                           created=created, kinds=dict(KIND_CHOICES),
                           expires=_when(device.pairing_expires_at))


@bp.post("/devices/<int:device_id>/revoke")
def device_revoke(device_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    device = _device(device_id)
    before = snapshot(device)
    accounts.revoke_device(session(), device, now=now())
    audit("revoke", "device", device.id, before, snapshot(device), unit_id=device.unit_id)
    return done(_l("Đã thu hồi thiết bị; mã của thiết bị không còn dùng được."), "backoffice.devices")


@bp.post("/devices/<int:device_id>/rotate")
def device_rotate(device_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    device = _device(device_id)
    token, code = accounts.rotate_device_token(session(), device, now=now())
    audit("rotate_token", "device", device.id, None, dict(NEW_SECRET), unit_id=device.unit_id)
    session().commit()
    return _secret_page(device, token, code, created=False)
