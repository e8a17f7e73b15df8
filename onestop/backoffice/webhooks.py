"""``/admin/webhooks``: subscribe the provincial system to events, or stop sending.

Uses ``onestop.webhooks.engine`` like ``/api/v1/webhooks``; the signing secret is shown once,
on the page that answers the creation. The delivery log stays at
``GET /api/v1/webhooks/{id}/deliveries``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from onestop.api.errors import MESSAGES
from onestop.backoffice import bp
from onestop.backoffice.common import audit, done, now, session, snapshot, unit
from onestop.backoffice.forms import ConfirmForm, WebhookForm
from onestop.queueing.errors import DomainError
from onestop.webhooks import engine
from onestop.webhooks.config import WebhookConfig
from onestop.webhooks.models import Webhook


@bp.get("/webhooks")
def webhooks() -> str:
    u = unit()
    hooks = list(session().scalars(select(Webhook).where(Webhook.unit_id == u.id)
                                   .order_by(Webhook.active.desc(), Webhook.id)))
    counts = engine.delivery_counts(session(), [h.id for h in hooks])
    return render_template("backoffice/webhooks.html", hooks=hooks, counts=counts,
                           when=lambda v: u.local(v).strftime("%d/%m/%Y %H:%M") if v else "—")


@bp.route("/webhooks/new", methods=["GET", "POST"])
def webhook_new() -> Any:
    form = WebhookForm()
    if form.validate_on_submit():
        allow_loopback = WebhookConfig.of(current_app.config).allow_loopback
        try:
            hook = engine.create_webhook(session(), unit(), form.url.data.strip(), form.events.data,
                                         now=now(), allow_loopback=allow_loopback,
                                         created_by_id=int(current_user.id))
        except DomainError as error:
            session().rollback()
            target = form.events if error.code == "invalid_webhook_events" else form.url
            target.errors.append(str(MESSAGES.get(error.code, error.code)))
        else:
            audit("create", "webhook", hook.id, None, snapshot(hook), unit_id=hook.unit_id)
            session().commit()
            return render_template("backoffice/webhook_secret.html", hook=hook)
    return render_template("backoffice/webhook_form.html", form=form), 422 if form.errors else 200


@bp.post("/webhooks/<int:webhook_id>/deactivate")
def webhook_deactivate(webhook_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    hook = engine.find_webhook(session(), webhook_id, unit().id)
    before = snapshot(hook)
    engine.deactivate_webhook(session(), hook, now=now())
    audit("deactivate", "webhook", hook.id, before, snapshot(hook), unit_id=hook.unit_id)
    return done(_l("Đã vô hiệu hoá webhook; các lần gửi đang chờ bị huỷ."), "backoffice.webhooks")
