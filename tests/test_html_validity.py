"""Every kind of page validates in the Nu HTML Checker (vnu.jar, from npm's vnu-jar; `make vnu`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from booking.links import tour_path, visit_path
from tests.conftest import local

ROOT = Path(__file__).resolve().parent.parent
VNU = Path(os.environ.get("VNU_JAR", ROOT / ".vnu" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"))


def nu_errors(pages: dict[str, str], directory: Path) -> dict[str, list[str]]:
    """The checker's errors (not its warnings) for each page, by name."""
    assert VNU.exists(), f"the Nu HTML Checker is missing at {VNU}: run `make vnu` (needs npm and Java 17)"
    java = shutil.which("java")
    assert java, "the Nu HTML Checker needs Java 17 or later (apt-get install default-jre-headless)"
    files = {}
    for index, (name, page) in enumerate(pages.items()):
        path = directory / f"{index:02d}.html"
        path.write_text(page, encoding="utf-8")
        files[path.name] = name
    result = subprocess.run([java, "-jar", str(VNU), "--format", "json", "--exit-zero-always", *map(str, sorted(
        directory.glob("*.html")))], capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    report = json.loads(result.stderr or result.stdout)
    found: dict[str, list[str]] = {}
    for message in report["messages"]:
        if message.get("type") == "error" or message.get("subType") == "fatal":
            name = files.get(message.get("url", "").rsplit("/", 1)[-1], message.get("url"))
            found.setdefault(name, []).append(f"{message.get('lastLine')}: {message['message']} "
                                              f"[{message.get('extract', '').strip()[:120]}]")
    return found


@pytest.fixture
def every_page(app, client, staff_client, admin_client, session, book, request_tour, guides, policy, clock):
    """One of each kind of page, public and staff, as the browser gets it."""
    from booking.access import AccessNeeds
    from booking.services.tours import propose_time

    booking = book("2027-03-02T10:00", language="fr")
    tour = request_tour("2027-03-16T10:00", language="nl")
    # Access needs: marks on the staff pages, what the museum offers on the private pages.
    booking.set_access_needs(AccessNeeds.of(["wheelchair", "other"], "Un chien guide"))
    tour.set_access_needs(AccessNeeds.of(["hearing"]))
    session.commit()
    proposed = request_tour("2027-03-17T10:00", language="de", pupils=10, adults=1)
    propose_time(session, policy, clock.now(), proposed.id, local("2027-03-18T10:00"))
    import datetime as dt

    from booking.links import guide_path
    from booking.services.guides import add_unavailability

    held = tour.guides[0]  # away while guiding: a conflict on the guide's pages and the requests page
    add_unavailability(session, policy.rules, clock.now(), held.id, dt.date(2027, 3, 16), "morning", "Dentist")
    with app.app_context():
        private = {"visit": visit_path(booking), "tour": tour_path(tour), "proposal": tour_path(proposed),
                   "guide": guide_path(held)}
    pages = {}
    public_paths = ["/fr/", "/nl/visit?month=2027-03", "/en/visit/2027-03-02", "/de/book?start=2027-03-02T11:00",
                    "/fr/groups", "/en/lost-link", "/nl/privacy", "/de/accessibility", private["visit"],
                    private["visit"] + "/move",
                    private["visit"] + "/cancel", private["visit"] + "/delete", private["tour"], private["proposal"],
                    private["tour"] + "/cancel", private["guide"],
                    "/en/no-such-page"]
    for path in public_paths:
        pages[path] = client.get(path).get_data(as_text=True)
    pages["book, with errors"] = client.post("/en/book", data={"start": "2027-03-02T11:00", "party_size": "0",
                                                               "name": "", "email": "x",
                                                               "access_needs": "other"}).get_data(as_text=True)
    pages["groups, with errors"] = client.post("/fr/groups", data={"kind": "guided", "access_needs": "other",
                                                                   }).get_data(as_text=True)
    pages["guide, with errors"] = client.post(private["guide"] + "/unavailable", data={
        "day": "2027-02-01", "part": "day", "note": "x"}).get_data(as_text=True)
    pages["guide, with a conflict"] = client.post(private["guide"] + "/unavailable", data={
        "day": "2027-03-16", "part": "day"}).get_data(as_text=True)
    staff_paths = [f"/staff/guides/{held.id}",
                   "/staff/login", "/staff/calendar?date=2027-03-01", "/staff/day/2027-03-02", "/staff/day/2027-03-01",
                   "/staff/day/2027-03-02/sheet", "/staff/day/2027-03-16", "/staff/requests", "/staff/bookings?q=NMR",
                   f"/staff/bookings/{booking.id}", "/staff/bookings/new", "/staff/groups/new", "/staff/closures",
                   "/staff/capacity", "/staff/stats", "/staff/stats?year=2030&month=8", "/staff/exports",
                   "/staff/whatson", "/staff/outbox", "/staff/account"]
    for path in staff_paths:
        pages[path] = staff_client.get(path).get_data(as_text=True)
    for path in ("/staff/accounts", "/staff/audit", "/staff/accessibility/needs"):
        pages[path] = admin_client.get(path).get_data(as_text=True)
    return pages


def test_every_page_validates_in_the_nu_html_checker(every_page, tmp_path):
    assert len(every_page) > 30
    assert 'role="img"' in every_page["/staff/stats"]  # the charts' inline SVG is checked too
    assert "<svg" not in every_page["/staff/stats?year=2030&month=8"]  # and the words that replace them
    errors = nu_errors(every_page, tmp_path)
    assert errors == {}, json.dumps(errors, indent=1, ensure_ascii=False)


def test_the_checker_finds_an_error_when_there_is_one(tmp_path):
    """The control: autocomplete="street-address" on an <input>, which the standard allows only on a textarea."""
    page = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>'
            '<input name="a" autocomplete="street-address"></body></html>')
    assert list(nu_errors({"control": page}, tmp_path)) == ["control"]
