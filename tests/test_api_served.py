"""Schemathesis' own command line against the API served over HTTP, reading the document the app serves
at /api/openapi.json: every answer conforms to it (status, content type, headers, body), data the
document calls invalid is refused, a method a path does not take answers 405 with Allow, and nothing
answers 5xx. The examples per operation follow the Hypothesis profile (50, or 2000 when thorough)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import settings

from booking import create_app
from tests.live_server import LiveServer

CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "negative_data_rejection",
          "unsupported_method"]


def test_schemathesis_finds_nothing_against_the_served_document(config_overrides, guides, tmp_path):
    server = LiveServer.serving(lambda url: create_app({**config_overrides, "PUBLIC_BASE_URL": url}))
    try:
        command = [str(Path(sys.executable).with_name("st")), "run", f"{server.url}/api/openapi.json",
                   "--checks", ",".join(CHECKS), "--max-examples", str(settings().max_examples),
                   "--generation-deterministic", "--no-color", "--workers", "1"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=tmp_path,  # noqa: S603
                                check=False)
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Fuzzing" in result.stdout and "failed" not in result.stdout  # the phases ran on every operation
