"""The structure's promises that a test can hold: views do not reach into each other's private helpers,
and services never import Flask."""

import ast
from pathlib import Path

BOOKING = Path(__file__).resolve().parent.parent / "booking"


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_no_view_imports_another_views_private_helper():
    reached = [f"{path.relative_to(BOOKING)}: {module}.{name}"
               for path in (BOOKING / "views").rglob("*.py")
               for module, names in _imports(path) if module.startswith("booking.views")
               for name in names if name.startswith("_")]
    assert reached == []


def test_services_never_import_flask():
    flask = [f"{path.relative_to(BOOKING)}: {module}" for path in (BOOKING / "services").rglob("*.py")
             for module, _names in _imports(path) if module.split(".")[0] in ("flask", "flask_babel", "flask_login")]
    assert flask == []


def test_app_wide_error_pages_live_in_their_own_blueprint():
    from booking.views import errors

    assert {"not_found", "method_not_allowed", "csrf_failed", "too_many_requests", "server_error"} <= set(vars(errors))


def test_views_take_business_settings_from_the_policy_not_from_configuration():
    """The settings booking.policy.Policy reads are read there once; a view asks policy() for them."""
    import inspect
    import re

    from booking.policy import Policy

    keys = set(re.findall(r'config\["([A-Z_]+)"\]', inspect.getsource(Policy.from_config)))
    assert {"MAX_BOOKINGS_PER_EMAIL_PER_DAY", "STAFF_OVERBOOK_MAX", "LOST_LINK_MINUTES"} <= keys
    read = [f"{path.relative_to(BOOKING)}: {key}" for path in (BOOKING / "views").rglob("*.py")
            for key in keys if re.search(rf'config(\[|\.get\()"{key}"', path.read_text(encoding="utf-8"))]
    assert read == []


def test_no_view_sends_email_itself():
    """Emails go once their transaction commits (notifications/dispatch.py); a view only queues them."""
    sending = [f"{path.relative_to(BOOKING)}: {module}.{name}" for path in (BOOKING / "views").rglob("*.py")
               for module, names in _imports(path) if module.startswith("booking.notifications")
               for name in names if name in ("deliver", "deliver_after_commit", "send")]
    assert sending == []
