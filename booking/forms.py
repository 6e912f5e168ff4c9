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
from flask_wtf.file import FileAllowed, FileField, FileSize
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
from booking.access import CODES, OTHER_MAX_LENGTH, AccessNeeds
from booking.presentation import ACCESS_NEED_LABELS

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


def honeypot(form, field):
    """The hidden "website" field: people never see it, bots fill it. Refused with a neutral message
    (the page says only that the form could not be sent), so a bot learns nothing from the answer."""
    if field.data:
        field.data = ""  # shown empty again, for the person whose browser filled it in
        raise ValidationError(_l("Leave this field empty."))


def honeypot_field():
    return StringField(_l("Leave this field empty"), filters=[_strip], validators=[honeypot])


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
        _l("The other need"), filters=[_strip],
        validators=[Length(max=OTHER_MAX_LENGTH, message=_l("Please keep this to %(max)d characters at most.")),
                    no_control_characters, _other_explained])

    def access_needs_value(self) -> AccessNeeds:
        return AccessNeeds.of(self.access_needs.data or [], self.access_needs_other.data or "")


class VisitForm(AccessNeedsFields, Form):
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
        _l("Note (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=500, message=_l("Please keep this note to %(max)d characters at most.")),
                    no_control_characters],
    )
    consent = BooleanField(
        _l("I have read the privacy notice and agree that my name and email are kept for this booking."),
        validators=[DataRequired(_l("Please agree to the privacy notice to book."))],
    )
    website = honeypot_field()

    def request_key(self) -> str | None:
        """The one-time id of the rendered form: posting the same form twice books once."""
        return one_time_key("form", self.form_id.data)


class MoveForm(Form):
    start = StartField(_l("New arrival time"), validators=[InputRequired(_l("Choose an arrival time."))])


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


class TourRequestForm(GroupKindFields, AccessNeedsFields, Form):
    """A teacher's request for a group visit: the group, the times wanted, and how to reach them."""

    form_id = HiddenField()
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
    website = honeypot_field()

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
        return one_time_key("tour-form", self.form_id.data)


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


class WaitlistForm(Form):
    """Joining a full slot's waiting list: the same fields as a booking, without the note."""

    start = VisitForm.start
    party_size = VisitForm.party_size
    name = VisitForm.name
    email = VisitForm.email
    consent = VisitForm.consent


_LANGUAGE_CHOICES = [SelectChoice("fr", "Français"), SelectChoice("nl", "Nederlands"), SelectChoice("en", "English"),
                     SelectChoice("de", "Deutsch")]


def _texts_in_four_languages(cls, prefix: str, label, area: bool = False):
    """Add one field per language (`prefix`_fr ...) to a form class: staff write each text four times."""
    for code, name in (("fr", "Français"), ("nl", "Nederlands"), ("en", "English"), ("de", "Deutsch")):
        kind = TextAreaField if area else StringField
        setattr(cls, f"{prefix}_{code}", kind(label, description=name, filters=[_strip],
                                              validators=[Optional(), Length(max=2000 if area else 200)]))
    return cls


class ExhibitionForm(Form):
    starts_on = DateField(_l("On show from"), validators=[InputRequired(_l("Choose a date."))])
    ends_on = DateField(_l("Until (leave empty for a permanent exhibition)"), validators=[Optional()])
    panel_languages = SelectMultipleField(_l("Languages of the panels"), choices=_LANGUAGE_CHOICES,
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


_CLOCK_TIME = [InputRequired(_l("Give a time such as 18:30.")),
               Regexp(r"^([01]?\d|2[0-3]):[0-5]\d$", message=_l("Give a time such as 18:30."))]


class EventForm(Form):
    date = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    start_time = StringField(_l("Starts at (HH:MM)"), filters=[_strip], validators=_CLOCK_TIME)
    end_time = StringField(_l("Ends at (HH:MM)"), filters=[_strip], validators=_CLOCK_TIME)
    place = StringField(_l("Place"), filters=[_strip], validators=[Optional(), Length(max=150)])
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
        _l("Email address"), filters=[_strip],
        validators=[DataRequired(_l("Please give an email address.")),
                    Length(max=254, message=_l("This email address is too long.")),
                    Email(_l("Please give a valid email address, such as name@example.be."),
                          check_deliverability=False)],
    )
