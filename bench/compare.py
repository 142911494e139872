#!/usr/bin/env python3
"""The per-delivery CPU work in Python, for comparison with the Rust receiver.

Same work as `examples/bench_work.rs` and `bench/compare.js`, with the
standard library only: verify the hex HMAC-SHA256 signature
(`hmac.digest` + `hmac.compare_digest`), parse the body (`json.loads`),
check the envelope and read `payload.status`, decide (new session: applied).
Same inputs, same timing: warm-up, calibrate a batch to --min-batch-ms,
time --batches batches, report per-iteration median/p10/p90/min/max in ns.

    python3 bench/compare.py [--inputs bench/inputs] [--batches 30] [--min-batch-ms 20]
"""

import argparse, hashlib, hmac, json, platform, statistics, time  # noqa: E401

SECRET = b"bench-secret-0123456789abcdef"
INPUTS = [("approved", "approved.json"), ("large_64k", "large-64k.json")]
PREFIX = "biometric.session_"
RANK = {"pending": 0, "in_progress": 1, "approved": 2, "rejected": 2,
        "abandoned": 2, "cancelled": 2, "expired": 2}


def verdict(stored, incoming):
    if stored is None or RANK[incoming] > RANK[stored]:
        return "applied"
    if RANK[incoming] < RANK[stored]:
        return "stale"
    return "duplicate" if incoming == stored else "conflict"


def work(secret, body, header):
    try:
        tag = bytes.fromhex(header.removeprefix("sha256="))
    except ValueError:
        raise SystemExit("malformed signature")
    if not hmac.compare_digest(hmac.digest(secret, body, hashlib.sha256), tag):
        raise SystemExit("signature refused")
    doc = json.loads(body)
    event = doc["event"]
    if not isinstance(event, str) or not event.startswith(PREFIX):
        raise SystemExit("not a session event")
    payload = doc["payload"]
    session_id = payload["id"]
    if not (isinstance(session_id, str) and 1 <= len(session_id) <= 100
            and session_id.isascii() and session_id.isprintable() and " " not in session_id):
        raise SystemExit("bad session id")
    status = payload["status"]
    if status not in RANK:
        raise SystemExit("unknown status")
    return len(verdict(None, status)) + len(session_id)


def time_batch(secret, body, header, iters):
    started = time.perf_counter_ns()
    sink = 0
    for _ in range(iters):
        sink += work(secret, body, header)
    return time.perf_counter_ns() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", default="bench/inputs")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--min-batch-ms", type=int, default=20)
    args = parser.parse_args()
    results = {}
    for name, file in INPUTS:
        with open(f"{args.inputs}/{file}", "rb") as f:
            body = f.read()
        header = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        warm_until = time.perf_counter() + 0.2
        while time.perf_counter() < warm_until:
            time_batch(SECRET, body, header, 10)
        iters = 1
        while time_batch(SECRET, body, header, iters) < args.min_batch_ms * 1e6:
            iters *= 2
        per_iter = sorted(time_batch(SECRET, body, header, iters) / iters for _ in range(args.batches))
        deciles = statistics.quantiles(per_iter, n=10, method="inclusive")
        results[name] = {"bytes": len(body), "median_ns": statistics.median(per_iter), "p10_ns": deciles[0],
                         "p90_ns": deciles[8], "min_ns": per_iter[0], "max_ns": per_iter[-1],
                         "batches": args.batches, "iters_per_batch": iters}
    runtime = f"{platform.python_implementation()} {platform.python_version()}"
    print(json.dumps({"language": "python", "runtime": runtime, "work": "verify_hex_parse_decide", "results": results}))


if __name__ == "__main__":
    main()
