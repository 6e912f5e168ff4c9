"""Statistics for funders, CSV exports, the private calendar feed and a person's data export."""

from __future__ import annotations

import datetime as dt
import json

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent, get_locale, gettext, ngettext
from flask_login import current_user

from booking import charts, schedule
from booking.context import db, now, rules, state
from booking.dates import date_as
from booking.forms.admin import ExportRangeForm, PersonExportForm, StatsPeriodForm
from booking.i18n import LANGUAGE_NAMES, current_language, group_kind_label, tour_status_label
from booking.models import Booking, Closure, TourRequest
from booking.notifications.message import message_id_domain
from booking.presentation import access_needs_line
from booking.services import exports as export_service
from booking.services import reports
from booking.views.staff import admin_only, bp, public


def _staff():
    """The signed-in StaffUser itself (not Flask-Login's proxy), to record in the audit log."""
    return current_user._get_current_object()


# ---------------------------------------------------------------------------------------------------
# Statistics


def _period_form() -> tuple[StatsPeriodForm, reports.Period | None]:
    """The period asked for in the query, or the current year when nothing is asked."""
    months = get_locale().months["stand-alone"]["wide"]
    asked = "year" in request.args or "month" in request.args  # `lang` alone asks for nothing
    if asked:
        form = StatsPeriodForm(formdata=request.args)
    else:
        form = StatsPeriodForm(formdata=None, data={"year": reports.Period.current(now(), rules()).year})
    form.month.choices = [("", gettext("Whole year"))] + [(str(m), months[m]) for m in range(1, 13)]
    if asked and not form.validate():
        return form, None
    return form, reports.Period(form.year.data, int(form.month.data) if form.month.data else None)


def _rate(attendance: reports.Attendance) -> str:
    rate = attendance.no_show_rate
    if rate is None:
        return "—"
    # The language's own pattern ("#,##0 %" in French, with its space) with one decimal: "33,3 %".
    pattern = get_locale().percent_formats[None].pattern.replace("#,##0", "#,##0.0", 1)
    return format_percent(rate, pattern)


@bp.get("/stats")
def stats():
    form, period = _period_form()
    report = reports.visit_statistics(db(), rules(), now(), period) if period else None
    occupancy = reports.occupancy_by_hour(db(), rules(), period) if period else None
    csv_url = url_for("staff.stats_csv", year=period.year, month=period.month or "") if period else None
    return render_template("staff/stats.html", form=form, report=report, occupancy=occupancy, csv_url=csv_url,
                           rate=_rate, share=_share, language_label=_language_label,
                           charts=_charts(report, occupancy) if report else None)


# ---------------------------------------------------------------------------------------------------
# The charts: what booking/charts.py draws, labelled in the reader's language, and each one's gist


def _count(value: float) -> str:
    return format_decimal(value, "#,##0")


def _percent(value: float) -> str:
    return format_percent(value)


def _share(cell: reports.HourShare) -> str:
    return "—" if cell.rate is None else _percent(cell.rate)


def _bucket_name(bucket: reports.Bucket, week: bool) -> str:
    if week:
        return gettext("week %(number)s (%(first)s–%(last)s)", number=int(bucket.key[-2:]),
                       first=date_as(bucket.first_day, "day_month"), last=date_as(bucket.last_day, "day_month"))
    return date_as(bucket.first_day, "month")


def _visitors_chart(buckets: list[reports.Bucket], week: bool) -> dict:
    months = get_locale().months["stand-alone"]["abbreviated"]
    labels = [str(int(b.key[-2:])) if week else months[b.first_day.month] for b in buckets]
    booked = [b.figures.people for b in buckets]
    walk_ins = [b.figures.walk_ins for b in buckets]
    chart = charts.columns(labels, [booked, walk_ins], _count, label_every=4 if len(buckets) > 14 else 1)
    busiest = max(buckets, key=lambda b: b.figures.people + b.figures.walk_ins)
    desc = gettext("Visitors with a booking: %(booked)s; walk-ins: %(walk_ins)s. The most: %(when)s, with "
                   "%(people)s.", booked=_count(sum(booked)), walk_ins=_count(sum(walk_ins)),
                   when=_bucket_name(busiest, week), people=_count(busiest.figures.people + busiest.figures.walk_ins))
    title = gettext("Visitors per week") if week else gettext("Visitors per month")
    return {"chart": chart, "title": title, "desc": desc}


