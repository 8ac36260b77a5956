"""The booking page's slot grid (functions/web/slots.js), run under the Node that Playwright ships.

slots.js turns the availability answer into a day's grid of slots in the venue's timezone and
prices a choice of them. Every case below is gathered into one script that Node runs once for
the module (each Node start costs tens of milliseconds): the script imports slots.js by file URL,
runs each case and prints the results as JSON, which the tests then read by case name.

Most answers are made by hand in the API's exact shape (and one test checks that shape against
the real handler's answer); the rest come from the real availability handler on the demo data,
at a fixed instant set with the clock seam.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking_core import clock
from booking_core.rules import BookingPolicy, PeakWindow, Schedule, WeeklyWindow, booking_price
from local.demo import load_demo_data
from local.dynamodb import EmbeddedDynamoDB, TablesSnapshot
from local.events import load_event as render_event
from local.lambda_runtime import Handlers
from local.template import REPO_ROOT

SLOTS_JS = REPO_ROOT / "functions" / "web" / "slots.js"
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
A_MONDAY = "2026-12-07"
BASE = "25.00"
# Node runs as if on a host far from both venues: nothing may depend on the host's timezone.
HOST_TIMEZONE = "Pacific/Kiritimati"

# ---- the bundled Node -----------------------------------------------------------------------


def bundled_node() -> Path:
    """The Node binary Playwright for Python ships (the project's own dependency)."""
    try:
        import playwright
    except ImportError:  # pragma: no cover - the project's lock installs it
        pytest.fail(
            "Playwright for Python is not installed, so there is no Node to run slots.js: "
            "install the project's requirements (make setup).",
            pytrace=False,
        )
    node = Path(playwright.__file__).parent / "driver" / "node"
    if not node.is_file():
        pytest.fail(
            f"Playwright's bundled Node is missing at {node}: slots.js cannot be run. "
            "Reinstall the playwright package from the project's lock.",
            pytrace=False,
        )
    return node


RUNNER = """
import { pathToFileURL } from "node:url";

const slots = await import(pathToFileURL(__SLOTS_JS__).href);
const cases = __CASES__;

// {"$date": milliseconds} in an argument stands for a Date.
const revive = (value) =>
  value && typeof value === "object" && "$date" in value ? new Date(value.$date) : value;

function run(test) {
  switch (test.op) {
    case "call":
      return slots[test.fn](...test.args.map(revive));
    case "grid":
      return slots.daySlots(test.availability, test.day, test.basePrice);
    case "cover": {
      const grid = slots.daySlots(test.availability, test.day, test.basePrice);
      // "stale": the slot of a grid drawn before (an equal object that is not on this grid)
      const chosen = test.stale ? { ...grid[test.at] } : grid[test.at];
      const covered = slots.coveredSlots(grid, chosen, test.minutes);
      if (covered === null) {
        return null;
      }
      return {
        labels: covered.map((slot) => slot.label),
        total: slots.totalCents(covered, test.availability.booking_interval_minutes),
      };
    }
    case "total":
      return slots.totalCents(test.prices.map((price) => ({ price })), test.interval);
    case "free":
      return slots.daySlots(test.availability, test.day, test.basePrice).map(slots.isFree);
    default:
      throw new Error(`unknown op ${test.op}`);
  }
}

const results = {};
for (const [name, test] of Object.entries(cases)) {
  try {
    results[name] = { value: run(test) };
  } catch (error) {
    results[name] = { error: String(error && error.stack ? error.stack : error) };
  }
}
let berlin;
try {
  berlin = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", timeStyle: "short" })
    .format(new Date(Date.UTC(2027, 2, 28, 1, 0)));
} catch (error) {
  berlin = String(error);
}
const host = Intl.DateTimeFormat().resolvedOptions().timeZone;
process.stdout.write(JSON.stringify({ icu: process.versions.icu || null, berlin, host, results }));
"""


def run_in_node(cases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Run every case in one Node process; its output: {"icu", "berlin", "host", "results"}."""
    script = RUNNER.replace("__SLOTS_JS__", json.dumps(str(SLOTS_JS))).replace(
        "__CASES__", json.dumps(cases)
    )
    done = subprocess.run(  # noqa: S603 - Playwright's own Node, our own script
        [str(bundled_node()), "--input-type=module"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=os.environ | {"TZ": HOST_TIMEZONE},
    )
    if done.returncode != 0:
        pytest.fail(f"node failed ({done.returncode}):\n{done.stderr}", pytrace=False)
    output: dict[str, Any] = json.loads(done.stdout)
    return output


# ---- availability answers in the API's shape ----------------------------------------------


def wall(day: str, hh_mm: str, zone: str) -> datetime:
    """The instant the venue's clock shows `hh_mm` on `day` ("24:00": the next midnight)."""
    local_day = date.fromisoformat(day)
    if hh_mm == "24:00":
        return datetime.combine(local_day + timedelta(days=1), time(0), ZoneInfo(zone))
    return datetime.combine(local_day, time.fromisoformat(hh_mm), ZoneInfo(zone))


def window(
    start: str,
    end: str,
    *,
    day: str = A_MONDAY,
    zone: str = BERLIN,
    price: str = BASE,
    currency: str = "EUR",
    label: str = "",
) -> dict[str, Any]:
    """An opening window as the API gives it (datetimes with the venue's offset)."""
    starts, ends = wall(day, start, zone), wall(day, end, zone)
    return {
        "date": day,
        "start_time": starts.strftime("%H:%M:%S"),
        "end_time": ends.strftime("%H:%M:%S"),
        "start_datetime": starts.isoformat(),
        "end_datetime": ends.isoformat(),
        "price_per_hour": price,
        "currency": currency,
        "label": label,
    }


def free(
    start: str,
    end: str,
    *,
    slot_prices: dict[str, str] | None = None,
    **where: Any,
) -> dict[str, Any]:
    """An available range: a window's shape plus its peak slots' prices."""
    return {**window(start, end, **where), "slot_prices": slot_prices}


def span(
    start: str, end: str, *, day: str = A_MONDAY, zone: str = BERLIN, **extra: Any
) -> dict[str, Any]:
    """A booked slot or an unavailable period (the API gives these in UTC)."""
    return {
        "start_datetime": wall(day, start, zone).astimezone(UTC).isoformat(),
        "end_datetime": wall(day, end, zone).astimezone(UTC).isoformat(),
        **extra,
    }


def availability(
    *,
    windows: list[dict[str, Any]],
    ranges: list[dict[str, Any]],
    booked: list[dict[str, Any]] | None = None,
    unavailable: list[dict[str, Any]] | None = None,
    zone: str = BERLIN,
    day: str = A_MONDAY,
    interval: int = 30,
    min_minutes: int = 60,
    max_minutes: int = 180,
) -> dict[str, Any]:
    """GET /api/v1/resources/{id}/availability/ for one day, every member of the answer."""
    return {
        "resource_id": 1,
        "resource_name": "Court 1",
        "start_date": day,
        "end_date": day,
        "timezone": zone,
        "booking_interval_minutes": interval,
        "min_duration_minutes": min_minutes,
        "max_duration_minutes": max_minutes,
        "prevent_unbookable_gaps": True,
        "min_advance_booking_minutes": 60,
        "max_advance_booking_days": 30,
        "hold_minutes": 15,
        "available_ranges": ranges,
        "windows": windows,
        "booked_slots": booked or [],
        "unavailable_periods": unavailable or [],
    }


def grid(answer: dict[str, Any], day: str = A_MONDAY, base: str = BASE) -> dict[str, Any]:
    return {"op": "grid", "availability": answer, "day": day, "basePrice": base}


def cover(answer: dict[str, Any], at: int, minutes: int, day: str = A_MONDAY) -> dict[str, Any]:
    return {
        "op": "cover",
        "availability": answer,
        "day": day,
        "basePrice": BASE,
        "at": at,
        "minutes": minutes,
    }


def call(fn: str, *args: Any) -> dict[str, Any]:
    return {"op": "call", "fn": fn, "args": list(args)}


def instant(moment: datetime) -> dict[str, int]:
    return {"$date": int(moment.timestamp() * 1000)}


def half_hours(first: str, count: int) -> list[str]:
    start = datetime.combine(date(2000, 1, 1), time.fromisoformat(first))
    return [(start + timedelta(minutes=30 * n)).strftime("%H:%M") for n in range(count)]


# The days' answers the cases use.
PLAIN_DAY = availability(windows=[window("07:00", "22:00")], ranges=[free("07:00", "22:00")])
EVENING_PEAK = {"17:00": "35.00", "17:30": "35.00", "18:00": "35.00"}
PEAK_DAY = availability(
    windows=[window("07:00", "22:00")],
    ranges=[free("07:00", "22:00", slot_prices=EVENING_PEAK)],
)
DEARER_WINDOW_DAY = availability(
    windows=[window("07:00", "12:00"), window("12:00", "22:00", price="30.00", label="late")],
    ranges=[free("07:00", "12:00"), free("12:00", "22:00", price="30.00", label="late")],
)
AROUND_A_BOOKING = [free("07:00", "10:00"), free("11:30", "22:00")]
BOOKED_DAY = availability(
    windows=[window("07:00", "22:00")],
    ranges=AROUND_A_BOOKING,
    booked=[span("10:00", "11:30")],
)
MY_BOOKING_DAY = availability(
    windows=[window("07:00", "22:00")],
    ranges=AROUND_A_BOOKING,
    booked=[span("10:00", "11:30", booking_id="bk_mine")],
)
CLOSURE_DAY = availability(
    windows=[window("07:00", "22:00")],
    ranges=[free("07:00", "12:00"), free("14:00", "22:00")],
    unavailable=[span("12:00", "14:00", reason="Maintenance")],
)
UNNAMED_CLOSURE_DAY = availability(
    windows=[window("07:00", "22:00")],
    ranges=[free("07:00", "12:00"), free("14:00", "22:00")],
    unavailable=[span("12:00", "14:00", reason="")],
)
SPLIT_DAY = availability(
    windows=[window("07:00", "12:00"), window("14:00", "22:00")],
    ranges=[free("07:00", "12:00"), free("14:00", "22:00")],
)
TOO_SOON_DAY = availability(windows=[window("07:00", "22:00")], ranges=[free("10:00", "22:00")])
NO_WINDOWS_DAY = availability(windows=[], ranges=[])
TOMORROW_ONLY = availability(
    windows=[window("07:00", "22:00", day="2026-12-08")],
    ranges=[free("07:00", "22:00", day="2026-12-08")],
)
PRICED_EVENING = availability(
    windows=[window("07:00", "22:00")],
    ranges=[free("07:00", "22:00", slot_prices={"17:00": "35.00", "17:30": "35.00"})],
)
TWENTY_MINUTE_DAY = availability(
    windows=[window("07:00", "22:00")],
    ranges=[free("07:00", "22:00")],
    interval=20,
    min_minutes=40,
    max_minutes=120,
)

# DST days: a window from midnight to 06:00 on the venue's clock.
DST_DAYS = {
    "berlin-spring": (BERLIN, "2027-03-28"),
    "berlin-autumn": (BERLIN, "2027-10-31"),
    "new-york-spring": (NEW_YORK, "2027-03-14"),
    "new-york-autumn": (NEW_YORK, "2027-11-07"),
}


def small_hours(zone: str, day: str) -> dict[str, Any]:
    return availability(
        windows=[window("00:00", "06:00", day=day, zone=zone)],
        ranges=[free("00:00", "06:00", day=day, zone=zone)],
        zone=zone,
        day=day,
    )


# ---- totals against the server's booking_price -------------------------------------------

A_WEDNESDAY = date(2025, 1, 15)


def server_total(
    base: Decimal, peak: Decimal, interval: int, slots: int, peak_from: int
) -> Decimal:
    """booking_price for `slots` intervals from 10:00, the last `slots - peak_from` of them in
    a peak window at `peak` (the rest at `base`)."""
    zone = ZoneInfo(BERLIN)
    starts = datetime.combine(A_WEDNESDAY, time(10), zone)
    peak_starts = (starts + timedelta(minutes=interval * peak_from)).time()
    schedule = Schedule(
        BERLIN,
        "EUR",
        tuple(WeeklyWindow(d, time(8), time(22), base) for d in range(7)),
        BookingPolicy(interval, interval, None, True, 0, 30),
        (PeakWindow(frozenset(range(7)), peak_starts, time(22), peak),),
    )
    return booking_price(schedule, starts, starts + timedelta(minutes=interval * slots))


def random_bookings(seed: int, count: int) -> list[dict[str, Any]]:
    """Bookings of random length and prices (some odd cents), each with the server's total."""
    rng = random.Random(seed)
    bookings = []
    for _ in range(count):
        interval = rng.choice([5, 10, 15, 20, 30, 60])
        slots = rng.randint(1, 8)
        peak_from = rng.randint(0, slots)
        base = Decimal(rng.randint(1, 99_999)) / 100
        peak = Decimal(rng.randint(1, 99_999)) / 100
        prices = [int(base * 100)] * peak_from + [int(peak * 100)] * (slots - peak_from)
        total = server_total(base, peak, interval, slots, peak_from)
        bookings.append({"interval": interval, "prices": prices, "server_cents": int(total * 100)})
    return bookings


RANDOM_BOOKINGS = random_bookings(seed=15, count=25)

# ---- every hand-made case, by name ---------------------------------------------------------

MONEY = ["0.05", "35.00", "1234.50", "-12.30", "-0.50", "0.00"]

CASES: dict[str, dict[str, Any]] = {
    "plain": grid(PLAIN_DAY),
    "peak": grid(PEAK_DAY),
    "dearer-window": grid(DEARER_WINDOW_DAY),
    "booked": grid(BOOKED_DAY),
    "mine": grid(MY_BOOKING_DAY),
    "closure": grid(CLOSURE_DAY),
    "unnamed-closure": grid(UNNAMED_CLOSURE_DAY),
    "split": grid(SPLIT_DAY),
    "too-soon": grid(TOO_SOON_DAY),
    "no-windows": grid(NO_WINDOWS_DAY),
    "other-day-only": grid(TOMORROW_ONLY),
    "free-flags": {"op": "free", "availability": BOOKED_DAY, "day": A_MONDAY, "basePrice": BASE},
    # totals
    "hour-at-25": cover(PLAIN_DAY, at=6, minutes=60),  # 10:00-11:00
    "into-the-peak": cover(PRICED_EVENING, at=19, minutes=90),  # 16:30-18:00
    "twenty-minutes": cover(TWENTY_MINUTE_DAY, at=0, minutes=20),
    "an-hour-in-thirds": cover(TWENTY_MINUTE_DAY, at=0, minutes=60),
    "half-a-cent": {"op": "total", "prices": [2501], "interval": 30},  # 12.505
    "half-a-cent-twice": {"op": "total", "prices": [2501, 2501, 2501], "interval": 30},  # 37.515
    # covering
    "past-the-end": cover(PLAIN_DAY, at=29, minutes=60),  # 21:30 + 1h > 22:00
    "to-the-end": cover(PLAIN_DAY, at=28, minutes=60),  # 21:00-22:00
    "stale-slot": {**cover(PLAIN_DAY, at=4, minutes=60), "stale": True},
    "off-the-grid": cover(PLAIN_DAY, at=0, minutes=45),
    # durations
    "durations-30": call("durations", PLAIN_DAY),
    "durations-20": call("durations", TWENTY_MINUTE_DAY),
    # the small helpers
    "venue-time-berlin": call("venueTime", instant(datetime(2027, 3, 28, 1, tzinfo=UTC)), BERLIN),
    "venue-date-new-york": call(
        "venueDate", instant(datetime(2026, 12, 8, 3, 30, tzinfo=UTC)), NEW_YORK
    ),
    "long-day": call("longDay", "2026-12-07"),
    "wall-time": call("wallTime", "2026-12-04T18:00:00+01:00"),
}
for name, (zone, day) in DST_DAYS.items():
    CASES[f"dst-{name}"] = grid(small_hours(zone, day), day)
for amount in MONEY:
    CASES[f"cents-{amount}"] = call("cents", amount)
    CASES[f"round-trip-{amount}"] = call("money", int(Decimal(amount) * 100), "EUR")
for number, booking in enumerate(RANDOM_BOOKINGS):
    CASES[f"random-{number}"] = {"op": "total", **booking}


# ---- the real handler's answers on the demo data --------------------------------------------

# A Wednesday morning at the venue: the demo booking is on Friday at 18:00 on Court 1, Court 3
# is closed for maintenance on Saturday morning, and the 14th is New York's spring forward.
FIXED_NOW = datetime(2027, 3, 3, 9, 10, tzinfo=ZoneInfo(BERLIN))
TODAY, FRIDAY, SATURDAY, NEW_YORK_SPRING = "2027-03-03", "2027-03-05", "2027-03-06", "2027-03-14"


def ask_availability(
    handlers: Handlers, resource_id: int, start: str, end: str, token: str
) -> dict[str, Any]:
    """GET /api/v1/resources/{id}/availability/ through the real handler, as the sample event."""
    event = render_event(REPO_ROOT / "events" / "get_availability_by_path.json", now=FIXED_NOW)
    event["pathParameters"]["resource_id"] = str(resource_id)
    event["path"] = f"/api/v1/resources/{resource_id}/availability/"
    event["queryStringParameters"] = {"start_date": start, "end_date": end}
    event["multiValueQueryStringParameters"] = {"start_date": [start], "end_date": [end]}
    event["headers"]["Authorization"] = f"Token {token}"
    event["multiValueHeaders"]["Authorization"] = [f"Token {token}"]
    response = handlers.invoke("GetAvailabilityFunction", event)
    assert response["statusCode"] == 200, response["body"]
    answer: dict[str, Any] = json.loads(response["body"])
    return answer


@pytest.fixture(scope="module")
def real(
    dynamodb: EmbeddedDynamoDB, empty_tables: TablesSnapshot, handlers: Handlers
) -> Iterator[dict[str, Any]]:
    """The demo data's availability answers at FIXED_NOW, and the demo summary."""
    from booking_core.settings import get_settings

    dynamodb.restore(empty_tables)
    get_settings.cache_clear()
    clock.travel(FIXED_NOW, frozen=True)
    try:
        demo = load_demo_data()
        court_1, _, court_3, pickleball = (r["id"] for r in demo["resources"])
        owner, other = demo["users"][0]["token"], demo["users"][1]["token"]
        answers = {
            "court-1-owner": ask_availability(handlers, court_1, TODAY, FRIDAY, owner),
            "court-1-other": ask_availability(handlers, court_1, FRIDAY, FRIDAY, other),
            "court-3": ask_availability(handlers, court_3, SATURDAY, SATURDAY, owner),
            "pickleball": ask_availability(
                handlers, pickleball, NEW_YORK_SPRING, NEW_YORK_SPRING, owner
            ),
        }
    finally:
        clock.reset()
    yield {"demo": demo, "answers": answers}
    dynamodb.restore(empty_tables)


def real_cases(answers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    court_1 = answers["court-1-owner"]
    return {
        "real-today": grid(court_1, TODAY),
        "real-friday-owner": grid(court_1, FRIDAY),
        "real-friday-other": grid(answers["court-1-other"], FRIDAY),
        "real-saturday-court-3": grid(answers["court-3"], SATURDAY),
        "real-new-york": grid(answers["pickleball"], NEW_YORK_SPRING, base="40.00"),
        "real-into-the-peak": cover(court_1, at=19, minutes=90, day=TODAY),  # 16:30-18:00
        "real-durations": call("durations", court_1),
    }


@pytest.fixture(scope="module")
def node(real: dict[str, Any]) -> dict[str, Any]:
    """Every case, hand-made and real, run in one Node process."""
    return run_in_node(CASES | real_cases(real["answers"]))


def result(node: dict[str, Any], name: str) -> Any:
    outcome = node["results"][name]
    if "error" in outcome:
        pytest.fail(f"slots.js threw on case {name!r}:\n{outcome['error']}", pytrace=False)
    return outcome["value"]


def labels(slots: list[dict[str, Any]]) -> list[str]:
    return [slot["label"] for slot in slots]


def by_label(slots: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {slot["label"]: slot for slot in slots}


def states(slots: list[dict[str, Any]], *wanted: str) -> list[str]:
    """The labels of the slots in any of the `wanted` states."""
    return [slot["label"] for slot in slots if slot["state"] in wanted]


# ---- Node itself ---------------------------------------------------------------------------


def test_the_bundled_node_knows_the_venues_timezones(node: dict[str, Any]):
    # Given the Node that Playwright ships
    # When it formats 01:00 UTC on Berlin's spring-forward day in Berlin
    # Then its ICU has the timezone data (03:00, summer time already), and it ran in the
    # host timezone the cases assume
    assert node["icu"], "this Node has no ICU: Intl cannot give venue-local times"
    assert node["berlin"] == "03:00"
    assert node["host"] == HOST_TIMEZONE


def test_a_missing_bundled_node_fails_the_tests_naming_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Given a Playwright package without its driver's Node
    import playwright

    monkeypatch.setattr(playwright, "__file__", str(tmp_path / "playwright" / "__init__.py"))
    # When the tests look for Node
    with pytest.raises(pytest.fail.Exception) as failure:
        bundled_node()
    # Then they fail (not skip), saying where Node was expected
    assert str(tmp_path / "playwright" / "driver" / "node") in str(failure.value)


# ---- the grid ------------------------------------------------------------------------------


def test_a_plain_day_from_7_to_22_gives_thirty_free_half_hour_slots_at_the_base_price(
    node: dict[str, Any],
):
    # Given a day open 07:00-22:00 in Berlin, every half hour bookable at the base price
    # When its grid is made
    slots = result(node, "plain")
    # Then there are 30 slots labelled 07:00 to 21:30, all free at 25.00 EUR
    assert labels(slots) == half_hours("07:00", 30)
    assert {(s["state"], s["price"], s["currency"], s["reason"]) for s in slots} == {
        ("free", 2500, "EUR", "")
    }
    assert all(s["end"] - s["start"] == 30 * 60_000 for s in slots)
    assert slots[0]["start"] == int(wall(A_MONDAY, "07:00", BERLIN).timestamp() * 1000)


def test_slots_with_a_slot_price_above_the_base_are_peak_at_that_price(node: dict[str, Any]):
    # Given 17:00-18:30 priced 35.00 by the range's slot_prices, on a 25.00 court
    # When the grid is made
    slots = result(node, "peak")
    # Then those three slots are peak at 35.00 and the others free at 25.00
    assert states(slots, "peak") == ["17:00", "17:30", "18:00"]
    assert {s["price"] for s in slots if s["state"] == "peak"} == {3500}
    assert {s["price"] for s in slots if s["state"] == "free"} == {2500}


def test_a_window_priced_above_the_base_makes_its_slots_peak(node: dict[str, Any]):
    # Given an afternoon window at 30.00 after a morning at the base 25.00
    # When the grid is made
    slots = result(node, "dearer-window")
    # Then the afternoon's slots are peak at 30.00 and the morning's free
    assert states(slots, "free") == half_hours("07:00", 10)
    assert states(slots, "peak") == half_hours("12:00", 20)
    assert {s["price"] for s in slots if s["state"] == "peak"} == {3000}


def test_someone_elses_booking_of_90_minutes_makes_three_slots_booked(node: dict[str, Any]):
    # Given a booking 10:00-11:30 with no booking_id (not the caller's)
    # When the grid is made
    slots = result(node, "booked")
    # Then exactly its three slots are booked, with no booking id, and the rest free
    assert states(slots, "booked") == ["10:00", "10:30", "11:00"]
    assert {s["bookingId"] for s in slots} == {None}
    assert len(states(slots, "free")) == 27


def test_the_callers_own_booking_makes_its_slots_mine_with_its_id(node: dict[str, Any]):
    # Given the caller's own booking 10:00-11:30 (the answer carries its booking_id)
    # When the grid is made
    slots = result(node, "mine")
    # Then its three slots are "mine" and name the booking
    assert states(slots, "mine") == ["10:00", "10:30", "11:00"]
    assert {s["bookingId"] for s in slots if s["state"] == "mine"} == {"bk_mine"}
    assert states(slots, "booked") == []


def test_only_free_and_peak_slots_can_be_picked(node: dict[str, Any]):
    # Given a day with a booking 10:00-11:30
    # When each slot is asked whether it is free
    flags = result(node, "free-flags")
    # Then all are but the three booked ones
    assert [n for n, flag in enumerate(flags) if not flag] == [6, 7, 8]


def test_a_closure_inside_opening_hours_closes_its_slots_with_its_reason(node: dict[str, Any]):
    # Given a closure 12:00-14:00 "Maintenance" inside 07:00-22:00
    # When the grid is made
    slots = result(node, "closure")
    # Then its four slots are closed for that reason, the others free with no reason
    assert states(slots, "closed") == half_hours("12:00", 4)
    assert {s["reason"] for s in slots if s["state"] == "closed"} == {"Maintenance"}
    assert {s["reason"] for s in slots if s["state"] == "free"} == {""}


def test_a_closure_without_a_reason_is_closed_for_reason_closed(node: dict[str, Any]):
    # Given a closure 12:00-14:00 with an empty reason
    # When the grid is made
    slots = result(node, "unnamed-closure")
    # Then its slots say "closed"
    assert {s["reason"] for s in slots if s["state"] == "closed"} == {"closed"}


def test_the_gap_between_two_windows_is_closed(node: dict[str, Any]):
    # Given windows 07:00-12:00 and 14:00-22:00
    # When the grid is made
    slots = result(node, "split")
    # Then the grid runs on through the gap, whose slots are closed for reason "closed"
    assert labels(slots) == half_hours("07:00", 30)
    assert states(slots, "closed") == half_hours("12:00", 4)
    assert {s["reason"] for s in slots if s["state"] == "closed"} == {"closed"}
    assert {s["price"] for s in slots if s["state"] == "closed"} == {None}


def test_open_time_outside_every_available_range_is_not_bookable(node: dict[str, Any]):
    # Given a window from 07:00 but bookable only from 10:00 (too soon before that)
    # When the grid is made
    slots = result(node, "too-soon")
    # Then 07:00-09:30 are closed as "not bookable", at the window's price
    assert states(slots, "closed") == half_hours("07:00", 6)
    assert {(s["reason"], s["price"]) for s in slots if s["state"] == "closed"} == {
        ("not bookable", 2500)
    }
    assert states(slots, "free") == half_hours("10:00", 24)


@pytest.mark.parametrize("case", ["no-windows", "other-day-only"])
def test_a_day_without_windows_has_no_slots(node: dict[str, Any], case: str):
    # Given an answer with no window on the day (none at all, or only on the next day)
    # When the day's grid is made
    # Then it is empty
    assert result(node, case) == []


# ---- daylight saving time ------------------------------------------------------------------


def elapsed_slots(zone: str, day: str) -> int:
    """How many 30-minute slots fit in 00:00-06:00 of the venue's clock, in real time."""
    real_time = wall(day, "06:00", zone).astimezone(UTC) - wall(day, "00:00", zone).astimezone(UTC)
    return int(real_time / timedelta(minutes=30))


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param(
            "berlin-spring",
            [*half_hours("00:00", 4), *half_hours("03:00", 6)],
            id="berlin-spring-forward-has-no-two-oclock",
        ),
        pytest.param(
            "berlin-autumn",
            [*half_hours("00:00", 6), *half_hours("02:00", 8)],
            id="berlin-fall-back-shows-two-oclock-twice",
        ),
        pytest.param(
            "new-york-spring",
            [*half_hours("00:00", 4), *half_hours("03:00", 6)],
            id="new-york-spring-forward-has-no-two-oclock",
        ),
        pytest.param(
            "new-york-autumn",
            [*half_hours("00:00", 4), *half_hours("01:00", 10)],
            id="new-york-fall-back-shows-one-oclock-twice",
        ),
    ],
)
def test_labels_follow_the_venues_wall_clock_on_a_dst_day(
    node: dict[str, Any], case: str, expected: list[str]
):
    # Given a window 00:00-06:00 on the venue's clock on a day its clocks change
    zone, day = DST_DAYS[case]
    # When the grid is made
    slots = result(node, f"dst-{case}")
    # Then the labels are the wall clock's, one slot per 30 minutes of real time, all free
    assert labels(slots) == expected
    assert len(slots) == elapsed_slots(zone, day)
    assert all(b["start"] - a["start"] == 30 * 60_000 for a, b in itertools.pairwise(slots))
    assert states(slots, "free") == expected


# ---- prices --------------------------------------------------------------------------------


def test_an_hour_at_25_costs_2500_cents(node: dict[str, Any]):
    # Given a plain 25.00 day
    # When 10:00 is picked for 60 minutes
    picked = result(node, "hour-at-25")
    # Then it covers two slots and costs 25.00
    assert picked == {"labels": ["10:00", "10:30"], "total": 2500}


def test_90_minutes_across_a_base_slot_and_two_peak_slots_costs_47_50(node: dict[str, Any]):
    # Given 17:00 and 17:30 at 35.00 on a 25.00 court, 30-minute slots
    # When 16:30 is picked for 90 minutes
    picked = result(node, "into-the-peak")
    # Then it costs (25 + 35 + 35) x 30 / 60 = 47.50
    assert picked == {"labels": ["16:30", "17:00", "17:30"], "total": 4750}


def test_20_minutes_at_25_costs_8_33(node: dict[str, Any]):
    # Given a 25.00 court with 20-minute slots
    # When one slot is picked
    picked = result(node, "twenty-minutes")
    # Then 8.333... is rounded to 8.33
    assert picked == {"labels": ["07:00"], "total": 833}


def test_three_thirds_of_an_hour_are_rounded_once(node: dict[str, Any]):
    # Given a 25.00 court with 20-minute slots
    # When an hour is picked
    picked = result(node, "an-hour-in-thirds")
    # Then it costs 25.00, not 3 x 8.33
    assert picked == {"labels": ["07:00", "07:20", "07:40"], "total": 2500}


@pytest.mark.parametrize(
    ("case", "slots", "expected_cents"),
    [("half-a-cent", 1, 1251), ("half-a-cent-twice", 3, 3752)],
)
def test_an_exact_half_cent_rounds_up_as_the_server_does(
    node: dict[str, Any], case: str, slots: int, expected_cents: int
):
    # Given 30-minute slots at 25.01 an hour (12.505 each)
    price = Decimal("25.01")
    # When the page and the server price them
    page = result(node, case)
    server = server_total(price, price, 30, slots, slots)
    # Then both round the half cent up
    assert page == expected_cents
    assert server * 100 == expected_cents


def test_totals_match_the_servers_booking_price_for_random_bookings(node: dict[str, Any]):
    # Given 25 random bookings (fixed seed): interval, length, a base and a peak price
    # When the page totals each one's slots
    page = [result(node, f"random-{n}") for n in range(len(RANDOM_BOOKINGS))]
    # Then each total is booking_price's, to the cent
    assert page == [booking["server_cents"] for booking in RANDOM_BOOKINGS]


# ---- covering a choice, durations ----------------------------------------------------------


def test_a_duration_running_past_the_grids_end_covers_nothing(node: dict[str, Any]):
    # Given a day closing at 22:00
    # When 21:30 is picked for 60 minutes
    # Then there is no such choice
    assert result(node, "past-the-end") is None


def test_a_duration_ending_at_the_grids_end_covers_the_last_slots(node: dict[str, Any]):
    # Given a day closing at 22:00
    # When 21:00 is picked for 60 minutes
    # Then it covers the last two slots
    assert result(node, "to-the-end") == {"labels": ["21:00", "21:30"], "total": 2500}


def test_a_slot_of_a_grid_drawn_before_covers_nothing_on_the_new_one(node: dict[str, Any]):
    # Given a slot chosen on the grid before the day was loaded again
    # When the durations from it are worked out on the new grid
    # Then it covers nothing there (the page chooses again), rather than failing
    assert result(node, "stale-slot") is None


def test_a_duration_off_the_grid_covers_nothing(node: dict[str, Any]):
    # Given 30-minute slots
    # When 45 minutes are asked for
    # Then no whole run of slots fits
    assert result(node, "off-the-grid") is None


@pytest.mark.parametrize(
    ("case", "expected"),
    [("durations-30", [60, 90, 120, 150, 180]), ("durations-20", [40, 60, 80, 100, 120])],
)
def test_durations_run_from_the_minimum_to_the_maximum_in_interval_steps(
    node: dict[str, Any], case: str, expected: list[int]
):
    # Given a court's minimum, maximum and interval (60-180 by 30; 40-120 by 20)
    # When the durations on offer are listed
    # Then they step by the interval from the minimum to the maximum
    assert result(node, case) == expected


# ---- money and the small helpers -----------------------------------------------------------


@pytest.mark.parametrize("amount", MONEY)
def test_an_amount_goes_to_cents_and_back_unchanged(node: dict[str, Any], amount: str):
    # Given an API amount (a decimal string with two places)
    # When it is turned into cents, and cents back into money
    # Then the cents are exact and the text is the amount with its currency
    assert result(node, f"cents-{amount}") == int(Decimal(amount) * 100)
    assert result(node, f"round-trip-{amount}") == f"{amount} EUR"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("venue-time-berlin", "03:00"),
        ("venue-date-new-york", "2026-12-07"),
        ("wall-time", "2026-12-04 18:00"),
    ],
)
def test_times_and_days_read_on_the_venues_clock(node: dict[str, Any], case: str, expected: str):
    # Given an instant (03:30 UTC is still the 7th in New York), or an API datetime
    # When it is shown
    # Then it reads as the venue's clock and calendar show it
    assert result(node, case) == expected