# --- back office: finding bookings, acting for the visitor, desk bookings ------------------------

LANGUAGE_CHOICES = [SelectChoice("fr", "Français"), SelectChoice("nl", "Nederlands"),
                    SelectChoice("en", "English"), SelectChoice("de", "Deutsch")]


class BookingSearchForm(Form):
    """The staff search box and its filters (a GET form: nothing changes, no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Reference, name, email or organisation"), filters=[_strip],
                    validators=[Optional(), Length(max=200)])
    date_from = DateField(_l("Visit from"), validators=[Optional()])
    date_to = DateField(_l("Visit until"), validators=[Optional()])
    status = SelectField(_l("Status"), default="", choices=[
        SelectChoice("", _l("Any status")), SelectChoice("confirmed", _l("Confirmed")),
        SelectChoice("cancelled", _l("Cancelled")), SelectChoice("pending", _l("Pending (groups)")),
        SelectChoice("proposed", _l("Another time proposed (groups)")),
        SelectChoice("declined", _l("Declined (groups)")), SelectChoice("refused", _l("Proposal refused (groups)")),
        SelectChoice("expired", _l("Proposal expired (groups)"))])


class StaffCancelForm(Form):
    message = TextAreaField(_l("Message to the visitor (optional)"), filters=[_strip],
                            validators=[Optional(), Length(max=1000), no_control_characters])


class StaffMoveForm(Form):
    date = DateField(_l("New date"), validators=[InputRequired(_l("Choose a date."))])
    time = SelectField(_l("New arrival time"), choices=START_TIMES, default="10:00")
    message = TextAreaField(_l("Message to the visitor (optional)"), filters=[_strip],
                            validators=[Optional(), Length(max=1000), no_control_characters])


class GuidesForm(Form):
    guides = SelectMultipleField(_l("Guides"), coerce=int, validators=[Optional()])


def _reason_if_overriding(form, field):
    ticked = [form[name].data for name in form.OVERRIDE_FIELDS]
    if any(ticked) and not (field.data or "").strip():
        raise ValidationError(_l("Give the reason for overriding the rule; the audit log keeps it."))


def _override_reason():
    return TextAreaField(_l("Reason for the override"), filters=[_strip],
                         validators=[Length(max=500), no_control_characters, _reason_if_overriding])


class DeskBookingForm(AccessNeedsFields, Form):
    """An individual visit booked by staff for a caller or a walk-in visitor."""

    OVERRIDE_FIELDS = ("override_lead_time", "override_group_size", "override_capacity")

    form_id = HiddenField()
    date = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    time = SelectField(_l("Arrival time"), choices=START_TIMES, default="10:00")
    party_size = IntegerField(_l("Number of people"), validators=[
        InputRequired(_l("Say how many people are coming.")),
        NumberRange(min=1, max=999, message=_l("Give a number from 1 to 999."))])
    name = StringField(_l("Name"), filters=[_strip], validators=[
        DataRequired(_l("Please give the visitor's name.")), Length(max=100), plain_name])
    email = EmailField(_l("Email address (optional)"), filters=[_strip], validators=[
        Optional(), Length(max=254), Email(_l("Please give a valid email address, such as name@example.be."),
                                           check_deliverability=False)])
    phone = TelField(_l("Phone (optional)"), filters=[_strip], validators=[Optional(), Length(max=40)])
    language = SelectField(_l("Language of the emails"), choices=LANGUAGE_CHOICES, default="fr")
    note = TextAreaField(_l("Note (optional)"), filters=[_strip],
                         validators=[Optional(), Length(max=500), no_control_characters])
    override_lead_time = BooleanField(_l("Lead time: the slot has already begun (walk-in)"))
    override_group_size = BooleanField(_l("Group size: more people than the individual maximum"))
    override_capacity = BooleanField(_l("Capacity: a few places beyond the slot's capacity"))
    override_reason = _override_reason()

    def request_key(self) -> str | None:
        return one_time_key("desk", self.form_id.data)


class DeskGroupForm(GroupKindFields, AccessNeedsFields, Form):
    """A group visit staff enter for a caller or a walk-in group, confirmed at once."""

    OVERRIDE_FIELDS = ("override_lead_time", "override_group_size")

    form_id = HiddenField()
    date = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    time = SelectField(_l("Start time"), choices=START_TIMES, default="10:00")
    organisation = StringField(_l("School or organisation"), filters=[_strip], validators=[
        DataRequired(_l("Please give the name of the school or organisation.")), Length(max=150),
        no_control_characters])
    contact_name = StringField(_l("Contact person"), filters=[_strip], validators=[
        DataRequired(_l("Please give the contact person's name.")), Length(max=100), plain_name])
    email = EmailField(_l("Email address (optional)"), filters=[_strip], validators=[
        Optional(), Length(max=254), Email(_l("Please give a valid email address, such as name@example.be."),
                                           check_deliverability=False)])
    phone = TelField(_l("Phone (optional)"), filters=[_strip], validators=[Optional(), Length(max=40)])
    pupils = IntegerField(_l("Number of pupils or participants"), validators=[
        InputRequired(_l("Say how many pupils or participants are coming.")),
        NumberRange(min=1, max=999, message=_l("Give a number from 1 to 999."))])
    adults = IntegerField(_l("Number of accompanying adults"), default=0, validators=[
        InputRequired(_l("Say how many adults come with the group.")),
        NumberRange(min=0, max=999, message=_l("Give a number from 0 to 999."))])
    group_kind = SelectField(_l("Kind of group"), choices=[
        SelectChoice("primary", _l("Primary school")), SelectChoice("secondary", _l("Secondary school")),
        SelectChoice("higher", _l("Higher education")), SelectChoice("adults", _l("Adults"))], default="secondary")
    tour_language = SelectField(_l("Language of the tour"), choices=LANGUAGE_CHOICES, default="fr")
    language = SelectField(_l("Language of the emails"), choices=LANGUAGE_CHOICES, default="fr")
    guides = SelectMultipleField(_l("Guides (optional: free guides are chosen if you tick none)"), coerce=int,
                                 validators=[Optional()])
    notes = TextAreaField(_l("Note (optional)"), filters=[_strip],
                          validators=[Optional(), Length(max=1000), no_control_characters])
    override_lead_time = BooleanField(_l("Lead time: sooner than the usual notice, even now (walk-in group)"))
    override_group_size = BooleanField(
        _l("Group size: more pupils than a guided tour takes (more guides are then needed)"))
    override_reason = _override_reason()

    def request_key(self) -> str | None:
        return one_time_key("desk-group", self.form_id.data)


class FinalNumbersForm(Form):
    """A teacher's final numbers for a confirmed group visit."""

    pupils = IntegerField(_l("Number of pupils or participants"),
                          validators=[InputRequired(_l("Say how many pupils or participants are coming.")),
                                      NumberRange(min=1, max=999, message=_l("Give a number from 1 to 999."))])
    adults = IntegerField(_l("Number of accompanying adults"),
                          validators=[InputRequired(_l("Say how many adults come with the group.")),
                                      NumberRange(min=0, max=999, message=_l("Give a number from 0 to 999."))])


