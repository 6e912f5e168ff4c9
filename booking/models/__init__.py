"""The tables, by topic: individual visits (visits), what staff set on the calendar (calendar), the
guides (guides), group visits (tours), staff and the audit log (staff), the emails (outbox); what
bookings and group visits share is in columns.

Importing the package maps every model, so `from booking.models import Booking` works as it always did.
"""

from booking.models.calendar import Closure, Event, Exhibition, Setting
from booking.models.columns import ATTENDANCE, LANGUAGES, AccessNeedsColumns, PlacesLeft, utcnow
from booking.models.guides import Guide, GuideAssignment, GuideDuty, GuideUnavailability
from booking.models.outbox import MESSAGE_ID_DOMAIN, OutboxMessage, enqueue_email, queue_delivery, take_queued
from booking.models.staff import AuditEntry, StaffSession, StaffUser
from booking.models.tours import TourRequest
from booking.models.visits import Booking, Slot, WaitlistEntry, WalkIn

__all__ = [
    "ATTENDANCE",
    "AccessNeedsColumns",
    "AuditEntry",
    "Booking",
    "Closure",
    "Event",
    "Exhibition",
    "Guide",
    "GuideAssignment",
    "GuideDuty",
    "GuideUnavailability",
    "LANGUAGES",
    "MESSAGE_ID_DOMAIN",
    "OutboxMessage",
    "PlacesLeft",
    "Setting",
    "Slot",
    "StaffSession",
    "StaffUser",
    "TourRequest",
    "WaitlistEntry",
    "WalkIn",
    "enqueue_email",
    "queue_delivery",
    "take_queued",
    "utcnow",
]
