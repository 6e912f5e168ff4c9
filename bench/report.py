"""Ratios and the Markdown tables of a benchmark's results."""

from __future__ import annotations

from bench.scenarios import FLOOR, SCENARIOS


def _find(runs: list[dict], phase: str, key: str, concurrency: int) -> dict | None:
    for run in runs:
        if run["phase"] == phase and run["scenario"] == key and run["concurrency"] == concurrency:
            return run
    return None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return numerator / denominator


ORDER = {scenario.key: index for index, scenario in enumerate(FLOOR + SCENARIOS)}


def best_of_rounds(all_runs: list[dict]) -> list[dict]:
    """Each measurement's best round (the most requests/s: the one least disturbed by the rest of a
    shared machine), with the requests/s of every round, in the order of the scenarios."""
    chosen: dict[tuple, dict] = {}
    for run in all_runs:
        key = (run["phase"], run["scenario"], run["concurrency"])
        rounds = [*chosen[key]["rps_rounds"], run["rps"]] if key in chosen else [run["rps"]]
        if key not in chosen or run["rps"] > chosen[key]["rps"]:
            chosen[key] = dict(run)
        chosen[key]["rps_rounds"] = rounds
    return sorted(chosen.values(), key=lambda run: (ORDER.get(run["scenario"], len(ORDER)), run["concurrency"]))


def derive(results: dict) -> None:
    """Keep each measurement's best round; add to every run its ratios to the floor, and to each
    backend the growth from empty to history."""
    for backend in results["backends"].values():
        runs = backend["runs"] = best_of_rounds(backend["all_runs"])
        for run in runs:
            floor_key = run.get("compare")
            floor = _find(runs, "floor", floor_key, run["concurrency"]) if floor_key else None
            if floor:
                run["vs_floor"] = {
                    "cpu_per_request": _ratio(run["cpu_ms_per_request"], floor["cpu_ms_per_request"]),
                    "throughput": _ratio(floor["rps"], run["rps"]),  # how many times fewer requests/s
                    "p50": _ratio(run["latency_ms"]["p50"], floor["latency_ms"]["p50"]),
                }
        growth = []
        for scenario in SCENARIOS:
            if not (scenario.growth and scenario.ready):
                continue
            for concurrency in backend["concurrency"]:
                empty = _find(runs, "empty", scenario.key, concurrency)
                full = _find(runs, "history", scenario.key, concurrency)
                if not (empty and full):
                    continue
                growth.append({
                    "scenario": scenario.key, "concurrency": concurrency,
                    "rps_empty": empty["rps"], "rps_history": full["rps"],
                    "rps_ratio": _ratio(full["rps"], empty["rps"]),
                    "cpu_ms_empty": empty["cpu_ms_per_request"], "cpu_ms_history": full["cpu_ms_per_request"],
                    "cpu_ratio": _ratio(full["cpu_ms_per_request"], empty["cpu_ms_per_request"]),
                    "p50_empty": empty["latency_ms"]["p50"], "p50_history": full["latency_ms"]["p50"],
                    "p50_ratio": _ratio(full["latency_ms"]["p50"], empty["latency_ms"]["p50"]),
                    "rps_ratio_by_round": _paired(backend["all_runs"], scenario.key, concurrency),
                })
        backend["growth"] = growth


def _paired(all_runs: list[dict], key: str, concurrency: int) -> list[float | None]:
    """history ÷ empty requests/s of each round: two measurements taken one right after the other."""
    by_round: dict[int, dict[str, float]] = {}
    for run in all_runs:
        if run["scenario"] == key and run["concurrency"] == concurrency and run["phase"] in ("empty", "history"):
            by_round.setdefault(run.get("round", 1), {})[run["phase"]] = run["rps"]
    return [_ratio(rates.get("history"), rates.get("empty")) for _round, rates in sorted(by_round.items())]


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _times(value: float | None) -> str:
    return "–" if value is None else f"×{value:.2f}"


def _rounds(run: dict) -> str:
    return " / ".join(f"{rps:,.0f}" for rps in run.get("rps_rounds", [run["rps"]]))


def _answers(run: dict) -> str:
    parts = [f"{code}×{count}" for code, count in run["statuses"].items()]
    parts += [f"{name}×{count}" for name, count in run.get("exceptions", {}).items()]
    return " ".join(parts)


NOISY = 0.10  # share of the machine's CPU taken by other processes above which a figure is flagged
TITLES = {scenario.key: scenario.title for scenario in FLOOR + SCENARIOS}