class LostLinkForm(Form):
    """"Lost your link?": the address the bookings were made with."""

    email = VisitForm.email


class CheckInForm(Form):
    """The front desk marks a booking or a group: arrived, no-show, or the mark undone (empty)."""

    attendance = SelectField(_l("Attendance"), choices=[
        SelectChoice("arrived", _l("Arrived")), SelectChoice("no_show", _l("No-show")), SelectChoice("", _l("Undo"))],
        validators=[Optional()])


class CheckInByReferenceForm(Form):
    """The reference of a visit or a group, typed at the desk or scanned (a scanner types it, then Enter)."""

    reference = StringField(_l("Reference"), validators=[
        Length(max=40, message=_l("Please keep this to %(max)d characters at most."))])


# --- staff accounts --------------------------------------------------------------------------------

def _password_length(form, field):
    from booking.services.staff import PASSWORD_MIN_LENGTH

    if field.data and not PASSWORD_MIN_LENGTH <= len(field.data) <= 200:
        raise ValidationError(_l("Use between %(low)s and %(high)s characters.", low=PASSWORD_MIN_LENGTH, high=200))


def _same_as_password(form, field):
    if field.data != form.password.data:
        raise ValidationError(_l("The two passwords are not the same."))


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email address"), filters=[_strip],
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


