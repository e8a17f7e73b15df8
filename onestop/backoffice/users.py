"""``/admin/users``: accounts, roles, passwords, disabling, sign-in locks.

Disabling an account (or resetting its password) revokes its API tokens at once; a signed-in
browser session of a disabled account stops working on its next request (the user loader
refuses inactive users). Nobody can disable themselves, and the last active admin can be
neither disabled nor given another role.

An admin bound to a unit sees and manages the accounts of that unit only (another unit's
account, or an account of no unit, is a 404), and can put accounts in that unit only.

The page also lists the sign-in locks holding now (account, address, until when): "Gỡ khoá"
lifts them (audited as ``unlock``); a new password lifts them too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select, update

from onestop import signals
from onestop.accounts import lockout
from onestop.accounts.models import ApiToken, User
from onestop.backoffice import bp
from onestop.backoffice.common import (
    audit,
    bound_unit_id,
    done,
    in_scope,
    now,
    session,
    snapshot,
    unit,
    unit_choices,
)
from onestop.backoffice.forms import ROLE_CHOICES, ConfirmForm, PasswordForm, UserCreateForm, UserEditForm
from onestop.queueing.errors import NotFound

LAST_ADMIN = _l("Đây là quản trị viên cuối cùng còn hoạt động: không thể khoá hay đổi vai trò.")


def _user(user_id: int) -> User:
    """The account, if this admin may manage it (else 404, as if it did not exist)."""
    user = session().get(User, user_id) if user_id < 2**31 else None
    if user is None or not in_scope(user.unit_id):
        raise NotFound("not_found")
    return user


def _active_admins() -> int:
    return session().scalar(select(func.count()).select_from(User)
                            .where(User.role == "admin", User.active.is_(True))) or 0


def _is_last_admin(user: User) -> bool:
    return user.role == "admin" and user.active and _active_admins() <= 1


def revoke_tokens(user: User, at: dt.datetime) -> int:
    result = session().execute(update(ApiToken)
                               .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                               .values(revoked_at=at).execution_options(synchronize_session=False))
    signals.user_disowned.send(session(), user_id=user.id)  # its open sockets close too
    return int(getattr(result, "rowcount", 0) or 0)


@bp.get("/users")
def users() -> str:
    query = select(User).order_by(User.active.desc(), User.username)
    if (bound := bound_unit_id()) is not None:
        query = query.where(User.unit_id == bound)
    u = unit()
    locks = lockout.active_locks(session(), now(), unit_id=bound)
    return render_template("backoffice/users.html", users=list(session().scalars(query)),
                           roles=dict(ROLE_CHOICES), units=dict(unit_choices()), locks=locks,
                           when=lambda v: u.local(v).strftime("%d/%m/%Y %H:%M"))


@bp.route("/users/new", methods=["GET", "POST"])
def user_new() -> Any:
    form = UserCreateForm()
    form.unit_id.choices = unit_choices()
    if not form.is_submitted():
        form.unit_id.data, form.role.data = unit().id, "clerk"
    if form.validate_on_submit():
        username = form.username.data.strip()
        taken = session().scalar(select(User).where(func.lower(User.username) == username.lower()))
        if taken is not None:
            form.username.errors.append(str(_l("Tên đăng nhập đã có người dùng.")))
        else:
            user = User(username=username, full_name=(form.full_name.data or "").strip(),
                        role=form.role.data, unit_id=form.unit_id.data, active=True,
                        password_changed_at=now())
            user.set_password(form.password.data)
            session().add(user)
            session().flush()
            audit("create", "user", user.id, None, snapshot(user), unit_id=user.unit_id)
            return done(_l("Đã tạo tài khoản."), "backoffice.users")
    return render_template("backoffice/user_form.html", form=form, row=None), 422 if form.errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int) -> Any:
    user = _user(user_id)
    form = UserEditForm(obj=user)
    form.unit_id.choices = unit_choices()
    if form.validate_on_submit():
        if form.role.data != user.role and _is_last_admin(user):
            form.role.errors.append(str(LAST_ADMIN))
        else:
            before = snapshot(user)
            user.full_name = (form.full_name.data or "").strip()
            user.role, user.unit_id = form.role.data, form.unit_id.data
            audit("update", "user", user.id, before, snapshot(user), unit_id=user.unit_id)
            return done(_l("Đã lưu tài khoản."), "backoffice.users")
    return render_template("backoffice/user_form.html", form=form, row=user,
                           password_form=PasswordForm(formdata=None)), 422 if form.errors else 200


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int) -> Any:
    user = _user(user_id)
    password_form = PasswordForm()
    if password_form.validate_on_submit():
        before = snapshot(user)
        at = now()
        user.set_password(password_form.password.data)
        user.password_changed_at = at
        lockout.unlock(session(), user)  # a new password: the old guesses no longer matter
        revoke_tokens(user, at)
        audit("reset_password", "user", user.id, before, snapshot(user), unit_id=user.unit_id)
        return done(_l("Đã đặt lại mật khẩu; các phiên API cũ của tài khoản đã bị thu hồi."),
                    "backoffice.user_edit", user_id=user.id)
    form = UserEditForm(obj=user, formdata=None)
    form.unit_id.choices = unit_choices()
    return render_template("backoffice/user_form.html", form=form, row=user,
                           password_form=password_form), 422


@bp.post("/users/<int:user_id>/disable")
def user_disable(user_id: int) -> Any:
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/enable")
def user_enable(user_id: int) -> Any:
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = _user(user_id)
    if not active and user.id == current_user.id:
        flash(str(_l("Bạn không thể tự khoá tài khoản của mình.")), "error")
        return redirect(url_for("backoffice.users")), 303
    if not active and _is_last_admin(user):
        flash(str(LAST_ADMIN), "error")
        return redirect(url_for("backoffice.users")), 303
    before = snapshot(user)
    user.active = active
    if not active:
        revoke_tokens(user, now())
    audit("disable" if not active else "enable", "user", user.id, before, snapshot(user),
          unit_id=user.unit_id)
    return done(_l("Đã khoá tài khoản; tài khoản không đăng nhập được nữa.") if not active
                else _l("Đã mở khoá tài khoản."), "backoffice.users")


@bp.post("/users/<int:user_id>/unlock")
def user_unlock(user_id: int) -> Any:
    """Lift the account's sign-in locks (every address) and forget its wrong tries."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = _user(user_id)
    at = now()
    holding = [{"address": lock.address, "locked_until": lock.locked_until.isoformat()}
               for lock in lockout.active_locks(session(), at, user_id=user.id)
               if lock.locked_until is not None]
    lockout.unlock(session(), user)
    audit("unlock", "user", user.id, {"locks": holding}, {"locks": []}, unit_id=user.unit_id,
          diff=False)
    return done(_l("Đã gỡ khoá đăng nhập của tài khoản %(name)s.", name=user.username),
                "backoffice.users")
