"""The QR code of a reference, where the desk scans it: in the emails (a PNG carried with the HTML part,
delivered through a real SMTP server on loopback), on the visitor's and the teacher's private pages and
on the day sheet (inline SVG). Each code is decoded here with zxing-cpp and must read the reference
alone, never the private link."""

from __future__ import annotations

import io
import re
import uuid
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image, ImageDraw

from booking import links, qr
from booking.models import Booking
from booking.services.tours import confirm_tour

BASE_URL = "http://museum.test"
LINK = re.compile(re.escape(BASE_URL) + r"(/[bg]/[A-Z0-9-]+/[A-Za-z0-9_-]+)")


@pytest.fixture(autouse=True)
def public_base_url(config_overrides):
    config_overrides["PUBLIC_BASE_URL"] = BASE_URL


def decode_png(data: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def decode_svg(svg: str) -> list[str]:
    """Draw the SVG segno writes (one path of horizontal strokes, 1 module wide) and decode it."""
    size = int(re.search(r'<path fill="#fff" d="M0 0h(\d+)v', svg).group(1))
    path = re.search(r'<path stroke="#000" d="([^"]+)"', svg).group(1)
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, numbers in re.findall(r"([Mmh])([-\d. ]+)", path):
        values = [float(n) for n in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:  # h: a dark run of values[0] modules on row y - 0.5
            draw.rectangle([x * scale, (y - .5) * scale, (x + values[0]) * scale - 1, (y + .5) * scale - 1], fill=0)
            x += values[0]
    return [result.text for result in zxingcpp.read_barcodes(image)]


def page_codes(html: str) -> list[str]:
    return [text for svg in re.findall(r"<svg[^>]*class=\"qr\".*?</svg>", html, re.S) for text in decode_svg(svg)]


def embedded_codes(message: EmailMessage) -> list[str]:
    """What the QR images the HTML part shows read: each <img src="cid:…"> found beside it."""
    html_part = message.get_body(preferencelist=("html",))
    html = html_part.get_content()
    codes = []
    for content_id in re.findall(r'<img src="cid:([^"]+)"', html):
        (image,) = [part for part in message.walk() if part["Content-ID"] == f"<{content_id}>"]
        assert image.get_content_type() == "image/png"
        assert image.get_content_disposition() == "inline"
        codes += decode_png(image.get_payload(decode=True))
    return codes


def related_html(message: EmailMessage) -> EmailMessage:
    (related,) = [part for part in message.walk() if part.get_content_type() == "multipart/related"]
    return related


def _form(**fields) -> dict:
    data = {"start": "2027-03-02T10:00", "party_size": "2", "name": "Anne Martin", "email": "anne@example.be",
            "consent": "y", "form_id": uuid.uuid4().hex}
    data.update(fields)
    return data


def test_the_library_draws_a_full_qr_code_that_reads_the_reference():
    # A Micro QR code would be smaller, but phone cameras and the browsers' BarcodeDetector do not read it.
    assert decode_png(qr.reference_png("NMR-7KQ3PX")) == ["NMR-7KQ3PX"]
    svg = qr.reference_svg("NMR-7KQ3PX", "<QR> & code")
    assert svg.startswith('<svg role="img" ') and "<title>&lt;QR&gt; &amp; code</title>" in svg
    assert "<script" not in svg and "<style" not in svg
    assert decode_svg(svg) == ["NMR-7KQ3PX"]


def test_the_confirmation_email_shows_the_reference_as_a_qr_code_and_never_the_link(
        smtp_config, smtp_server, client, session):
    assert client.post("/fr/book", data=_form()).status_code == 302
    reference = session.scalars(sa.select(Booking)).one().reference
    session.commit()
    (message,) = smtp_server.wait_for(1)

    assert embedded_codes(message) == [reference]
    related = related_html(message)
    assert [part.get_content_type() for part in related.iter_parts()] == ["text/html", "image/png"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'alt="Code QR de la référence {reference}"' in html
    link = LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(0)
    assert all(link not in code and "/b/" not in code for code in embedded_codes(message))
    # The calendar file is still an attachment of its own, beside the text and the HTML.
    assert [part.get_content_disposition() for part in message.walk()
            if part.get_content_type() == "text/calendar"] == ["attachment"]


def test_a_moved_visit_and_its_reminder_carry_the_code_and_a_cancellation_does_not(
        smtp_config, smtp_server, client, session, runner):
    client.post("/en/book", data=_form())
    (confirmation,) = smtp_server.wait_for(1)
    path = LINK.search(confirmation.get_body(preferencelist=("plain",)).get_content()).group(1)
    reference = path.split("/")[2]

    assert client.post(f"{path}/move", data={"start": "2027-03-03T14:00"}).status_code == 302
    moved = smtp_server.wait_for(2)[1]
    assert embedded_codes(moved) == [reference]

    result = runner.invoke(args=["run-jobs", "--now", "2027-03-02T15:00"])
    assert result.exit_code == 0, result.output
    reminder = smtp_server.wait_for(3)[2]
    assert reference in reminder["Subject"]
    assert embedded_codes(reminder) == [reference]

    assert client.post(f"{path}/cancel").status_code == 302
    cancellation = smtp_server.wait_for(4)[3]
    assert "cid:" not in cancellation.get_body(preferencelist=("html",)).get_content()
    assert not [part for part in cancellation.walk() if part.get_content_type() == "image/png"]


def test_a_group_confirmation_carries_the_groups_reference_as_a_qr_code(
        smtp_config, smtp_server, client, session, guides, request_tour, policy, clock):
    tour = request_tour("2027-03-16T10:00")
    with client.application.test_request_context():
        pending_path = links.tour_path(tour)
    assert page_codes(client.get(pending_path).get_data(as_text=True)) == []  # not yet confirmed
    received = smtp_server.wait_for(1)
    assert not [part for message in received for part in message.walk() if part.get_content_type() == "image/png"]
    confirm_tour(session, policy, clock.now(), tour.id)
    from booking.notifications import deliver

    deliver(session, clock.now())
    confirmation = next(message for message in smtp_server.wait_for(2) if tour.reference in message["Subject"]
                        and message["To"] == tour.email and "cid:" in message.get_body(
                            preferencelist=("html",)).get_content())
    assert embedded_codes(confirmation) == [tour.reference]
    # The teacher's page shows it too, once the visit is confirmed.
    assert page_codes(client.get(pending_path).get_data(as_text=True)) == [tour.reference]


def test_the_private_page_shows_the_code_while_the_visit_stands(client, session, book):
    booking = book("2027-03-02T10:00")
    with client.application.test_request_context():
        path = links.visit_path(booking)
    page = client.get(path).get_data(as_text=True)
    assert page_codes(page) == [booking.reference]
    assert f"<title>QR code of the reference {booking.reference}</title>" in page

    assert client.post(f"{path}/cancel").status_code == 302
    assert page_codes(client.get(path).get_data(as_text=True)) == []


def test_the_day_sheet_shows_each_partys_code(staff_client, session, book, guides, request_tour, policy, clock):
    first = book("2027-03-16T10:00", name="Anne Martin")
    second = book("2027-03-16T14:00", name="Bart Peeters")
    tour = request_tour("2027-03-16T11:00")
    sheet = staff_client.get("/staff/day/2027-03-16/sheet?lang=nl").get_data(as_text=True)
    assert sorted(page_codes(sheet)) == sorted([first.reference, second.reference, tour.reference])
