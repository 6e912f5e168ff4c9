"""What the museum tells a visitor it offers for each access need: texts staff write in four languages.

Only staff's own texts are stored (setting "access_offers": {code: {language: text}}); a need or
language without one reads the default from the catalogs (booking.presentation.default_access_offer).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from booking.access import CODES
from booking.db import atomic
from booking.models import LANGUAGES, StaffUser
from booking.services import audit
from booking.services.settings import get_setting, put_setting

_KEY = "access_offers"


def stored_offers(session: Session) -> dict[str, dict[str, str]]:
    return get_setting(session, _KEY) or {}


def save_offers(session: Session, now: dt.datetime, staff: StaffUser | None,
                texts: dict[str, dict[str, str]]) -> list[str]:
    """Keep staff's texts (an empty one goes back to the default); returns what changed as
    "code:language", which the audit log names (access_offers.edit) with the new texts."""

    def operation() -> list[str]:
        old = stored_offers(session)
        new = {code: {lang: text.strip() for lang, text in (texts.get(code) or {}).items()
                      if lang in LANGUAGES and text and text.strip()}
               for code in CODES}
        new = {code: values for code, values in new.items() if values}
        changed = [f"{code}:{lang}" for code in CODES for lang in LANGUAGES
                   if (old.get(code) or {}).get(lang, "") != (new.get(code) or {}).get(lang, "")]
        if changed:
            put_setting(session, _KEY, new, now)
            audit.record(session, now, staff, "access_offers.edit", changed=changed,
                         texts={key: (new.get(key.split(":")[0]) or {}).get(key.split(":")[1], "")
                                for key in changed})
        return changed

    return atomic(session, operation)
