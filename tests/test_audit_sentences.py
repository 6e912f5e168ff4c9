"""The audit log reads as sentences in the back office's language: one for every action the code
records, with names, titles and dates as text, and a readable line for an action it does not know."""

from __future__ import annotations

import ast
import datetime as dt
import html
import re
from pathlib import Path

import pytest

from booking.audit_sentences import SENTENCES
from booking.services import audit
from tests.conftest import local, signed_in

PACKAGE = Path(__file__).resolve().parent.parent / "booking"


# --- every action the code records ----------------------------------------------------------------

def _with_parents(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child.parent = node  # type: ignore[attr-defined]
    return tree


def _functions_around(node: ast.AST) -> list[ast.FunctionDef]:
    """The functions `node` sits in, innermost first."""
    found = []
    while (node := getattr(node, "parent", None)) is not None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node)
    return found


def _own_nodes(function: ast.FunctionDef):
    """The nodes of `function`'s own body, not of the functions nested in it."""
    for node in ast.walk(function):
        if node is not function and _functions_around(node)[:1] == [function]:
            yield node


def _calls_to(tree: ast.AST, name: str) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == name)
        or (isinstance(node.func, ast.Attribute) and node.func.attr == name))]


def _argument(call: ast.Call, function: ast.FunctionDef, parameter: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == parameter:
            return keyword.value
    names = [arg.arg for arg in function.args.args]
    index = names.index(parameter)
    return call.args[index] if index < len(call.args) else None


class Unresolved(AssertionError):
    pass


def _resolve(tree: ast.AST, expr: ast.expr, path: Path) -> set[str]:
    """The strings `expr` can be: literals, both sides of an if, a dict's values, and names followed
    to their assignment, to the callers' arguments, or to the tuple a callback returns."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _resolve(tree, expr.body, path) | _resolve(tree, expr.orelse, path)
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(
                    isinstance(t, ast.Name) and t.id == expr.value.id for t in node.targets):
                return set().union(*(_resolve(tree, value, path) for value in node.value.values))
    if isinstance(expr, ast.Name):
        for function in _functions_around(expr):
            for node in _own_nodes(function):
                if not isinstance(node, ast.Assign):
                    continue
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == expr.id:
                        return _resolve(tree, node.value, path)
                    if isinstance(target, ast.Tuple) and expr.id in [getattr(e, "id", None) for e in target.elts]:
                        return _from_callback(tree, node.value, [e.id for e in target.elts].index(expr.id), path)
            if expr.id in [arg.arg for arg in function.args.args]:
                return _from_callers(tree, function, expr.id, path)
    raise Unresolved(f"{path.name}:{expr.lineno}: cannot tell which action {ast.unparse(expr)!r} records; "
                     "write it as a literal (or a literal chosen by an if)")


def _from_callers(tree: ast.AST, function: ast.FunctionDef, parameter: str, path: Path) -> set[str]:
    found: set[str] = set()
    for call in _calls_to(tree, function.name):
        argument = _argument(call, function, parameter)
        if argument is not None:
            found |= _resolve(tree, argument, path)
    if not found:
        raise Unresolved(f"{path.name}: no call of {function.name} passes {parameter}")
    return found


def _from_callback(tree: ast.AST, value: ast.expr, index: int, path: Path) -> set[str]:
    """`action, details = change(user)` where `change` is a parameter: the callers' `change` functions."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
        raise Unresolved(f"{path.name}:{value.lineno}: cannot follow {ast.unparse(value)!r}")
    holder = next(f for f in _functions_around(value) if value.func.id in [a.arg for a in f.args.args])
    found: set[str] = set()
    for call in _calls_to(tree, holder.name):
        argument = _argument(call, holder, value.func.id)
        callbacks = [node for node in ast.walk(_functions_around(call)[0])
                     if isinstance(node, ast.FunctionDef) and node.name == getattr(argument, "id", None)]
        for callback in callbacks:
            for node in _own_nodes(callback):
                if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
                    found |= _resolve(tree, node.value.elts[index], path)
    return found


def _is_audit_record(call: ast.Call) -> bool:
    func = call.func
    return ((isinstance(func, ast.Attribute) and func.attr == "record" and getattr(func.value, "id", "") == "audit")
            or (isinstance(func, ast.Name) and func.id == "record"))


def recorded_actions() -> dict[str, str]:
    """Every action code the package passes to audit.record, with where it is recorded."""
    actions: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = _with_parents(ast.parse(path.read_text(), str(path)))
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call) and _is_audit_record(node)):
            action = next((k.value for k in call.keywords if k.arg == "action"), None)
            if action is None:
                action = call.args[3]
            for code in _resolve(tree, action, path):
                actions.setdefault(code, f"{path.relative_to(PACKAGE.parent)}:{call.lineno}")
    return actions


