"""Staff accounts: one's own (password), everyone's (admins), and the audit log (admins)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.orm import selectinload

from booking.audit_sentences import sentence
from booking.audit_words import when
from booking.context import db, now
from booking.forms.accounts import ChangePasswordForm, StaffAccountForm, StaffRoleForm
from booking.forms.base import ConfirmForm
from booking.i18n import current_language
from booking.models import AuditEntry, StaffUser
from booking.services import passwords
from booking.services import staff as service
from booking.views.staff import admin_only, bp
from booking.views.staff.auth import AUTH_FINGERPRINT

AUDIT_PAGE_SIZE = 50


def _me() -> StaffUser:
    return current_user._get_current_object()


def _when(moment) -> str:
    return when(moment) if moment else "—"


def _explain(error: service.AccountError) -> str:
    messages = {
        "last_admin": gettext("This is the last active administrator: make another account an administrator "
                              "first."),
        "staff_exists": gettext("An account with this email address already exists."),
        "disabled": gettext("This account is disabled: enable it first."),
        "current_password": gettext("This is not your current password."),
    }
    return messages.get(error.code, gettext("Please check the form."))


# --- one's own account -----------------------------------------------------------------------------

@bp.route("/account", methods=["GET", "POST"])
def account():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = passwords.change_password(db(), now(), _me().id, form.current_password.data, form.password.data)
        except service.AccountError as error:
            form.current_password.errors = [_explain(error)]
            status = 400
        else:
            session[AUTH_FINGERPRINT] = service.session_fingerprint(user)  # this session stays signed in
            flash(gettext("Your password is changed. Your other sessions are signed out."), "success")
            return redirect(url_for("staff.account", lang=request.args.get("lang")))
    elif form.is_submitted():
        status = 400
    return render_template("staff/account.html", form=form, user=_me(), when=_when), status


# --- every account (admins) ------------------------------------------------------------------------

@bp.route("/accounts", methods=["GET", "POST"])
@admin_only
def accounts():
    """The list of accounts and the form that adds one."""
    form = StaffAccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = service.create_account(db(), now(), _me(), form.email.data, form.name.data or "",
                                           form.role.data, current_language())
        except service.AccountError as error:
            form.email.errors = [_explain(error)]
            status = 400
        else:
            flash(gettext("The account %(email)s is created; it has been emailed a link to choose a password.",
                          email=user.email), "success")
            return redirect(url_for("staff.accounts", lang=request.args.get("lang")))
    elif form.is_submitted():
        status = 400
    users = db().scalars(sa.select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.email)).all()
    return render_template("staff/accounts.html", form=form, users=users, role_form=StaffRoleForm(),
                           action_form=ConfirmForm(), moment=now(), when=_when,
                           locked=lambda user: service.is_locked(user, now())), status


def _account_action(user_id: int, action: Callable[[StaffUser], StaffUser], success: str):
    if db().get(StaffUser, user_id) is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        flash(gettext("Please check the form."), "error")
    else:
        try:
            user = action(db().get(StaffUser, user_id))
        except service.AccountError as error:
            flash(_explain(error), "error")
        else:
            flash(success % {"email": user.email}, "success")
    # An admin who has just given up the role (or been disabled) can no longer see the list.
    target = "staff.accounts" if _me().is_admin and _me().active else "staff.index"
    return redirect(url_for(target, lang=request.args.get("lang")))


@bp.post("/accounts/<int:user_id>/role")
@admin_only
def account_role(user_id: int):
    form = StaffRoleForm()
    if not form.validate_on_submit():
        flash(gettext("Please check the form."), "error")
        return redirect(url_for("staff.accounts", lang=request.args.get("lang")))
    return _account_action(user_id, lambda user: service.set_role(db(), now(), _me(), user.id, form.role.data),
                           gettext("The role of %(email)s is changed."))


@bp.post("/accounts/<int:user_id>/disable")
@admin_only
def account_disable(user_id: int):
    return _account_action(user_id, lambda user: service.set_active(db(), now(), _me(), user.id, False),
                           gettext("%(email)s is disabled: they can no longer sign in."))


@bp.post("/accounts/<int:user_id>/enable")
@admin_only
def account_enable(user_id: int):
    return _account_action(user_id, lambda user: service.set_active(db(), now(), _me(), user.id, True),
                           gettext("%(email)s is enabled again."))


@bp.post("/accounts/<int:user_id>/unlock")
@admin_only
def account_unlock(user_id: int):
    return _account_action(user_id, lambda user: service.unlock(db(), now(), _me(), user.id),
                           gettext("%(email)s is unlocked."))


@bp.post("/accounts/<int:user_id>/sign-out")
@admin_only
def account_sign_out(user_id: int):
    return _account_action(user_id, lambda user: service.sign_out_account(db(), now(), _me(), user.id),
                           gettext("%(email)s is signed out on every browser."))


@bp.post("/accounts/<int:user_id>/reset")
@admin_only
def account_reset(user_id: int):
    return _account_action(
        user_id, lambda user: service.send_reset(db(), now(), _me(), user.id, current_language()),
        gettext("%(email)s has been emailed a link to choose a new password."))


# --- the audit log (admins) ------------------------------------------------------------------------

@bp.get("/audit")
@admin_only
def audit():
    """Who did what and when, newest first, 50 a page, by member of staff and by action prefix."""
    staff_id = request.args.get("staff", type=int)
    prefix = (request.args.get("action") or "").strip()[:40]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    query = sa.select(AuditEntry).options(selectinload(AuditEntry.booking), selectinload(AuditEntry.tour))
    if staff_id:
        query = query.where(AuditEntry.staff_id == staff_id)
    if prefix:
        query = query.where(AuditEntry.action.startswith(prefix, autoescape=True))
    rows = db().scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                        .offset((page - 1) * AUDIT_PAGE_SIZE).limit(AUDIT_PAGE_SIZE + 1)).all()
    filters = {"staff": staff_id or None, "action": prefix or None, "lang": request.args.get("lang")}
    return render_template(
        "staff/audit.html", entries=rows[:AUDIT_PAGE_SIZE], page=page, staff_id=staff_id, prefix=prefix,
        staff_users=db().scalars(sa.select(StaffUser).order_by(StaffUser.email)).all(), when=_when,
        sentence=sentence, previous_url=url_for("staff.audit", page=page - 1, **filters) if page > 1 else None,
        next_url=url_for("staff.audit", page=page + 1, **filters) if len(rows) > AUDIT_PAGE_SIZE else None,
        booking_page="staff.booking" in current_app.view_functions,
    )
