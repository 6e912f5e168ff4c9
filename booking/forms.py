"""Forms check the shape of input (required, length, format); operations check the calendar."""

from __future__ import annotations

import re
import uuid

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from booking import schedule

_FORBIDDEN_IN_NAME = re.compile(r"[<>\x00-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class StartField(StringField):
    """A slot's start as ISO 8601; Brussels time when no offset is given. `data` is UTC or None."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = None
        if not self.raw_text:
            return
        try:
            self.data = schedule.parse_start(self.raw_text, current_app.extensions["booking"].rules)
        except (ValueError, TypeError, OverflowError) as error:
            raise ValueError(_l("Choose one of the arrival times in the calendar.")) from error

    def _value(self):
        return getattr(self, "raw_text", "") or (self.data.isoformat() if self.data else "")


def party_size_in_range(form, field):
    config = current_app.config
    if field.data is None or not config["PARTY_MIN"] <= field.data <= config["PARTY_MAX"]:
        raise ValidationError(
            _l("Choose between %(low)s and %(high)s people. For a larger group, request a group visit.",
               low=config["PARTY_MIN"], high=config["PARTY_MAX"])
        )


def plain_name(form, field):
    if field.data and _FORBIDDEN_IN_NAME.search(field.data):
        raise ValidationError(_l("Please write your name with letters only, without < or >."))


def no_control_characters(form, field):
    if field.data and _CONTROL.search(field.data):
        raise ValidationError(_l("This text contains characters that cannot be used."))


class VisitForm(FlaskForm):
    """The visitor's booking form."""

    form_id = HiddenField()
    start = StartField(_l("Arrival time"), validators=[InputRequired(_l("Choose an arrival time."))])
    party_size = IntegerField(
        _l("Number of people"),
        validators=[InputRequired(_l("Say how many people are coming.")), party_size_in_range],
    )
    name = StringField(
        _l("Your name"),
        filters=[_strip],
        validators=[DataRequired(_l("Please give your name.")),
                    Length(max=100, message=_l("Please keep your name under %(max)d characters.")),
                    plain_name],
    )
    email = EmailField(
        _l("Email address"),
        filters=[_strip],
        validators=[DataRequired(_l("Please give your email address.")),
                    Length(max=254, message=_l("This email address is too long.")),
                    Email(_l("Please give a valid email address, such as name@example.be."),
                          check_deliverability=False)],
    )
    note = TextAreaField(
        _l("Accessibility needs (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=500, message=_l("Please keep this note under %(max)d characters.")),
                    no_control_characters],
    )
    consent = BooleanField(
        _l("I have read the privacy notice and agree that my name and email are kept for this booking."),
        validators=[DataRequired(_l("Please agree to the privacy notice to book."))],
    )

    def request_key(self) -> str | None:
        """The one-time id of the rendered form: posting the same form twice books once."""
        try:
            return "form:" + uuid.UUID(self.form_id.data or "").hex
        except ValueError:
            return None


class MoveForm(FlaskForm):
    start = StartField(_l("New arrival time"), validators=[InputRequired(_l("Choose an arrival time."))])


class ConfirmForm(FlaskForm):
    """A button behind a CSRF token (cancel)."""