def test_every_action_the_code_records_has_a_sentence_and_every_sentence_an_action():
    actions = recorded_actions()
    # The resolver follows names: these come from a parameter, a callback's tuple and a dict.
    assert {"capacity.day", "privacy.purge", "staff.enable", "staff.role", "event.delete"} <= set(actions)
    missing = {code: where for code, where in actions.items() if code not in SENTENCES}
    assert missing == {}, f"actions without a sentence in booking/audit_sentences.py: {missing}"
    assert set(SENTENCES) - set(actions) == set(), "sentences of actions no code records any more"


# --- how each reads ------------------------------------------------------------------------------

TITLES = {"fr": "Conférence « Résister »", "en": "Talk: Resisting", "nl": "Lezing"}


def examples(booking_start: str, tour_start: str) -> dict[str, dict]:
    """Details as each operation records them (see the services)."""
    start, later = booking_start, "2027-03-03T10:00:00+00:00"
    return {
        "booking.create": {"source": "staff", "start": start, "party_size": 12, "overrides": ["group_size"],
                           "reason": "A family reunion", "overflow": 2},
        "booking.cancel": {"message": "Une panne de chauffage.", "reasons": {"fr": "Travaux", "en": "Works"}},
        "booking.move": {"message": "", "previous_start": start, "start": later},
        "booking.attendance": {"attendance": "arrived", "previous": None, "via": "reference"},
        "slot.overbook": {"slot": start, "places": 2, "reason": "A family reunion"},
        "tour.create": {"source": "staff", "start": tour_start, "pupils": 25, "adults": 2,
                        "guides": ["Marie Dubois", "Pieter Janssens"]},
        "tour.cancel": {"message": "Sorry", "previous_status": "confirmed"},
        "tour.guides": {"previous": ["Marie Dubois"], "guides": ["Pieter Janssens"]},
        "tour.attendance": {"attendance": "no_show", "previous": "arrived"},
        "closure.add": {"closure_id": 3, "start": start, "end": later, "reasons": {"fr": "Travaux", "en": "Works"},
                        "message": "", "cancelled_bookings": 4, "cancelled_tours": 1, "people": 30},
        "closure.remove": {"closure_id": 3, "start": start, "end": later, "reasons": {"en": "Works"}},
        "holiday.open": {"day": "2027-05-08", "holiday": "Brussels Region Day"},
        "holiday.close": {"day": "2027-05-08", "holiday": "Brussels Region Day"},
        "capacity.slot": {"old": {start: 50}, "new": 30},
        "capacity.day": {"old": {start: 50, later: 50}, "new": 1, "day": "2027-03-02"},
        "capacity.default": {"old": 50, "new": 40, "slots_changed": 120},
        "kept_back.slot": {"old": {start: 0}, "new": 5},
        "kept_back.day": {"old": {start: 0, later: 0}, "new": 4, "day": "2027-03-02"},
        "kept_back.default": {"old": 0, "new": 3, "slots_changed": 12},
        "walkin.add": {"slot": start, "people": 3, "total": 7},
        "walkin.undo": {"slot": start, "people": -1, "total": 6},
        "guide.add": {"guide_id": 1, "name": "Marie Dubois", "languages": ["fr", "de"]},
        "guide.edit": {"guide_id": 1, "name": "Marie Dupont", "before": {"name": "Marie Dubois", "languages": ["fr"]},
                       "after": {"name": "Marie Dupont", "languages": ["fr", "nl"]}},
        "guide.activate": {"guide_id": 1, "name": "Marie Dubois"},
        "guide.deactivate": {"guide_id": 1, "name": "Marie Dubois"},
        "roster.set": {"day": "2027-03-02", "on_duty": ["Marie Dubois"], "added": [], "removed": ["Pieter Janssens"]},
        "guide.link_reissue": {"guide_id": 1, "name": "Marie Dubois"},
        "guide.unavailable": {"guide_id": 1, "name": "Marie Dubois", "day": "2027-03-02", "part": "morning",
                              "by": "guide", "conflicts": ["GRP-ABC123"]},
        "guide.available": {"guide_id": 1, "name": "Marie Dubois", "day": "2027-03-02", "part": "day", "by": "staff"},
        "staff.sign_in": {},
        "staff.sign_out": {},
        "staff.sign_out_everywhere": {"account": "desk@museum.example", "sessions": 2},
        "staff.sign_in_locked": {"failed_logins": 5, "until": later},
        "staff.password_change": {},
        "staff.password_reset": {},
        "staff.password_reset_request": {},
        "staff.password_reset_send": {"account": "desk@museum.example"},
        "staff.create": {"account": "new@museum.example", "role": "staff"},
        "staff.role": {"account": "desk@museum.example", "old": "staff", "new": "admin"},
        "staff.enable": {"account": "desk@museum.example"},
        "staff.disable": {"account": "desk@museum.example"},
        "staff.unlock": {"account": "desk@museum.example", "was_locked_until": later},
        "privacy.export": {"bookings": 1, "group_visits": 1, "references": ["NMR-7KQ3PX", "GRP-ABC123"]},
        "privacy.erase_request": {},
        "privacy.erase": {"bookings": 1, "tours": 0},
        "privacy.purge": {"bookings": 3, "tours": 1, "retention_days": 90},
        "export.bookings": {"first_day": "2027-03-01", "last_day": "2027-03-05", "rows": 1},
        "feed.rotate": {},
        "accessibility.review": {"status": "partial", "reviewed_on": "2027-02-15"},
        "access_offers.edit": {"changed": ["wheelchair:fr", "vision:nl"],
                               "texts": {"wheelchair:fr": "Rampe", "vision:nl": "Gids"}},
        "exhibition.save": {"exhibition_id": 1, "title": TITLES},
        "exhibition.delete": {"item_id": 1, "title": TITLES},
        "event.save": {"event_id": 1, "title": TITLES},
        "event.delete": {"item_id": 1, "title": {"nl": "Lezing"}},
        "email.resend": {"kind": "visit_confirmed", "previous_status": "failed"},
    }


