"""The museum's facts in one language, for pages, emails and calendar files."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l


def museum_facts(language: str) -> dict:
    facts = current_app.config["MUSEUM"]
    street = facts["street"][language]
    city = facts["city"][language]
    country = facts["country"][language]
    return {
        "name": facts["name"][language],
        "operator": facts["operator"],
        "street": street,
        "postcode": facts["postcode"],
        "city": city,
        "country": country,
        "address_line": f"{street}, {facts['postcode']} {city}, {country}",
        "phone": facts["phone"],
        "phone_uri": "tel:" + facts["phone"].replace(" ", ""),
        "email": facts["email"],
        "website": facts["website"],
        "latitude": facts["latitude"],
        "longitude": facts["longitude"],
    }


# --- access needs: their names, and what the museum offers for each (booking.access) ---------------

ACCESS_NEED_LABELS = {
    "wheelchair": _l("Wheelchair user"),
    "mobility": _l("Reduced mobility (walking or standing for long is hard)"),
    "vision": _l("Blind or low vision"),
    "hearing": _l("Deaf or hard of hearing"),
    "other": _l("Another need"),
}


def access_need_label(code: str) -> str:
    return str(ACCESS_NEED_LABELS.get(code, code))


def access_need_mark(code: str) -> str:
    """The short word of a need on the staff's day view, day sheet and booking pages."""
    marks = {"wheelchair": gettext("Wheelchair"),
             "mobility": gettext("Mobility"),
             "vision": gettext("Vision"),
             "hearing": gettext("Hearing"),
             "other": gettext("Other")}
    return marks.get(code, code)


def default_access_offer(code: str) -> str:
    """What the museum offers for a need, in the current language, until staff write their own.

    Only what MUSEUM.md states (accessible facilities for visitors with reduced mobility); for the
    rest the museum promises to get in touch.
    """
    facts = current_app.config["MUSEUM"]
    values = {"phone": facts["phone"], "email": facts["email"]}
    if code == "wheelchair":
        return gettext("The museum has accessible facilities for visitors with reduced mobility. If you would "
                       "like help when you arrive, ask at the reception desk, or call us beforehand on %(phone)s.",
                       **values)
    if code == "mobility":
        return gettext("The museum has accessible facilities for visitors with reduced mobility. Ask at the "
                       "reception desk for help at any time; to prepare anything before your visit, call us on "
                       "%(phone)s.", **values)
    if code == "vision":
        return gettext("We will get in touch before your visit to prepare it with you. You can also call us on "
                       "%(phone)s or write to %(email)s.", **values)
    if code == "hearing":
        return gettext("We will get in touch before your visit to prepare it with you. You can also write to "
                       "%(email)s.", **values)
    return gettext("We will get in touch before your visit about what you told us. You can also call us on "
                   "%(phone)s or write to %(email)s.", **values)


def access_offer(code: str, language: str, stored: dict) -> str:
    """Staff's text for this need in this language, else the default; call it in that language's locale."""
    return (stored.get(code) or {}).get(language) or default_access_offer(code)


def access_offers(needs, language: str, stored: dict) -> list[tuple[str, str]]:
    """(name of the need, what the museum offers) for each need ticked, in the current locale;
    "another need" is named with what the visitor wrote."""
    offers = []
    for code in needs.codes:
        label = access_need_label(code)
        if code == "other" and needs.other:
            label = f"{label} ({needs.other})"
        offers.append((label, access_offer(code, language, stored)))
    return offers


def access_offers_of(item, language: str, session) -> list[tuple[str, str]]:
    """access_offers for a booking or a group visit; the stored texts are read only when it has needs."""
    if not item.access_needs:
        return []
    from booking.services.access_offers import stored_offers

    return access_offers(item.access_needs, language, stored_offers(session))


def access_needs_line(needs) -> str:
    """The needs in one line for a staff export: "Access needs: Wheelchair, Other (a guide dog)"."""
    if not needs:
        return ""
    from booking.i18n import colon

    marks = [access_need_mark(code) for code in needs.codes]
    if needs.other:
        marks[-1] += f" ({needs.other})"  # "other" comes last
    return f"{colon(gettext('Access needs'))} {', '.join(marks)}"
