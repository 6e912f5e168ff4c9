"""Schemathesis against the app's own /api/openapi.json, in process (WSGI): no 5xx on any request,
valid or not, every 4xx says why in its JSON body, every answer is one the document describes (status,
content type, headers, body), data the document says is wrong is refused, and a method a path does not
take answers 405 with Allow. The number of cases per operation and mode
comes from the Hypothesis profile (tests/hypothesis_profiles.py).

Schemathesis' own pytest decorators do not run under this pytest, so each operation's strategy is
drawn with Hypothesis directly.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from booking.views.openapi import openapi_document
from config import Config

_PATHS = openapi_document({name: getattr(Config, name) for name in dir(Config) if name.isupper()})["paths"]
# Every operation with data that fits its schema, and with data that does not where it takes any input.
CASES = [(path, method, mode) for path, methods in _PATHS.items() for method, spec in methods.items()
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode == GenerationMode.POSITIVE or spec.get("parameters") or spec.get("requestBody")]


def _messages(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, dict):
        return [text for item in value.values() for text in _messages(item)]
    return []


def client_errors_say_why(ctx, response, case):
    """A 4xx answers JSON with a non-empty `message`, or `errors` naming each field with a message."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.content[:200]!r}") from error
    messages = _messages(body.get("message")) + _messages(body.get("errors")) if isinstance(body, dict) else []
    assert messages, f"{response.status_code} without a message: {body!r}"
    return True


CHECKS = [not_a_server_error, client_errors_say_why, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]


@pytest.mark.parametrize(("path", "method", "mode"), CASES)
def test_the_api_never_answers_500_and_explains_every_refusal(app, guides, path, method, mode):
    operation = schemathesis.openapi.from_wsgi("/api/openapi.json", app)[path][method]
    statuses: dict[int, int] = {}

    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case):
        response = case.call()
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS)

    call()
    print(f"\n{method.upper()} {path} ({mode}): {sum(statuses.values())} requests, statuses {sorted(statuses.items())}")
    assert not any(status >= 500 for status in statuses)


def test_the_cases_are_the_operations_the_app_serves(client):
    """The cases are listed when tests are collected, from configuration; each is then fuzzed against
    the served /api/openapi.json. The two lists of operations must be one."""
    served = client.get("/api/openapi.json").get_json()["paths"]
    assert {(path, method) for path, methods in served.items() for method in methods} == {
        (path, method) for path, method, _mode in CASES}
