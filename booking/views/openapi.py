"""The OpenAPI 3.1 description of the JSON API, written by hand to stay close to the code it describes."""

from __future__ import annotations

from booking.access import CODES as ACCESS_CODES
from booking.access import OTHER_MAX_LENGTH


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _required_text(max_length: int | None = None, **extra) -> dict:
    """A required string: the API strips it and refuses it empty, so the document says at least one
    character that is not a space."""
    schema = {"type": "string", "minLength": 1, "pattern": r"\S", **extra}
    if max_length:
        schema["maxLength"] = max_length
    return schema


def _access_needs() -> dict:
    """The optional access needs of a booking or a group: the properties, and "other" needing its text."""
    return {
        "properties": {
            "access_needs": {
                "type": "array", "items": {"type": "string", "enum": list(ACCESS_CODES)},
                "description": "Access needs (health data: shown to the museum's staff only, erased with the "
                               "booking); the confirmation says what the museum offers for each."},
            "access_needs_other": {
                "type": "string", "maxLength": OTHER_MAX_LENGTH,
                "description": "The need meant by \"other\" (a text given without \"other\" adds it)."},
        },
        "if": {"required": ["access_needs"],
               "properties": {"access_needs": {"type": "array", "contains": {"const": "other"}}}},
        "then": {"required": ["access_needs_other"], "properties": {"access_needs_other": _required_text()}},
    }


def _with_access_needs(schema: dict) -> dict:
    access = _access_needs()
    return {**schema, "properties": {**schema["properties"], **access["properties"]},
            "if": access["if"], "then": access["then"]}


def _too_many(path: str) -> dict:
    return {"description": f"Too many requests to {path} from this address; retry after Retry-After seconds",
            "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0},
                                        "description": "Seconds before a new request can be accepted."}},
            "content": _json({"type": "object", "required": ["error", "retry_after", "message"],
                              "properties": {"error": {"const": "rate_limited"},
                                             "retry_after": {"type": "integer"}, "message": {"type": "string"}}})}


