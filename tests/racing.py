"""Races of real processes: each spawned worker builds its own app, then all start at one barrier."""

from __future__ import annotations

import multiprocessing
import queue as queue_lib
import time
import traceback

import sqlalchemy as sa

from tests.conftest import NOW, SECRET

# Spawned interpreters each import Flask and SQLAlchemy (~1 s of CPU apiece): on a busy two-core
# machine the last one reaches the barrier many seconds after the first. Generous limits, never a hang.
BARRIER_TIMEOUT = 120
RACE_TIMEOUT = 180


def worker_overrides(database_url: str, extra: dict | None = None) -> dict:
    """A worker's configuration: the test's database, the same fixed moment, no mail sent."""
    return {
        **(extra or {}),
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "CLOCK_NOW": NOW.isoformat(),  # every process at the same moment
        "MAIL_SERVER": None,
        "MAIL_DELIVER_AFTER_COMMIT": False,
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_BASE_URL": "http://museum.test",
    }


def post_worker(database_url: str, extra: dict, path: str, body: dict, index: int, barrier, results) -> None:
    """One client: its own app and test client; after the barrier, one JSON POST to `path`."""
    from booking import create_app

    engine = None
    try:
        app = create_app(worker_overrides(database_url, extra))
        engine = app.extensions["booking"].engine
        client = app.test_client()
        # Warm up: open a pooled connection and load everything, so the race is on the POST alone.
        warm = client.get("/api/availability?from=2027-03-02&to=2027-03-02")
        assert warm.status_code == 200, warm.status_code
        barrier.wait(timeout=BARRIER_TIMEOUT)
        response = client.post(path, json=body)
        results.put((index, response.status_code, response.get_json()))
    except BaseException:
        results.put((index, "error", traceback.format_exc()))
    finally:
        if engine is not None:
            engine.dispose()


def service_worker(database_url: str, extra: dict, action, key, barrier, results) -> None:
    """One process: its own app, an app context with its connection open; after the barrier,
    `action(state, session)` (the app's AppState and session) returns (outcome, detail), put on
    `results` as (key, outcome, detail). `action` crosses to the spawned process: a module-level
    function, or a functools.partial of one."""
    from booking import create_app
    from booking.context import db

    engine = None
    try:
        app = create_app(worker_overrides(database_url, extra))
        engine = app.extensions["booking"].engine
        with app.app_context():
            session = db()
            session.execute(sa.select(1))  # open the connection before the race
            session.commit()
            barrier.wait(timeout=BARRIER_TIMEOUT)
            outcome, detail = action(app.extensions["booking"], session)
        results.put((key, outcome, detail))
    except BaseException:
        results.put((key, "error", traceback.format_exc()))
    finally:
        if engine is not None:
            engine.dispose()


def race(database_url: str, actions: list[tuple], extra: dict | None = None) -> list[tuple]:
    """One process per (key, action), all running their action at once (service_worker); their
    (key, outcome, detail) results."""
    return run_processes(service_worker, [(database_url, extra or {}, action, key) for key, action in actions])


def run_processes(target, args_list: list[tuple]) -> list[tuple]:
    """Start one spawned process per argument tuple, all behind one barrier; collect their results.

    `target(*args, barrier, results)` puts one (key, outcome, detail) tuple on `results`; an
    outcome of "error" carries a traceback and fails the test.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(args_list))
    results = context.Queue()
    processes = [context.Process(target=target, args=(*args, barrier, results), daemon=True) for args in args_list]
    for process in processes:
        process.start()
    collected = []
    deadline = time.monotonic() + RACE_TIMEOUT
    try:
        while len(collected) < len(processes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                collected.append(results.get(timeout=remaining))
            except queue_lib.Empty:
                break
        for process in processes:
            process.join(timeout=max(deadline - time.monotonic(), 1))
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(5)
        results.close()
        results.join_thread()
    assert len(collected) == len(processes), f"only {len(collected)} of {len(processes)} workers answered"
    errors = [result[2] for result in collected if result[1] == "error"]
    assert not errors, "\n".join(errors)
    assert all(process.exitcode == 0 for process in processes), [process.exitcode for process in processes]
    return collected


def post_race(requests: list[tuple[str, dict]], database_url: str, extra: dict | None = None,
              ) -> dict[int, tuple[int, dict]]:
    """One process per (path, JSON body), all POSTing at once; {index: (status, json)}."""
    collected = run_processes(post_worker, [(database_url, extra or {}, path, body, index)
                                            for index, (path, body) in enumerate(requests)])
    return {index: (status, body) for index, status, body in collected}
