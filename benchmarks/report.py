"""Markdown tables from the JSON that ``run.py`` produces."""

from __future__ import annotations

from typing import Any

# (row label, workload, metric, number format)
ROWS: list[tuple[str, str, str, str]] = [
    ("noop 5,000 (tasks/s)", "noop", "tasks_per_s", "{:,.0f}"),
    ("latency p50 (ms)", "latency", "p50_ms", "{:.2f}"),
    ("latency p99 (ms)", "latency", "p99_ms", "{:.2f}"),
    ("chain 500 (ms per hop)", "chain", "ms_per_hop", "{:.3f}"),
    ("fanout 1->2,000->1 (tasks/s)", "fanout", "tasks_per_s", "{:,.0f}"),
    ("sleep 200 x 50 ms (efficiency)", "sleep", "efficiency", "{:.3f}"),
    ("startup, load to first result (s)", "startup", "s", "{:.3f}"),
    ("driver RSS growth per 10,000 tasks (MB)", "memory", "mb_per_10k_tasks", "{:.1f}"),
    ("CPU per noop task, driver (us)", "noop", "cpu_us_per_task_driver", "{:,.0f}"),
    ("CPU per noop task, child processes (us)", "noop", "cpu_us_per_task_children", "{:,.0f}"),
]


def _cell(stats: dict[str, Any] | None, fmt: str, spread: bool) -> str:
    if stats is None:
        return "—"
    text = fmt.format(stats["median"])
    if spread and stats["n"] > 1:
        text += f" ({fmt.format(stats['min'])}–{fmt.format(stats['max'])})"
    return text


def results_table(result: dict[str, Any], spread: bool = True) -> str:
    summary = result["summary"]
    systems = [s for s in result["settings"]["systems"] if s in summary]
    lines = ["| workload | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for label, workload, metric, fmt in ROWS:
        cells = [_cell(summary[s].get(workload, {}).get(metric), fmt, spread) for s in systems]
        if all(c == "—" for c in cells):
            continue
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    logs = [f"{summary[s]['log_mb']:.1f}" for s in systems]
    if any(x != "0.0" for x in logs):
        lines.append("| log written per process (MB) | " + " | ".join(logs) + " |")
    return "\n".join(lines)


def goals_table(result: dict[str, Any]) -> str:
    if not result["goals"]:
        return ""
    spreads = {(r["system"], r["baseline"], r["workload"], r["metric"]): r["ratios"]
               for r in result["per_round_ratios"]}
    lines = ["| goal | measured | target | per-round ratios | met |", "|---|---|---|---|---|"]
    for g in result["goals"]:
        if g.get("baseline"):
            what = f"{g['system']} vs {g['baseline']}, {g['workload']} ({g['metric']})"
            measured = f"{g['ratio']:.2f}x"
            target = f">= {g['target']:g}x"
            rounds = spreads.get((g["system"], g["baseline"], g["workload"], g["metric"]), [])
            per_round = ", ".join(f"{x:.2f}" for x in rounds)
        else:
            what = f"{g['system']}, {g['workload']} ({g['metric']})"
            measured = f"{g['value']:.3g}"
            target = f"{g['target']:g}"
            per_round = ""
        lines.append(f"| {what} | {measured} | {target} | {per_round} | {'yes' if g['met'] else '**no**'} |")
    return "\n".join(lines)


def floor_table(result: dict[str, Any], system: str = "parsl_nb-threads", floor: str = "cf-threads") -> str:
    summary = result["summary"]
    if system not in summary or floor not in summary:
        return ""
    lines = [f"| workload | {system} / {floor} |", "|---|---|"]
    for label, workload, metric in [("noop", "noop", "tasks_per_s"), ("fanout", "fanout", "tasks_per_s"),
                                    ("chain", "chain", "ms_per_hop"), ("latency p50", "latency", "p50_ms")]:
        try:
            a = summary[system][workload][metric]["median"]
            b = summary[floor][workload][metric]["median"]
        except KeyError:
            continue
        frac = b / a if metric in ("ms_per_hop", "p50_ms") else a / b
        lines.append(f"| {label} | {frac:.0%} of the floor's speed |")
    return "\n".join(lines)


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    pythons = "; ".join(sorted(set(m["pythons"].values())))
    head = (f"Measured {result['date']} on {m['cpus']} vCPU ({m['cpu_model']}), {pythons}. "
            f"{result['settings']['workers']} workers each; median of {result['settings']['repeats']} "
            "fresh-process rounds, (min–max) in brackets.")
    parts = [head, "", results_table(result)]
    if result["skipped"]:
        parts += ["", "Skipped: " + "; ".join(f"{s}: {why}" for s, why in result["skipped"].items())]
    goals = goals_table(result)
    if goals:
        parts += ["", goals]
    floor = floor_table(result)
    if floor:
        parts += ["", floor]
    return "\n".join(parts) + "\n"
