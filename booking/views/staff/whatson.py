"""What's on, for staff: the exhibitions and events the home page and the confirmations show."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from booking import schedule
from booking.context import db, now, rules
from booking.forms.admin import EventForm, ExhibitionForm
from booking.forms.base import ConfirmForm
from booking.models import Event, Exhibition
from booking.services import BookingError
from booking.services.whatson import EventData, ExhibitionData, delete_item, save_event, save_exhibition
from booking.views.staff import bp

# What an uploaded image must start with to be one; the extension alone proves nothing.
_IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


def upload_dir() -> Path:
    return Path(current_app.instance_path) / "uploads"


def _store_image(storage) -> str | None:
    """Save an uploaded image under a random name; None if it is not a PNG, JPEG or WebP file."""
    head = storage.stream.read(12)
    storage.stream.seek(0)
    extension = next((ext for signature, ext in _IMAGE_SIGNATURES.items() if head.startswith(signature)), None)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        extension = "webp"
    if extension is None:
        return None
    name = f"{secrets.token_hex(12)}.{extension}"
    upload_dir().mkdir(parents=True, exist_ok=True)
    storage.save(upload_dir() / name)
    return name


@bp.get("/whats-on")
def whatson():
    exhibitions = db().scalars(sa.select(Exhibition).order_by(Exhibition.starts_on.desc())).all()
    events = db().scalars(sa.select(Event).order_by(Event.start_at.desc()).limit(100)).all()
    return render_template("staff/whatson.html", exhibitions=exhibitions, events=events, form=ConfirmForm())


@bp.route("/whats-on/exhibitions/new", methods=["GET", "POST"], defaults={"item_id": None})
@bp.route("/whats-on/exhibitions/<int:item_id>", methods=["GET", "POST"])
def exhibition(item_id: int | None):
    item = db().get(Exhibition, item_id) if item_id else None
    if item_id and item is None:
        abort(404)
    form = ExhibitionForm(obj=None)
    status = 200
    if not form.is_submitted() and item is not None:
        for code in ("fr", "nl", "en", "de"):
            form[f"title_{code}"].data = item.titles.get(code, "")
            form[f"description_{code}"].data = item.descriptions.get(code, "")
        form.starts_on.data, form.ends_on.data = item.starts_on, item.ends_on
        form.panel_languages.data = item.panel_language_list
    if form.validate_on_submit():
        image = None
        if form.image.data:
            image = _store_image(form.image.data)
            if image is None:
                form.image.errors = [gettext("Choose a JPEG, PNG or WebP image.")]
        if not form.image.errors:
            try:
                save_exhibition(db(), now(), current_user, ExhibitionData(
                    titles=form.texts("title"), descriptions=form.texts("description"), starts_on=form.starts_on.data,
                    ends_on=form.ends_on.data, panel_languages=form.panel_languages.data or [], image=image), item_id)
            except BookingError as error:
                _show(form, error)
            else:
                flash(gettext("The exhibition is saved."), "success")
                return redirect(url_for("staff.whatson"))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("staff/exhibition_form.html", form=form, item=item), status


@bp.route("/whats-on/events/new", methods=["GET", "POST"], defaults={"item_id": None})
@bp.route("/whats-on/events/<int:item_id>", methods=["GET", "POST"])
def event(item_id: int | None):
    item = db().get(Event, item_id) if item_id else None
    if item_id and item is None:
        abort(404)
    form = EventForm()
    status = 200
    if not form.is_submitted() and item is not None:
        for code in ("fr", "nl", "en", "de"):
            form[f"title_{code}"].data = item.titles.get(code, "")
            form[f"description_{code}"].data = item.descriptions.get(code, "")
        start, end = schedule.to_local(item.start_at, rules()), schedule.to_local(item.end_at, rules())
        form.date.data, form.start_time.data, form.end_time.data = start.date(), f"{start:%H:%M}", f"{end:%H:%M}"
        form.place.data, form.booking_needed.data = item.place, item.booking_needed
    if form.validate_on_submit():
        day = form.date.data
        start = schedule.local_datetime(day, dt.time.fromisoformat(form.start_time.data.zfill(5)), rules())
        end = schedule.local_datetime(day, dt.time.fromisoformat(form.end_time.data.zfill(5)), rules())
        try:
            save_event(db(), now(), current_user, EventData(
                titles=form.texts("title"), descriptions=form.texts("description"), start_at=start, end_at=end,
                place=form.place.data or "", booking_needed=form.booking_needed.data), item_id)
        except BookingError as error:
            _show(form, error)
            status = 422
        else:
            flash(gettext("The event is saved."), "success")
            return redirect(url_for("staff.whatson"))
    elif form.is_submitted():
        status = 422
    return render_template("staff/event_form.html", form=form, item=item), status


def _show(form, error: BookingError) -> None:
    messages = {"title_missing": gettext("Give a title in at least one language."),
                "ends_before_start": gettext("The end must come after the start.")}
    form[error.field or "title_en"].errors = [messages.get(error.code, gettext("Please check the form."))]


@bp.post("/whats-on/<kind>/<int:item_id>/delete")
def delete_whatson(kind: str, item_id: int):
    model = {"exhibitions": Exhibition, "events": Event}.get(kind)
    if model is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            delete_item(db(), now(), current_user, model, item_id)
        except BookingError:
            abort(404)
        flash(gettext("Deleted."), "success")
    return redirect(url_for("staff.whatson"))
