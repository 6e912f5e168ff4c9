"""The group form says how long it is, offers only what fits once its script runs, and still refuses
without it what does not fit (a guided tour at 16:00), next to the start time."""

from __future__ import annotations

import re

from tests.test_tour_pages import count, tour_form


def test_a_guided_tour_at_16_00_is_refused_next_to_the_start_time_with_the_time_kept(client, guides, session):
    response = client.post("/en/groups", data=tour_form(start_1_time="16:00"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'<div class="field has-error">\s*<label for="(\w+)".*?'
                      r'<p class="error" id="(\w+)-error">(.*?)</p>', page, re.S)
    assert error.group(1) == "start_1_time" and error.group(2) == "start_1_time"
    assert "a guided tour starts at 15:00 at the latest" in error.group(3)
    assert 'href="#start_1_time"' in page  # the summary leads to it
    assert "16:00" in re.search(r'<select[^>]*id="start_1_time".*?</select>', page, re.S).group(0)
    assert 'value="16:00" selected' in page or 'selected value="16:00"' in page
    assert count(session) == 0


def test_a_one_hour_self_guided_visit_may_start_at_16_00(client, guides, session):
    response = client.post("/en/groups", data=tour_form(kind="self_guided", duration_minutes="60",
                                                        start_1_time="16:00"))
    assert response.status_code == 302 and count(session) == 1


def test_the_form_says_how_long_it_is_from_its_required_answers(client, app):
    from booking.forms.base import required_fields
    from booking.forms.public import TourRequestForm

    with app.test_request_context("/en/groups"):
        required = [f.name for f in required_fields(TourRequestForm())]
    assert required == ["kind", "start_1_date", "organisation", "postcode", "contact_name", "email", "phone",
                        "pupils", "adults", "consent"]
    english = client.get("/en/groups").get_data(as_text=True)
    assert '<p class="form-length">About 5 minutes: 10 answers are required, the others are optional.</p>' in english
    french = client.get("/fr/groups").get_data(as_text=True)
    assert "Environ 5\u00a0minutes\u202f: 10\u00a0réponses sont obligatoires" in french


def test_the_script_that_hides_what_does_not_fit_is_a_static_file_under_the_csp(client):
    response = client.get("/en/groups")
    page = response.get_data(as_text=True)
    assert '<script src="/static/group-form.js" defer></script>' in page
    assert "<script>" not in page and "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert 'data-group-form data-closing="17:00" data-guided-minutes="120"' in page
    assert page.count("data-start-time") == 3
    assert '<div data-only-for="self_guided">' in page and '<div data-only-for="guided">' in page
    assert client.get("/static/group-form.js").status_code == 200
