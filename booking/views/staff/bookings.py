"""Finding bookings, a booking's page with its history, acting for the visitor, and desk bookings.

No page here shows a booking's private manage link: it would let staff act as the visitor, and a
page or a screenshot could leak it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from booking import schedule
from booking.audit_sentences import sentence
from booking.audit_words import email_label, email_status_label, override_label, when
from booking.context import db, now, policy, rules
from booking.forms.desk import (
    BookingSearchForm,
    DeskBookingForm,
    DeskGroupForm,
    GuidesForm,
    StaffCancelForm,
    StaffMoveForm,
)
from booking.messages import explain, explain_tour
from booking.models import AuditEntry, Booking, StaffUser, TourRequest
from booking.services import BookingError
from booking.services.bookings import ByMuseum, cancel_booking, move_booking
from booking.services.desk import DeskVisit, Overrides, book_at_desk, book_group_at_desk
from booking.services.history import History, find_by_reference, history_of
from booking.services.roster import active_guides
from booking.services.search import search_bookings
from booking.services.tours import (
    TourInputError,
    TourStateError,
    cancel_tour_by_staff,
    change_guides,
    free_guides,
)
from booking.tour_rules import TourApplication, guides_needed
from booking.views.staff import bp

SEARCH_LIMIT = 100


# --- search -------------------------------------------------------------------------------------

@bp.get("/bookings")
def bookings():
    """Search visits and group visits by reference, name, email or organisation, with optional filters."""
    form = BookingSearchForm(request.args)
    searched = any(request.args.get(name) for name in ("q", "date_from", "date_to", "status"))
    if searched and not form.validate():
        return render_template("staff/bookings.html", form=form, results=[], more=False, searched=True,
                               limit=SEARCH_LIMIT, source_label=source_label), 422
    results, more = search_bookings(db(), rules(), form.q.data or "", form.date_from.data, form.date_to.data,
                                    form.status.data or "", SEARCH_LIMIT)
    return render_template("staff/bookings.html", form=form, results=results, more=more, searched=searched,
                           limit=SEARCH_LIMIT, source_label=source_label)


# --- a booking's page ---------------------------------------------------------------------------

@dataclass
class Event:
    """One line of a booking's history."""

    at: dt.datetime
    order: int  # among events at the same instant: creation first
    title: str
    actor: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)


def _action_label(entry: AuditEntry) -> str:
    """The history's short titles for what staff do to a visit; other entries read as the audit log's sentence."""
    labels = {
        "booking.create": gettext("Booked by staff"),
        "booking.cancel": gettext("Cancelled by staff for the visitor"),
        "booking.move": gettext("Moved by staff for the visitor"),
        "slot.overbook": gettext("Slot capacity raised (override)"),
        "tour.create": gettext("Group visit entered by staff"),
        "tour.cancel": gettext("Cancelled by staff for the teacher"),
        "tour.guides": gettext("Guides changed"),
    }
    return labels.get(entry.action) or sentence(entry)


def _detail_label(key: str) -> str:
    labels = {
        "message": gettext("Message"), "reason": gettext("Reason"), "overrides": gettext("Overridden rules"),
        "previous_start": gettext("Previous time"), "start": gettext("Time"), "slot": gettext("Slot"),
        "overflow": gettext("Places beyond capacity"), "places": gettext("Places added"),
        "guides": gettext("Guides"), "previous": gettext("Previous guides"), "party_size": gettext("People"),
        "pupils": gettext("Pupils"), "adults": gettext("Adults"), "previous_status": gettext("Previous status"),
        "source": gettext("Source"), "reasons": gettext("Reasons"),
    }
    return labels.get(key, key)


