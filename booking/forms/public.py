"""The visitors' and teachers' forms: a visit, a move, a group request, the waiting list, final numbers,
the lost link; forms check the shape of input, operations check the calendar."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
)

from booking.forms.base import (
    LANGUAGE_CHOICES,
    START_TIMES,
    AccessNeedsFields,
    Form,
    GroupKindFields,
    StartField,
    adults_field,
    group_kind_field,
    honeypot_field,
    no_control_characters,
    one_time_key,
    party_size_in_range,
    plain_name,
    pupils_field,
    strip_text,
)


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
        filters=[strip_text],
        validators=[DataRequired(_l("Please give your name.")),
                    Length(max=100, message=_l("Please keep your name to %(max)d characters at most.")),
                    plain_name],
    )
    email = EmailField(
        _l("Email address"),
        filters=[strip_text],
        validators=[DataRequired(_l("Please give your email address.")),
                    Length(max=254, message=_l("This email address is too long.")),
                    Email(_l("Please give a valid email address, such as name@example.be."),
                          check_deliverability=False)],
    )
    note = TextAreaField(
        _l("Note (optional)"),
        filters=[strip_text],
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


class TourRequestForm(GroupKindFields, AccessNeedsFields, Form):
    """A teacher's request for a group visit: the group, the times wanted, and how to reach them."""

    form_id = HiddenField()
    start_1_date = DateField(_l("Preferred date"), validators=[InputRequired(_l("Choose a date."))])
    start_1_time = SelectField(_l("Preferred start time"), choices=START_TIMES, default="10:00")
    start_2_date = DateField(_l("First alternative date (optional)"), validators=[Optional()])
    start_2_time = SelectField(_l("First alternative start time"), choices=START_TIMES, default="10:00")
    start_3_date = DateField(_l("Second alternative date (optional)"), validators=[Optional()])
    start_3_time = SelectField(_l("Second alternative start time"), choices=START_TIMES, default="10:00")
    organisation = StringField(_l("School or organisation"), filters=[strip_text],
                               validators=[DataRequired(_l("Please give the name of your school or organisation.")),
                                           Length(max=150), no_control_characters])
    address = StringField(_l("Street and number"), filters=[strip_text], validators=[Optional(), Length(max=200)])
    postcode = StringField(_l("Postcode"), filters=[strip_text],
                           validators=[DataRequired(_l("Please give your postcode.")), Length(max=12)])
    contact_name = StringField(_l("Contact person"), filters=[strip_text],
                               validators=[DataRequired(_l("Please give your name.")), Length(max=100), plain_name])
    contact_role = StringField(_l("Your role (e.g. history teacher)"), filters=[strip_text],
                               validators=[Optional(), Length(max=100)])
    email = EmailField(_l("Email address"), filters=[strip_text],
                       validators=[DataRequired(_l("Please give your email address.")), Length(max=254),
                                   Email(_l("Please give a valid email address, such as name@example.be."),
                                         check_deliverability=False)])
    phone = TelField(_l("Mobile phone"), filters=[strip_text],
                     validators=[DataRequired(_l("Please give a phone number where we can reach you.")),
                                 Length(max=40), Regexp(r"^\+?[0-9 ()./-]{6,}$",
                                                        message=_l("Please give a valid phone number."))])
    leader_name = StringField(_l("Group leader on the day, if someone else"), filters=[strip_text],
                              validators=[Optional(), Length(max=100), plain_name])
    pupils = pupils_field()
    adults = adults_field()
    group_kind = group_kind_field()
    tour_language = SelectField(_l("Language of the tour"), choices=LANGUAGE_CHOICES)
    needs = TextAreaField(_l("Accessibility or special educational needs (optional)"), filters=[strip_text],
                          validators=[Optional(), Length(max=1000), no_control_characters])
    topic = TextAreaField(_l("Topic or learning aims (optional)"), filters=[strip_text],
                          validators=[Optional(), Length(max=1000), no_control_characters])
    notes = TextAreaField(_l("Anything else (optional)"), filters=[strip_text],
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


class WaitlistForm(Form):
    """Joining a full slot's waiting list: the same fields as a booking, without the note."""

    start = VisitForm.start
    party_size = VisitForm.party_size
    name = VisitForm.name
    email = VisitForm.email
    consent = VisitForm.consent


class FinalNumbersForm(Form):
    """A teacher's final numbers for a confirmed group visit."""

    pupils = pupils_field()
    adults = adults_field()


class LostLinkForm(Form):
    """"Lost your link?": the address the bookings were made with."""

    email = VisitForm.email
