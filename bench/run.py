"""`make bench`: the app under gunicorn on PostgreSQL then SQLite, against a floor app, empty and with history.

For each database: two databases, one with an empty schema (Alembic through `flask init-db`) and one
seeded with three years of history (and the floor app's tables); three servers, the app on each and
the floor app. Then rounds: in each, the floor's scenarios, every scenario of bench/scenarios.py on
the history and, right after it, the growth scenarios on the empty database, at every concurrency.
Alternating like this puts each comparison seconds apart, so a machine that slows down for a while
(a shared VM does) skews both sides alike; each figure is the best of its rounds. Results:
bench/results/*.json and *.md (printed).

Settings: flags, or the environment variables in brackets —
  --workers N       gunicorn sync workers [BENCH_WORKERS, 2]
  --duration S      seconds per wrk (GET) scenario [BENCH_DURATION, 3]
  --posts N         requests per POST scenario [BENCH_POSTS, 500]
  --rounds N        rounds; each figure is the best of them [BENCH_ROUNDS, 2]
  --concurrency L   comma-separated [BENCH_CONCURRENCY, 8,32]
  --backends L      postgresql,sqlite [BENCH_BACKENDS]
  --postgres-url U  [BENCH_DATABASE_URL, postgresql://postgres@127.0.0.1:5432/bench]; the empty
                    database is the same name with "_empty"
  --quick           one round, 2 s per GET scenario and 150 requests per POST scenario
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench import report
from bench.floor_app import copy_tables
from bench.load import run_posts, run_wrk, wrk_path
from bench.post_client import sign_in
from bench.scenarios import CLOCK_NOW, FLOOR, SCENARIOS, STAFF_EMAIL, STAFF_PASSWORD, Scenario
from bench.seed import fresh_schema, load_rules, open_slot_starts, seed_history, seed_staff, sqlite_url
from bench.server import REPO, Gunicorn, PostgresBackends
from booking import schedule

RESULTS = REPO / "bench" / "results"
SECRET_KEY = "bench-secret-key-not-for-production"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=int(_env("BENCH_WORKERS", "2")))
    parser.add_argument("--duration", type=float, default=None, help="seconds per wrk scenario (default 3)")
    parser.add_argument("--posts", type=int, default=None, help="requests per POST scenario (default 500)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds, each figure the best of them (default 2)")
    parser.add_argument("--concurrency", default=_env("BENCH_CONCURRENCY", "8,32"))
    parser.add_argument("--backends", default=_env("BENCH_BACKENDS", "postgresql,sqlite"))
    parser.add_argument("--postgres-url", default=_env("BENCH_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/bench"))
    parser.add_argument("--quick", action="store_true", help="short runs, to check that everything works")
    args = parser.parse_args(argv)
    quick_duration, quick_posts, quick_rounds = (2.0, 150, 1) if args.quick else (3.0, 500, 2)
    args.rounds = args.rounds or int(_env("BENCH_ROUNDS", str(quick_rounds)))
    args.duration = args.duration or float(_env("BENCH_DURATION", str(quick_duration)))
    args.posts = args.posts or int(_env("BENCH_POSTS", str(quick_posts)))
    args.concurrency = [int(part) for part in args.concurrency.split(",") if part.strip()]
    args.backends = [part.strip() for part in args.backends.split(",") if part.strip()]
    unknown = set(args.backends) - {"postgresql", "sqlite"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    return args


def server_env(tmp: Path) -> dict[str, str]:
    """The environment of gunicorn and `flask init-db`: no SMTP, emails to files, a fixed clock."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MAIL_", "BENCH_")) and key not in ("DATABASE_URL", "CLOCK_NOW")}
    env.update({
        "SECRET_KEY": SECRET_KEY,
        "MAIL_DELIVER_AFTER_COMMIT": "false",
        "MAIL_FILE_DIR": str(tmp / "mail"),
        "CLOCK_NOW": CLOCK_NOW,
        "RATELIMIT_ENABLED": "false",  # no rate limits exist yet; keep them off when they do
        "INSTANCE_PATH": str(tmp / "instance"),
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        "PYTHONPATH": str(REPO),
    })
    return env


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def booking_targets() -> list[dict]:
    """Every slot a visitor can book at CLOCK_NOW, for the POSTs to spread over."""
    rules = load_rules()
    now = dt.datetime.fromisoformat(CLOCK_NOW)
    today = schedule.local_today(now, rules)
    starts = [start for start in open_slot_starts(rules, today, schedule.last_bookable_day(now, rules))
              if start > now]
    return [{"iso": schedule.to_local(start, rules).isoformat(),
             "local": schedule.to_local(start, rules).strftime("%Y-%m-%dT%H:%M")} for start in starts]


