"""Forms check the shape of input (required, length, format); operations check the calendar."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from functools import lru_cache

import wtforms.i18n
from babel.support import Translations
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

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
        raise ValidationError(_l("Please write your name without the characters < and >."))


def no_control_characters(form, field):
    if field.data and _CONTROL.search(field.data):
        raise ValidationError(_l("This text contains characters that cannot be used."))


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> Translations:
    return Translations.load(wtforms.i18n.messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """Our forms: WTForms' own messages in the page's language, loaded once per language."""

    class Meta:
        def get_translations(self, form):
            return _wtforms_translations(str(get_locale() or "en"))


class VisitForm(Form):
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
                    Length(max=100, message=_l("Please keep your name to %(max)d characters at most.")),
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
        validators=[Optional(), Length(max=500, message=_l("Please keep this note to %(max)d characters at most.")),
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


class MoveForm(Form):
    start = StartField(_l("New arrival time"), validators=[InputRequired(_l("Choose an arrival time."))])


class ConfirmForm(Form):
    """A button behind a CSRF token (cancel)."""


START_TIMES = [f"{hour:02d}:00" for hour in range(9, 17)]


class TourRequestForm(Form):
    """A teacher's request for a group visit: the group, the times wanted, and how to reach them."""

    form_id = HiddenField()
    kind = RadioField(_l("Kind of visit"), choices=[SelectChoice("guided", _l("Guided tour (2 hours, with a guide)")),
                                                   SelectChoice("self_guided", _l("Self-guided visit (no guide)"))],
                      default="guided", validators=[InputRequired(_l("Choose the kind of visit."))])
    duration_minutes = RadioField(_l("Length of a self-guided visit"),
                                  choices=[SelectChoice("60", _l("1 hour")), SelectChoice("120", _l("2 hours"))],
                                  default="120",
                                  validators=[Optional()])
    start_1_date = DateField(_l("Preferred date"), validators=[InputRequired(_l("Choose a date."))])
    start_1_time = SelectField(_l("Preferred start time"), choices=START_TIMES, default="10:00")
    start_2_date = DateField(_l("First alternative date (optional)"), validators=[Optional()])
    start_2_time = SelectField(_l("First alternative start time"), choices=START_TIMES, default="10:00")
    start_3_date = DateField(_l("Second alternative date (optional)"), validators=[Optional()])
    start_3_time = SelectField(_l("Second alternative start time"), choices=START_TIMES, default="10:00")
    organisation = StringField(_l("School or organisation"), filters=[_strip],
                               validators=[DataRequired(_l("Please give the name of your school or organisation.")),
                                           Length(max=150), no_control_characters])
    address = StringField(_l("Street and number"), filters=[_strip], validators=[Optional(), Length(max=200)])
    postcode = StringField(_l("Postcode"), filters=[_strip],
                           validators=[DataRequired(_l("Please give your postcode.")), Length(max=12)])
    contact_name = StringField(_l("Contact person"), filters=[_strip],
                               validators=[DataRequired(_l("Please give your name.")), Length(max=100), plain_name])
    contact_role = StringField(_l("Your role (e.g. history teacher)"), filters=[_strip],
                               validators=[Optional(), Length(max=100)])
    email = EmailField(_l("Email address"), filters=[_strip],
                       validators=[DataRequired(_l("Please give your email address.")), Length(max=254),
                                   Email(_l("Please give a valid email address, such as name@example.be."),
                                         check_deliverability=False)])
    phone = TelField(_l("Mobile phone"), filters=[_strip],
                     validators=[DataRequired(_l("Please give a phone number where we can reach you.")),
                                 Length(max=40), Regexp(r"^\+?[0-9 ()./-]{6,}$",
                                                        message=_l("Please give a valid phone number."))])
    leader_name = StringField(_l("Group leader on the day, if someone else"), filters=[_strip],
                              validators=[Optional(), Length(max=100), plain_name])
    pupils = IntegerField(_l("Number of pupils or participants"),
                          validators=[InputRequired(_l("Say how many pupils or participants are coming.")),
                                      NumberRange(min=1, max=999, message=_l("Give a number from 1 to 999."))])
    adults = IntegerField(_l("Number of accompanying adults"),
                          validators=[InputRequired(_l("Say how many adults come with the group.")),
                                      NumberRange(min=0, max=999, message=_l("Give a number from 0 to 999."))])
    group_kind = SelectField(_l("Kind of group"), choices=[
        SelectChoice("primary", _l("Primary school")), SelectChoice("secondary", _l("Secondary school")),
        SelectChoice("higher", _l("Higher education")), SelectChoice("adults", _l("Adults"))], default="secondary")
    tour_language = SelectField(_l("Language of the tour"), choices=[
        SelectChoice("fr", "Français"), SelectChoice("nl", "Nederlands"),
        SelectChoice("en", "English"), SelectChoice("de", "Deutsch")])
    needs = TextAreaField(_l("Accessibility or special educational needs (optional)"), filters=[_strip],
                          validators=[Optional(), Length(max=1000), no_control_characters])
    topic = TextAreaField(_l("Topic or learning aims (optional)"), filters=[_strip],
                          validators=[Optional(), Length(max=1000), no_control_characters])
    notes = TextAreaField(_l("Anything else (optional)"), filters=[_strip],
                          validators=[Optional(), Length(max=1000), no_control_characters])
    consent = BooleanField(
        _l("I have read the privacy notice and agree that these details are kept to organise the visit."),
        validators=[DataRequired(_l("Please agree to the privacy notice to send your request."))],
    )

    def starts(self, tz) -> list[tuple[str, dt.datetime]]:
        """The requested times in order, with the name of the date field each came from."""
        result = []
        for index in (1, 2, 3):
            day = self[f"start_{index}_date"].data
            if day is not None:
                time = dt.time.fromisoformat(self[f"start_{index}_time"].data)
                result.append((f"start_{index}_date", dt.datetime.combine(day, time, tzinfo=tz)))
        return result

    def request_key(self) -> str | None:
        try:
            return "tour-form:" + uuid.UUID(self.form_id.data or "").hex
        except ValueError:
            return None


