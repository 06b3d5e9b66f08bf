"""What a run reports: derived ratios, the table it prints, and the figures block of docs/PERFORMANCE.md."""

from __future__ import annotations

from bench.harness import ROOT
from bench.plan import KEYS, TARGETS, plan

PERFORMANCE_MD = ROOT / "docs" / "PERFORMANCE.md"
DOC_START, DOC_END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


def derive(results: dict) -> None:
    def ratio(key, num, den):
        if results.get(num) and results.get(den):
            results[key] = results[num] / results[den]

    ratio("ratio_e2e_pg_vs_raw", "e2e_pg_redis_per_s", "raw_session_posts_per_s")
    ratio("ratio_e2e_sqlite_vs_raw", "e2e_sqlite_per_s", "raw_session_posts_per_s")
    ratio("ratio_e2e_sqlite_vs_q2_noop", "e2e_sqlite_per_s", "q2_noop_sqlite_per_s")
    ratio("ratio_latency100_vs_e2e", "latency100_per_s", "e2e_pg_redis_per_s")


def verdict(key: str, value) -> str:
    if key not in TARGETS or value is None:
        return ""
    op, target = TARGETS[key]
    met = {">=": value >= target, "==": value == target}.get(op, value < target)
    return f"{'met' if met else 'MISSED'} ({op} {target:g})"


def verdict_text(key: str) -> str:
    if key not in TARGETS:
        return "-"
    op, target = TARGETS[key]
    return f"{op} {target:g}"


def fmt(value) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def print_table(results: dict, skipped: dict, errors: dict) -> None:
    width = max(len(k) for k in KEYS)
    print()
    print(f"{'key':<{width}}  {'value':>10}  target")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 30}")
    for key in KEYS:
        value = results.get(key)
        note = verdict(key, value)
        if value is None:
            note = "skipped: " + skipped[key] if key in skipped else ("error: " + errors[key] if key in errors else "")
        print(f"{key:<{width}}  {fmt(value):>10}  {note[:140]}")
    print()


def render_markdown(output: dict) -> str:
    """The figures block of docs/PERFORMANCE.md, written from a full run's results."""
    m = output["machine"]
    lines = [
        DOC_START,
        f"{'Quick' if output['quick'] else 'Full'} run finished {output['finished_at']} in {output['duration_s'] / 60:.1f} min "
        f"(`bench/results.json`). Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, "
        f"{m['os']}; Python {m['python']}, Django {m['django']}, django-q2 {m['django_q2']}, "
        f"DRF {m['djangorestframework']}, requests {m['requests']}, uvicorn {m['uvicorn']}, gunicorn {m['gunicorn']}, "
        f"PostgreSQL {m['postgresql'] or 'absent'}, Redis {m['redis'] or 'absent'}; "
        f"receiver {output.get('receiver') or 'bench'}. "
        f"Load average (1, 5, 15 min) {m['loadavg_at_start']} at the start and {m['loadavg_at_end']} at the end: "
        "other engineers' test suites were running on the same two cores.",
        "",
        "| key | value | target | backend |",
        "|---|---:|---|---|",
    ]
    scenario_of = {key: item["name"] for item in plan(False) for key in item["keys"]}
    scenario_of.update(
        ratio_e2e_pg_vs_raw="e2e_pg_redis",
        ratio_e2e_sqlite_vs_raw="e2e_sqlite",
        ratio_e2e_sqlite_vs_q2_noop="e2e_sqlite",
    )
    for key in KEYS:
        value = output.get(key)
        detail = output["details"].get(scenario_of.get(key, ""), {})
        if value is None:
            why = output["skipped"].get(key) or output["errors"].get(key) or "not measured"
            lines.append(f"| `{key}` | - | {verdict_text(key)} | {why[:120]} |")
        else:
            shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
            lines.append(f"| `{key}` | {shown} | {verdict(key, value) or '-'} | {detail.get('backend', '')} |")
    lines += ["", "Selected details (all of them are in `bench/results.json`):", ""]
    lines += _detail_lines(output["details"])
    lines.append(DOC_END)
    return "\n".join(lines)


