"""The benchmark harness itself (bench/): its receiver, its statistics, and how it reports
a missing backend. No figure is asserted here: speed is what `make bench` writes down."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from bench.harness import percentile, receiver_process

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration  # starts the benchmark's processes
def test_receiver_counts_every_post_and_records_its_webhook_id(tmp_path):
    with receiver_process(tmp_path / "receiver.log") as receiver:
        # given a fresh receiver
        assert receiver.count() == 0
        # when three postbacks arrive, one of them on the slow path
        for n, path in enumerate(["/a", "/b", "/slow/0.01/x"]):
            response = requests.post(
                f"{receiver.url}{path}", data=b"{}", headers={"webhook-id": f"msg_{n}"}, timeout=10
            )
            assert response.status_code == 200
        # then each is counted and recorded with its id and path, and a reset forgets them
        stats = receiver.stats()
        assert stats["count"] == 3
        assert stats["first"] <= stats["last"]
        assert [(a[1], a[2]) for a in receiver.arrivals()] == [
            ("msg_0", "/a"),
            ("msg_1", "/b"),
            ("msg_2", "/slow/0.01/x"),
        ]
        receiver.reset()
        assert receiver.count() == 0 and receiver.arrivals() == []


@pytest.mark.integration  # starts the benchmark's processes
def test_receiver_refuses_other_methods_than_post(tmp_path):
    with receiver_process(tmp_path / "receiver.log") as receiver:
        assert requests.put(f"{receiver.url}/a", data=b"{}", timeout=10).status_code == 405
        assert receiver.count() == 0


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([3, 1, 2], 50) == 2


@pytest.mark.integration  # starts the benchmark's processes
def test_a_scenario_whose_backend_is_missing_is_reported_as_skipped(tmp_path):
    # given PostgreSQL and Redis addresses where nothing listens
    env = {
        **os.environ,
        "BENCH_PG_URL": "postgres://postgres@127.0.0.1:1/postgres",
        "BENCH_REDIS_URL": "redis://127.0.0.1:1/0",
    }
    output = tmp_path / "results.json"
    # when the raw loop and a PostgreSQL scenario are asked for
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--only", "raw,e2e_pg_redis", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    # then the run succeeds, measures the raw loop, and says why the other was skipped
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(output.read_text())
    assert results["raw_session_posts_per_s"] > 0
    assert results["e2e_pg_redis_per_s"] is None
    assert "PostgreSQL not reachable" in results["skipped"]["e2e_pg_redis_per_s"]
    assert results["machine"]["nproc"] == os.cpu_count()
    assert "skipped: PostgreSQL not reachable" in run.stdout


def test_shares_cut_a_range_into_near_equal_contiguous_runs():
    from bench.harness import shares

    # given 10 items for 4 emitting threads
    runs = shares(10, 4)
    # then every item is in exactly one run, in order, and the runs differ by at most one
    assert [list(r) for r in runs] == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]
    # and fewer items than parts leaves the last runs empty; no parts is refused
    assert [len(r) for r in shares(2, 4)] == [1, 1, 0, 0]
    with pytest.raises(ValueError):
        shares(3, 0)


def test_rate_counts_items_per_second_over_all_rounds():
    from bench.harness import rate

    # given two load rounds of batch calls of 100 events
    rounds = [{"ok": 30, "seconds": 2.0}, {"ok": 10, "seconds": 2.0}]
    # then the rate is over the rounds' summed time, in events
    assert rate(rounds) == 10.0
    assert rate(rounds, per_call=100) == 1000.0
    # and rounds that measured no time are refused rather than divided by
    with pytest.raises(ValueError):
        rate([{"ok": 0, "seconds": 0.0}])
