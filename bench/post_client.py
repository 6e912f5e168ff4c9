"""The POST load client, run as its own process: threads, one keep-alive http.client connection each.

Protocol on stdin/stdout: one JSON line of settings in; the client prepares (CSRF tokens, warm-up
posts), prints READY; on a GO line it sends `total` requests from `concurrency` threads and prints
one JSON line of results. gunicorn's sync workers close every connection after the response, so
http.client reconnects; the reconnection is part of each request's latency, as for a real client.

Kinds: "api" (POST /api/bookings, JSON), "form" (POST /en/book with the CSRF token and cookie of
a GET /en/book first), "floor" (the floor app's POST /book, JSON).
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urlencode

CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"|<input[^>]*value="([^"]+)"[^>]*name="csrf_token"')
PARTY_SIZES = (1, 2, 2, 3, 4)  # small parties, so a run spread over the slots rarely fills one


def percentile(sorted_values: list[float], share: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def cookie_header(set_cookies: list[str]) -> str:
    """A Cookie header from Set-Cookie headers, as a browser's jar would keep them (deletions dropped)."""
    jar = {}
    for header in set_cookies:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if not value or "max-age=0" in attributes.lower().replace(" ", ""):
            jar.pop(name, None)
        else:
            jar[name] = value
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def sign_in(host: str, port: int, email: str, password: str) -> str:
    """Sign in to the staff pages through the real form (CSRF token and all); the Cookie header to send."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request("GET", "/staff/login")
        response = connection.getresponse()
        body = response.read().decode()
        cookie = cookie_header(response.headers.get_all("Set-Cookie") or [])
        match = CSRF.search(body)
        if response.status != 200 or not match:
            raise RuntimeError(f"GET /staff/login answered {response.status} without a CSRF token")
        form = urlencode({"email": email, "password": password, "csrf_token": match.group(1) or match.group(2)})
        connection.request("POST", "/staff/login", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        response = connection.getresponse()
        response.read()
        if response.status != 302:
            raise RuntimeError(f"the staff sign-in answered {response.status}, not a redirect")
        return cookie_header([*(f"{part};" for part in cookie.split("; ") if part),
                              *(response.headers.get_all("Set-Cookie") or [])])
    finally:
        connection.close()


class Visitor:
    """One thread's connection and, for the form, its cookie and CSRF token."""

    def __init__(self, settings: dict, index: int):
        self.settings = settings
        self.index = index
        self.connection = http.client.HTTPConnection(settings["host"], settings["port"], timeout=60)
        self.cookie = ""
        self.token = ""

    def prepare(self) -> None:
        if self.settings["kind"] != "form":
            return
        start = self.settings["targets"][self.index % len(self.settings["targets"])]["local"]
        self.connection.request("GET", "/en/book?" + urlencode({"start": start}))
        response = self.connection.getresponse()
        body = response.read().decode()
        if response.status != 200:
            raise RuntimeError(f"GET /en/book answered {response.status}")
        self.cookie = cookie_header(response.headers.get_all("Set-Cookie") or [])
        match = CSRF.search(body)
        if not match or "session=" not in self.cookie:
            raise RuntimeError("no CSRF token or session cookie in GET /en/book")
        self.token = match.group(1) or match.group(2)

    def send(self, number: int, target: dict, party_size: int) -> int:
        kind = self.settings["kind"]
        name, email = f"Bench Visitor {number}", f"bench{number}@example.be"
        headers = {}
        if kind == "form":
            path = "/en/book"
            body = urlencode({"start": target["local"], "party_size": party_size, "name": name, "email": email,
                              "consent": "y", "form_id": uuid.uuid4().hex, "csrf_token": self.token})
            # The cookie of the GET only: later responses add flashed messages nobody reads here.
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie}
        else:
            path = "/api/bookings" if kind == "api" else "/book"
            body = json.dumps({"start": target["iso"], "party_size": party_size, "name": name, "email": email,
                               "language": "en"})
            headers = {"Content-Type": "application/json"}
        self.connection.request("POST", path, body=body, headers=headers)
        response = self.connection.getresponse()
        response.read()
        return response.status


def run(settings: dict, go: threading.Event) -> dict:
    targets = settings["targets"]
    rng = random.Random(settings.get("seed", 1))
    order = rng.sample(range(len(targets)), len(targets))
    plan = [(targets[order[i % len(order)]], rng.choice(PARTY_SIZES))
            for i in range(settings["total"] + settings.get("warmup", 0))]
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    exceptions: Counter = Counter()
    visitors = [Visitor(settings, i) for i in range(settings["concurrency"])]
    for visitor in visitors:
        visitor.prepare()

    def warm_up() -> None:
        for number in range(settings.get("warmup", 0)):
            target, party = plan[settings["total"] + number]
            visitors[number % len(visitors)].send(10_000_000 + number, target, party)

    def worker(visitor: Visitor) -> None:
        go.wait()
        mine: list[float] = []
        while True:
            number = next(counter)
            if number >= settings["total"]:
                break
            target, party = plan[number]
            began = time.perf_counter()
            try:
                status = visitor.send(settings.get("offset", 0) + number, target, party)
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    exceptions[type(error).__name__] += 1
                visitor.connection.close()
                continue
            mine.append(time.perf_counter() - began)
            with lock:
                statuses[status] += 1
        with lock:
            latencies.extend(mine)

    warm_up()
    threads = [threading.Thread(target=worker, args=(visitor,), daemon=True) for visitor in visitors]
    for thread in threads:
        thread.start()
    print("READY", flush=True)
    sys.stdin.readline()  # GO
    began = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies.sort()
    ms = [value * 1000 for value in latencies]
    return {
        "requests": len(latencies),
        "duration_s": wall,
        "rps": len(latencies) / wall if wall else 0.0,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "exceptions": dict(exceptions),
        "latency_ms": {
            "p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99),
            "mean": sum(ms) / len(ms) if ms else None, "max": ms[-1] if ms else None,
        },
    }


def main() -> None:
    settings = json.loads(sys.stdin.readline())
    result = run(settings, threading.Event())
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
