"""A real SMTP server on loopback (aiosmtpd) that records every raw delivery, duplicates included."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Recorder:
    def __init__(self, sink: list[bytes]):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.sink.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


class RecordingSMTPServer:
    """Start and stop it on a fixed port; `messages` keeps every delivery it accepted, in order."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.raw: list[bytes] = []
        self._controller: Controller | None = None

    def start(self) -> RecordingSMTPServer:
        self._controller = Controller(_Recorder(self.raw), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in self.raw]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.raw) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def plain_text(message: EmailMessage) -> str:
    """The plain-text body of a delivered email."""
    return message.get_body(preferencelist=("plain",)).get_content()


def calendar_part(message: EmailMessage) -> str:
    """The one .ics attachment of a delivered email, as text."""
    parts = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [part.get_content_type() for part in message.iter_attachments()]
    assert parts[0].get_filename().endswith(".ics")
    return parts[0].get_content()
