"""Pages for teachers: the group-visit request form and each request's private page."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from booking import schedule
from booking.context import db, now, policy, rules
from booking.extensions import rate_limited
from booking.forms.base import ConfirmForm, required_fields
from booking.forms.public import FinalNumbersForm, TourRequestForm
from booking.links import TOUR, tour_path
from booking.messages import explain_tour
from booking.models import TourRequest
from booking.presentation import access_offers_of
from booking.services.roster import any_active_guide
from booking.services.tours import (
    NoTimeFits,
    TourInputError,
    TourStateError,
    answer_proposal,
    cancel_tour,
    change_group_size,
    request_tour,
)
from booking.tour_rules import TourApplication, can_cancel, can_change_numbers, cancel_deadline, numbers_deadline
from booking.views.public import bp, erase_page, links_bp, open_private

# Errors the service reports by field, shown next to the form field they concern.
_FIELD_FOR = {"start_1": "start_1_date", "start_2": "start_2_date", "start_3": "start_3_date"}


def application_from(form: TourRequestForm, language: str, starts: list, request_key: str | None = None,
                     ) -> TourApplication:
    """What the teacher asks for, from the form (HTML or JSON) and the requested start times."""
    guided = form.kind.data == "guided"
    return TourApplication(
        guided=guided, starts=starts,
        duration_minutes=None if guided else int(form.duration_minutes.data or 120),
        organisation=form.organisation.data, address=form.address.data or "", postcode=form.postcode.data,
        contact_name=form.contact_name.data, contact_role=form.contact_role.data or "", email=form.email.data,
        phone=form.phone.data, leader_name=form.leader_name.data or "", pupils=form.pupils.data,
        adults=form.adults.data, group_kind=form.group_kind.data,
        tour_language=form.tour_language.data if guided else None, needs=form.needs.data or "",
        topic=form.topic.data or "", notes=form.notes.data or "", language=language, request_key=request_key,
        access_needs=form.access_needs_value(),
    )


@bp.route("/groups", methods=["GET", "POST"])
@rate_limited("RATELIMIT_GROUP_REQUEST")
def groups():
    """The request form; a request that fits is held and the teacher lands on its private page.

    Input that can never fit is explained next to its field; when none of the times fits now, the
    reason for each is shown next to it. Nothing is stored in either case.
    """
    form = TourRequestForm()
    status = 200
    guides = any_active_guide(db())
    if not guides:  # say so before the teacher fills the form in, rather than refuse every time after
        form.kind.choices = [choice for choice in form.kind.choices if choice.value != "guided"]
        if request.method == "GET":
            form.kind.data = "self_guided"
    if request.method == "GET":
        form.form_id.data = uuid.uuid4().hex
        form.tour_language.data = form.tour_language.data or g.lang
    elif not guides and form.kind.data == "guided":
        form.validate()
        form.kind.errors = [no_guide_notice()]
        status = 422
    elif form.validate_on_submit():
        try:
            starts = [start for _field, start in form.starts(rules().tz)]
            tour, created = request_tour(db(), policy(), now(),
                                         application_from(form, g.lang, starts, form.request_key()))
        except TourInputError as error:
            for field, code in error.errors.items():
                form[_field_for(field, code)].errors = [explain_tour(code)]
            status = 422
        except NoTimeFits as error:
            for (field, _start), reason in zip(form.starts(rules().tz), error.reasons, strict=False):
                form[field].errors = [explain_tour(reason)]
            status = 409
        else:
            if created:
                flash(gettext("Your request is received. We hold this time for your group until we answer; "
                              "we have sent a summary to %(email)s.", email=tour.email), "success")
            return redirect(tour_path(tour))
    else:
        status = 422
    return render_template("public/groups.html", form=form, no_guide=None if guides else no_guide_notice(),
                           length=form_length(form), closing=rules().closing_time.strftime("%H:%M"),
                           guided_minutes=policy().tour_rules.guided_minutes), status


def _field_for(field: str, code: str) -> str:
    """The form field a refusal concerns: a time that ends after closing is the time's fault, not the date's."""
    if code == "ends_after_closing" and field.startswith("start_"):
        return f"{field}_time"
    return _FIELD_FOR.get(field, field)


def form_length(form: TourRequestForm) -> dict[str, int]:
    """How long the form is, said above it: the answers it requires, and about half a minute for each."""
    required = len(required_fields(form))
    return {"required": required, "minutes": max(2, math.ceil(required / 2))}


def no_guide_notice() -> str:
    return gettext("No guide can take a guided tour at the moment, so only self-guided visits can be "
                   "requested here. For a guided tour, please call us at %(phone)s.",
                   phone=current_app.config["MUSEUM"]["phone"])


def load_tour(reference: str, token: str) -> TourRequest:
    return open_private(TOUR, reference, token)


@links_bp.get("/g/<reference>/<token>")
def tour_page(reference: str, token: str):
    return _render_tour_page(load_tour(reference, token), token)


def _render_tour_page(tour: TourRequest, token: str, numbers_form: FinalNumbersForm | None = None):
    settings = policy()
    if numbers_form is None:
        numbers_form = FinalNumbersForm(formdata=None, pupils=tour.pupils, adults=tour.adults)
    return render_template(
        "public/tour.html", tour=tour, token=token, form=ConfirmForm(),
        can_cancel=tour.holds and can_cancel(tour.start, now(), settings.tour_rules),
        started=tour.start <= now(), requested=[schedule.parse_start(s, rules()) for s in tour.requested_starts],
        numbers_form=numbers_form, can_change_numbers=can_change_numbers(tour, now(), settings.tour_rules),
        numbers_deadline=numbers_deadline(tour.start, settings.tour_rules),
        cancel_deadline=cancel_deadline(tour.start, settings.tour_rules),
        access_offers=access_offers_of(tour, g.lang, db()),
    )


def _tour_action(reference: str, token: str, action, success):
    """`success` is a lazy string: read once load_tour has chosen the booking's language."""
    tour = load_tour(reference, token)
    if ConfirmForm().validate_on_submit():
        try:
            action(tour)
        except TourStateError as error:
            flash(explain_tour(error.code, error.detail), "error")
        else:
            flash(str(success), "success")
    return redirect(url_for("links.tour_page", reference=tour.reference, token=token))