def _detail_value(key: str, value: Any) -> str:
    if key in ("start", "previous_start", "slot") and isinstance(value, str):
        try:
            return when(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
    if key == "overrides" and isinstance(value, list):
        return ", ".join(override_label(name) for name in value)
    if key == "source":
        return source_label(str(value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items() if v)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def source_label(source: str) -> str:
    labels = {"web": gettext("website"), "api": gettext("API"), "staff": gettext("staff (phone or desk)")}
    return labels.get(source, source)


def _events(item: Booking | TourRequest, history: History) -> list[Event]:
    """Creation, every audit entry and every email of one booking or group visit, in time order."""
    events = [Event(item.created_at, 0, gettext("Created"), history.creator.email if history.creator else "",
                    [(gettext("Source"), source_label(item.source))])]
    for entry in history.audit:
        details = [(_detail_label(key), _detail_value(key, value)) for key, value in (entry.details or {}).items()
                   if value not in (None, "", [], {})]
        events.append(Event(entry.at, 1, _action_label(entry), entry.actor, details))
    if isinstance(item, Booking) and item.cancelled_at and item.cancelled_by == "visitor":
        events.append(Event(item.cancelled_at, 1, gettext("Cancelled by the visitor")))
    for message in history.emails:
        details = [(gettext("To"), message.recipient), (gettext("Status"), email_status_label(message.status)),
                   (gettext("Attempts"), str(message.attempts))]
        if message.sent_at:
            details.append((gettext("Sent"), when(message.sent_at)))
        if message.status != "sent" and message.last_error:
            details.append((gettext("Last error"), message.last_error))
        events.append(Event(message.created_at, 2, email_label(message.kind), "", details))
    events.sort(key=lambda event: (event.at, event.order))
    return events


def _find(reference: str, kind: type | None = None) -> Booking | TourRequest:
    """The visit or group a reference names (of `kind`, when one is asked for), or 404."""
    item = find_by_reference(db(), reference)
    if item is None or (kind is not None and not isinstance(item, kind)):
        abort(404)
    return item


def _guide_choices(tour: TourRequest) -> list[tuple[int, str, bool]]:
    """The guides a confirmed guided visit could have: the ones it holds, then the free ones who speak its language."""
    held = tour.guides
    free = free_guides(db(), rules(), tour.start, tour.duration_minutes, tour.tour_language or "", tour.id)
    held_ids = {guide.id for guide in held}
    return [(guide.id, guide.name, guide.id in held_ids) for guide in {g.id: g for g in held + free}.values()]


def _render_booking(item: Booking | TourRequest, status: int = 200, cancel_form=None, move_form=None,
                    guides_form=None, error: str | None = None):
    """The page of a visit or a group; `error` is a refusal to show even when its form is gone."""
    moment = now()
    history = history_of(db(), item)
    context: dict[str, Any] = {
        "item": item, "history": _events(item, history), "source_label": source_label, "now": moment,
        "error": error, "cancel_form": cancel_form or StaffCancelForm(formdata=None), "creator": history.creator,
    }
    if isinstance(item, Booking):
        context["move_form"] = move_form or StaffMoveForm(formdata=None)
        context["can_change"] = item.is_active and item.start > moment
        context["end"] = schedule.slot_end(item.start, rules())
        template = "staff/booking.html"
    else:
        context["can_cancel"] = item.holds and item.start > moment
        context["can_change_guides"] = item.guided and item.status == "confirmed" and item.start > moment
        context["guides_needed"] = guides_needed(item.pupils, policy().tour_rules)
        choices = _guide_choices(item) if context["can_change_guides"] else []
        if guides_form is not None and guides_form.guides.data is not None:  # keep what staff ticked
            choices = [(guide_id, name, guide_id in guides_form.guides.data) for guide_id, name, _held in choices]
        context["guide_choices"] = choices
        context["guides_form"] = guides_form or GuidesForm(formdata=None)
        context["cancel_form"].message.label.text = gettext("Message to the teacher (optional)")
        template = "staff/booking_group.html"
    return render_template(template, **context), status


@bp.get("/bookings/<reference>")
def booking(reference: str):
    """Every detail of a visit (NMR-…) or a group visit (GRP-…), its history and what staff can do."""
    return _render_booking(_find(reference))


def _staff() -> StaffUser:
    return current_user._get_current_object()


def _refusal(error: BookingError) -> str:
    """A refusal's sentence: the visits' messages, else the group visits' ones."""
    if isinstance(error, TourStateError | TourInputError) and error.code not in ("started", "past"):
        return explain_tour(error.code, error.detail)
    return explain(error)


@bp.post("/bookings/<reference>/cancel")
def booking_cancel(reference: str):
    """Cancel for the visitor or the teacher; they are emailed, with the message if staff wrote one."""
    item = _find(reference)
    form = StaffCancelForm()
    if not form.validate_on_submit():
        return _render_booking(item, 422, cancel_form=form)
    try:
        if isinstance(item, Booking):
            cancel_booking(db(), rules(), now(), item.id, by=ByMuseum(_staff(), form.message.data or ""))
        else:
            cancel_tour_by_staff(db(), policy(), now(), item.id, _staff(), form.message.data or "")
    except BookingError as error:
        form.message.errors = [_refusal(error)]
        return _render_booking(_find(reference), 409, cancel_form=form, error=form.message.errors[0])
    return _done(item, gettext("%(reference)s is cancelled."),
                 gettext("%(reference)s is cancelled; %(email)s has been emailed."))


def _done_message(item: Booking | TourRequest, without_email: str, with_email: str) -> str:
    if item.email:
        return with_email % {"reference": item.reference, "email": item.email}
    return without_email % {"reference": item.reference}


def _done(item: Booking | TourRequest, without_email: str, with_email: str, created: bool = True):
    """Say what was done (or, for a booking form sent twice, that it was already), then show the record."""
    if created:
        flash(_done_message(item, without_email, with_email), "success")
    else:
        flash(gettext("This booking was already made; here it is."), "info")
    return redirect(url_for("staff.booking", reference=item.reference))


@bp.post("/bookings/<reference>/move")
def booking_move(reference: str):
    """Move a visit to another slot for the visitor; they are emailed the new time."""
    item = _find(reference, Booking)
    form = StaffMoveForm()
    if not form.validate_on_submit():
        return _render_booking(item, 422, move_form=form)
    start = schedule.local_datetime(form.date.data, dt.time.fromisoformat(form.time.data), rules())
    try:
        move_booking(db(), rules(), now(), item.id, start,
                     by=ByMuseum(_staff(), form.message.data or ""))
    except BookingError as error:
        form.date.errors = [explain(error)]
        return _render_booking(_find(reference), 409, move_form=form, error=form.date.errors[0])
    return _done(item, gettext("%(reference)s is moved."),
                 gettext("%(reference)s is moved; %(email)s has been emailed."))


@bp.post("/bookings/<reference>/guides")
def booking_guides(reference: str):
    """Name the guides of a confirmed guided visit: as many as it needs, free, speaking its language."""
    item = _find(reference, TourRequest)
    form = GuidesForm()
    form.guides.choices = [SelectChoice(guide_id, name) for guide_id, name, _held in _guide_choices(item)]
    if not form.validate_on_submit():
        return _render_booking(item, 422, guides_form=form)
    try:
        change_guides(db(), policy(), now(), item.id, form.guides.data or [], _staff())
    except TourStateError as error:
        form.guides.errors = [_refusal(error)]
        return _render_booking(_find(reference), 409, guides_form=form, error=form.guides.errors[0])
    flash(gettext("The guides of %(reference)s are saved.", reference=item.reference), "success")
    return redirect(url_for("staff.booking", reference=item.reference))


# --- desk bookings ------------------------------------------------------------------------------

def _start(form) -> dt.datetime:
    return schedule.local_datetime(form.date.data, dt.time.fromisoformat(form.time.data), rules())


@bp.route("/bookings/new", methods=["GET", "POST"])
def new_booking():
    """An individual visit for a caller or a walk-in visitor; rules overridden only with a reason."""
    form = DeskBookingForm()
    status = 200
    if request.method == "GET":
        form.form_id.data = uuid.uuid4().hex
        form.date.data = form.date.data or schedule.local_today(now(), rules())
        form.party_size.data = form.party_size.data or 1
    elif form.validate_on_submit():
        overrides = Overrides(lead_time=form.override_lead_time.data, group_size=form.override_group_size.data,
                              capacity=form.override_capacity.data, reason=form.override_reason.data or "")
        visit = DeskVisit(start=_start(form), party_size=form.party_size.data, name=form.name.data,
                          language=form.language.data, email=form.email.data or None, phone=form.phone.data or "",
                          note=form.note.data or "", access_needs=form.access_needs_value(),
                          request_key=form.request_key())
        try:
            item, created = book_at_desk(db(), rules(), now(), visit, overrides, _staff(),
                                         policy().overbook_max)
        except BookingError as error:
            _desk_error(form, error)
            status = 409 if error.code in ("slot_full", "overbook_limit") else 422
        else:
            return _done(item, gettext("%(reference)s is booked."),
                         gettext("%(reference)s is booked; the confirmation goes to %(email)s."), created)
    else:
        status = 422
    return render_template("staff/new_booking.html", form=form,
                           overbook_max=policy().overbook_max), status


def _desk_error(form: DeskBookingForm, error: BookingError) -> None:
    if error.code == "overbook_limit":
        message = ngettext("Even with the capacity override, at most %(num)s place can be booked beyond the capacity.",
                           "Even with the capacity override, at most %(num)s places can be booked beyond the capacity.",
                           int(error.detail or 0))
        form.override_capacity.errors = [message]
        form.date.errors = [explain(BookingError("slot_full"))]
    elif error.code == "reason_missing":
        form.override_reason.errors = [explain_tour("reason_missing")]
    elif error.field == "party_size":
        form.party_size.errors = [explain(error)]
    else:
        form.date.errors = [explain(error)]


def _guide_labels() -> list[SelectChoice]:
    return [SelectChoice(guide.id, f"{guide.name} ({', '.join(guide.languages)})")
            for guide in active_guides(db())]


_GROUP_FIELDS = {"start_1": "date", "pupils": "pupils", "adults": "adults", "group_kind": "group_kind",
                 "tour_language": "tour_language", "duration_minutes": "duration_minutes", "start": "date",
                 "guides": "guides", "override_reason": "override_reason"}


@bp.route("/groups/new", methods=["GET", "POST"])
def new_group():
    """A group visit for a caller or a walk-in group, confirmed at once; email optional."""
    form = DeskGroupForm()
    form.guides.choices = _guide_labels()
    status = 200
    if request.method == "GET":
        form.form_id.data = uuid.uuid4().hex
        form.date.data = form.date.data or schedule.local_today(now(), rules())
    elif form.validate_on_submit():
        guided = form.kind.data == "guided"
        overrides = Overrides(lead_time=form.override_lead_time.data, group_size=form.override_group_size.data,
                              reason=form.override_reason.data or "")
        app = TourApplication(
            guided=guided, starts=[_start(form)], organisation=form.organisation.data,
            contact_name=form.contact_name.data, email=form.email.data or None, phone=form.phone.data or "",
            pupils=form.pupils.data, adults=form.adults.data, group_kind=form.group_kind.data,
            language=form.language.data, tour_language=form.tour_language.data if guided else None,
            duration_minutes=None if guided else int(form.duration_minutes.data or 120),
            notes=form.notes.data or "", access_needs=form.access_needs_value(), request_key=form.request_key(),
        )
        try:
            tour, created = book_group_at_desk(db(), policy(), now(), app, overrides, _staff(),
                                               form.guides.data or None)
        except TourInputError as error:
            for name, code in error.errors.items():
                form[_GROUP_FIELDS.get(name, "date")].errors = [_refusal(TourStateError(code))]
            status = 422
        except BookingError as error:
            form[_GROUP_FIELDS.get(error.field or "start", "date")].errors = [_refusal(error)]
            status = 409
        else:
            return _done(tour, gettext("%(reference)s is confirmed."),
                         gettext("%(reference)s is confirmed; the confirmation goes to %(email)s."), created)
    else:
        status = 422
    return render_template("staff/new_group.html", form=form), status
