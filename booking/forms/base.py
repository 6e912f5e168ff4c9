"""What every form shares: the base class (its messages in the page's language), the fields and checks
several forms use, and the groups of fields two forms have in common."""

from __future__ import annotations

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
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
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
from booking.access import CODES, OTHER_MAX_LENGTH, AccessNeeds
from booking.presentation import ACCESS_NEED_LABELS

_FORBIDDEN_IN_NAME = re.compile(r"[<>\x00-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# The four languages as each speaks of itself, for the staff's language fields.
LANGUAGE_CHOICES = [SelectChoice("fr", "Français"), SelectChoice("nl", "Nederlands"),
                    SelectChoice("en", "English"), SelectChoice("de", "Deutsch")]


def strip_text(value):
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


def honeypot(form, field):
    """The hidden "website" field: people never see it, bots fill it. Refused with a neutral message
    (the page says only that the form could not be sent), so a bot learns nothing from the answer."""
    if field.data:
        field.data = ""  # shown empty again, for the person whose browser filled it in
        raise ValidationError(_l("Leave this field empty."))


def honeypot_field():
    return StringField(_l("Leave this field empty"), filters=[strip_text], validators=[honeypot])


def optional_email_field():
    """An email address staff may leave out (a caller without one, a guide reached otherwise)."""
    return EmailField(_l("Email address (optional)"), filters=[strip_text], validators=[
        Optional(), Length(max=254), Email(_l("Please give a valid email address, such as name@example.be."),
                                           check_deliverability=False)])


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> Translations:
    return Translations.load(wtforms.i18n.messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """Our forms: WTForms' own messages in the page's language, loaded once per language."""

    class Meta:
        def get_translations(self, form):
            return _wtforms_translations(str(get_locale() or "en"))


def one_time_key(prefix: str, form_id: str | None) -> str | None:
    """A rendered form's one-time id as a request key (`prefix:hex`), None if it is not a UUID."""
    try:
        return f"{prefix}:" + uuid.UUID(form_id or "").hex
    except ValueError:
        return None


def _other_explained(form, field):
    """"Another need" asks for its text; a text typed without the box ticked ticks it."""
    ticked = form.access_needs.data or []
    if field.data and "other" not in ticked:
        form.access_needs.data = [*ticked, "other"]
    elif "other" in ticked and not field.data:
        raise ValidationError(_l("Please say which other need you have, or untick “Another need”."))


class AccessNeedsFields:
    """The optional access needs of a booking form: a box per need, and a text for another one."""

    access_needs = SelectMultipleField(
        _l("Access needs (optional)"), choices=[SelectChoice(code, ACCESS_NEED_LABELS[code]) for code in CODES],
        # No Optional(): it would stop at an empty value ("") before the choices are checked.
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    access_needs_other = StringField(
        _l("The other need"), filters=[strip_text],
        validators=[Length(max=OTHER_MAX_LENGTH, message=_l("Please keep this to %(max)d characters at most.")),
                    no_control_characters, _other_explained])

    def access_needs_value(self) -> AccessNeeds:
        return AccessNeeds.of(self.access_needs.data or [], self.access_needs_other.data or "")


class ConfirmForm(Form):
    """A button behind a CSRF token (cancel)."""


START_TIMES = [f"{hour:02d}:00" for hour in range(9, 17)]


def required_fields(form: Form) -> list:
    """The fields a person must answer: those with a required validator, not the hidden ones nor the bots' trap."""
    return [f for f in form if f.type not in ("HiddenField", "CSRFTokenField") and f.name != "website"
            and any(isinstance(v, InputRequired | DataRequired) for v in f.validators)]


class GroupKindFields:
    """A group visit's kind, and the length of a self-guided one: the teacher's form and the desk's."""

    kind = RadioField(_l("Kind of visit"), choices=[SelectChoice("guided", _l("Guided tour (2 hours, with a guide)")),
                                                   SelectChoice("self_guided", _l("Self-guided visit (no guide)"))],
                      default="guided", validators=[InputRequired(_l("Choose the kind of visit."))])
    duration_minutes = RadioField(_l("Length of a self-guided visit"),
                                  choices=[SelectChoice("60", _l("1 hour")), SelectChoice("120", _l("2 hours"))],
                                  default="120", validators=[Optional()])


# A group's numbers and the kind of group, asked alike of the teacher (request, final numbers) and at the
# desk. Functions, not fields shared as class attributes: a mixin's fields would come first in the form,
# while each call makes a new field, ordered where its form declares it.

def pupils_field():
    return IntegerField(_l("Number of pupils or participants"),
                        validators=[InputRequired(_l("Say how many pupils or participants are coming.")),
                                    NumberRange(min=1, max=999, message=_l("Give a number from 1 to 999."))])


def adults_field(**options):
    """`options` for IntegerField: the desk's starts at 0 adults (default=0), the teacher's empty."""
    return IntegerField(_l("Number of accompanying adults"),
                        validators=[InputRequired(_l("Say how many adults come with the group.")),
                                    NumberRange(min=0, max=999, message=_l("Give a number from 0 to 999."))],
                        **options)


def group_kind_field():
    return SelectField(_l("Kind of group"), choices=[
        SelectChoice("primary", _l("Primary school")), SelectChoice("secondary", _l("Secondary school")),
        SelectChoice("higher", _l("Higher education")), SelectChoice("adults", _l("Adults"))], default="secondary")


CLOCK_TIME = [InputRequired(_l("Give a time such as 18:30.")),
               Regexp(r"^([01]?\d|2[0-3]):[0-5]\d$", message=_l("Give a time such as 18:30."))]


STAFF_ROLES = [SelectChoice("staff", _l("Staff")), SelectChoice("admin", _l("Administrator"))]


capacity_validators = [InputRequired(_l("Give a number of places.")),
                        NumberRange(min=0, max=10_000, message=_l("Give a number from 0 to 10,000."))]
