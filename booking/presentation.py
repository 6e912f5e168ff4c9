"""The museum's facts in one language, for pages, emails and calendar files."""

from __future__ import annotations

from flask import current_app


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
