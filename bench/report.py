#!/usr/bin/env python3
"""Gathers the pieces `scripts/bench` produced into one results file, prints
a summary, and (full runs) checks the bars. Stdlib only.

    python3 bench/report.py --mode full|smoke --criterion DIR --pieces DIR --out FILE [--no-check]
"""

import argparse
import datetime
import glob
import json
import os
import platform
import subprocess
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The bars. Sizes in SI units (the stricter reading of "MB").
BARS = {
    # Cold start at most 1.5x a bare lambda_runtime function, same run, taking
    # turns (median and p90).
    "cold_start_ratio": 1.5,
    "delivery_cpu_median_ns": 10_000.0,
    "zip_bytes": 3_500_000,
    "peak_rss_bytes": 30_000_000,
    # "Flat": VmHWM grows by at most this much between 10 % and 100 % of the deliveries.
    "rss_growth_bytes": 2 * 1024 * 1024,
}


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None


def machine():
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "rustc": sh("rustc", "--version"),
        "python": platform.python_version(),
        "node": sh("node", "--version"),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": sh("git", "-C", ROOT, "rev-parse", "--short", "HEAD"),
        "git_dirty": bool(sh("git", "-C", ROOT, "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock")),
    }


def release_profile():
    with open(os.path.join(ROOT, "Cargo.toml"), "rb") as f:
        profile = tomllib.load(f).get("profile", {}).get("release", {})
    overrides = {k: v for k, v in os.environ.items() if k.startswith("CARGO_PROFILE_RELEASE_")}
    return {"cargo_toml": profile, "env_overrides": overrides}


