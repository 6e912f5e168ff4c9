"""Personal data: anonymised after the retention period, or at once when a visitor asks for it.

What anonymising keeps is what the statistics count: the visit's time, its size (party, pupils and
adults), kind, languages, status, attendance and source, and a group's organisation and postcode (an
organisation's details, not a person's). What it erases: names, email addresses, phone numbers,
notes, needs (access needs too), addresses and messages, the visit's emails in the outbox, the copies of those emails
written to MAIL_FILE_DIR (development mail), and what staff typed about the visit in the audit log (its
entries stay, with their action, time and staff member: see audit.scrub). Emails still waiting to be
sent hold an erasure back until they are sent or have failed, so a visitor who cancels and erases still
gets the cancellation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from booking.access import NONE
from booking.db import atomic
from booking.models import Booking, OutboxMessage, TourRequest, WaitlistEntry, queue_delivery
from booking.schedule import Rules
from booking.services import BookingClosed, audit
from booking.services.bookings import cancel_booking
from booking.services.tours import Policy, TourStateError, cancel_tour
from booking.tour_rules import can_cancel


@dataclass
class PurgeReport:
    bookings: int = 0
    tours: int = 0
    emails: int = 0
    files: int = 0
    audit_entries: int = 0  # entries about these visits whose personal details were erased
    waitlist: int = 0  # waiting-list entries of past slots, deleted
    waiting: int = 0  # erasures asked for whose last email is not out yet
    references: list[str] = field(default_factory=list)

    def add(self, other: PurgeReport) -> None:
        self.bookings += other.bookings
        self.tours += other.tours
        self.emails += other.emails
        self.files += other.files
        self.audit_entries += other.audit_entries
        self.waitlist += other.waitlist
        self.references += other.references

    def summary(self) -> str:
        return (f"anonymised {self.bookings} bookings and {self.tours} group visits; deleted {self.emails} emails "
                f"from the outbox and {self.files} mail files; cleared {self.audit_entries} audit entries; deleted "
                f"{self.waitlist} waiting-list entries; "
                f"{self.waiting} erasures wait for an email")


def anonymise_booking(booking: Booking, now: dt.datetime) -> None:
    booking.name = ""
    booking.email = None
    booking.phone = ""
    booking.note = ""
    booking.set_access_needs(NONE)  # health data
    booking.cancel_message = ""
    booking.request_key = None
    booking.anonymised_at = now


def anonymise_tour(tour: TourRequest, now: dt.datetime) -> None:
    tour.contact_name = ""
    tour.contact_role = ""
    tour.email = None
    tour.phone = ""
    tour.leader_name = ""
    tour.address = ""
    tour.needs = ""
    tour.set_access_needs(NONE)  # health data
    tour.topic = ""
    tour.notes = ""
    tour.decision_message = ""
    tour.request_key = None
    tour.anonymised_at = now


def mail_file_name(message_id: str) -> str:
    """The name the development transport gives an email's file (see booking.notifications)."""
    return message_id.strip("<>").split("@")[0] + ".eml"


def _delete_files(mail_dir: Path | None, names: list[str], older_than: dt.datetime | None) -> int:
    """Delete the named files, and every .eml file last written before `older_than`."""
    if mail_dir is None or not mail_dir.is_dir():
        return 0
    deleted = 0
    doomed = {mail_dir / name for name in names}
    if older_than is not None:
        limit = older_than.timestamp()
        doomed |= {path for path in mail_dir.glob("*.eml") if path.stat().st_mtime < limit}
    for path in doomed:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        deleted += 1
    return deleted


def _anonymise(session: Session, now: dt.datetime, booking_ids: list[int], tour_ids: list[int],
               action: str, **details) -> tuple[PurgeReport, list[str]]:
    """One transaction: anonymise these visits, delete their emails and erase what the audit log holds
    about their visitors; returns the emails' file names."""

    def operation() -> tuple[PurgeReport, list[str]]:
        report = PurgeReport()
        bookings = list(session.scalars(
            sa.select(Booking).where(Booking.id.in_(booking_ids), Booking.anonymised_at.is_(None))
            .with_for_update().execution_options(populate_existing=True)))
        tours = list(session.scalars(
            sa.select(TourRequest).where(TourRequest.id.in_(tour_ids), TourRequest.anonymised_at.is_(None))
            .with_for_update().execution_options(populate_existing=True)))
        for booking in bookings:
            anonymise_booking(booking, now)
            report.references.append(booking.reference)
        for tour in tours:
            anonymise_tour(tour, now)
            report.references.append(tour.reference)
        report.bookings, report.tours = len(bookings), len(tours)
        emails = sa.or_(OutboxMessage.booking_id.in_([b.id for b in bookings]),
                        OutboxMessage.tour_id.in_([t.id for t in tours]))
        message_ids = list(session.scalars(sa.select(OutboxMessage.message_id).where(emails)))
        session.execute(sa.delete(OutboxMessage).where(emails).execution_options(synchronize_session=False))
        report.emails = len(message_ids)
        report.audit_entries = audit.scrub(session, [b.id for b in bookings], [t.id for t in tours])
        if bookings or tours:
            audit.record(session, now, None, action, bookings=len(bookings), tours=len(tours), **details)
        return report, [mail_file_name(message_id) for message_id in message_ids]

    if not booking_ids and not tour_ids:
        return PurgeReport(), []
    return atomic(session, operation)


def _pending(session: Session, column, ids) -> set[int]:
    return set(session.scalars(sa.select(column).where(column.in_(ids), OutboxMessage.status == "pending")))


