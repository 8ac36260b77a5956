"""The request bench's arithmetic and tables (scripts/bench_requests.py), without running it."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from local.template import REPO_ROOT


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    path = REPO_ROOT / "scripts" / "bench_requests.py"
    spec = importlib.util.spec_from_file_location("bench_requests", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_requests"] = module
    spec.loader.exec_module(module)
    return module


def a_request(bench: ModuleType, endpoint: str, *, ms: float, calls: list) -> object:
    return bench.Sample(endpoint, "CreateBookingFunction", 201, ms / 1000, calls, emails=2)


def test_item_size_counts_names_and_values_by_dynamodbs_rules(bench):
    # Given an item with a string, a number, a boolean and a map
    item = {
        "pk": {"S": "BOOKING#1"},  # 2 + 9
        "price": {"N": "37.50"},  # 5 + (3 significant digits -> 2) + 1
        "paid": {"BOOL": True},  # 4 + 1
        "meta": {"M": {"a": {"S": "x"}}},  # 4 + 3 + (1 + 1 + 1)
    }
    # When its size is computed
    # Then it is the sum of the documented sizes
    assert bench.item_size(item) == 11 + 8 + 5 + 10


def test_reads_round_up_to_4_kb_and_eventually_consistent_ones_cost_half(bench):
    # Given reads of 100 bytes and of 4 KB plus one byte
    # Then a strongly consistent read costs a unit per 4 KB started, an eventual one half,
    # a transactional one twice
    assert bench.read_units(100, consistent=True) == 1
    assert bench.read_units(4097, consistent=True) == 2
    assert bench.read_units(4097, consistent=False) == 1
    assert bench.read_units(100, consistent=True, transactional=True) == 2


def test_writes_round_up_to_1_kb_and_transactions_cost_double(bench):
    # Given writes of an empty item and of 1 KB plus one byte
    # Then each costs a unit per 1 KB started (at least one), twice in a transaction
    assert bench.write_units(0) == 1
    assert bench.write_units(1025) == 2
    assert bench.write_units(1025, transactional=True) == 4


def test_the_tables_have_a_row_per_endpoint_and_the_cost_a_total(bench):
    # Given two measured requests of one endpoint
    calls = [
        bench.Call("GetItem", 0.004, items_read=1, read_units=0.5),
        bench.Call("TransactWriteItems", 0.008, items_written=3, write_units=12.0),
    ]
    samples = [a_request(bench, "POST bookings", ms=15, calls=calls)] * 2
    # When the tables are made
    _, trips = bench.round_trip_table(samples)
    _, capacity = bench.capacity_table(samples)
    _, latency = bench.latency_table(samples)
    lines = bench.cost_lines(samples, {"CreateBookingFunction": 512}, {"CreateBookingFunction"})
    _, cost = bench.cost_table(lines, bench.Prices())
    # Then each has the endpoint's row, and the cost a line per step and the total
    assert trips[0][:3] == ["POST bookings", "201", "2"]
    assert capacity[0][1:3] == ["0.5", "12.0"]
    assert latency[0][1:5] == ["15.0", "12.0", "0.0", "3.0"]  # handler, DynamoDB, Stripe, own
    assert len(cost) == 2
    assert cost[-1][0].startswith("1 million bookings")


def test_the_readme_block_shows_the_booking_journey_and_its_cost_not_the_other_endpoints(bench):
    # Given a booking and a request of an endpoint outside the journey
    calls = [bench.Call("GetItem", 0.004, items_read=1, read_units=0.5)]
    samples = [
        a_request(bench, "POST bookings", ms=15, calls=calls),
        a_request(bench, "GET venues [list_venues]", ms=5, calls=calls),
    ]
    meta = {
        "measured": "2026-12-02 05:00 UTC",
        "machine": "x86_64",
        "journeys": 1,
        "memory": {"CreateBookingFunction": 512},
        "api_functions": ["CreateBookingFunction"],
    }
    # When the README's block is made
    block = bench.readme_block(samples, meta)
    # Then it is dated, has the booking's rows and the cost's total, and no other endpoint
    assert block.startswith("Measured 2026-12-02 05:00 UTC on x86_64")
    assert block.count("| POST bookings |") == 3  # round trips, capacity, latency
    assert "| POST bookings (512 MB) |" in block  # the cost's step
    assert "1 million bookings" in block
    assert "list_venues" not in block