class DecisionForm(Form):
    """Staff's decision on a tour request."""

    message = TextAreaField(_l("Message to the teacher (optional)"), filters=[_strip],
                            validators=[Optional(), Length(max=1000)])
    reason = TextAreaField(_l("Reason"), filters=[_strip], validators=[Optional(), Length(max=1000)])
    guides = SelectMultipleField(_l("Guides"), coerce=int, validators=[Optional()])
    date = DateField(_l("Date"), validators=[Optional()])
    time = SelectField(_l("Start time"), choices=START_TIMES, default="10:00")


class LoginForm(Form):
    email = EmailField(_l("Email address"), filters=[_strip], validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


# --- back office: closures, capacity and guides (staff.closures, staff.capacity) -----------------

class ClosureForm(Form):
    """Close a day, a range of days or some hours, with the reason visitors read in their language."""

    first_day = DateField(_l("First day"), validators=[InputRequired(_l("Choose a date."))])
    last_day = DateField(_l("Last day (optional, for several days)"), validators=[Optional()])
    start_time = TimeField(_l("From (optional; whole days if empty)"), validators=[Optional()])
    end_time = TimeField(_l("Until (optional)"), validators=[Optional()])
    reason_fr = StringField(_l("Reason in French"), filters=[_strip], validators=[Optional(), Length(max=300)])
    reason_nl = StringField(_l("Reason in Dutch"), filters=[_strip], validators=[Optional(), Length(max=300)])
    reason_en = StringField(_l("Reason in English"), filters=[_strip], validators=[Optional(), Length(max=300)])
    reason_de = StringField(_l("Reason in German"), filters=[_strip], validators=[Optional(), Length(max=300)])
    message = TextAreaField(_l("Message to the visitors (optional)"), filters=[_strip],
                            validators=[Optional(), Length(max=1000), no_control_characters])
    confirmed = HiddenField()

    def reasons(self) -> dict[str, str]:
        return {code: self[f"reason_{code}"].data or "" for code in ("fr", "nl", "en", "de")}

    def validate_reason_en(self, field):
        if not any(self.reasons().values()):
            raise ValidationError(_l("Give the reason in at least one language."))

    def validate_last_day(self, field):
        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError(_l("The last day cannot be before the first day."))

    def validate_end_time(self, field):
        if (field.data and self.start_time.data and field.data <= self.start_time.data
                and not (self.last_day.data and self.first_day.data and self.last_day.data > self.first_day.data)):
            raise ValidationError(_l("The closure must end after it starts."))


_capacity_validators = [InputRequired(_l("Give a number of places.")),
                        NumberRange(min=0, max=10_000, message=_l("Give a number from 0 to 10,000."))]


class SlotCapacityForm(Form):
    date = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    time = SelectField(_l("Arrival time"), choices=START_TIMES, default="10:00")
    capacity = IntegerField(_l("Places"), validators=_capacity_validators)


class DayCapacityForm(Form):
    date = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    capacity = IntegerField(_l("Places in each hour"), validators=_capacity_validators)


class DefaultCapacityForm(Form):
    capacity = IntegerField(_l("Places in each hour"), validators=_capacity_validators)


class GuideForm(Form):
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(_l("Please give the guide's name.")), Length(max=100), plain_name])
    languages = SelectMultipleField(
        _l("Languages of their tours"),
        choices=[SelectChoice("fr", "Français"), SelectChoice("nl", "Nederlands"), SelectChoice("en", "English"),
                 SelectChoice("de", "Deutsch")],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[DataRequired(_l("Choose at least one language."))])


class RosterForm(Form):
    """The guides on duty for the open days of one week; `duty` values are "YYYY-MM-DD:guide id"."""

    week = DateField(validators=[InputRequired()])
    duty = SelectMultipleField(validate_choice=False, validators=[Optional()])

    def duty_by_day(self, days: list[dt.date]) -> dict[dt.date, set[int]]:
        chosen: dict[dt.date, set[int]] = {day: set() for day in days}
        for value in self.duty.data or []:
            day_text, _, guide_id = value.partition(":")
            try:
                day = dt.date.fromisoformat(day_text)
                if day in chosen:
                    chosen[day].add(int(guide_id))
            except ValueError:
                continue
        return chosen