def _no_show_chart(report: reports.Report) -> dict:
    week = report.period.month is not None
    buckets = report.weeks if week else report.months
    months = get_locale().months["stand-alone"]["abbreviated"]
    labels = [str(int(b.key[-2:])) if week else months[b.first_day.month] for b in buckets]
    rates = [b.figures.attendance.no_show_rate for b in buckets]
    chart = charts.columns(labels, [rates], _percent, whole=False, ceiling=1)
    title = gettext("No-show rate per week") if week else gettext("No-show rate per month")
    marked = [b for b in buckets if b.figures.attendance.no_show_rate is not None]
    if not marked:
        return {"chart": chart, "title": title, "desc": "", "week": week, "buckets": buckets}
    highest = max(marked, key=lambda b: b.figures.attendance.no_show_rate)
    desc = gettext("No-show rate over the period: %(rate)s; the highest: %(when)s, %(highest)s.",
                   rate=_rate(report.total.attendance), when=_bucket_name(highest, week),
                   highest=_rate(highest.figures.attendance))
    return {"chart": chart, "title": title, "desc": desc, "week": week, "buckets": buckets}


def _groups_chart(shares: list[reports.Share], labels: list[str], title: str) -> dict:
    counts = [s.groups for s in shares]
    chart = charts.rows(labels, counts, [_count(c) for c in counts])
    most = max(range(len(shares)), key=lambda i: counts[i]) if shares else 0
    desc = gettext("Groups in all: %(groups)s; the most: %(label)s, %(count)s.", groups=_count(sum(counts)),
                   label=labels[most] if labels else "", count=_count(counts[most] if counts else 0))
    return {"chart": chart, "title": title, "desc": desc}


def _weekday_hour(cell: reports.HourShare) -> str:
    return f"{get_locale().days['format']['wide'][cell.weekday]} {cell.start.strftime('%H:%M')}"


def _occupancy_chart(occupancy: reports.Occupancy) -> dict:
    days = get_locale().days["format"]["wide"]
    rates = [[cell.rate for cell in occupancy.row(weekday)] for weekday in occupancy.weekdays]
    chart = charts.heat_map([days[w] for w in occupancy.weekdays], [s.strftime("%H:%M") for s in occupancy.starts],
                            rates, _percent)
    opened = [cell for cell in occupancy.cells.values() if cell.rate is not None]
    desc = ""
    if opened:
        fullest = max(opened, key=lambda c: c.rate)
        emptiest = min(opened, key=lambda c: c.rate)
        desc = gettext("The fullest hour: %(when)s, %(rate)s of the places taken; the emptiest: %(quiet)s, "
                       "%(quiet_rate)s.", when=_weekday_hour(fullest), rate=_percent(fullest.rate),
                       quiet=_weekday_hour(emptiest), quiet_rate=_percent(emptiest.rate))
    fifth = 1 / charts.LEVELS
    levels = [(0, _percent(0))] + [
        (n, gettext("%(low)s to %(high)s", low=_percent((n - 1) * fifth), high=_percent(n * fifth)))
        for n in range(1, charts.LEVELS)] + [
        (charts.LEVELS, gettext("%(low)s or more", low=_percent((charts.LEVELS - 1) * fifth))),
        ("none", gettext("— not open in this period"))]
    return {"chart": chart, "title": gettext("Occupancy by weekday and hour"), "desc": desc, "levels": levels,
            "days": days}


def _charts(report: reports.Report, occupancy: reports.Occupancy) -> dict:
    return {
        "months": _visitors_chart(report.months, week=False),
        "weeks": _visitors_chart(report.weeks, week=True),
        "occupancy": _occupancy_chart(occupancy),
        "no_shows": _no_show_chart(report),
        "kinds": _groups_chart(report.by_kind, [group_kind_label(s.key) for s in report.by_kind],
                               gettext("Groups by kind")),
        "languages": _groups_chart(report.by_language, [_language_label(s.key) for s in report.by_language],
                                   gettext("Groups by tour language")),
    }


def _language_label(code: str | None) -> str:
    return LANGUAGE_NAMES.get(code, code or "") if code else gettext("Self-guided")


def _figure_header(first: str) -> list[str]:
    return [first, gettext("From"), gettext("To"), gettext("Individual bookings"), gettext("Individual visitors"),
            gettext("Groups"), gettext("Group visitors (pupils and adults)"), gettext("Visitors in all"),
            gettext("Arrived"), gettext("No-shows"), gettext("No-show rate (%)"),
            gettext("Started, attendance not marked"), gettext("Visitors checked in with a booking"),
            gettext("Walk-ins (visitors without a booking)")]


def _figure_cells(key: str, first_day: dt.date | None, last_day: dt.date | None, f: reports.Figures) -> list:
    attendance = f.attendance
    rate = attendance.no_show_rate
    return [key, first_day.isoformat() if first_day else "", last_day.isoformat() if last_day else "",
            f.bookings, f.visitors, f.groups, f.group_people, f.people, attendance.arrived, attendance.no_shows,
            "" if rate is None else format_decimal(rate * 100, "0.0"), attendance.unmarked, f.checked_in, f.walk_ins]