def empty_url(url: str) -> str:
    """The empty database beside `url`: the PostgreSQL database's name with "_empty", or another SQLite file."""
    if url.startswith("sqlite"):
        return url.replace(".sqlite3", "-empty.sqlite3")
    parsed = sa.make_url(url)
    return parsed.set(database=f"{parsed.database}_empty").render_as_string(hide_password=False)


class BackendRun:
    """One database's whole run: two databases seeded, three servers, then the rounds of measurements."""

    def __init__(self, name: str, url: str, args: argparse.Namespace, tmp: Path):
        self.name = name
        self.urls = {"history": url, "empty": empty_url(url)}
        self.args = args
        self.tmp = tmp
        self.env = server_env(tmp)
        self.targets = booking_targets()
        self.runs: list[dict] = []
        self.timings: dict[str, float] = {}
        # The floor's tables are in the history database: its backends are the floor's too.
        self.databases = {phase: PostgresBackends(self.urls["empty" if phase == "empty" else "history"])
                          for phase in ("empty", "floor", "history")} if name == "postgresql" else {}
        self.post_offset = 0

    def server(self, app: str, phase: str) -> Gunicorn:
        env = {**self.env, "DATABASE_URL": self.urls["empty" if phase == "empty" else "history"]}
        return Gunicorn(app, env, self.args.workers, self.tmp / f"gunicorn-{self.name}-{phase}.log")

    def measure(self, server: Gunicorn, phase: str, scenario: Scenario, concurrency: int, round_: int) -> None:
        database = self.databases.get(phase)
        if scenario.method == "GET":
            # A staff page: one sign-in through the form, then every request carries its session cookie.
            headers = {"Cookie": sign_in(server.host, server.port, STAFF_EMAIL, STAFF_PASSWORD)} \
                if scenario.staff else None
            server.warm(scenario.path, 4 * self.args.workers, headers)
            if scenario.conditional:  # what a browser that kept the last answer asks: 304 while unchanged
                headers = {**(headers or {}), "If-None-Match": server.etag(scenario.path)}
            result = run_wrk(server, scenario.path, concurrency, self.args.duration, database, headers)
        else:
            result = run_posts(server, scenario.client, concurrency, self.args.posts, self.targets,
                               seed=len(self.runs) + 1, offset=self.post_offset, database=database,
                               warmup=2 * self.args.workers)
            self.post_offset += self.args.posts + 2 * self.args.workers
        result.update({"phase": phase, "scenario": scenario.key, "method": scenario.method,
                       "path": scenario.path, "client": scenario.client, "compare": scenario.compare,
                       "concurrency": concurrency, "round": round_})
        self.runs.append(result)
        lat = result["latency_ms"]
        log(f"  [{self.name} {phase} round {round_}] {scenario.title} c={concurrency}: {result['requests']} req, "
            f"{result['rps']:.1f} req/s, p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, "
            f"{result['cpu_ms_per_request']:.2f} CPU ms/req, errors {result['errors']}")

    def plan(self, servers: dict[str, Gunicorn]) -> list[tuple[Gunicorn, str, Scenario]]:
        """One round's measurements: for GETs then POSTs, the floor's, then each scenario on the
        history followed by the same on the empty database when it is a growth scenario."""
        steps = []
        for method in ("GET", "POST"):
            steps += [(servers["floor"], "floor", scenario) for scenario in FLOOR if scenario.method == method]
            for scenario in SCENARIOS:
                if scenario.ready and scenario.method == method:
                    steps.append((servers["history"], "history", scenario))
                    if scenario.growth:
                        steps.append((servers["empty"], "empty", scenario))
        return steps

    def run(self) -> dict:
        began = time.perf_counter()
        fresh_schema(self.urls["empty"], self.env)
        seed_staff(self.urls["empty"], STAFF_EMAIL, STAFF_PASSWORD)
        fresh_schema(self.urls["history"], self.env)
        seed = seed_history(self.urls["history"], load_rules(), dt.datetime.fromisoformat(CLOCK_NOW))
        seed_staff(self.urls["history"], STAFF_EMAIL, STAFF_PASSWORD)
        copy_tables(self.urls["history"])
        self.timings["seed_s"] = time.perf_counter() - began
        log(f"[{self.name}] seeded {seed.bookings:,} bookings ({seed.cancelled:,} cancelled), {seed.slots:,} slots, "
            f"past {100 * seed.past_fill:.0f} % full, future {100 * seed.future_fill:.0f} %, in {seed.seconds:.1f} s")
        for scenario in SCENARIOS:
            if not scenario.ready:
                log(f"  [{self.name}] {scenario.title}: {scenario.note or 'not yet available'}")

        mark = time.perf_counter()
        with self.server("wsgi:app", "empty").start(_ready_path()) as empty, \
                self.server("bench.floor_app:create_app()", "floor").start(f"/slots?month={CLOCK_NOW[:7]}") as floor, \
                self.server("wsgi:app", "history").start(_ready_path()) as history:
            steps = self.plan({"empty": empty, "floor": floor, "history": history})
            for round_ in range(1, self.args.rounds + 1):
                for concurrency in self.args.concurrency:
                    for server, phase, scenario in steps:
                        self.measure(server, phase, scenario, concurrency, round_)
        self.timings["measure_s"] = time.perf_counter() - mark
        self.timings["total_s"] = time.perf_counter() - began
        for database in self.databases.values():
            database.close()
        return {"url": self.urls["history"], "empty_url": self.urls["empty"], "seed": seed.as_dict(),
                "all_runs": self.runs, "rounds": self.args.rounds, "timings": self.timings,
                "concurrency": self.args.concurrency}