def audit_rows(text: str) -> dict[str, str]:
    """The audit page's "What" cell of each action, unescaped."""
    rows = re.findall(r'<td>(.*?) <code class="audit-action">([\w.]+)</code></td>', text)
    return {action: html.unescape(said) for said, action in rows}


@pytest.fixture
def logged(app, session, clock, book, request_tour, guides, admin_user, monkeypatch):
    """One entry of every action, as an admin signed in sees them (on one page: there are more than 50)."""
    monkeypatch.setattr("booking.views.staff.accounts.AUDIT_PAGE_SIZE", 200)
    booking = book("2027-03-02T10:00")
    tour = request_tour("2027-03-16T10:00")
    admin = session.get(type(admin_user), admin_user.id)
    for minute, (action, details) in enumerate(examples(booking.start.isoformat(), tour.start.isoformat()).items()):
        target = {"booking": booking} if action.startswith(("booking.", "slot.")) else {}
        if action.startswith("tour."):
            target = {"tour": tour}
        audit.record(session, clock.now() + dt.timedelta(minutes=minute), admin, action, **target, **details)
    session.commit()
    return signed_in(app, admin_user)


@pytest.mark.parametrize("lang", ["fr", "en", "nl", "de"])
def test_each_recorded_action_reads_as_a_sentence_without_json(logged, lang):
    rows = audit_rows(logged.get(f"/staff/audit?lang={lang}").get_data(as_text=True))
    assert set(SENTENCES) <= set(rows)
    for action, said in rows.items():
        assert not re.search(r"[{}\[\]]|\\u|None|\w+\.\w+_\w+", said), (action, said)
        assert not said.startswith(("Action ", "Action\u00a0")), (action, said)