STAFF_ROLES = [SelectChoice("staff", _l("Staff")), SelectChoice("admin", _l("Administrator"))]


class StaffAccountForm(Form):
    """An admin adds a staff account."""

    email = EmailField(_l("Email address"), filters=[_strip],
                       validators=[DataRequired(_l("Please give an email address.")), Length(max=254),
                                   Email(_l("Please give a valid email address, such as name@example.be."),
                                         check_deliverability=False)])
    name = StringField(_l("Name"), filters=[_strip], validators=[Optional(), Length(max=100), plain_name])
    role = SelectField(_l("Role"), choices=STAFF_ROLES, default="staff")


class StaffRoleForm(Form):
    role = SelectField(_l("Role"), choices=STAFF_ROLES)
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


class KeptBackForm(Form):
    """Places kept back for visitors without a booking: by default, for a whole day, or for one hour."""

    scope = SelectField(_l("For"), choices=[
        SelectChoice("default", _l("Every hour by default")), SelectChoice("day", _l("A whole day")),
        SelectChoice("hour", _l("One hour"))], default="day")
    date = DateField(_l("Date"), validators=[Optional()])
    time = SelectField(_l("Arrival time"), choices=START_TIMES, default="10:00")
    kept_back = IntegerField(_l("Places kept back"), validators=_capacity_validators)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.scope.data in ("day", "hour") and self.date.data is None and not self.date.errors:
            self.date.errors = [_l("Choose a date.")]  # Optional() stops the field's own validators
            return False
        return valid


class WalkInForm(Form):
    """Visitors let in at the desk without a booking, in one hour of the day."""

    time = SelectField(_l("Arrival time"), choices=START_TIMES)
    people = IntegerField(_l("Walk-ins"), validators=[
        InputRequired(_l("Give a number of people.")),
        NumberRange(min=1, max=50, message=_l("Give a number from 1 to 50."))])


class WalkInUndoForm(Form):
    time = SelectField(_l("Arrival time"), choices=START_TIMES)


class GuideForm(Form):
    name = StringField(_l("Name"), filters=[_strip],
                       validators=[DataRequired(_l("Please give the guide's name.")), Length(max=100), plain_name])
    languages = SelectMultipleField(
        _l("Languages of their tours"),
        choices=[SelectChoice("fr", "Français"), SelectChoice("nl", "Nederlands"), SelectChoice("en", "English"),
                 SelectChoice("de", "Deutsch")],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[DataRequired(_l("Choose at least one language."))])
    email = EmailField(_l("Email address (optional)"), filters=[_strip], validators=[
        Optional(), Length(max=254), Email(_l("Please give a valid email address, such as name@example.be."),
                                           check_deliverability=False)])
    language = SelectField(_l("Language of the emails"), choices=LANGUAGE_CHOICES, default="fr")


class UnavailabilityForm(Form):
    """A day, a morning or an afternoon a guide is away (their page, or staff for them)."""

    day = DateField(_l("Day"), validators=[InputRequired(_l("Choose a date."))])
    part = RadioField(_l("When"), choices=[SelectChoice("day", _l("The whole day")),
                                            SelectChoice("morning", _l("Morning (09:00–13:00)")),
                                            SelectChoice("afternoon", _l("Afternoon (13:00–17:00)"))],
                       default="day")
    note = TextAreaField(_l("Note for the museum (optional)"), filters=[_strip],
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