def finish_erasures(session: Session, now: dt.datetime, mail_dir: Path | None = None) -> PurgeReport:
    """Anonymise the visits whose visitor asked for it, once no email to them is waiting to be sent."""
    bookings = list(session.scalars(sa.select(Booking.id).where(
        Booking.erase_requested_at.is_not(None), Booking.anonymised_at.is_(None))))
    tours = list(session.scalars(sa.select(TourRequest.id).where(
        TourRequest.erase_requested_at.is_not(None), TourRequest.anonymised_at.is_(None))))
    busy_bookings = _pending(session, OutboxMessage.booking_id, bookings)
    busy_tours = _pending(session, OutboxMessage.tour_id, tours)
    session.commit()
    report, files = _anonymise(session, now, [i for i in bookings if i not in busy_bookings],
                               [i for i in tours if i not in busy_tours], "privacy.erase")
    report.files = _delete_files(mail_dir, files, None)
    report.waiting = len(busy_bookings) + len(busy_tours)
    return report


def purge_personal_data(session: Session, rules: Rules, now: dt.datetime, retention_days: int,
                        mail_dir: Path | None = None) -> PurgeReport:
    """Anonymise every visit that ended more than `retention_days` ago; finish requested erasures.

    Idempotent: visits already anonymised are left alone. Also deletes the waiting-list entries of
    slots past the cut-off, emails of no visit created before it, and every mail file older than it.
    """
    cutoff = now - dt.timedelta(days=retention_days)
    slot = dt.timedelta(minutes=rules.slot_minutes)
    bookings = list(session.scalars(sa.select(Booking.id).where(
        Booking.anonymised_at.is_(None), Booking.start <= cutoff - slot)))
    tours = [tour.id for tour in session.scalars(sa.select(TourRequest).where(
        TourRequest.anonymised_at.is_(None), TourRequest.start <= cutoff)) if tour.end <= cutoff]
    session.commit()
    report, files = _anonymise(session, now, bookings, tours, "privacy.purge", retention_days=retention_days)

    def orphans() -> int:
        result = session.execute(sa.delete(OutboxMessage).where(
            OutboxMessage.booking_id.is_(None), OutboxMessage.tour_id.is_(None), OutboxMessage.created_at < cutoff,
        ).execution_options(synchronize_session=False))
        return result.rowcount

    report.emails += atomic(session, orphans)

    def waiting_list() -> int:
        # A waiting-list entry holds a name and an address and counts for nothing once its slot is
        # past: the whole row goes, with its emails (outbox.waitlist_id cascades). An accepted
        # entry's booking is a visit of its own, anonymised above.
        result = session.execute(sa.delete(WaitlistEntry).where(WaitlistEntry.start <= cutoff - slot)
                                 .execution_options(synchronize_session=False))
        return result.rowcount

    report.waitlist = atomic(session, waiting_list)
    report.files = _delete_files(mail_dir, files, cutoff)
    erased = finish_erasures(session, now, mail_dir)
    report.add(erased)
    report.waiting = erased.waiting
    return report


def _record_erasure_request(session: Session, now: dt.datetime, model: type[Booking] | type[TourRequest],
                            record_id: int, mail_dir: Path | None):
    """Record the request (audited once), have the record's emails still to send go once it commits,
    and erase at once what waits for no email."""
    is_visit = model is Booking

    def operation():
        locked = session.get(model, record_id, with_for_update=True, populate_existing=True)
        if locked.erase_requested_at is None and locked.anonymised_at is None:
            locked.erase_requested_at = now
            audit.record(session, now, None, "privacy.erase_request", **{"booking" if is_visit else "tour": locked})
        column = OutboxMessage.booking_id if is_visit else OutboxMessage.tour_id
        for message_id in session.scalars(sa.select(OutboxMessage.id).where(column == record_id,
                                                                            OutboxMessage.status == "pending")):
            queue_delivery(session, message_id)  # the erasure waits for them
        return locked

    record = atomic(session, operation)
    finish_erasures(session, now, mail_dir)
    return record


def request_visit_erasure(session: Session, rules: Rules, now: dt.datetime, booking_id: int,
                          mail_dir: Path | None = None) -> Booking:
    """The visitor erases their booking's data: a visit still to come is cancelled first (its places
    freed, the cancellation email queued), then the erasure is recorded; a visit with no email
    waiting is erased at once, otherwise `finish_erasures` completes it once that email is out (the
    delivery after commit runs it, and the worker)."""
    booking = session.get(Booking, booking_id, populate_existing=True)
    session.commit()
    if booking.anonymised_at is None and booking.is_active and booking.start > now:
        with contextlib.suppress(BookingClosed):  # started or cancelled meanwhile: nothing to cancel
            cancel_booking(session, rules, now, booking_id)

    return _record_erasure_request(session, now, Booking, booking_id, mail_dir)


def request_tour_erasure(session: Session, policy: Policy, now: dt.datetime, tour_id: int,
                         mail_dir: Path | None = None) -> TourRequest:
    """As request_visit_erasure, for a group visit; one too close to cancel from the link is refused
    (TourStateError "too_late_to_cancel")."""
    tour = session.get(TourRequest, tour_id, populate_existing=True)
    session.commit()
    if tour.anonymised_at is None and tour.holds and tour.start > now:
        if not can_cancel(tour.start, now, policy.tour_rules):
            # Too close to cancel from the link: the museum needs the contact until the teacher calls.
            raise TourStateError("too_late_to_cancel")
        try:
            cancel_tour(session, policy, now, tour_id)
        except TourStateError as error:
            if error.code == "too_late_to_cancel":
                raise

    return _record_erasure_request(session, now, TourRequest, tour_id, mail_dir)