@bp.get("/stats.csv")
def stats_csv():
    """The figures of the statistics page, one table after another, for a spreadsheet."""
    form, period = _period_form()
    if period is None:
        return redirect(url_for("staff.stats", **request.args))
    report = reports.visit_statistics(db(), rules(), now(), period)
    label = reports.month_key(period.first_day) if period.month else str(period.year)
    rows: list[list] = [[gettext("Period"), label, period.first_day.isoformat(), period.last_day.isoformat()], []]
    rows += [_figure_header(gettext("Total")),
             _figure_cells(label, period.first_day, period.last_day, report.total), []]
    rows += [_figure_header(gettext("Month"))]
    rows += [_figure_cells(b.key, b.first_day, b.last_day, b.figures) for b in report.months] + [[]]
    rows += [_figure_header(gettext("Week (ISO)"))]
    rows += [_figure_cells(b.key, b.first_day, b.last_day, b.figures) for b in report.weeks] + [[]]
    rows += [[gettext("Groups by kind"), gettext("Groups"), gettext("People")]]
    rows += [[group_kind_label(s.key), s.groups, s.people] for s in report.by_kind] + [[]]
    rows += [[gettext("Groups by tour language"), gettext("Groups"), gettext("People")]]
    rows += [[_language_label(s.key), s.groups, s.people] for s in report.by_language]
    return _download(export_service.excel_csv(rows), "text/csv", f"statistics-{label}.csv")


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    # A bare mimetype: Werkzeug adds "; charset=utf-8" to text/* itself.
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---------------------------------------------------------------------------------------------------
# Exports page: bookings CSV, a person's data, the calendar feed


def _feed_url(secret: str) -> str:
    path = url_for("staff.feed", secret=secret, lang=current_language())
    return current_app.config["PUBLIC_BASE_URL"] + path


def _exports_page(range_form: ExportRangeForm | None = None, person_form: PersonExportForm | None = None,
                  status: int = 200):
    if range_form is None:
        today = schedule.local_today(now(), rules())
        first = today.replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        range_form = ExportRangeForm(formdata=None, data={"start": first, "end": last})
    person_form = person_form or PersonExportForm(formdata=None)
    feed_url = _feed_url(export_service.feed_secret(db(), now()))
    return render_template("staff/exports.html", range_form=range_form, person_form=person_form,
                           feed_url=feed_url), status


@bp.get("/exports")
def exports():
    return _exports_page()


def _visit_cells(item: export_service.ExportItem) -> list:
    local = schedule.to_local(item.start, rules())
    attendance = {"arrived": gettext("arrived"), "no_show": gettext("no-show")}
    sources = {"web": gettext("website"), "api": gettext("API"), "staff": gettext("staff")}
    if item.booking is not None:
        b: Booking = item.booking
        status = gettext("confirmed") if b.status == "confirmed" else gettext("cancelled")
        return [gettext("Individual visit"), b.reference, status, local.date().isoformat(), local.strftime("%H:%M"),
                b.party_size, b.name, "", b.email or "", b.phone, LANGUAGE_NAMES.get(b.language, b.language),
                "", "", "", sources.get(b.source, b.source), attendance.get(b.attendance or "", ""),
                "\n".join(text for text in (access_needs_line(b.access_needs), b.note) if text)]
    t: TourRequest = item.tour
    visit = (gettext("guided, %(language)s", language=LANGUAGE_NAMES.get(t.tour_language or "", ""))
             if t.guided else gettext("self-guided"))
    notes = "\n".join(text for text in (access_needs_line(t.access_needs), t.needs, t.notes) if text)
    return [gettext("Group visit"), t.reference, tour_status_label(t.status), local.date().isoformat(),
            local.strftime("%H:%M"), t.people, t.contact_name, t.organisation, t.email or "", t.phone,
            LANGUAGE_NAMES.get(t.language, t.language), visit, group_kind_label(t.group_kind),
            ", ".join(g.name for g in t.guides), sources.get(t.source, t.source),
            attendance.get(t.attendance or "", ""), notes]


@bp.post("/exports/bookings")
def export_bookings():
    """Individual and group visits of the chosen days, one row each, as CSV for Excel (audited)."""
    form = ExportRangeForm()
    if not form.validate_on_submit():
        return _exports_page(range_form=form, status=422)
    items = export_service.visits_between(db(), rules(), form.start.data, form.end.data)
    header = [gettext("Type"), gettext("Reference"), gettext("Status"), gettext("Date"), gettext("Time"),
              gettext("People"), gettext("Name or contact"), gettext("Organisation"), gettext("Email"),
              gettext("Phone"), gettext("Language"), gettext("Tour"), gettext("Group kind"), gettext("Guides"),
              gettext("Source"), gettext("Attendance"), gettext("Note or needs")]
    body = export_service.excel_csv([header] + [_visit_cells(item) for item in items])
    export_service.record_bookings_export(db(), now(), _staff(), form.start.data, form.end.data, len(items))
    return _download(body, "text/csv",
                     f"bookings-{form.start.data.isoformat()}-{form.end.data.isoformat()}.csv")


