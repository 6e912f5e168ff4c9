"""An SMTP server in its own process, for crash tests: `python -m tests.smtp_process --port P --dir D`.

Every delivery it accepts is written to D as NNNNNN.eml before it answers 250, so a test counts raw
deliveries (duplicates included) even across restarts. Options make it misbehave on purpose:
  --pause-after K  store the K-th message, then wait before answering 250 (the window in which a
                   killed worker has handed the message over but not yet marked it sent)
  --hold-at K      on the K-th message, wait before storing or answering (killed there, the server
                   dies mid-delivery, and the message was never accepted)
  --refuse ADDR    answer 550 to this recipient, every time
The marker files "paused" and "holding" in D tell the test that it reached that point.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, directory: Path, pause_after: int, hold_at: int, refuse: set[str]):
        self.directory = directory
        self.pause_after, self.hold_at, self.refuse = pause_after, hold_at, refuse
        self.seen = 0
        self.stored = len(list(directory.glob("*.eml")))  # a restarted server numbers on

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.seen += 1
        if self.seen == self.hold_at:
            (self.directory / "holding").touch()
            await asyncio.sleep(3600)
        self.stored += 1
        partial = self.directory / f"{self.stored:06d}.partial"
        partial.write_bytes(envelope.original_content or envelope.content)
        os.replace(partial, self.directory / f"{self.stored:06d}.eml")
        if self.seen == self.pause_after:
            (self.directory / "paused").touch()
            await asyncio.sleep(3600)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--pause-after", type=int, default=0)
    parser.add_argument("--hold-at", type=int, default=0)
    parser.add_argument("--refuse", action="append", default=[])
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    handler = Handler(args.dir, args.pause_after, args.hold_at, set(args.refuse))
    controller = Controller(handler, hostname="127.0.0.1", port=args.port)
    controller.start()
    (args.dir / "ready").touch()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    while not stopping.wait(0.2):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
