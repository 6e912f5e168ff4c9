"""gunicorn's settings for the booking app; deploy/install.sh copies this file to /etc/booking/.

Values that differ between hosts come from the environment file (/etc/booking/booking.env), which
the unit booking-web.service loads, so this file stays the same everywhere.
"""

import multiprocessing
import os

# Loopback only: nginx on this host is the one client. An app host behind a proxy on another host
# binds its private address instead (GUNICORN_BIND=10.0.0.5:8000) and names that proxy below.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: each request holds one worker; the pages are short, the database does the waiting.
# 2 per core + 1, capped so that a large host does not open more PostgreSQL connections than it needs.
workers = int(os.environ.get("GUNICORN_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 9))
worker_class = "sync"
timeout = 30  # a worker silent this long is killed and replaced
graceful_timeout = 20  # on stop or restart, requests under way get this long to finish
max_requests, max_requests_jitter = 2000, 200  # recycle workers now and then, never all at once

# The app builds itself (and refuses to start without its catalogs or a long SECRET_KEY) once, in
# the master, before forking: a refusal stops the unit with one sentence instead of workers
# failing in a loop. The app disposes its database engine after its checks, so nothing is shared.
preload_app = True

# Who may set X-Forwarded-Proto (and -For) for gunicorn: only the proxy in front. This must name the
# same hop that TRUSTED_PROXIES=1 counts in the app (werkzeug's ProxyFix takes the client address
# from the one entry that proxy adds): with gunicorn on loopback, that hop is nginx on 127.0.0.1.
# A request from anywhere else has its forwarded headers ignored.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# No access log from gunicorn: its request line would write each private link's token. The app
# logs one line per request itself (logger booking.request), tokens redacted.
accesslog = None
# gunicorn's own messages (start, stop, a killed worker) to stderr, which journald keeps.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "booking-web"
# gunicorn's control socket would go to the user's home, read-only under the unit's
# ProtectSystem=strict; systemctl starts, stops and restarts it instead.
control_socket_disable = True