def test_sentences_in_english_name_things_and_write_dates_through_booking_dates(logged):
    rows = audit_rows(logged.get("/staff/audit?lang=en").get_data(as_text=True))
    assert rows["booking.move"] == "Moved the visit for the visitor from 2 Mar 2027, 10:00 to 3 Mar 2027, 11:00."
    assert rows["tour.guides"] == "Changed the guides from Marie Dubois to Pieter Janssens."
    assert rows["tour.create"].startswith(
        "Entered a confirmed group visit of 25 pupils and 2 adults on 16 Mar 2027, 10:00")
    assert rows["event.save"] == "Saved the event “Talk: Resisting”."
    assert rows["event.delete"] == "Deleted the event “Lezing”."  # the only title there is
    assert rows["guide.add"] == "Added the guide Marie Dubois, who gives tours in French and German."
    assert rows["capacity.default"] == ("Set the default capacity to 40 people an hour (it was 50). "
                                        "120 coming hours follow it.")
    assert rows["holiday.open"] == ("Opened the public holiday of 8 May 2027 exceptionally: "
                                    "Iris Day (Brussels-Capital Region).")  # the calendar's name, in English
    assert rows["booking.cancel"] == ("Cancelled the visit for the visitor. Reason: Works. "
                                      "Message: Une panne de chauffage.")
    assert rows["email.resend"] == "Queued this email again: Confirmation email (it was failed)."
    assert rows["booking.attendance"] == ("Marked the visitors as arrived. "
                                          "Found by the reference typed or scanned at the desk.")
    assert rows["tour.attendance"] == "Marked the group as a no-show."


def test_sentences_in_french_use_the_french_title_names_and_dates(logged):
    rows = audit_rows(logged.get("/staff/audit?lang=fr").get_data(as_text=True))
    assert "Conférence « Résister »" in rows["event.save"] and "Talk" not in rows["event.save"]
    assert "2 mars 2027, 10:00" in rows["booking.move"] and "3 mars 2027, 11:00" in rows["booking.move"]
    assert "français et allemand" in rows["guide.add"]
    assert "Marie Dubois" in rows["tour.guides"] and "Pieter Janssens" in rows["tour.guides"]
    assert "Travaux" in rows["booking.cancel"] and "Works" not in rows["booking.cancel"]
    assert "\u202f:" in rows["booking.cancel"]  # "Raison :" with a narrow no-break space


def test_german_dates_keep_their_day_dot(logged):
    rows = audit_rows(logged.get("/staff/audit?lang=de").get_data(as_text=True))
    assert "2. März 2027, 10:00" in rows["booking.move"]


def test_an_unknown_action_reads_as_a_plain_line_of_its_details(app, session, clock, admin_user):
    audit.record(session, clock.now(), session.get(type(admin_user), admin_user.id), "legacy.thing",
                 title={"fr": "Conf\u00e9rence"}, counts=[1, 2], nothing=None)
    session.commit()
    text = signed_in(app, admin_user).get("/staff/audit?lang=en").get_data(as_text=True)
    said = audit_rows(text)["legacy.thing"]
    assert said == "Action legacy.thing. title: fr: Conférence. counts: 1, 2."
    assert "{" not in said and "\\u" not in said


def test_details_erased_by_the_privacy_purge_still_give_a_sentence(app, session, clock, book, admin_user):
    booking = book("2027-03-02T10:00")
    audit.record(session, clock.now(), session.get(type(admin_user), admin_user.id), "booking.move", booking=booking,
                 previous_start=local("2027-03-02T10:00").isoformat())  # "start" missing: an older entry
    session.commit()
    said = audit_rows(signed_in(app, admin_user).get("/staff/audit?lang=en").get_data(as_text=True))["booking.move"]
    assert said.startswith("Action booking.move.") and "2 Mar 2027, 10:00" in said


def test_a_bookings_history_reads_the_same_sentence_for_actions_it_has_no_title_of(app, session, clock, book,
                                                                                   admin_user):
    booking = book("2027-03-02T10:00")
    audit.record(session, clock.now(), session.get(type(admin_user), admin_user.id), "booking.attendance",
                 booking=booking, attendance="arrived", previous=None)
    session.commit()
    text = signed_in(app, admin_user).get(f"/staff/bookings/{booking.reference}?lang=en").get_data(as_text=True)
    assert "Marked the visitors as arrived." in text and "booking.attendance" not in text

