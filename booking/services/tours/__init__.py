"""Group visits, by topic: what the operations share (holds: refusals, holding and freeing places
and guides, the transitions), a request's life (requests), and the back office's group visits
(staffing). `from booking.services.tours import X` finds each operation, as before the split.
"""

from booking.policy import Policy
from booking.services.tours.holds import (
    NoTimeFits,
    TourInputError,
    TourStateError,
    find_tour_by_request_key,
    free_guides,
)
from booking.services.tours.requests import (
    answer_proposal,
    cancel_tour,
    confirm_tour,
    decline_tour,
    expire_proposals,
    propose_time,
    request_tour,
)
from booking.services.tours.staffing import (
    cancel_tour_by_staff,
    cancel_tour_for_closure,
    change_group_size,
    change_guides,
    create_confirmed_tour,
    reassign_guide,
)
from booking.tour_rules import TourApplication, can_change_numbers, numbers_deadline, validate_application

__all__ = [
    "NoTimeFits",
    "Policy",
    "TourApplication",
    "TourInputError",
    "TourStateError",
    "answer_proposal",
    "can_change_numbers",
    "cancel_tour",
    "cancel_tour_by_staff",
    "cancel_tour_for_closure",
    "change_group_size",
    "change_guides",
    "confirm_tour",
    "create_confirmed_tour",
    "decline_tour",
    "expire_proposals",
    "find_tour_by_request_key",
    "free_guides",
    "numbers_deadline",
    "propose_time",
    "reassign_guide",
    "request_tour",
    "validate_application",
]