def openapi_document(config) -> dict:
    party_max = config["PARTY_MAX"]
    errors = {
        "type": "object",
        "required": ["errors"],
        "properties": {"errors": {"type": "object", "additionalProperties": {"type": "string"}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Museum visit booking API",
            "version": "1.0.0",
            "description": "Availability of arrival slots, booking of individual visits and requests for "
                           "group visits. "
                           "Times are ISO 8601 with offset; the museum's time zone is Europe/Brussels.",
        },
        "servers": [{"url": config["PUBLIC_BASE_URL"]}],
        "paths": {
            "/api/availability": {
                "get": {
                    "operationId": "getAvailability",
                    "summary": "Open days and arrival slots with the places left",
                    "parameters": [
                        {"name": "from", "in": "query", "required": False,
                         "schema": {"type": "string", "format": "date"},
                         "description": "First day; today (Brussels) when left out."},
                        {"name": "to", "in": "query", "required": False,
                         "schema": {"type": "string", "format": "date"},
                         "description": f"At most {config['AVAILABILITY_MAX_DAYS']} days after `from`, inclusive; "
                                        "three weeks from `from` when left out."},
                        {"name": "language", "in": "query", "required": False,
                         "schema": {"type": "string", "enum": list(config["LANGUAGES"])},
                         "description": "Language of closure reasons and holiday names."},
                    ],
                    "responses": {
                        "404": {"description": "A query holding a NUL byte: the app refuses it before any route",
                                "content": _json({"type": "object", "required": ["error", "message"],
                                                  "properties": {"error": {"const": "not_found"},
                                                                 "message": {"type": "string"}}})},
                        "200": {"description": "The days asked for; with an ETag, kept by caches for a minute, "
                                               "and readable by the origins in EMBED_ORIGINS",
                                "content": _json(_ref("Availability"))},
                        "304": {"description": "The same as the answer whose ETag If-None-Match names"},
                        "422": {"description": "Bad dates",
                                "content": {"application/json": {"schema": errors}}},
                    },
                }
            },
            "/api/whatson": {
                "get": {
                    "operationId": "getWhatsOn",
                    "summary": "Exhibitions on show or coming, and events to come",
                    "parameters": [
                        {"name": "language", "in": "query", "required": False,
                         "schema": {"type": "string", "enum": list(config["LANGUAGES"])},
                         "description": "Language of the titles and descriptions (else the browser's)."},
                    ],
                    "responses": {
                        "404": {"description": "A query holding a NUL byte: the app refuses it before any route",
                                "content": _json({"type": "object", "required": ["error", "message"],
                                                  "properties": {"error": {"const": "not_found"},
                                                                 "message": {"type": "string"}}})},
                        "422": {"description": "A language that is not one of the codes", "content": _json(errors)},
                        "200": {"description": "The programme", "content": _json({
                            "type": "object", "required": ["language", "exhibitions", "events"],
                            "properties": {
                                "language": {"type": "string"},
                                "exhibitions": {"type": "array", "items": {
                                    "type": "object",
                                    "required": ["title", "description", "starts_on", "ends_on", "panel_languages",
                                                 "image"],
                                    "properties": {
                                        "title": {"type": "string"}, "description": {"type": "string"},
                                        "starts_on": {"type": "string", "format": "date"},
                                        "ends_on": {"type": ["string", "null"], "format": "date"},
                                        "panel_languages": {"type": "array", "items": {"type": "string"}},
                                        "image": {"type": ["string", "null"], "format": "uri"}}}},
                                "events": {"type": "array", "items": {
                                    "type": "object",
                                    "required": ["title", "description", "start", "end", "place", "booking_needed"],
                                    "properties": {
                                        "title": {"type": "string"}, "description": {"type": "string"},
                                        "start": {"type": "string", "format": "date-time"},
                                        "end": {"type": "string", "format": "date-time"},
                                        "place": {"type": "string"}, "booking_needed": {"type": "boolean"}}}},
                            }})},
                        "304": {"description": "The same as the answer whose ETag If-None-Match names"},
                    },
                }
            },
            "/api/bookings": {
                "post": {
                    "operationId": "createBooking",
                    "summary": "Book an individual visit",
                    "parameters": [
                        {"name": "Idempotency-Key", "in": "header", "required": False,
                         "schema": {"type": "string", "maxLength": 80},
                         "description": "A retried request with the same key returns the first booking."},
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BookingRequest"}}},
                    },
                    "responses": {
                        "201": {"description": "Booked and confirmed",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Booking"}}}},
                        "409": {"description": "Business rule: the slot is full (not enough places left)",
                                "content": {"application/json": {"schema": {
                                    "type": "object", "required": ["error"],
                                    "properties": {"error": {"const": "slot_full"}, "message": {"type": "string"}},
                                }}}},
                        "422": {"description": "Invalid input, or a start that a business rule refuses although "
                                               "it fits the schema: past, closed (weekend, public holiday or "
                                               "closure), too far ahead, or not a slot start",
                                "content": {"application/json": {"schema": errors}}},
                        "429": _too_many("/api/bookings"),
                    },
                }
            },
            "/api/tour-requests": {
                "post": {
                    "operationId": "createTourRequest",
                    "summary": "Request a group visit, guided or self-guided",
                    "description": "The first requested time that fits is held (places and guides) until staff "
                                   "decide; the teacher is emailed a private link.",
                    "requestBody": {"required": True, "content": _json(_ref("TourRequest"))},
                    "responses": {
                        "201": {"description": "Received and held, not yet confirmed",
                                "content": _json(_ref("TourRequestCreated"))},
                        "409": {"description": "Business rule: none of the requested times fits now (closed, "
                                               "full, no guide free, or none speaking the language)",
                                "content": _json({
                                    "type": "object", "required": ["error", "reason", "reasons"],
                                    "properties": {
                                        "error": {"const": "no_time_fits"},
                                        "reason": {"type": "string",
                                                   "enum": ["no_guide", "language", "capacity", "closed"]},
                                        "reasons": {"type": "array", "items": {"type": "string"}},
                                        "message": {"type": "string"},
                                    },
                                })},
                        "422": {"description": "Invalid input, or a time that a business rule refuses although it "
                                               "fits the schema: past or within the lead time, too far ahead, "
                                               "closed (weekend, public holiday), or too late a start",
                                "content": _json(errors)},
                        "429": _too_many("/api/tour-requests"),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1 document",
                                          "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "components": {
            "schemas": {
                "Slot": {
                    "type": "object",
                    "required": ["start", "end", "capacity", "remaining", "bookable"],
                    "properties": {
                        "start": {"type": "string", "format": "date-time"},
                        "end": {"type": "string", "format": "date-time"},
                        "capacity": {"type": "integer", "description": "people the museum takes in that hour"},
                        "remaining": {"type": "integer", "minimum": 0, "description": (
                            "places left to book: the capacity less the places staff keep back for visitors "
                            "without a booking, less those booked")},
                        "bookable": {"type": "boolean"},
                    },
                },
                "Day": {
                    "type": "object",
                    "required": ["date", "open", "closed_reason", "slots"],
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "open": {"type": "boolean"},
                        "closed_reason": {"type": ["string", "null"]},
                        "slots": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}},
                    },
                },
                "Availability": {
                    "type": "object",
                    "required": ["timezone", "days"],
                    "properties": {
                        "timezone": {"type": "string"},
                        "days": {"type": "array", "items": {"$ref": "#/components/schemas/Day"}},
                    },
                },
                "BookingRequest": _with_access_needs({
                    "type": "object",
                    "required": ["start", "party_size", "name", "email", "language"],
                    "properties": {
                        "start": _required_text(format="date-time",
                                                description="A slot's start; without an offset, Brussels time."),
                        "party_size": {"type": "integer", "minimum": config["PARTY_MIN"], "maximum": party_max},
                        "name": _required_text(100),
                        "email": _required_text(254, format="email"),
                        "language": {"type": "string", "enum": list(config["LANGUAGES"])},
                        "note": {"type": "string", "maxLength": 500},
                    },
                }),
                "TourRequest": _with_access_needs({
                    "type": "object",
                    "required": ["starts", "organisation", "postcode", "contact_name", "email", "phone", "pupils",
                                 "adults", "group_kind", "language"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["guided", "self_guided"], "default": "guided"},
                        "starts": {"type": "array", "minItems": 1, "maxItems": 3,
                                   "items": {"type": "string", "format": "date-time"},
                                   "description": "Preferred start, then up to two alternatives."},
                        "duration_minutes": {"type": "integer", "enum": [60, 120],
                                             "description": "Self-guided visits only; guided tours last "
                                                            f"{config['TOUR_GUIDED_MINUTES']} minutes."},
                        "organisation": _required_text(150),
                        "address": {"type": "string", "maxLength": 200},
                        "postcode": _required_text(12),
                        "contact_name": _required_text(100),
                        "contact_role": {"type": "string", "maxLength": 100},
                        "email": _required_text(254, format="email"),
                        "phone": _required_text(40),
                        "leader_name": {"type": "string", "maxLength": 100},
                        "pupils": {"type": "integer", "minimum": 1},
                        "adults": {"type": "integer", "minimum": 0},
                        "group_kind": {"type": "string", "enum": ["primary", "secondary", "higher", "adults"]},
                        "tour_language": {"type": "string", "enum": list(config["LANGUAGES"]),
                                          "description": "Required for guided tours."},
                        "needs": {"type": "string", "maxLength": 1000},
                        "topic": {"type": "string", "maxLength": 1000},
                        "notes": {"type": "string", "maxLength": 1000},
                        "language": {"type": "string", "enum": list(config["LANGUAGES"]),
                                     "description": "Language of the emails to the teacher."},
                    },
                }),
                "TourRequestCreated": {
                    "type": "object",
                    "required": ["reference", "status", "start"],
                    "properties": {
                        "reference": {"type": "string", "pattern": "^GRP-[0-9A-Z]{6}$"},
                        "status": {"type": "string", "enum": ["pending"]},
                        "start": {"type": "string", "format": "date-time"},
                    },
                },
                "Booking": {
                    "type": "object",
                    "required": ["reference", "status", "start", "party_size"],
                    "properties": {
                        "reference": {"type": "string", "pattern": "^NMR-[0-9A-Z]{6}$"},
                        "status": {"type": "string", "enum": ["confirmed"]},
                        "start": {"type": "string", "format": "date-time"},
                        "party_size": {"type": "integer"},
                    },
                },
            }
        },
    }
