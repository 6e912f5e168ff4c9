"""A form sent with mistakes opens with a summary that lists each one and links to its field."""

from __future__ import annotations

import re

from tests.test_tour_pages import tour_form


def summary(page: str) -> str:
    match = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', page, flags=re.S)
    assert match, "no error summary"
    return match.group(1)


def test_the_group_form_summary_links_every_mistake_to_its_field(client, guides):
    page = client.post("/en/groups", data=tour_form(pupils="0", email="sophie", phone="")).get_data(as_text=True)
    listed = summary(page)
    assert "3 fields need your attention" in listed
    links = dict(re.findall(r'<a href="#([\w-]+)">(.*?)</a>', listed))
    assert set(links) == {"pupils", "email", "phone"}
    for target in links:
        assert f'id="{target}"' in page  # the link lands on the field itself
    assert "valid email" in links["email"] and links["email"].startswith("Email")


def test_the_booking_form_summary_speaks_the_page_language(client):
    page = client.post("/fr/book", data={"start": "2027-03-02T11:00", "party_size": "0", "name": "",
                                          "email": "x", "consent": "y"}).get_data(as_text=True)
    listed = summary(page)
    assert "3 champs demandent votre attention\u202f:" in listed
    assert {"party_size", "name", "email"} == set(re.findall(r'<a href="#([\w-]+)">', listed))
