"""The front desk's forms: deciding on a request, finding a booking and acting for the visitor, desk
bookings of visits and groups, check-in and walk-ins."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from booking.forms.base import (
    LANGUAGE_CHOICES,
    START_TIMES,
    AccessNeedsFields,
    Form,
    GroupKindFields,
    adults_field,
    group_kind_field,
    no_control_characters,
    one_time_key,
    optional_email_field,
    plain_name,
    pupils_field,
    strip_text,
)


class DecisionForm(Form):
    """Staff's decision on a tour request."""

    message = TextAreaField(_l("Message to the teacher (optional)"), filters=[strip_text],
                            validators=[Optional(), Length(max=1000)])
    reason = TextAreaField(_l("Reason"), filters=[strip_text], validators=[Optional(), Length(max=1000)])
    guides = SelectMultipleField(_l("Guides"), coerce=int, validators=[Optional()])
    date = DateField(_l("Date"), validators=[Optional()])
    time = SelectField(_l("Start time"), choices=START_TIMES, default="10:00")
# --- back office: finding bookings, acting for the visitor, desk bookings ------------------------

class BookingSearchForm(Form):
    """The staff search box and its filters (a GET form: nothing changes, no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Reference, name, email or organisation"), filters=[strip_text],
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
    message = TextAreaField(_l("Message to the visitor (optional)"), filters=[strip_text],
                            validators=[Optional(), Length(max=1000), no_control_characters])


class StaffMoveForm(Form):
    date = DateField(_l("New date"), validators=[InputRequired(_l("Choose a date."))])
    time = SelectField(_l("New arrival time"), choices=START_TIMES, default="10:00")
    message = TextAreaField(_l("Message to the visitor (optional)"), filters=[strip_text],
                            validators=[Optional(), Length(max=1000), no_control_characters])


class GuidesForm(Form):
    guides = SelectMultipleField(_l("Guides"), coerce=int, validators=[Optional()])


def _reason_if_overriding(form, field):
    ticked = [form[name].data for name in form.OVERRIDE_FIELDS]
    if any(ticked) and not (field.data or "").strip():
        raise ValidationError(_l("Give the reason for overriding the rule; the audit log keeps it."))


def _override_reason():
    return TextAreaField(_l("Reason for the override"), filters=[strip_text],
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
    name = StringField(_l("Name"), filters=[strip_text], validators=[
        DataRequired(_l("Please give the visitor's name.")), Length(max=100), plain_name])
    email = optional_email_field()
    phone = TelField(_l("Phone (optional)"), filters=[strip_text], validators=[Optional(), Length(max=40)])
    language = SelectField(_l("Language of the emails"), choices=LANGUAGE_CHOICES, default="fr")
    note = TextAreaField(_l("Note (optional)"), filters=[strip_text],
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
    organisation = StringField(_l("School or organisation"), filters=[strip_text], validators=[
        DataRequired(_l("Please give the name of the school or organisation.")), Length(max=150),
        no_control_characters])
    contact_name = StringField(_l("Contact person"), filters=[strip_text], validators=[
        DataRequired(_l("Please give the contact person's name.")), Length(max=100), plain_name])
    email = optional_email_field()
    phone = TelField(_l("Phone (optional)"), filters=[strip_text], validators=[Optional(), Length(max=40)])
    pupils = pupils_field()
    adults = adults_field(default=0)
    group_kind = group_kind_field()
    tour_language = SelectField(_l("Language of the tour"), choices=LANGUAGE_CHOICES, default="fr")
    language = SelectField(_l("Language of the emails"), choices=LANGUAGE_CHOICES, default="fr")
    guides = SelectMultipleField(_l("Guides (optional: free guides are chosen if you tick none)"), coerce=int,
                                 validators=[Optional()])
    notes = TextAreaField(_l("Note (optional)"), filters=[strip_text],
                          validators=[Optional(), Length(max=1000), no_control_characters])
    override_lead_time = BooleanField(_l("Lead time: sooner than the usual notice, even now (walk-in group)"))
    override_group_size = BooleanField(
        _l("Group size: more pupils than a guided tour takes (more guides are then needed)"))
    override_reason = _override_reason()

    def request_key(self) -> str | None:
        return one_time_key("desk-group", self.form_id.data)


class CheckInForm(Form):
    """The front desk marks a booking or a group: arrived, no-show, or the mark undone (empty)."""

    attendance = SelectField(_l("Attendance"), choices=[
        SelectChoice("arrived", _l("Arrived")), SelectChoice("no_show", _l("No-show")), SelectChoice("", _l("Undo"))],
        validators=[Optional()])


class CheckInByReferenceForm(Form):
    """The reference of a visit or a group, typed at the desk or scanned (a scanner types it, then Enter)."""

    reference = StringField(_l("Reference"), validators=[
        Length(max=40, message=_l("Please keep this to %(max)d characters at most."))])


class WalkInForm(Form):
    """Visitors let in at the desk without a booking, in one hour of the day."""

    time = SelectField(_l("Arrival time"), choices=START_TIMES)
    people = IntegerField(_l("Walk-ins"), validators=[
        InputRequired(_l("Give a number of people.")),
        NumberRange(min=1, max=50, message=_l("Give a number from 1 to 50."))])


class WalkInUndoForm(Form):
    time = SelectField(_l("Arrival time"), choices=START_TIMES)
