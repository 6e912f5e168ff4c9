"""Configuration read from environment variables; every rule of the museum is a setting here."""

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
    # Try to deliver a request's emails right after its commit; the worker catches what fails.
    MAIL_DELIVER_AFTER_COMMIT = _bool("MAIL_DELIVER_AFTER_COMMIT", True)
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_RETRY_BASE_SECONDS = _int("MAIL_RETRY_BASE_SECONDS", 60)
    MAIL_MESSAGE_ID_DOMAIN = os.environ.get("MAIL_MESSAGE_ID_DOMAIN", "museumresistance.be")

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
    EXTRA_HOLIDAYS = {(5, 8): "Iris Day (Brussels-Capital Region)"}
    AVAILABILITY_MAX_DAYS = 92

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
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)

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

    # Privacy: personal data of a visit is anonymised this many days after it
    # (`flask --app wsgi purge-personal-data`), emails written to MAIL_FILE_DIR included.
    RETENTION_DAYS = _int("RETENTION_DAYS", 90)