def _e2e(x) -> str:
    return (
        f"{x['events']:,} deliveries in {x['seconds']} s, first after {x['first_arrival_after_s']} s; "
        f"raw loop just before {x['raw_posts_per_s_just_before']:,}/s, ratio to it "
        f"{x['ratio_vs_raw_just_before']}; duplicates {x['duplicates']}; statuses {x['statuses']}; "
        f"backlog emitted at {x['emit_per_s']}/s."
    )


def _latency(x) -> str:
    return (
        f"{x['events']:,} events at {x['achieved_rate']}/s (target {x['target_rate']}), "
        f"mean {x['mean_ms']} ms, max {x['max_ms']} ms, missing {x['missing']}."
    )


def _slow_endpoint(x) -> str:
    return (
        f"healthy p50 {x['p50_ms_without_slow']} -> {x['p50_ms_with_slow']} ms, "
        f"p99 {x['p99_ms_without_slow']} -> {x['p99_ms_with_slow']} ms "
        f"({x['healthy_events_per_condition']} healthy events per condition); "
        f"slow endpoint outcomes {x['slow_endpoint_outcomes']}."
    )


def _admin(x) -> str:
    return (
        "median ms per page: "
        + ", ".join(f"{page} {v['median_ms']} ({v['queries']} queries)" for page, v in x["pages"].items())
        + f"; database {x['database_size']}, seeded in {sum(x['seed_timings_s'].values()):.0f} s."
    )


def _worker_rss(x) -> str:
    return (
        f"{x['rss_mib_small']} MiB after {x['deliveries_small']:,}, {x['rss_mib_large']} MiB after "
        f"{x['deliveries_large']:,} ({x['processes_large']} processes; largest "
        f"{x['largest_process_mib_small']} -> {x['largest_process_mib_large']} MiB)."
    )


# (scenario name, its line of details), in the document's order.
DETAILS = [
    ("e2e_sqlite", _e2e),
    ("e2e_pg_redis", _e2e),
    ("q2_noop_sqlite", lambda x: f"{x['tasks']:,} tasks drained in {x['seconds']} s."),
    ("q2_noop_pg_redis", lambda x: f"{x['tasks']:,} tasks drained in {x['seconds']} s."),
    (
        "latency100",
        lambda x: (
            f"{x['events']:,} deliveries to {x['channels']} channels answering after {x['endpoint_delay_s']} s "
            f"in {x['seconds']} s; in flight at most {x['in_flight_max']}, {x['in_flight_mean']} on average "
            f"(settings allow {x['engine_bound']['in_flight']}); CPU s qcluster {x['cpu_s_qcluster_tree']}, "
            f"receiver {x['cpu_s_receiver']}; duplicates {x['duplicates']}."
        ),
    ),
    ("latency_sqlite", _latency),
    ("latency_pg_redis", _latency),
    (
        "fanout",
        lambda x: (
            f"{x['deliveries']:,} deliveries in {x['seconds']} s, emit of one event to "
            f"{x['subscriptions']} subscriptions {x['emit_ms_median']} ms (median)."
        ),
    ),
    ("slow_endpoint", _slow_endpoint),
    ("ingest", lambda x: f"gunicorn {x['gunicorn_workers']} sync workers, {x['client_threads']} client threads."),
    ("admin_1m", _admin),
    ("worker_rss", _worker_rss),
    ("dead10", lambda x: f"healthy phase A {x['phase_a']}, B {x['phase_b']}; dead tried {x['dead_requests_tried']}."),
    ("mixed_kill", lambda x: f"{x['requests']:,} requests, end states {x['end_states']}, stuck {x['stuck']}."),
]


def _detail_lines(d: dict) -> list[str]:
    """One line per scenario that ran, with the details worth reading."""
    lines = []
    for name, text in DETAILS:
        if name in d and "error" not in d[name]:
            try:
                lines.append(f"- {name}: " + text(d[name]))
            except (KeyError, TypeError, ValueError):
                pass
    return lines


def update_performance_md(output: dict) -> None:
    if not PERFORMANCE_MD.exists():
        return
    text = PERFORMANCE_MD.read_text()
    if DOC_START not in text or DOC_END not in text:
        return
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    PERFORMANCE_MD.write_text(head + render_markdown(output) + tail)
