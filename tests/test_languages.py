"""Languages on the pages: the prefix chooses it, a switcher keeps the page, dates follow the locale."""

import pytest


@pytest.mark.parametrize(("lang", "text"), [
    ("fr", "mardi 2 mars 2027"), ("nl", "dinsdag 2 maart 2027"),
    ("de", "Dienstag, 2. März 2027"), ("en", "Tuesday 2 March 2027"),
])
def test_dates_are_written_the_way_each_language_writes_them(client, lang, text):
    assert text in client.get(f"/{lang}/visit/2027-03-02").get_data(as_text=True)


def test_the_switcher_names_each_language_in_itself_and_keeps_the_page(client):
    page = client.get("/fr/visit/2027-03-02").get_data(as_text=True)
    for code, name in [("nl", "Nederlands"), ("en", "English"), ("de", "Deutsch")]:
        assert f'<a href="/{code}/visit/2027-03-02" lang="{code}" hreflang="{code}">{name}</a>' in page
    assert '<span aria-current="true" lang="fr">Français</span>' in page


def test_the_switcher_keeps_the_query_string(client):
    page = client.get("/nl/visit?month=2027-04").get_data(as_text=True)
    assert 'href="/de/visit?month=2027-04"' in page


def test_a_booking_page_switches_language_without_losing_the_booking(client):
    import uuid

    path = client.post("/nl/book", data={"start": "2027-03-02T10:00", "party_size": "2", "name": "Jan",
                                         "email": "jan@example.be", "consent": "y",
                                         "form_id": uuid.uuid4().hex}).headers["Location"]
    page = client.get(path).get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert f'href="{path}?lang=fr"' in page
    french = client.get(f"{path}?lang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in french and "mardi 2 mars 2027" in french
    # links inside the page keep the chosen language
    assert f'href="{path}/move?lang=fr"' in french


@pytest.mark.parametrize(("lang", "action"), [
    ("fr", "Réserver une visite"), ("nl", "Bezoek reserveren"), ("de", "Besuch buchen"), ("en", "Book a visit"),
])
def test_pages_are_in_the_language_of_their_prefix(client, lang, action):
    page = client.get(f"/{lang}/").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page and action in page


@pytest.mark.parametrize(("lang", "counts"), [
    ("fr", ["0 place", "1 place", "2 places"]), ("nl", ["0 plaatsen", "1 plaats", "2 plaatsen"]),
    ("en", ["0 places", "1 place", "2 places"]), ("de", ["0 Plätze", "1 Platz", "2 Plätze"]),
])
def test_each_language_counts_by_its_own_plural_rule_in_code_and_templates(app, lang, counts):
    """French puts 0 in the singular, as it does 1; Dutch, English and German say "0 places"."""
    from flask import render_template_string
    from flask_babel import ngettext

    with app.test_request_context(f"/?lang={lang}"):
        in_code = [ngettext("%(num)s place", "%(num)s places", n) for n in range(3)]
        in_template = render_template_string(
            '{% for n in range(3) %}{{ ngettext("%(num)s place", "%(num)s places", n) }}|{% endfor %}').split("|")
    assert in_code == in_template[:-1] == counts
