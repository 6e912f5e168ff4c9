"""An email whose subject is encoded and folded at word boundaries, so it decodes as it was written,
and whose HTML part may show images carried with it (`cid:`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.encoders import encode_base64
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.quoprimime import header_encode
from email.utils import parseaddr

import flask_mail

LINE = 78  # RFC 5322: lines SHOULD stay within 78 characters
ENCODED_WORD = 75  # RFC 2047: an encoded-word is at most 75 characters


def message_id_domain(config: Mapping) -> str:
    """The domain after the @ of Message-IDs and calendar UIDs: MAIL_MESSAGE_ID_DOMAIN, or the
    domain of the sender's address."""
    sender = config["MAIL_DEFAULT_SENDER"]
    address = parseaddr(sender if isinstance(sender, str) else sender[1])[1]
    return config.get("MAIL_MESSAGE_ID_DOMAIN") or address.rpartition("@")[2]


def _encoded_words(text: str, first_room: int, other_room: int) -> list[str]:
    """`text` as UTF-8 encoded-words, each holding whole words (with the spaces after them); the
    first fits in `first_room` characters, the others in `room`."""
    words, current = [], ""
    for token in re.findall(r"[^ ]* *", text):  # ASCII spaces only: a no-break space binds its words
        if not token:
            continue
        room = first_room if not words else other_room
        if current and len(header_encode((current + token).encode(), "utf-8")) > room:
            words.append(current)
            current = ""
        while len(header_encode(token.encode(), "utf-8")) > room:  # one word longer than a line
            cut = len(token) - 1
            while len(header_encode(token[:cut].encode(), "utf-8")) > room:
                cut -= 1
            words.append(token[:cut])
            token = token[cut:]
        current += token
    if current:
        words.append(current)
    return [header_encode(word.encode(), "utf-8") for word in words]


def fold_text_header(name: str, text: str) -> str:
    """An unstructured header's value, encoded and folded, ready to be written as it is.

    Plain ASCII is folded at spaces. Anything else becomes encoded-words cut between words: the
    spaces sit inside them, and a decoder drops the folding between two encoded-words, so
    "persönlichen" can no longer come out as "pers önlichen" (Python 3.11's folder and
    email.header.Header both cut there).
    """
    first = LINE - len(name) - 2
    if text.isascii() and "=?" not in text and "\n" not in text and "\r" not in text:
        lines, current = [], ""
        for word in text.split(" "):
            limit = first if not lines else LINE - 1
            if current and len(current) + 1 + len(word) > limit:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        return "\r\n ".join([*lines, current])
    one_line = text.replace("\r", " ").replace("\n", " ")
    words = _encoded_words(one_line, min(ENCODED_WORD, first), min(ENCODED_WORD, LINE - 1))
    lines, current, limit = [], "", first
    for word in words:
        if current and len(current) + 1 + len(word) > limit:
            lines.append(current)
            current, limit = word, LINE - 1
        else:
            current = f"{current} {word}" if current else word
    return "\r\n ".join([*lines, current])


class MailMessage(flask_mail.Message):
    """Flask-Mail's message with the subject encoded by fold_text_header, and the sender's and
    reply-to's names by the email package (under the SMTP policy Flask-Mail sets).

    `embed()` adds an image the HTML part shows as `<img src="cid:…">`: the HTML and its images go
    in one multipart/related part (RFC 2387), the form every mail client resolves; images linked
    from the web are blocked by default in most of them, and data: URLs are dropped by Gmail and Outlook.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.embedded: list[tuple[str, str, bytes]] = []

    def embed(self, content_id: str, content_type: str, data: bytes) -> str:
        """Carry `data` beside the HTML part; returns the `cid:` URL that shows it there."""
        self.embedded.append((content_id, content_type, data))
        return f"cid:{content_id}"

    def _with_related_images(self, message):
        for container in message.walk():
            if container.get_content_type() != "multipart/alternative":
                continue
            parts = container.get_payload()
            for index, part in enumerate(parts):
                if part.get_content_type() != "text/html":
                    continue
                related = MIMEMultipart("related")
                related.attach(part)
                for content_id, content_type, data in self.embedded:
                    image = MIMEBase(*content_type.split("/"))
                    image.set_payload(data)
                    encode_base64(image)
                    image.add_header("Content-ID", f"<{content_id}>")
                    image.add_header("Content-Disposition", "inline")
                    related.attach(image)
                parts[index] = related
                return

    def _message(self):
        message = super()._message()
        if self.embedded:
            self._with_related_images(message)
        for name, value in (("From", self.sender), ("Reply-To", self.reply_to)):
            if value:
                del message[name]
                message[name] = value
        if self.subject:
            del message["Subject"]
            message.set_raw("Subject", fold_text_header("Subject", self.subject))
        return message