def percentile(values, p):
    values = sorted(values)
    rank = p * (len(values) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (rank - lo)


def criterion_results(directory):
    """Every benchmark under DIR: median (criterion's estimate) and the spread
    of the per-iteration time of its samples."""
    out = {}
    for bench_json in sorted(glob.glob(os.path.join(directory, "**", "new", "benchmark.json"), recursive=True)):
        new = os.path.dirname(bench_json)
        with open(bench_json) as f:
            meta = json.load(f)
        with open(os.path.join(new, "estimates.json")) as f:
            est = json.load(f)
        with open(os.path.join(new, "sample.json")) as f:
            sample = json.load(f)
        per_iter = [t / n for t, n in zip(sample["times"], sample["iters"]) if n]
        ci = est["median"]["confidence_interval"]
        out[meta["full_id"]] = {
            "median_ns": round(est["median"]["point_estimate"], 1),
            "median_ci95_ns": [round(ci["lower_bound"], 1), round(ci["upper_bound"], 1)],
            "mean_ns": round(est["mean"]["point_estimate"], 1),
            "p90_ns": round(percentile(per_iter, 0.9), 1),
            "min_ns": round(min(per_iter), 1),
            "max_ns": round(max(per_iter), 1),
            "samples": len(per_iter),
            "bytes": (meta.get("throughput") or {}).get("Bytes"),
        }
    return out


def load(path):
    if path and os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return None


def compare_ratios(pieces):
    rust = pieces.get("rust")
    if not rust:
        return {}
    out = {}
    for other in ("python", "node"):
        if not pieces.get(other):
            continue
        out[other] = {
            name: round(pieces[other]["results"][name]["median_ns"] / r["median_ns"], 2)
            for name, r in rust["results"].items()
            if name in pieces[other]["results"]
        }
    return out


def check_bars(results):
    checks = []

    def bar(name, value, limit, ok, unit):
        checks.append({"bar": name, "value": value, "limit": limit, "unit": unit, "pass": bool(ok)})

    cold = (results.get("coldstart") or {}).get("coldstart", {})
    mine, bare = cold.get("ms"), (cold.get("reference") or {}).get("ms")
    if mine and bare:
        for stat in ("median", "p90"):
            ratio = round(mine[stat] / bare[stat], 2)
            bar(f"cold start {stat} / bare lambda_runtime {stat}", ratio, BARS["cold_start_ratio"],
                ratio <= BARS["cold_start_ratio"], "x")
    # Thread CPU time when the bench measured it (immune to the load of a
    # shared machine), else wall time.
    crit = results.get("criterion", {})
    d = crit.get("delivery_cpu/approved/1_secrets") or crit.get("delivery/approved/1_secrets")
    if d:
        bar("per-delivery CPU median (approved, 1 secret)", d["median_ns"], BARS["delivery_cpu_median_ns"],
            d["median_ns"] <= BARS["delivery_cpu_median_ns"], "ns")
    for other, ratios in results.get("compare_ratios", {}).items():
        worst = min(ratios.values()) if ratios else None
        if worst is not None:
            bar(f"Rust faster than {other} (smallest ratio {other}/Rust)", worst, 1.0, worst > 1.0, "x")
    z = results.get("zip", {}).get("bytes")
    if z:
        bar("bootstrap.zip size", z, BARS["zip_bytes"], z <= BARS["zip_bytes"], "bytes")
    rss = (results.get("coldstart") or {}).get("rss")
    if rss and rss.get("samples"):
        peak = rss["peak_rss_mib"] * 1024 * 1024
        bar("peak RSS (serve, all deliveries)", round(peak), BARS["peak_rss_bytes"],
            peak <= BARS["peak_rss_bytes"], "bytes")
        samples = rss["samples"]
        if len(samples) >= 3 and rss["deliveries_done"] == rss["deliveries_requested"]:
            growth = (samples[-1]["vmhwm_mib"] - samples[1]["vmhwm_mib"]) * 1024 * 1024
            bar("RSS flat (VmHWM growth 10 % -> 100 %)", round(growth), BARS["rss_growth_bytes"],
                growth <= BARS["rss_growth_bytes"], "bytes")
        else:
            bar("RSS flat: every delivery done", rss["deliveries_done"], rss["deliveries_requested"], False, "")
    return checks


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["full", "smoke"], required=True)
    p.add_argument("--criterion", required=True)
    p.add_argument("--pieces", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--no-check", action="store_true")
    args = p.parse_args()

    pieces = {name: load(os.path.join(args.pieces, f"compare-{name}.json")) for name in ("rust", "python", "node")}
    results = {
        "mode": args.mode,
        "machine": machine(),
        "profile_release": release_profile(),
        "build": load(os.path.join(args.pieces, "build.json")),
        "criterion": criterion_results(args.criterion),
        "compare": pieces,
        "compare_ratios": compare_ratios(pieces),
        "coldstart": load(os.path.join(args.pieces, "coldstart.json")),
        "zip": load(os.path.join(args.pieces, "zip.json")),
    }
    results["bars"] = check_bars(results)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")

    print(f"\nResults ({args.mode}) written to {os.path.relpath(args.out, os.getcwd())}")
    for bench_id, r in results["criterion"].items():
        print(f"  criterion {bench_id:<40} median {r['median_ns'] / 1000:9.3f} us  "
              f"p90 {r['p90_ns'] / 1000:9.3f} us")
    for lang, piece in pieces.items():
        if piece:
            for name, r in piece["results"].items():
                print(f"  compare {lang:<7} {name:<10} median {r['median_ns'] / 1000:9.3f} us  "
                      f"p90 {r['p90_ns'] / 1000:9.3f} us")
    for other, ratios in results["compare_ratios"].items():
        print(f"  ratio {other}/rust: " + ", ".join(f"{k} {v}x" for k, v in ratios.items()))
    cold = (results["coldstart"] or {}).get("coldstart", {})
    for name, label in (("one_root", "receiver trusting one root"), ("reference", "bare lambda_runtime")):
        if cold.get("ms") and (cold.get(name) or {}).get("ms"):
            mine, other = cold["ms"]["median"], cold[name]["ms"]["median"]
            print(f"  cold start median: receiver {mine} ms, {label} {other} ms (same run)")
    for check in results["bars"]:
        # A smoke run's few iterations say nothing about the bars.
        status = "PASS" if check["pass"] else "FAIL"
        status = "not judged (smoke)" if args.mode == "smoke" else status
        print(f"  [{status}] {check['bar']}: {check['value']} {check['unit']} (bar {check['limit']})")
    if args.mode == "full" and not args.no_check and not all(c["pass"] for c in results["bars"]):
        print("some bars failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