@links_bp.post("/g/<reference>/<token>/accept")
@rate_limited("RATELIMIT_MANAGE")
def accept_proposal(reference: str, token: str):
    return _answer(reference, token, True,
                   _l("Thank you: your group visit is confirmed. We have sent you the details."))


@links_bp.post("/g/<reference>/<token>/refuse")
@rate_limited("RATELIMIT_MANAGE")
def refuse_proposal(reference: str, token: str):
    return _answer(reference, token, False, _l("You declined the time we proposed. We no longer hold it."))


def _answer(reference: str, token: str, accept: bool, success):
    """The teacher's answer to the time staff proposed."""
    return _tour_action(reference, token,
                        lambda tour: answer_proposal(db(), policy(), now(), tour.id, accept=accept), success)


@links_bp.route("/g/<reference>/<token>/cancel", methods=["GET", "POST"])
@rate_limited("RATELIMIT_MANAGE")
def cancel_request(reference: str, token: str):
    """Asks once more (a page of its own, no JavaScript needed); its button's post cancels."""
    if request.method == "GET":
        tour = load_tour(reference, token)
        back = url_for("links.tour_page", reference=tour.reference, token=token)
        if not (tour.holds and can_cancel(tour.start, now(), policy().tour_rules)):
            return redirect(back)
        return render_template("public/cancel_tour.html", tour=tour, form=ConfirmForm(), back=back)
    return _tour_action(reference, token, lambda tour: cancel_tour(db(), policy(), now(), tour.id),
                        _l("Your group visit is cancelled. We have sent you a confirmation."))


@links_bp.post("/g/<reference>/<token>/numbers")
@rate_limited("RATELIMIT_MANAGE")
def final_numbers(reference: str, token: str):
    """The teacher's final numbers: changed and confirmed by email, or the page again with the reason."""
    tour = load_tour(reference, token)
    form = FinalNumbersForm()
    if not form.validate_on_submit():
        return _render_tour_page(tour, token, form), 422
    try:
        change_group_size(db(), policy(), now(), tour.id, form.pupils.data, form.adults.data)
    except TourInputError as error:
        for field, code in error.errors.items():
            form[field].errors = [explain_tour(code)]
        return _render_tour_page(tour, token, form), 422
    except TourStateError as error:
        if error.code in ("numbers_capacity", "numbers_no_guide"):
            form.pupils.errors = [explain_tour(error.code, error.detail)]
            return _render_tour_page(tour, token, form), 409
        if error.code == "numbers_unchanged":  # the teacher confirms the numbers we have: nothing to change
            flash(gettext("Thank you: your numbers are confirmed."), "success")
        else:  # too late, or no longer confirmed: the page no longer shows the form
            flash(explain_tour(error.code, error.detail), "error")
        return redirect(url_for("links.tour_page", reference=tour.reference, token=token))
    flash(gettext("Your numbers are updated. We have sent you a confirmation and told the museum."), "success")
    return redirect(url_for("links.tour_page", reference=tour.reference, token=token))
@links_bp.route("/g/<reference>/<token>/delete", methods=["GET", "POST"])
@rate_limited("RATELIMIT_MANAGE")
def erase_tour(reference: str, token: str):
    """Delete my data, for a group visit: cancelled first while it may still be cancelled from here."""
    from booking.services.privacy import request_tour_erasure

    tour = load_tour(reference, token)

    def request_erasure(mail_dir: Path) -> None:
        try:
            request_tour_erasure(db(), policy(), now(), tour.id, mail_dir)
        except TourStateError as error:
            flash(explain_tour(error.code, error.detail), "error")

    return erase_page(tour, token, back=url_for("links.tour_page", reference=tour.reference, token=token),
                      cancels=tour.holds and tour.start > now(), request_erasure=request_erasure)
