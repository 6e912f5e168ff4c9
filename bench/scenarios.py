"""What the benchmark measures. Add a scenario here; run.py and the report pick it up.

A GET scenario names a path and is driven by wrk for a fixed duration; a POST scenario names a
kind of bench.post_client and sends a fixed number of requests. `compare` says which floor
scenario it is set against; `growth` runs it on the empty database too.
"""

from __future__ import annotations

from dataclasses import dataclass

# The fixed "now" of every run (CLOCK_NOW): Monday 1 March 2027, 09:00 in Brussels.
CLOCK_NOW = "2027-03-01T09:00:00+01:00"
MONTH = "2027-03"
# The staff account every bench database gets (bench.seed.seed_staff); staff scenarios sign in with it.
STAFF_EMAIL = "bench-desk@museum.example"
STAFF_PASSWORD = "bench-staff-password-not-for-production"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    method: str  # "GET" (wrk) or "POST" (bench.post_client)
    path: str | None = None  # GET: the path wrk requests
    client: str | None = None  # POST: the post_client kind ("api", "form", "floor")
    compare: str | None = None  # key of the floor scenario it is set against
    growth: bool = False  # also measured on the empty database
    staff: bool = False  # a staff page: the load sends the session cookie of one sign-in
    conditional: bool = False  # each request names the current ETag in If-None-Match (answered 304)
    available: bool = True
    note: str = ""

    @property
    def ready(self) -> bool:
        return self.available and (self.path is not None or self.client is not None)


FLOOR = [
    Scenario("floor_get", "floor: SELECT a month of slots (JSON)", "GET", path=f"/slots?month={MONTH}"),
    Scenario("floor_post", "floor: UPDATE slot + INSERT booking", "POST", client="floor"),
]

SCENARIOS = [
    Scenario("calendar", "month calendar HTML", "GET", path=f"/en/visit?month={MONTH}", compare="floor_get"),
    Scenario("availability", "availability JSON, one month", "GET",
             path="/api/availability?from=2027-03-01&to=2027-03-31", compare="floor_get", growth=True),
    Scenario("availability_304", "availability JSON, one month, If-None-Match (304)", "GET",
             path="/api/availability?from=2027-03-01&to=2027-03-31", compare="floor_get", conditional=True),
    Scenario("day", "day's slots HTML", "GET", path="/en/visit/2027-03-02", compare="floor_get"),
    Scenario("api_booking", "POST /api/bookings (JSON)", "POST", client="api", compare="floor_post", growth=True),
    Scenario("form_booking", "POST /en/book (form, CSRF)", "POST", client="form", compare="floor_post",
             growth=True),
    Scenario("staff_week", "staff week view HTML (signed in)", "GET", path="/staff/calendar?date=2027-03-01",
             compare="floor_get", staff=True),
]
