"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import sys

from booking import create_app
from booking.startup import StartupRefused

try:
    app = create_app()
except StartupRefused as refusal:
    print(f"The booking app cannot start: {refusal}", file=sys.stderr)
    # 3 is gunicorn's "worker failed to boot": its master stops instead of starting workers for ever.
    raise SystemExit(3) from None
