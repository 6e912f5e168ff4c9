"""The audit log in words: one sentence for each action the code records, in the page's language.

The one place that knows what each action code means to a reader: the audit log page and a booking's
history both ask `sentence(entry)`. An entry's details are whatever its operation kept (and the
privacy purge may since have erased some), so every sentence copes with a detail missing; an action
unknown here reads as a generic line of its details, never as JSON.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext, ngettext

from booking import audit_words as words
from booking.i18n import tour_status_label
from booking.models import AuditEntry

# --- one sentence per action ---------------------------------------------------------------------

def _booking_create(d: dict) -> list[str]:
    people = d["party_size"]
    said = [ngettext("Booked a visit for %(num)s person on %(time)s (by phone or at the desk).",
                     "Booked a visit for %(num)s people on %(time)s (by phone or at the desk).",
                     people, time=words.moment(d["start"]))]
    if d.get("overflow"):
        said.append(ngettext("%(num)s place beyond the hour's capacity.",
                             "%(num)s places beyond the hour's capacity.", d["overflow"]))
    return said + words.overrides(d) + words.message_and_reasons(d)


def _slot_overbook(d: dict) -> list[str]:
    return [ngettext("Added %(num)s place beyond the capacity of %(time)s.",
                     "Added %(num)s places beyond the capacity of %(time)s.",
                     d["places"], time=words.moment(d["slot"]))] + words.message_and_reasons(d)


def _booking_cancel(d: dict) -> list[str]:
    return [gettext("Cancelled the visit for the visitor.")] + words.message_and_reasons(d)


def _booking_move(d: dict) -> list[str]:
    return [gettext("Moved the visit for the visitor from %(before)s to %(after)s.",
                    before=words.moment(d["previous_start"]), after=words.moment(d["start"]))] \
        + words.message_and_reasons(d)


def _attendance(visit: bool) -> Callable[[dict], list[str]]:
    def describe(d: dict) -> list[str]:
        if visit:
            marks = {"arrived": gettext("Marked the visitors as arrived."),
                     "no_show": gettext("Marked the visit as a no-show.")}
        else:
            marks = {"arrived": gettext("Marked the group as arrived."),
                     "no_show": gettext("Marked the group as a no-show.")}
        sentences = [marks.get(d.get("attendance"), gettext("Cleared the arrival mark."))]
        if d.get("via") == "reference":
            sentences.append(gettext("Found by the reference typed or scanned at the desk."))
        return sentences
    return describe


def _tour_create(d: dict) -> list[str]:
    group = [ngettext("%(num)s pupil", "%(num)s pupils", d["pupils"])]
    if d.get("adults"):
        group.append(ngettext("%(num)s adult", "%(num)s adults", d["adults"]))
    said = [gettext("Entered a confirmed group visit of %(group)s on %(time)s (by phone or at the desk).",
                    group=words.names(group), time=words.moment(d["start"]))]
    if d.get("guides"):
        said.append(words.labelled(gettext("Guides"), words.names(d["guides"])))
    return said + words.overrides(d) + words.message_and_reasons(d)


def _tour_cancel(d: dict) -> list[str]:
    if d.get("reasons"):
        said = [gettext("Cancelled the group visit: the museum closes at that time.")]
    else:
        said = [gettext("Cancelled the group visit for the teacher.")]
    if d.get("previous_status"):
        said.append(words.labelled(gettext("Previous status"), tour_status_label(d["previous_status"])))
    return said + words.message_and_reasons(d)


def _tour_guides(d: dict) -> list[str]:
    return [gettext("Changed the guides from %(before)s to %(after)s.",
                    before=words.names(d.get("previous") or []) or "–",
                    after=words.names(d.get("guides") or []) or "–")]


def _closure(added: bool) -> Callable[[dict], list[str]]:
    def describe(d: dict) -> list[str]:
        period = {"start": words.moment(d["start"]), "end": words.moment(d["end"])}
        if added:
            said = [gettext("Closed the museum from %(start)s to %(end)s.", **period)]
            if d.get("cancelled_bookings"):
                said.append(ngettext("%(num)s visit cancelled.", "%(num)s visits cancelled.", d["cancelled_bookings"]))
            if d.get("cancelled_tours"):
                said.append(ngettext("%(num)s group visit cancelled.", "%(num)s group visits cancelled.",
                                     d["cancelled_tours"]))
        else:
            said = [gettext("Removed the closure from %(start)s to %(end)s (what it cancelled stays cancelled).",
                            **period)]
        return said + words.message_and_reasons(d)
    return describe


def _holiday_open(d: dict) -> list[str]:
    return [gettext("Opened the public holiday of %(day)s exceptionally: %(holiday)s.",
                    holiday=words.holiday(d), day=words.day(d["day"]))]


def _holiday_close(d: dict) -> list[str]:
    return [gettext("Closed the public holiday of %(day)s again: %(holiday)s.", day=words.day(d["day"]),
                    holiday=words.holiday(d))]


def _capacity_slot(d: dict) -> list[str]:
    [(start, old)] = d["old"].items()
    return [ngettext("Set the capacity of %(time)s to %(num)s person (it was %(old)s).",
                     "Set the capacity of %(time)s to %(num)s people (it was %(old)s).",
                     d["new"], time=words.moment(start), old=old)]


def _capacity_day(d: dict) -> list[str]:
    return [ngettext("Set the capacity of every hour of %(day)s to %(num)s person.",
                     "Set the capacity of every hour of %(day)s to %(num)s people.", d["new"], day=words.day(d["day"]))]


def _capacity_default(d: dict) -> list[str]:
    said = [ngettext("Set the default capacity to %(num)s person an hour (it was %(old)s).",
                     "Set the default capacity to %(num)s people an hour (it was %(old)s).", d["new"], old=d["old"])]
    if d.get("slots_changed"):
        said.append(ngettext("%(num)s coming hour follows it.", "%(num)s coming hours follow it.", d["slots_changed"]))
    return said


def _kept_back_slot(d: dict) -> list[str]:
    [(start, old)] = d["old"].items()
    return [ngettext("Kept %(num)s place back for walk-ins at %(time)s (it was %(old)s).",
                     "Kept %(num)s places back for walk-ins at %(time)s (it was %(old)s).",
                     d["new"], time=words.moment(start), old=old)]


def _kept_back_day(d: dict) -> list[str]:
    return [ngettext("Kept %(num)s place back for walk-ins in every hour of %(day)s.",
                     "Kept %(num)s places back for walk-ins in every hour of %(day)s.", d["new"],
                     day=words.day(d["day"]))]


def _kept_back_default(d: dict) -> list[str]:
    said = [ngettext("Set the places kept back for walk-ins to %(num)s an hour by default (it was %(old)s).",
                     "Set the places kept back for walk-ins to %(num)s an hour by default (it was %(old)s).",
                     d["new"], old=d["old"])]
    if d.get("slots_changed"):
        said.append(ngettext("%(num)s coming hour follows it.", "%(num)s coming hours follow it.", d["slots_changed"]))
    return said


def _walk_in(d: dict) -> list[str]:
    if d.get("people", 0) < 0:
        said = gettext("Took back one walk-in counted at %(time)s.", time=words.moment(d["slot"]))
    else:
        said = ngettext("Counted %(num)s walk-in at %(time)s.", "Counted %(num)s walk-ins at %(time)s.",
                        d["people"], time=words.moment(d["slot"]))
    return [said, ngettext("%(num)s walk-in in that hour.", "%(num)s walk-ins in that hour.", d.get("total", 0))]


def _guide_add(d: dict) -> list[str]:
    return [gettext("Added the guide %(name)s, who gives tours in %(languages)s.",
                    name=d["name"], languages=words.languages(d.get("languages") or []))]


def _guide_edit(d: dict) -> list[str]:
    after = d.get("after") or {}
    return [gettext("Changed the guide %(before)s: now %(name)s, who gives tours in %(languages)s.",
                    before=(d.get("before") or {}).get("name", d["name"]), name=after.get("name", d["name"]),
                    languages=words.languages(after.get("languages") or []))]


def _part_label(part: str) -> str:
    labels = {"morning": gettext("morning (09:00–13:00)"), "afternoon": gettext("afternoon (13:00–17:00)")}
    return labels.get(part, gettext("the whole day"))


def _guide_unavailable(d: dict) -> list[str]:
    said = [gettext("Marked the guide %(name)s away on %(day)s, %(part)s.", name=d["name"], day=words.day(d["day"]),
                    part=_part_label(d.get("part", "day")))]
    if d.get("by") == "guide":
        said.append(gettext("Entered by the guide on their page."))
    if d.get("conflicts"):
        said.append(gettext("They hold a tour then, which stands until it is reassigned: %(references)s.",
                            references=", ".join(d["conflicts"])))
    return said


def _guide_available(d: dict) -> list[str]:
    said = [gettext("Marked the guide %(name)s available again on %(day)s, %(part)s.", name=d["name"],
                    day=words.day(d["day"]), part=_part_label(d.get("part", "day")))]
    if d.get("by") == "guide":
        said.append(gettext("Entered by the guide on their page."))
    return said


def _roster_set(d: dict) -> list[str]:
    day = words.day(d["day"])
    if not d.get("on_duty"):
        return [gettext("Set no guide on duty on %(day)s.", day=day)]
    return [gettext("Set the guides on duty on %(day)s: %(names)s.", day=day, names=words.names(d["on_duty"]))]


def _sign_out_everywhere(d: dict) -> list[str]:
    sessions = d.get("sessions", 0)
    if d.get("account"):
        return [ngettext("Signed %(account)s out everywhere (%(num)s session ended).",
                         "Signed %(account)s out everywhere (%(num)s sessions ended).",
                         sessions, account=d["account"])]
    return [ngettext("Signed out everywhere (%(num)s session ended).",
                     "Signed out everywhere (%(num)s sessions ended).", sessions)]


def _privacy_export(d: dict) -> list[str]:
    if d.get("references"):
        return [gettext("Exported the personal data held about one email address: %(references)s.",
                        references=words.names(d["references"]))]
    return [gettext("Exported the personal data held about one email address: no visit was found.")]


def _visits(d: dict) -> int:
    return (d.get("bookings") or 0) + (d.get("tours") or 0)


def _email_resend(d: dict) -> list[str]:
    return [gettext("Queued this email again: %(email)s (it was %(status)s).",
                    email=words.email_label(d["kind"]), status=words.email_status_label(d.get("previous_status", "")))]


def _accessibility_review(d: dict) -> list[str]:
    statuses = {"full": gettext("Fully conformant"), "partial": gettext("Partially conformant"),
                "none": gettext("Not conformant")}
    return [gettext("Recorded the accessibility review of %(day)s: %(status)s.",
                    day=words.day(d["reviewed_on"]), status=statuses.get(d["status"], d["status"]))]


def _access_offers_edit(d: dict) -> list[str]:
    from booking.presentation import access_need_label

    changed = []
    for key in d.get("changed") or []:
        code, _, lang = key.partition(":")
        changed.append(f"{access_need_label(code)} ({lang})")
    return [gettext("Changed what the confirmation offers for access needs: %(which)s.", which=words.names(changed))]


SENTENCES: dict[str, Callable[[dict], list[str]]] = {
    "booking.create": _booking_create,
    "booking.cancel": _booking_cancel,
    "booking.move": _booking_move,
    "booking.attendance": _attendance(visit=True),
    "slot.overbook": _slot_overbook,
    "tour.create": _tour_create,
    "tour.cancel": _tour_cancel,
    "tour.guides": _tour_guides,
    "tour.attendance": _attendance(visit=False),
    "closure.add": _closure(added=True),
    "closure.remove": _closure(added=False),
    "holiday.open": _holiday_open,
    "holiday.close": _holiday_close,
    "capacity.slot": _capacity_slot,
    "capacity.day": _capacity_day,
    "capacity.default": _capacity_default,
    "kept_back.slot": _kept_back_slot,
    "kept_back.day": _kept_back_day,
    "kept_back.default": _kept_back_default,
    "walkin.add": _walk_in,
    "walkin.undo": _walk_in,
    "guide.add": _guide_add,
    "guide.edit": _guide_edit,
    "guide.activate": lambda d: [gettext("Brought back the guide %(name)s.", name=d["name"])],
    "guide.deactivate": lambda d: [gettext("Deactivated the guide %(name)s.", name=d["name"])],
    "roster.set": _roster_set,
    "guide.link_reissue": lambda d: [gettext("Gave the guide %(name)s a new private link; the old one no longer opens.",
                                             name=d["name"])],
    "guide.unavailable": _guide_unavailable,
    "guide.available": _guide_available,
    "staff.sign_in": lambda d: [gettext("Signed in.")],
    "staff.sign_out": lambda d: [gettext("Signed out.")],
    "staff.sign_out_everywhere": _sign_out_everywhere,
    "staff.sign_in_locked": lambda d: [ngettext(
        "Account locked until %(time)s after %(num)s failed sign-in.",
        "Account locked until %(time)s after %(num)s failed sign-ins.", d["failed_logins"],
        time=words.moment(d["until"]))],
    "staff.password_change": lambda d: [gettext("Changed their password.")],
    "staff.password_reset": lambda d: [gettext("Chose a new password from a reset link.")],
    "staff.password_reset_request": lambda d: [gettext("Asked for a link to choose a new password.")],
    "staff.password_reset_send": lambda d: [gettext("Sent %(account)s a link to choose a new password.",
                                                    account=d["account"])],
    "staff.create": lambda d: [gettext("Created the account %(account)s (%(role)s).",
                                       account=d["account"], role=words.role(d["role"]))],
    "staff.role": lambda d: [gettext("Changed the role of %(account)s from %(old)s to %(new)s.",
                                     account=d["account"], old=words.role(d["old"]), new=words.role(d["new"]))],
    "staff.enable": lambda d: [gettext("Enabled the account %(account)s.", account=d["account"])],
    "staff.disable": lambda d: [gettext("Disabled the account %(account)s.", account=d["account"])],
    "staff.unlock": lambda d: [gettext("Unlocked the account %(account)s.", account=d["account"])],
    "privacy.export": _privacy_export,
    "privacy.erase_request": lambda d: [gettext("The visitor asked for their personal data to be erased.")],
    "privacy.erase": lambda d: [ngettext("Anonymised %(num)s visit whose visitor asked for it.",
                                         "Anonymised %(num)s visits whose visitors asked for it.", _visits(d))],
    "privacy.purge": lambda d: [ngettext("Anonymised %(num)s visit past the retention period.",
                                         "Anonymised %(num)s visits past the retention period.", _visits(d))],
    "export.bookings": lambda d: [ngettext(
        "Exported the list of visitors from %(first)s to %(last)s (%(num)s row).",
        "Exported the list of visitors from %(first)s to %(last)s (%(num)s rows).",
        d["rows"], first=words.day(d["first_day"]), last=words.day(d["last_day"]))],
    "feed.rotate": lambda d: [gettext("Gave the private calendar feed a new address; the old one no longer works.")],
    "accessibility.review": _accessibility_review,
    "access_offers.edit": _access_offers_edit,
    "exhibition.save": lambda d: [gettext("Saved the exhibition %(title)s.", title=words.title(d["title"]))],
    "exhibition.delete": lambda d: [gettext("Deleted the exhibition %(title)s.", title=words.title(d["title"]))],
    "event.save": lambda d: [gettext("Saved the event %(title)s.", title=words.title(d["title"]))],
    "event.delete": lambda d: [gettext("Deleted the event %(title)s.", title=words.title(d["title"]))],
    "email.resend": _email_resend,
}


def _generic(entry: AuditEntry) -> str:
    said = [gettext("Action %(action)s.", action=entry.action)]
    said += [words.labelled(key, words.plain(value)) for key, value in (entry.details or {}).items()
             if value not in (None, "", [], {})]
    return " ".join(said)


def sentence(entry: AuditEntry) -> str:
    """What `entry` says, as one or a few sentences in the page's language."""
    describe = SENTENCES.get(entry.action)
    if describe is None:
        return _generic(entry)
    try:
        return " ".join(describe(entry.details or {}))
    except (KeyError, TypeError, ValueError, AttributeError):  # details from an older version, or erased
        return _generic(entry)