def _ready_path() -> str:
    return f"/api/availability?from={CLOCK_NOW[:10]}&to={CLOCK_NOW[:10]}"


def _command_output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _meta(args: argparse.Namespace, started: dt.datetime) -> dict:
    commit = _command_output(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    if _command_output(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += "+changes"
    return {
        "started": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "commit": commit,
        "workers": args.workers,
        "duration_s": args.duration,
        "posts": args.posts,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "quick": args.quick,
        "clock_now": CLOCK_NOW,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "wrk": _command_output([wrk_path(), "-v"]).splitlines()[0] if _command_output([wrk_path(), "-v"]) else "",
        "not_available": [scenario.key for scenario in SCENARIOS if not scenario.ready],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_path()
    began = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    results = {"meta": _meta(args, started), "backends": {}}
    tmp = Path(tempfile.mkdtemp(prefix="booking-bench-"))
    try:
        for name in args.backends:
            url = args.postgres_url if name == "postgresql" else sqlite_url(tmp)
            results["backends"][name] = BackendRun(name, url, args, tmp).run()
    except BaseException:
        log(f"benchmark failed; gunicorn logs are kept in {tmp}")
        raise
    results["wall_s"] = time.perf_counter() - began
    report.derive(results)
    table = report.markdown(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    for path in (RESULTS / f"bench-{stamp}.json", RESULTS / "latest.json"):
        path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    for path in (RESULTS / f"bench-{stamp}.md", RESULTS / "latest.md"):
        path.write_text(table)
    shutil.rmtree(tmp, ignore_errors=True)
    print(table)
    log(f"results: {RESULTS / f'bench-{stamp}.json'} and .md; total {results['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