def test_a_day_is_named_as_its_calendar_day_whatever_the_hosts_timezone(node: dict[str, Any]):
    # Given the day 2026-12-07, on a host 14 hours ahead of UTC
    # When it is named
    # Then it is that Monday (ICU's en-GB may put a comma after the weekday)
    assert re.fullmatch(r"Monday,? 7 December 2026", result(node, "long-day"))


# ---- the real handler's answers ------------------------------------------------------------


def test_a_hand_made_answer_has_the_real_answers_members(real: dict[str, Any]):
    # Given the real handler's answer for Court 1 and a hand-made one
    answer = real["answers"]["court-1-owner"]
    # When their members are compared
    # Then the hand-made answers are in the API's exact shape
    assert set(PLAIN_DAY) == set(answer)
    assert set(PLAIN_DAY["windows"][0]) == set(answer["windows"][0])
    assert set(PLAIN_DAY["available_ranges"][0]) == set(answer["available_ranges"][0])
    assert set(BOOKED_DAY["booked_slots"][0]) | {"booking_id"} == set(answer["booked_slots"][0])


def test_the_real_answer_for_today_closes_the_slots_within_the_notice(node: dict[str, Any]):
    # Given Court 1 today at 09:10, bookable from an hour ahead, with the weekday evening peak
    # When the grid is made from the real handler's answer
    slots = result(node, "real-today")
    # Then 07:00-10:00 are not bookable, then free at 25.00, 17:00-19:30 peak at 35.00
    assert labels(slots) == half_hours("07:00", 30)
    assert states(slots, "closed") == half_hours("07:00", 7)
    assert {s["reason"] for s in slots if s["state"] == "closed"} == {"not bookable"}
    assert states(slots, "peak") == half_hours("17:00", 6)
    assert {s["price"] for s in slots if s["state"] == "peak"} == {3500}
    assert states(slots, "free") == half_hours("10:30", 13) + half_hours("20:00", 4)


