"""Cancelling a visit from its private link asks once more, on a page that needs no JavaScript."""

from __future__ import annotations

import re

from booking.links import visit_path
from booking.models import Booking


def test_cancel_this_visit_opens_a_confirmation_page_and_changes_nothing(app, client, session, book):
    booking = book("2027-03-02T10:00", language="en")
    with app.app_context():
        path = visit_path(booking)
    page = client.get(path).get_data(as_text=True)
    # The booking's page links to the question; it holds no form that cancels at one tap.
    assert f'<a class="button danger" href="{path}/cancel">Cancel this visit</a>' in page
    assert f'action="{path}/cancel"' not in page
    question = client.get(f"{path}/cancel")
    assert question.status_code == 200
    text = question.get_data(as_text=True)
    assert re.search(rf'<form method="post" action="{re.escape(path)}/cancel">', text)
    assert "Yes, cancel my visit" in text and f'href="{path}">Keep my visit</a>' in text
    session.expire_all()
    assert session.get(Booking, booking.id).status == "confirmed"


def test_confirming_on_that_page_cancels_the_visit(app, client, session, book):
    booking = book("2027-03-02T10:00", language="nl")
    with app.app_context():
        path = visit_path(booking)
    response = client.post(f"{path}/cancel")
    assert response.status_code == 302 and response.headers["Location"] == path
    session.expire_all()
    assert session.get(Booking, booking.id).status == "cancelled"
    assert client.get(f"{path}/cancel").headers.get("Location") == path  # nothing left to ask
