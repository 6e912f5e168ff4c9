"""Staff accounts: signing in, passwords, the accounts an admin manages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    Optional,
    ValidationError,
)

from booking.forms.base import STAFF_ROLES, Form, plain_name, strip_text


class LoginForm(Form):
    email = EmailField(_l("Email address"), filters=[strip_text], validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


# --- staff accounts --------------------------------------------------------------------------------

def _password_length(form, field):
    from booking.services.staff import PASSWORD_MIN_LENGTH

    if field.data and not PASSWORD_MIN_LENGTH <= len(field.data) <= 200:
        raise ValidationError(_l("Use between %(low)s and %(high)s characters.", low=PASSWORD_MIN_LENGTH, high=200))


def _same_as_password(form, field):
    if field.data != form.password.data:
        raise ValidationError(_l("The two passwords are not the same."))


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email address"), filters=[strip_text],
                       validators=[DataRequired(_l("Please give your email address.")), Length(max=254)])


class NewPasswordForm(Form):
    """A new password, typed twice (reset link, own account)."""

    password = PasswordField(_l("New password"),
                             validators=[DataRequired(_l("Please choose a password.")), _password_length])
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(_l("Please type the new password again.")), _same_as_password])


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Please give your current password.")),
                                                 Length(max=200)])


class StaffAccountForm(Form):
    """An admin adds a staff account."""

    email = EmailField(_l("Email address"), filters=[strip_text],
                       validators=[DataRequired(_l("Please give an email address.")), Length(max=254),
                                   Email(_l("Please give a valid email address, such as name@example.be."),
                                         check_deliverability=False)])
    name = StringField(_l("Name"), filters=[strip_text], validators=[Optional(), Length(max=100), plain_name])
    role = SelectField(_l("Role"), choices=STAFF_ROLES, default="staff")


class StaffRoleForm(Form):
    role = SelectField(_l("Role"), choices=STAFF_ROLES)