def test_the_real_answer_shows_the_demo_booking_as_mine_to_its_owner(
    node: dict[str, Any], real: dict[str, Any]
):
    # Given the demo user's booking on Friday 18:00-19:00
    booking_id = real["demo"]["bookings"][0]["id"]
    # When its owner's grid is made from the real answer
    slots = result(node, "real-friday-owner")
    # Then its two slots are "mine" and name it
    assert states(slots, "mine") == ["18:00", "18:30"]
    assert {s["bookingId"] for s in slots if s["state"] == "mine"} == {booking_id}


def test_the_real_answer_shows_the_demo_booking_as_booked_to_another_user(
    node: dict[str, Any],
):
    # Given the demo user's booking on Friday 18:00-19:00
    # When another user's grid is made from the real answer
    slots = result(node, "real-friday-other")
    # Then its two slots are booked, naming no booking, and the rest of the peak is peak
    assert states(slots, "booked") == ["18:00", "18:30"]
    assert {s["bookingId"] for s in slots} == {None}
    assert states(slots, "peak") == ["17:00", "17:30", "19:00", "19:30"]


def test_the_real_answer_closes_court_3_for_its_maintenance(node: dict[str, Any]):
    # Given Court 3 closed for maintenance 08:00-12:00 on Saturday (open 08:00-20:00)
    # When the grid is made from the real answer
    slots = result(node, "real-saturday-court-3")
    # Then the morning is closed for "Maintenance" and the afternoon free (no weekend peak)
    assert labels(slots) == half_hours("08:00", 24)
    assert states(slots, "closed") == half_hours("08:00", 8)
    assert {s["reason"] for s in slots if s["state"] == "closed"} == {"Maintenance"}
    assert states(slots, "free") == half_hours("12:00", 16)


def test_the_real_new_york_answer_is_on_new_york_time(node: dict[str, Any]):
    # Given the New York court on its spring-forward Sunday, open 08:00-20:00 by the hour
    # When the grid is made from the real answer
    slots = result(node, "real-new-york")
    # Then its twelve slots are labelled on New York's clock, free at 40.00 USD
    assert labels(slots) == [f"{hour:02d}:00" for hour in range(8, 20)]
    assert {(s["state"], s["price"], s["currency"]) for s in slots} == {("free", 4000, "USD")}


def test_the_real_answer_prices_a_choice_into_the_peak_as_the_server_would(
    node: dict[str, Any],
):
    # Given Court 1 today, 25.00 before 17:00 and 35.00 from then
    # When 16:30 is picked for 90 minutes
    picked = result(node, "real-into-the-peak")
    # Then it costs 47.50, and the durations on offer are Court 1's 60-180 minutes
    assert picked == {"labels": ["16:30", "17:00", "17:30"], "total": 4750}
    assert result(node, "real-durations") == [60, 90, 120, 150, 180]
