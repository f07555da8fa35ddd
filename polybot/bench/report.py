"""Targets, the machine, and the human-readable table of ``polybot bench``."""

from __future__ import annotations

import os
import platform

HOPS = 5  # clock->feed->predictor->risk->executor (4 bus hops) + the HTTP POST /order
SERVICES = ("clock", "feed", "predictor", "risk", "executor", "ledger", "resolver")


def machine() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "load_avg": [round(x, 2) for x in os.getloadavg()]}


def memory(rss_kb: dict, pss_kb: dict) -> dict:
    """Peak RSS (VmHWM) per process; the sum over-counts the pages the processes share
    (the interpreter and the libraries' code pages), so the PSS at the end of
    the run is given too: the same memory counted once."""
    services = {name: round(kb / 1024, 1) for name, kb in rss_kb.items() if name in SERVICES}
    infra = {name: round(kb / 1024, 1) for name, kb in rss_kb.items() if name not in SERVICES}
    pss = {name: round(kb / 1024, 1) for name, kb in pss_kb.items() if name in SERVICES}
    return {"peak_rss_mb": services, "services_total_mb": round(sum(services.values()), 1),
            "services_pss_at_end_mb": pss, "services_total_pss_mb": round(sum(pss.values()), 1),
            "infra_peak_rss_mb": infra}


def targets(doc: dict) -> dict:
    """Each target: the value measured and whether it is met (None: not measured)."""
    lat = (doc.get("latency") or {}).get("tick_to_order") or {}
    floor = (doc.get("floor") or {}).get("p50_ms")
    replay = doc.get("replay") or {}
    risk = doc.get("risk_analysis") or {}
    mem = doc.get("memory") or {}
    up = doc.get("startup") or {}
    ratio = lat["p50_ms"] / (HOPS * floor) if lat.get("p50_ms") and floor else None

    def check(value, limit, below=True):
        met = None if value is None else (value <= limit if below else value >= limit)
        return {"value": value, "target": ("<= " if below else ">= ") + str(limit), "met": met}

    return {
        "tick_to_order_p50_ms": check(lat.get("p50_ms"), 10),
        "tick_to_order_p99_ms": check(lat.get("p99_ms"), 30),
        "p50_over_hops_x_floor": check(None if ratio is None else round(ratio, 2), 2),
        "replay_intervals_per_s": check(replay.get("intervals_per_s"), 250, below=False),
        "risk_analysis_runs_per_s": check(risk.get("runs_per_s"), 2000, below=False),
        "services_peak_rss_mb": check(mem.get("services_total_mb"), 300),
        "services_pss_mb": check(mem.get("services_total_pss_mb"), 300),
        "up_to_healthy_s": check(up.get("healthy_s"), 3),
    }


def render(doc: dict) -> str:
    m = doc["machine"]
    lines = [f"polybot bench  ({m['nproc']} cpu, {m['cpu']}, Python {m['python']}, load {m['load_avg']})", ""]
    if doc.get("floor"):
        f = doc["floor"]
        lines.append(f"floor      XADD->XREADGROUP hop: p50 {f['p50_ms']:.3f} ms  p99 {f['p99_ms']:.3f} ms"
                     f"  ({f['samples']} samples)")
    if doc.get("latency"):
        lat = doc["latency"]
        t = lat["tick_to_order"]
        lines.append(f"latency    tick -> order accepted: p50 {_ms(t['p50_ms'])}  p99 {_ms(t['p99_ms'])}"
                     f"  ({t['n']} orders / {lat['intervals']} intervals)")
        for name, s in lat["stages"].items():
            lines.append(f"             {name:<42} p50 {_ms(s['p50_ms'])}  p99 {_ms(s['p99_ms'])}")
        lines.append("             CPU ms/interval: " + _cpu(lat))
        lines += _timeline(lat)
    if doc.get("replay"):
        r = doc["replay"]
        lines.append(f"replay     {r['intervals']} intervals in {r['wall_s']:.1f} s: {r['intervals_per_s']} intervals/s"
                     f"  ({r['data']})")
        lines.append("             CPU ms/interval: " + _cpu(r))
        lines += _timeline(r)
    if doc.get("risk_analysis"):
        a = doc["risk_analysis"]
        lines.append(f"analysis   {a['todo']}" if "todo" in a else
                     f"analysis   {a['runs_per_s']:,.0f} runs/s of {a['intervals']} intervals "
                     f"({a['runs_per_s_cached']:,.0f} runs/s with windows cached; setup {a['setup_s']} s)")
    if doc.get("memory"):
        mem = doc["memory"]
        per = "  ".join(f"{k} {v:.0f}" for k, v in mem["peak_rss_mb"].items())
        infra = "  ".join(f"{k} {v:.0f}" for k, v in mem["infra_peak_rss_mb"].items())
        lines.append(f"memory     peak RSS MB: {per}  = {mem['services_total_mb']:.0f} MB  (infra: {infra})")
        lines.append(f"           PSS at the end (shared pages counted once): {mem['services_total_pss_mb']:.0f} MB")
    if doc.get("startup"):
        s = doc["startup"]
        lines.append(f"startup    polybot up -> every service's heartbeat: {s['healthy_s']} s (median of "
                     f"{s['runs']}: {s['healthy_s_all']}); `polybot up` itself returned after "
                     f"{s['up_returned_s']} s; status --json healthy: {s['status_healthy']}")
    lines += ["", "targets"]
    for name, t in doc["targets"].items():
        mark = {True: "ok  ", False: "MISS", None: "-   "}[t["met"]]
        lines.append(f"  {mark} {name:<28} {t['value']!s:>10}  (target {t['target']})")
    return "\n".join(lines)


def _timeline(run: dict) -> list[str]:
    rows = [(name, s) for name, s in (run.get("timeline") or {}).items() if s["n"]]
    return [f"             {name:<42} p50 {_ms(s['p50_ms'])}  p90 {_ms(s['p90_ms'])}" for name, s in rows]


def _cpu(run: dict) -> str:
    return "  ".join(f"{k} {v:.1f}" for k, v in (run.get("cpu_ms_per_interval") or {}).items())


def _ms(value) -> str:
    return "-" if value is None else f"{value:7.2f} ms"
