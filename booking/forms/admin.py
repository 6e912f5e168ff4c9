"""The calendar and content staff manage: closures, capacity and kept-back places, guides and their
roster, exhibitions and events, statistics and exports, the accessibility page and offers."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileSize
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
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
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from booking.access import CODES
from booking.forms.base import (
    CLOCK_TIME,
    LANGUAGE_CHOICES,
    START_TIMES,
    Form,
    capacity_validators,
    no_control_characters,
    optional_email_field,
    plain_name,
    strip_text,
)
from booking.presentation import ACCESS_NEED_LABELS


def _texts_in_four_languages(cls, prefix: str, label, area: bool = False):
    """Add one field per language (`prefix`_fr ...) to a form class: staff write each text four times."""
    for code, name in (("fr", "Français"), ("nl", "Nederlands"), ("en", "English"), ("de", "Deutsch")):
        kind = TextAreaField if area else StringField
        setattr(cls, f"{prefix}_{code}", kind(label, description=name, filters=[strip_text],
                                              validators=[Optional(), Length(max=2000 if area else 200)]))
    return cls


class ExhibitionForm(Form):
    starts_on = DateField(_l("On show from"), validators=[InputRequired(_l("Choose a date."))])
    ends_on = DateField(_l("Until (leave empty for a permanent exhibition)"), validators=[Optional()])
    panel_languages = SelectMultipleField(_l("Languages of the panels"), choices=LANGUAGE_CHOICES,
                                          validators=[Optional()])
    image = FileField(_l("Image (JPEG, PNG or WebP, at most 2 MB)"),
                      validators=[FileAllowed(["jpg", "jpeg", "png", "webp"], _l("Choose a JPEG, PNG or WebP image.")),
                                  FileSize(2 * 1024 * 1024, message=_l("The image must be at most 2 MB."))])

    def text_fields(self, prefix: str) -> list:
        return [self[f"{prefix}_{code}"] for code in ("fr", "nl", "en", "de")]

    def texts(self, prefix: str) -> dict[str, str]:
        return {code: self[f"{prefix}_{code}"].data or "" for code in ("fr", "nl", "en", "de")}


_texts_in_four_languages(ExhibitionForm, "title", _l("Title"))
_texts_in_four_languages(ExhibitionForm, "description", _l("Description"), area=True)


class EventForm(Form):
    date = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    start_time = StringField(_l("Starts at (HH:MM)"), filters=[strip_text], validators=CLOCK_TIME)
    end_time = StringField(_l("Ends at (HH:MM)"), filters=[strip_text], validators=CLOCK_TIME)
    place = StringField(_l("Place"), filters=[strip_text], validators=[Optional(), Length(max=150)])
    booking_needed = BooleanField(_l("Booking needed to attend"))

    text_fields = ExhibitionForm.text_fields
    texts = ExhibitionForm.texts


_texts_in_four_languages(EventForm, "title", _l("Title"))
_texts_in_four_languages(EventForm, "description", _l("Description"), area=True)
class StatsPeriodForm(Form):
    """The period of the statistics page: a year, and optionally one of its months (read from the query)."""

    class Meta(Form.Meta):
        csrf = False  # a GET that only reads

    year = IntegerField(_l("Year"), validators=[
        InputRequired(_l("Give a year.")), NumberRange(min=2000, max=2100, message=_l("Give a year such as 2027."))])
    # Choices (the month names in the page's language) are set by the view.
    month = SelectField(_l("Month"), default="")


class ExportRangeForm(Form):
    """The days of the bookings export, both included."""

    MAX_DAYS = 366

    start = DateField(_l("From"), validators=[InputRequired(_l("Give the first day."))])
    end = DateField(_l("To (included)"), validators=[InputRequired(_l("Give the last day."))])

    def validate_end(self, field):
        if self.start.data is None or field.data is None:
            return
        if field.data < self.start.data:
            raise ValidationError(_l("The last day must not be before the first day."))
        if (field.data - self.start.data).days >= self.MAX_DAYS:
            raise ValidationError(_l("Export at most %(days)s days at a time.", days=self.MAX_DAYS))


class PersonExportForm(Form):
    """Everything held about one email address (a visitor's request to see their data)."""

    person_email = EmailField(
        _l("Email address"), filters=[strip_text],
        validators=[DataRequired(_l("Please give an email address.")),
                    Length(max=254, message=_l("This email address is too long.")),
                    Email(_l("Please give a valid email address, such as name@example.be."),
                          check_deliverability=False)],
    )
# --- back office: closures, capacity and guides (staff.closures, staff.capacity) -----------------

class ClosureForm(Form):
    """Close a day, a range of days or some hours, with the reason visitors read in their language."""

    first_day = DateField(_l("First day"), validators=[InputRequired(_l("Choose a date."))])
    last_day = DateField(_l("Last day (optional, for several days)"), validators=[Optional()])
    start_time = TimeField(_l("From (optional; whole days if empty)"), validators=[Optional()])
    end_time = TimeField(_l("Until (optional)"), validators=[Optional()])
    reason_fr = StringField(_l("Reason in French"), filters=[strip_text], validators=[Optional(), Length(max=300)])
    reason_nl = StringField(_l("Reason in Dutch"), filters=[strip_text], validators=[Optional(), Length(max=300)])
    reason_en = StringField(_l("Reason in English"), filters=[strip_text], validators=[Optional(), Length(max=300)])
    reason_de = StringField(_l("Reason in German"), filters=[strip_text], validators=[Optional(), Length(max=300)])
    message = TextAreaField(_l("Message to the visitors (optional)"), filters=[strip_text],
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


class SlotCapacityForm(Form):
    date = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    time = SelectField(_l("Arrival time"), choices=START_TIMES, default="10:00")
    capacity = IntegerField(_l("Places"), validators=capacity_validators)


class DayCapacityForm(Form):
    date = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    capacity = IntegerField(_l("Places in each hour"), validators=capacity_validators)


class DefaultCapacityForm(Form):
    capacity = IntegerField(_l("Places in each hour"), validators=capacity_validators)


class KeptBackForm(Form):
    """Places kept back for visitors without a booking: by default, for a whole day, or for one hour."""

    scope = SelectField(_l("For"), choices=[
        SelectChoice("default", _l("Every hour by default")), SelectChoice("day", _l("A whole day")),
        SelectChoice("hour", _l("One hour"))], default="day")
    date = DateField(_l("Date"), validators=[Optional()])
    time = SelectField(_l("Arrival time"), choices=START_TIMES, default="10:00")
    kept_back = IntegerField(_l("Places kept back"), validators=capacity_validators)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.scope.data in ("day", "hour") and self.date.data is None and not self.date.errors:
            self.date.errors = [_l("Choose a date.")]  # Optional() stops the field's own validators
            return False
        return valid


class GuideForm(Form):
    name = StringField(_l("Name"), filters=[strip_text],
                       validators=[DataRequired(_l("Please give the guide's name.")), Length(max=100), plain_name])
    languages = SelectMultipleField(
        _l("Languages of their tours"),
        choices=LANGUAGE_CHOICES,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[DataRequired(_l("Choose at least one language."))])
    email = optional_email_field()
    language = SelectField(_l("Language of the emails"), choices=LANGUAGE_CHOICES, default="fr")


class UnavailabilityForm(Form):
    """A day, a morning or an afternoon a guide is away (their page, or staff for them)."""

    day = DateField(_l("Day"), validators=[InputRequired(_l("Choose a date."))])
    part = RadioField(_l("When"), choices=[SelectChoice("day", _l("The whole day")),
                                            SelectChoice("morning", _l("Morning (09:00–13:00)")),
                                            SelectChoice("afternoon", _l("Afternoon (13:00–17:00)"))],
                       default="day")
    note = TextAreaField(_l("Note for the museum (optional)"), filters=[strip_text],
                         validators=[Optional(), Length(max=500), no_control_characters])


class ReassignForm(Form):
    """One guide of a tour for another; `from_guide` is the guide staff saw on it (the check that
    tells the second of two members of staff that the tour changed meanwhile)."""

    from_guide = IntegerField(validators=[InputRequired()])
    to_guide = SelectField(_l("Other guide"), coerce=int, validate_choice=False, validators=[InputRequired()])


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


class AccessibilityReviewForm(Form):
    """What the accessibility statement says of the site's conformance, and when it was reviewed."""

    status = RadioField(_l("Conformance with WCAG 2.1 level AA"), choices=[
        SelectChoice("full", _l("Fully conformant")), SelectChoice("partial", _l("Partially conformant")),
        SelectChoice("none", _l("Not conformant"))], validators=[InputRequired()])
    reviewed_on = DateField(_l("Last reviewed on"), validators=[InputRequired(_l("Choose a date."))])


class AccessOffersForm(Form):
    """What the museum offers for each access need, in the four languages (one field set per need)."""

    text_fields = ExhibitionForm.text_fields
    texts = ExhibitionForm.texts


for _code in CODES:
    _texts_in_four_languages(AccessOffersForm, f"offer_{_code}", ACCESS_NEED_LABELS[_code], area=True)
