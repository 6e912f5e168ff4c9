"""Configuration read from environment variables; every rule of the museum is a setting here."""

import datetime as dt
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _secret_key() -> str | None:
    """SECRET_KEY from the environment, else the development key that `make run` wrote."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    key_file = INSTANCE_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    return None


class Config:
    SECRET_KEY = _secret_key()
    DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'booking.sqlite3'}"
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")

    # Mail: with no MAIL_SERVER, messages are written as .eml files to MAIL_FILE_DIR.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Musée national de la Résistance <info@museumresistance.be>"
    )
    MAIL_SUPPRESS_SEND = False
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR", str(INSTANCE_DIR / "mail"))
    # Deliver what a request's transaction queued right after its response; the worker catches what fails.
    MAIL_DELIVER_AFTER_COMMIT = _bool("MAIL_DELIVER_AFTER_COMMIT", True)
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_RETRY_BASE_SECONDS = _int("MAIL_RETRY_BASE_SECONDS", 60)
    # The domain of Message-IDs and calendar UIDs; unset, the domain of MAIL_DEFAULT_SENDER's address.
    MAIL_MESSAGE_ID_DOMAIN = os.environ.get("MAIL_MESSAGE_ID_DOMAIN") or None

    # A fixed "now" (ISO 8601 with offset) for demonstrations and end-to-end tests.
    CLOCK_NOW = os.environ.get("CLOCK_NOW") or None

    # The museum's rules.
    TIMEZONE = "Europe/Brussels"
    OPEN_WEEKDAYS = (0, 1, 2, 3, 4)  # Monday to Friday
    OPENING_TIME = os.environ.get("OPENING_TIME", "09:00")
    CLOSING_TIME = os.environ.get("CLOSING_TIME", "17:00")
    SLOT_MINUTES = _int("SLOT_MINUTES", 60)
    SLOT_CAPACITY = _int("SLOT_CAPACITY", 50)
    PARTY_MIN = 1
    PARTY_MAX = _int("PARTY_MAX", 8)
    BOOKING_HORIZON_DAYS = _int("BOOKING_HORIZON_DAYS", 90)
    HOLIDAY_COUNTRY = "BE"
    # Closed days the holidays package does not know: 8 May, the Brussels-Capital Region's day.
    EXTRA_HOLIDAYS = {(5, 8): {"fr": "Fête de l'Iris (Région de Bruxelles-Capitale)",
                               "nl": "Irisfeest (Brussels Hoofdstedelijk Gewest)",
                               "en": "Iris Day (Brussels-Capital Region)",
                               "de": "Irisfest (Region Brüssel-Hauptstadt)"}}
    AVAILABILITY_MAX_DAYS = 92
    # The museum's own website shows coming days from GET /api/availability (and /api/whatson) in the
    # browser: the origins allowed to read them (comma-separated, e.g. https://museumresistance.be;
    # none by default), and how long browsers and proxies may keep an answer.
    EMBED_ORIGINS = tuple(origin.strip().rstrip("/") for origin in os.environ.get("EMBED_ORIGINS", "").split(",")
                          if origin.strip())
    EMBED_MAX_AGE_SECONDS = _int("EMBED_MAX_AGE_SECONDS", 60)
    # The accessibility statement's review date until staff record a review (/staff/accessibility).
    ACCESSIBILITY_FIRST_REVIEW = dt.date(2026, 12, 2)
    # The waiting list: how long an offer of freed places holds, and the latest it may run before the slot.
    WAITLIST_OFFER_HOURS = _int("WAITLIST_OFFER_HOURS", 12)
    WAITLIST_OFFER_CUTOFF_MINUTES = _int("WAITLIST_OFFER_CUTOFF_MINUTES", 120)

    # Group visits.
    TOUR_GUIDED_MINUTES = _int("TOUR_GUIDED_MINUTES", 120)
    TOUR_PUPILS_PER_GUIDE = _int("TOUR_PUPILS_PER_GUIDE", 20)
    TOUR_MAX_GUIDES = _int("TOUR_MAX_GUIDES", 2)
    TOUR_PUPILS_PER_ADULT = _int("TOUR_PUPILS_PER_ADULT", 15)
    TOUR_MIN_DAYS_AHEAD = _int("TOUR_MIN_DAYS_AHEAD", 14)
    TOUR_MAX_DAYS_AHEAD = _int("TOUR_MAX_DAYS_AHEAD", 180)
    TOUR_CANCEL_DAYS_BEFORE = _int("TOUR_CANCEL_DAYS_BEFORE", 7)
    TOUR_PROPOSAL_DAYS = _int("TOUR_PROPOSAL_DAYS", 7)
    TOUR_FLAG_AFTER_WORKING_DAYS = _int("TOUR_FLAG_AFTER_WORKING_DAYS", 5)
    # At most so many tours per guide per day / per week (0: no limit).
    GUIDE_MAX_TOURS_PER_DAY = _int("GUIDE_MAX_TOURS_PER_DAY", 0)
    GUIDE_MAX_TOURS_PER_WEEK = _int("GUIDE_MAX_TOURS_PER_WEEK", 0)
    # Where new requests and teachers' cancellations are announced, and in which language.
    MUSEUM_NOTIFY_EMAIL = os.environ.get("MUSEUM_NOTIFY_EMAIL", "info@museumresistance.be")
    MUSEUM_NOTIFY_LANGUAGE = os.environ.get("MUSEUM_NOTIFY_LANGUAGE", "fr")

    LANGUAGES = ("fr", "nl", "en", "de")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Europe/Brussels"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")

    WTF_CSRF_TIME_LIMIT = None  # a visitor may leave the form open for hours
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    # Cookies only over HTTPS; `make run` and the tests serve plain HTTP on loopback and set it false.
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)

    # Security: abuse limits, proxies, cookies (see README "Security").
    # Flask-Limiter: limits per client address on public POSTs; "memory://" counts per process, so
    # several workers need shared storage such as redis://127.0.0.1:6379. false for load tests.
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "nmr")
    RATELIMIT_SWALLOW_ERRORS = True  # storage down: log it and serve the request rather than fail it
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}  # Redis: never hang a request
    RATELIMIT_BOOKING = os.environ.get("RATELIMIT_BOOKING", "10/minute;100/hour")  # form and API together
    RATELIMIT_GROUP_REQUEST = os.environ.get("RATELIMIT_GROUP_REQUEST", "5/minute;30/hour")
    RATELIMIT_MANAGE = os.environ.get("RATELIMIT_MANAGE", "20/minute;200/hour")  # private-link actions
    RATELIMIT_SIGN_IN = os.environ.get("RATELIMIT_SIGN_IN", "10/minute;50/hour")  # staff sign-in
    # Active bookings one email address may hold for the same visit day (staff desk bookings exempt).
    MAX_BOOKINGS_PER_EMAIL_PER_DAY = _int("MAX_BOOKINGS_PER_EMAIL_PER_DAY", 3)
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted; 0 trusts none.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    MUSEUM = {
        "name": {
            "fr": "Musée national de la Résistance",
            "nl": "Nationaal Museum van de Weerstand",
            "en": "National Museum of the Resistance",
            "de": "Nationalmuseum des Widerstands",
        },
        "operator": "Maison de la Résistance – Huis van het Verzet",
        "street": {
            "fr": "Rue Van Lint 14B",
            "nl": "Van Lintstraat 14B",
            "en": "Rue Van Lint 14B / Van Lintstraat 14B",
            "de": "Rue Van Lint 14B / Van Lintstraat 14B",
        },
        "postcode": "1070",
        "city": {"fr": "Anderlecht", "nl": "Anderlecht", "en": "Anderlecht", "de": "Anderlecht"},
        "country": {"fr": "Belgique", "nl": "België", "en": "Belgium", "de": "Belgien"},
        "latitude": 50.83933,
        "longitude": 4.32792,
        "phone": "+32 2 522 40 41",
        "email": "info@museumresistance.be",
        "website": "https://museumresistance.be",
    }

    # Back office, desk bookings: how many places beyond a slot's capacity staff may knowingly book.
    STAFF_OVERBOOK_MAX = _int("STAFF_OVERBOOK_MAX", 5)
    # Reminders and scheduled jobs (booking/services/reminders.py, `run-jobs`, `worker`).
    VISIT_REMINDER_HOURS = _int("VISIT_REMINDER_HOURS", 24)  # visitors: this many hours before
    TOUR_REMINDER_DAYS = _int("TOUR_REMINDER_DAYS", 10)  # teachers: confirm final numbers this many days before
    LOST_LINK_MINUTES = _int("LOST_LINK_MINUTES", 10)  # at most one "lost your link?" email per address
    WORKER_INTERVAL_SECONDS = _int("WORKER_INTERVAL_SECONDS", 60)  # how often the worker runs the due jobs
    # Staff accounts: a sign-in lasts a working day; wrong passwords in a row lock the account for a
    # while; a password-reset link is valid this many hours (and only until it is used).
    STAFF_SESSION_HOURS = _int("STAFF_SESSION_HOURS", 10)
    PERMANENT_SESSION_LIFETIME = STAFF_SESSION_HOURS * 3600  # seconds; the sign-in makes its session permanent
    STAFF_MAX_FAILED_LOGINS = _int("STAFF_MAX_FAILED_LOGINS", 5)
    STAFF_LOCKOUT_MINUTES = _int("STAFF_LOCKOUT_MINUTES", 15)
    STAFF_RESET_HOURS = _int("STAFF_RESET_HOURS", 1)
    # Production: refuse to start on a database behind the code's migrations (flask CLI commands,
    # init-db first of all, are exempt). Tests that build a schema turn it off.
    CHECK_SCHEMA = _bool("CHECK_SCHEMA", True)
    # Watching it (GET /healthz): the worker's last heartbeat may be at most this old (0: no worker is
    # run, cron runs the jobs), and the oldest email not yet sent at most this old.
    WORKER_HEARTBEAT_MAX_SECONDS = _int("WORKER_HEARTBEAT_MAX_SECONDS", 120)
    HEALTH_OUTBOX_MAX_AGE_SECONDS = _int("HEALTH_OUTBOX_MAX_AGE_SECONDS", 900)
    # Logs: one line per request and per email on stderr, as text or as JSON (one object a line).
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Privacy: personal data of a visit is anonymised this many days after it
    # (`flask --app wsgi purge-personal-data`), emails written to MAIL_FILE_DIR included.
    RETENTION_DAYS = _int("RETENTION_DAYS", 90)