@bp.post("/exports/person")
def export_person():
    """Everything held about one email address, as JSON (audited as privacy.export)."""
    form = PersonExportForm()
    if not form.validate_on_submit():
        return _exports_page(person_form=form, status=422)
    data = export_service.person_data(db(), rules(), form.person_email.data)
    moment = now()
    export_service.record_person_export(db(), moment, _staff(), data)
    document = {"exported_at": schedule.to_local(moment, rules()).isoformat()} | data
    body = json.dumps(document, ensure_ascii=False, indent=2).encode()
    day = schedule.local_today(moment, rules()).isoformat()
    return _download(body, "application/json", f"personal-data-{day}.json")


# ---------------------------------------------------------------------------------------------------
# The private calendar feed


@bp.get("/feed/<secret>.ics")
@public
def feed(secret: str):
    """Confirmed group visits and closures, for calendar apps that cannot sign in: the secret in the
    URL is the key. A wrong secret, or one rotated away, is a 404."""
    session = db()
    if not export_service.feed_secret_matches(session, secret):
        abort(404)
    moment = now()
    tour_rules = state().tour_rules
    window = export_service.feed_window(moment, rules(), max(rules().horizon_days, tour_rules.max_days_ahead))
    tours, closures = export_service.feed_contents(session, window)
    domain = message_id_domain(current_app.config)
    language = current_language()
    events = [_tour_event(tour, domain) for tour in tours] + [_closure_event(c, domain, language) for c in closures]
    body = export_service.feed_calendar(events, name=gettext("Museum: group visits and closures"), now=moment,
                                 timezone=rules().timezone)
    return Response(body, mimetype="text/calendar; charset=utf-8")


def _tour_event(tour: TourRequest, domain: str) -> export_service.FeedEvent:
    guides = ", ".join(g.name for g in tour.guides) or "—"
    if tour.guided:
        summary = ngettext("%(organisation)s · %(num)s person · guided tour in %(language)s · %(guides)s",
                           "%(organisation)s · %(num)s people · guided tour in %(language)s · %(guides)s",
                           tour.people, organisation=tour.organisation,
                           language=LANGUAGE_NAMES.get(tour.tour_language or "", ""), guides=guides)
    else:
        summary = ngettext("%(organisation)s · %(num)s person · self-guided",
                           "%(organisation)s · %(num)s people · self-guided", tour.people,
                           organisation=tour.organisation)
    contact = " · ".join(part for part in (
        tour.contact_name + (f" ({tour.contact_role})" if tour.contact_role else ""), tour.email or "", tour.phone)
        if part)
    lines = [gettext("Reference: %(reference)s", reference=tour.reference),
             gettext("Contact: %(contact)s", contact=contact),
             gettext("Group: %(pupils)s + %(adults)s · %(kind)s",
                     pupils=ngettext("%(num)s pupil", "%(num)s pupils", tour.pupils),
                     adults=ngettext("%(num)s adult", "%(num)s adults", tour.adults),
                     kind=group_kind_label(tour.group_kind))]
    if tour.leader_name:
        lines.append(gettext("Group leader on the day: %(name)s", name=tour.leader_name))
    if tour.needs:
        lines.append(gettext("Needs: %(needs)s", needs=tour.needs))
    if tour.notes:
        lines.append(gettext("Notes: %(notes)s", notes=tour.notes))
    return export_service.FeedEvent(uid=f"staff-{tour.reference}@{domain}", start=tour.start, end=tour.end,
                             summary=summary, description="\n".join(lines), sequence=tour.sequence)


def _closure_event(closure: Closure, domain: str, language: str) -> export_service.FeedEvent:
    reason = closure.reason(language)
    summary = gettext("Museum closed: %(reason)s", reason=reason) if reason else gettext("Museum closed")
    days = export_service.whole_days(closure.start_at, closure.end_at, rules())
    start, end = days if days else (closure.start_at, closure.end_at)
    return export_service.FeedEvent(uid=f"closure-{closure.id}@{domain}", start=start, end=end, summary=summary)


@bp.post("/feed/rotate")
@admin_only
def rotate_feed():
    """A new secret URL; the old one answers 404 from now on (audited as feed.rotate)."""
    export_service.rotate_feed_secret(db(), now(), _staff())
    flash(gettext("The calendar feed has a new address. Update the calendars subscribed to the old one."),
          "success")
    return redirect(url_for("staff.exports"))
