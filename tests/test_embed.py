"""The museum's own website: cross-origin reads for listed origins only, cached answers, the
what's-on JSON, and the accessibility statement whose review date staff keep."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from booking.models import AuditEntry, Event, Exhibition
from tests.conftest import NOW

MUSEUM_SITE = "https://museumresistance.be"


@pytest.fixture
def config_overrides(config_overrides):
    config_overrides["EMBED_ORIGINS"] = (MUSEUM_SITE,)
    return config_overrides


def test_availability_is_readable_from_the_listed_origin_only(client):
    allowed = client.get("/api/availability", headers={"Origin": MUSEUM_SITE})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == MUSEUM_SITE
    assert {"Origin", "Accept-Language"} <= set(allowed.vary)
    for origin in ("https://evil.example", "https://museumresistance.be.evil.example", "null"):
        other = client.get("/api/availability", headers={"Origin": origin})
        assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers, origin
    assert "Access-Control-Allow-Origin" not in client.get("/api/availability").headers


def test_no_origin_is_listed_by_default(app):
    from config import Config

    assert Config.EMBED_ORIGINS == ()


def test_a_repeated_read_with_if_none_match_gets_304_until_the_places_change(client, book):
    first = client.get("/api/availability?from=2027-03-02&to=2027-03-05&language=fr")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get("/api/availability?from=2027-03-02&to=2027-03-05&language=fr",
                       headers={"If-None-Match": etag, "Origin": MUSEUM_SITE})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Access-Control-Allow-Origin"] == MUSEUM_SITE  # the browser may use its copy
    book("2027-03-02T10:00", party_size=3)
    changed = client.get("/api/availability?from=2027-03-02&to=2027-03-05&language=fr",
                         headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    slot = next(s for s in changed.get_json()["days"][0]["slots"] if s["start"].startswith("2027-03-02T10:00"))
    assert slot["remaining"] == 47


def test_without_dates_the_availability_covers_three_weeks_from_today_by_the_apps_clock(client):
    days = client.get("/api/availability").get_json()["days"]
    assert days[0]["date"] == NOW.date().isoformat() and len(days) == 21
    from_only = client.get("/api/availability?from=2027-03-10").get_json()["days"]
    assert (from_only[0]["date"], from_only[-1]["date"]) == ("2027-03-10", "2027-03-30")


def test_whats_on_is_json_in_the_asked_language_for_the_museums_site(client, session):
    session.add(Exhibition(titles={"fr": "Femmes en résistance", "nl": "Vrouwen in het verzet"},
                           descriptions={"fr": "Des portraits."}, starts_on=dt.date(2027, 2, 1),
                           ends_on=dt.date(2027, 6, 4), panel_languages="fr,nl", created_at=NOW))
    session.add(Event(titles={"fr": "Table ronde", "en": "Round table"}, descriptions={},
                      start_at=dt.datetime(2027, 3, 10, 18, tzinfo=dt.UTC),
                      end_at=dt.datetime(2027, 3, 10, 20, tzinfo=dt.UTC),
                      place="Salle 2", booking_needed=True, created_at=NOW))
    session.commit()
    response = client.get("/api/whatson?language=nl", headers={"Origin": MUSEUM_SITE})
    assert response.headers["Access-Control-Allow-Origin"] == MUSEUM_SITE and response.headers["ETag"]
    body = response.get_json()
    assert body["language"] == "nl"
    assert body["exhibitions"] == [{"title": "Vrouwen in het verzet", "description": "Des portraits.",
                                    "starts_on": "2027-02-01", "ends_on": "2027-06-04",
                                    "panel_languages": ["fr", "nl"], "image": None}]
    [event] = body["events"]
    assert (event["start"], event["place"], event["booking_needed"]) == ("2027-03-10T19:00:00+01:00", "Salle 2", True)


def test_the_demo_page_gives_the_snippet_in_the_page_language(client):
    page = client.get("/nl/embed").get_data(as_text=True)
    assert 'data-lang="nl"' in page and 'src="http://museum.test/static/embed.js"' in page
    assert 'href="http://museum.test/nl/visit"' in page  # what a browser without JavaScript follows
    assert 'data-label-one="{n} plaats"' in page and 'data-label-other="{n} plaatsen"' in page
    assert f"{MUSEUM_SITE}." in page  # the origins allowed, said on the page


# --- the accessibility statement ------------------------------------------------------------------------

@pytest.mark.parametrize("lang, heading, status", [
    ("fr", "Déclaration d’accessibilité", "partiellement conforme"),
    ("nl", "Toegankelijkheidsverklaring", "gedeeltelijk conform"),
    ("en", "Accessibility statement", "partially conformant"),
    ("de", "Erklärung zur Barrierefreiheit", "teilweise konform"),
])
def test_the_accessibility_statement_is_in_each_language_and_linked_from_every_footer(client, lang, heading,
                                                                                        status):
    page = client.get(f"/{lang}/accessibility").get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in page and status in page
    assert "+32 2 522 40 41" in page and "info@museumresistance.be" in page and "mediateur.brussels" in page
    for path in (f"/{lang}/", f"/{lang}/visit", f"/{lang}/groups", f"/{lang}/privacy"):
        assert f'href="/{lang}/accessibility"' in client.get(path).get_data(as_text=True), path


def test_staff_record_a_review_and_the_statement_says_its_date_and_status(client, session, staff_client):
    assert "2 décembre 2026" in client.get("/fr/accessibility").get_data(as_text=True)
    response = staff_client.post("/staff/accessibility", data={"status": "full", "reviewed_on": "2027-02-15"})
    assert response.status_code == 302
    french = client.get("/fr/accessibility").get_data(as_text=True)
    assert "15 février 2027" in french and "entièrement conforme" in french
    assert "15. Februar 2027" in client.get("/de/accessibility").get_data(as_text=True)
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "accessibility.review")).one()
    assert entry.details == {"status": "full", "reviewed_on": "2027-02-15"}

    refused = staff_client.post("/staff/accessibility", data={"status": "perfect", "reviewed_on": ""})
    assert refused.status_code == 422
