"""The files in deploy/ agree with the app: every setting is in the environment template, and
gunicorn trusts the same one proxy that TRUSTED_PROXIES counts. (tests/deployment runs them.)"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import config

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
# Settings the app will read that config.py does not name yet (logging and /healthz).
ALSO_DOCUMENTED = {"LOG_FORMAT", "LOG_LEVEL", "WORKER_HEARTBEAT_MAX_SECONDS"}


def _template_settings() -> dict[str, str]:
    """KEY -> value of every line of the template, set or commented out (#KEY=value)."""
    text = (DEPLOY / "booking.env.template").read_text()
    return dict(re.findall(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.MULTILINE))


def test_the_environment_template_names_every_setting_the_app_reads():
    source = Path(config.__file__).read_text()
    read = set(re.findall(r'(?:environ\.get|_int|_bool)\(\s*"([A-Z][A-Z0-9_]*)"', source))
    assert {"SECRET_KEY", "DATABASE_URL", "MAIL_DEFAULT_SENDER", "RETENTION_DAYS"} <= read
    missing = sorted((read | ALSO_DOCUMENTED) - _template_settings().keys())
    assert not missing, f"deploy/booking.env.template lacks {missing}"


def test_each_setting_in_the_template_has_a_comment_above_it():
    lines = (DEPLOY / "booking.env.template").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):  # a setting in force: its explanation precedes it
            assert lines[number - 1].startswith("#"), f"line {number + 1}: {line} has no comment"


def test_gunicorn_trusts_the_one_proxy_the_app_counts_and_writes_no_access_log():
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    template = _template_settings()
    assert template["TRUSTED_PROXIES"] == "1"
    assert settings["forwarded_allow_ips"] == "127.0.0.1" == template["GUNICORN_FORWARDED_ALLOW_IPS"]
    assert settings["bind"].startswith("127.0.0.1:")  # only nginx on this host can be that proxy
    assert settings["accesslog"] is None and settings["errorlog"] == "-"
    assert settings["worker_class"] == "sync" and 3 <= settings["workers"] <= 9