def markdown(results: dict) -> str:
    meta = results["meta"]
    lines = [
        f"# Benchmark {meta['started']}",
        "",
        f"gunicorn {meta['workers']} sync workers; wrk {meta['duration_s']:g} s per GET scenario; "
        f"{meta['posts']} requests per POST scenario; concurrency {', '.join(map(str, meta['concurrency']))}; "
        f"each figure the best of {meta.get('rounds', 1)} rounds (req/s of each round in the last column); "
        f"{meta['cores']} cores shared by server, database and load generator; commit {meta['commit']}.",
        "CPU ms/req: utime+stime of the gunicorn master and workers per request; DB CPU: the PostgreSQL "
        "backends of the bench database. ÷ floor: the endpoint's CPU per request over the floor's; "
        "floor req/s ÷ req/s: how many times fewer requests per second than the floor. Other load: share "
        "of the machine's CPU taken meanwhile by processes outside the benchmark (above a few %, "
        "throughput and latency are skewed; CPU per request much less).",
        "",
    ]
    for name, backend in results["backends"].items():
        seed = backend.get("seed") or {}
        lines += [
            f"## {name}",
            "",
            f"History: {seed.get('bookings', 0):,} bookings ({seed.get('cancelled', 0):,} cancelled) in "
            f"{seed.get('slots', 0):,} slots, past slots {100 * seed.get('past_fill', 0):.0f} % full, next "
            f"months {100 * seed.get('future_fill', 0):.0f} %; {seed.get('outbox', 0):,} sent emails; seeded in "
            f"{seed.get('seconds', 0):.1f} s.",
            "",
            "| scenario | c | requests | req/s | p50 ms | p95 ms | p99 ms | CPU ms/req | DB CPU ms/req "
            "| CPU ÷ floor | floor req/s ÷ req/s | answers | errors | other load | req/s by round |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|---|",
        ]
        for run in backend["runs"]:
            if run["phase"] == "empty":
                continue
            ratios = run.get("vs_floor", {})
            lines.append(
                f"| {TITLES.get(run['scenario'], run['scenario'])} | {run['concurrency']} | {run['requests']:,} "
                f"| {_num(run['rps'])} | {_num(run['latency_ms']['p50'])} | {_num(run['latency_ms']['p95'])} "
                f"| {_num(run['latency_ms']['p99'])} | {_num(run['cpu_ms_per_request'], 2)} "
                f"| {_num(run.get('db_cpu_ms_per_request'), 2)} | {_times(ratios.get('cpu_per_request'))} "
                f"| {_times(ratios.get('throughput'))} | {_answers(run)} | {run['errors']} "
                f"| {100 * run.get('other_cpu_share', 0):.0f} % | {_rounds(run)} |")
        for scenario in SCENARIOS:
            if not scenario.ready:
                lines.append(f"| {scenario.title} | | | {scenario.note or 'not yet available'} "
                             "| | | | | | | | | | | |")
        if backend.get("growth"):
            lines += [
                "",
                f"Growth on {name}: empty database → three years of history (ratio = history ÷ empty; the best "
                "round of each, and each round's pair, measured one right after the other).",
                "",
                "| scenario | c | req/s empty | req/s history | req/s ratio | CPU ms/req empty "
                "| CPU ms/req history | CPU ratio | p50 ms empty | p50 ms history | p50 ratio "
                "| req/s ratio by round |",
                "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
            ]
            for row in backend["growth"]:
                lines.append(
                    f"| {TITLES[row['scenario']]} | {row['concurrency']} | {_num(row['rps_empty'])} "
                    f"| {_num(row['rps_history'])} | {_times(row['rps_ratio'])} | {_num(row['cpu_ms_empty'], 2)} "
                    f"| {_num(row['cpu_ms_history'], 2)} | {_times(row['cpu_ratio'])} | {_num(row['p50_empty'])} "
                    f"| {_num(row['p50_history'])} | {_times(row['p50_ratio'])} "
                    f"| {' / '.join(_times(ratio) for ratio in row.get('rps_ratio_by_round', []))} |")
            lines += ["", "The empty database has no slot rows yet, so its availability read returns no rows where "
                          "the seeded one returns the month's (about 180); its bookings create each slot's row."]
        lines.append("")
    noisy = [run for backend in results["backends"].values() for run in backend["runs"]
             if run.get("other_cpu_share", 0) > NOISY]
    if noisy:
        lines.append(f"Warning: in {len(noisy)} measurements other processes took more than {100 * NOISY:.0f} % of "
                     "the machine's CPU; compare CPU per request rather than requests/s or latency, or run again "
                     "on a quiet machine.")
        lines.append("")
    lines.append(f"Total wall time: {results['wall_s']:.0f} s.")
    return "\n".join(lines) + "\n"
