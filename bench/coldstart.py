#!/usr/bin/env python3
"""Cold start, cold first delivery and memory of the release binary, against
the moto server that scripts/bench starts (scripts/lib.sh start_moto) with
`examples/demo setup`'s table and queue; with moto's venv Python (boto3).

  a. cold start: the binary in Lambda mode against the Runtime API below,
     from just before the spawn to its first GET next, and VmHWM then; taking
     turns with the receiver trusting one root certificate and, with
     --reference-binary, a bare lambda_runtime function.
  b. cold first delivery: the same, then Gu1's approved example, byte for
     byte, to the POST .../response, with the handler's own `latency_ms`;
     then a warm delivery. split: b through a proxy timing moto's calls.
  c. memory: `serve`, N mixed deliveries; VmHWM/VmRSS at 0, 10, 50, 100 %.

Bodies are signed by `bench_work sign` (the crate's `local::sign_hex`). Only
127.0.0.1; every loop bounded; every process it starts ended on exit.
"""
import argparse, concurrent.futures, http.client, http.server, json, os, queue, re, shutil, signal, ssl  # noqa: E401
import statistics, subprocess, sys, tempfile, threading, time, urllib.parse  # noqa: E401

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "bench-secret-0123456789abcdef"
API = "/2018-06-01/runtime"
TERMINAL = ["approved", "rejected", "abandoned", "cancelled", "expired"]
HOP = ("content-length", "transfer-encoding", "connection", "server", "date")
INVOCATION = [
    ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:gu1-webhook-bench"),
    ("Content-Type", "application/json"),
]
CHILDREN = []
signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))


def spawn(args, env, stderr, stdout=subprocess.DEVNULL):
    CHILDREN.append(subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr))
    return CHILDREN[-1]


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def clean_up(workdir, keep_logs):
    """Ends every process spawned, then removes `workdir` (or says where its
    logs are kept)."""
    for proc in CHILDREN:
        stop(proc)
    if keep_logs:
        print(f"logs kept in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def memory_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return {key: int(fields[key].split()[0]) for key in ("VmHWM", "VmRSS")}


def stats(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    deciles = statistics.quantiles(values * 2 if len(values) == 1 else values, n=10, method="inclusive")
    figures = {"median": statistics.median(values), "p90": deciles[8], "min": values[0], "max": values[-1]}
    return {**{k: round(v, 3) for k, v in figures.items()}, "n": len(values)}


class Server(http.server.ThreadingHTTPServer):
    """`handler` on a free loopback port, in the background."""

    daemon_threads, closed = True, False

    def __init__(self, handler):
        super().__init__(("127.0.0.1", 0), handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def handle_error(self, request, client_address):
        # A stopped process resets its connection: expected, no traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close(self):
        self.closed = True
        self.shutdown()
        self.server_close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle and
    # delayed ACK would add up to 40 ms to each answer.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, code, body, headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RuntimeApi(Handler):
    """One process's Lambda Runtime API, the routes its runtime client uses:
    hands out `server.events`, logs (kind, request id, ns, body) in `server.log`."""

    def do_GET(self):
        now, api = time.perf_counter_ns(), self.server
        if self.path != f"{API}/invocation/next":
            return self.reply(404, b"{}")
        api.record("next", None, now)
        while not api.closed:
            try:
                request_id, event = api.events.get(timeout=0.05)
            except queue.Empty:
                continue
            api.record("event_sent", request_id, time.perf_counter_ns())
            deadline = str(int(time.time() * 1000) + 30_000)
            ids = [("Lambda-Runtime-Aws-Request-Id", request_id), ("Lambda-Runtime-Deadline-Ms", deadline)]
            return self.reply(200, event, ids + INVOCATION)
        self.close_connection = True

    def do_POST(self):
        now, body = time.perf_counter_ns(), self.body()
        m = re.fullmatch(API + r"/(?:invocation/([^/]+)/(response|error)|init/error)", self.path)
        if not m:
            return self.reply(404, b"{}")
        self.server.record(m[2] or "init_error", m[1], now, body)
        self.reply(202, b'{"status":"OK"}')


class Lambda(Server):
    """`binary` in Lambda mode with a Runtime API of its own; `t0` just before
    the spawn."""

    def __init__(self, binary, env, err):
        self.events, self.log, self.cond = queue.Queue(), [], threading.Condition()
        super().__init__(RuntimeApi)
        env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{self.port}")
        self.t0 = time.perf_counter_ns()
        self.proc = spawn([binary], env, err)

    def record(self, kind, request_id, t, body=None):
        with self.cond:
            self.log.append((kind, request_id, t, body))
            self.cond.notify_all()

    def wait_for(self, kinds, request_id=None, deadline=None):
        """The first entry of one of `kinds` (for `request_id`), or None."""
        deadline = deadline or time.monotonic() + 20
        with self.cond:
            while self.proc.poll() is None and time.monotonic() < deadline:
                for entry in self.log:
                    if entry[0] in kinds and request_id in (None, entry[1]):
                        return entry
                self.cond.wait(0.05)
        return None

    def ms(self, entry, since=None):
        return (entry[2] - (since[2] if since else self.t0)) / 1e6

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop(self.proc)
        self.close()


class TimingProxy:
    """Forwards every request to moto, recording how long moto took for each
    operation (X-Amz-Target, e.g. DynamoDB_20120810.UpdateItem)."""

    def __init__(self, upstream):
        self.calls, proxy = [], self

        class Forward(Handler):
            def forward(self):
                body = self.body()
                action = re.search(rb"Action=(\w+)", body)
                op = self.headers.get("X-Amz-Target") or (action[1].decode() if action else self.command)
                if not hasattr(self, "upstream"):
                    self.upstream = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                started = time.perf_counter()
                self.upstream.request(self.command, self.path, body=body, headers=headers)
                resp = self.upstream.getresponse()
                data = resp.read()
                proxy.calls.append((op, (time.perf_counter() - started) * 1000))
                self.reply(resp.status, data, [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP])

            do_GET = do_POST = do_PUT = do_DELETE = forward

        self.server = Server(Forward)


def session_body(template, session_id, status):
    doc = json.loads(template)
    doc["event"] = "biometric.session_" + ("created" if status == "pending" else status)
    payload = doc["payload"]
    payload.update(id=session_id, entityId=f"entity-{session_id}", status=status)
    payload["entity"]["id"] = payload["entityId"]
    if status in ("pending", "in_progress"):
        payload.pop("completedAt", None)
        payload.pop("decision", None)
    elif status == "rejected":
        payload["rejectionCode"] = "FACE_MATCH_SCORE_LOW"
        payload["rejectionMessage"] = "Face match score 28.5 is below organization threshold 30"
    return json.dumps(doc, indent=2).encode()


def sign(args, bodies):
    """Gu1's signature of each body, by `bench_work sign`."""
    lines = "".join(json.dumps(body.decode()) + "\n" for body in bodies)
    run = subprocess.run([args.signer, "sign", SECRET], input=lines, capture_output=True, text=True, check=True)
    return run.stdout.split()


def apigw_event(body, signature, name):
    """The committed approved event (API Gateway, payload v2) around `body`."""
    with open(os.path.join(ROOT, "events", "03-session-approved.json")) as f:
        event = json.load(f)
    event["headers"].update({"x-webhook-id": f"wh-{name}", "x-webhook-signature": signature})
    event["requestContext"]["requestId"] = f"req-{name}"
    event["body"] = body.decode()
    return json.dumps(event).encode()


def environment(args, workdir, endpoint, lambda_mode=True):
    env = dict(PATH="/usr/bin:/bin", HOME=workdir, RUST_LOG="info", AWS_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_ENDPOINT_URL=endpoint,
               GU1_WEBHOOK_SECRETS=SECRET, SESSIONS_TABLE=args.table, OUTCOMES_QUEUE_URL=args.queue_url)
    if lambda_mode:  # 128 MB; Lambda adds AWS_LAMBDA_RUNTIME_API
        env.update(AWS_LAMBDA_FUNCTION_NAME="gu1-webhook-bench", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
                   AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                   AWS_LAMBDA_LOG_STREAM_NAME="2026/11/25/[$LATEST]bench",
                   AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/gu1-webhook-bench")
    return env


def start_once(binary, env, err):
    """(ms from the spawn to the first GET next, VmHWM MiB then), or None."""
    with Lambda(binary, env, err) as fn:
        entry = fn.wait_for(("next", "init_error"), deadline=time.monotonic() + 10)
        if entry and entry[0] == "next":
            try:
                return fn.ms(entry), memory_kib(fn.proc.pid)["VmHWM"] / 1024
            except OSError:
                return fn.ms(entry), None
    return None


def one_root_certificate(workdir):
    """A file with the first certificate of the system's CA bundle, or None."""
    paths = ssl.get_default_verify_paths()
    for bundle in (paths.cafile, paths.openssl_cafile):
        if bundle and os.path.isfile(bundle):
            with open(bundle) as f:
                first = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", f.read(), re.S)
            if first:
                with open(os.path.join(workdir, "one-root.pem"), "w") as f:
                    f.write(first[0])
                return f.name
    return None


def phase_coldstart(args, env, workdir):
    """(a) --start-runs of each variant, taking turns run by run so that all
    see the same machine (100: the p90 of 30 is one noisy moment)."""
    variants = {"receiver": (args.binary, env)}
    one_root = one_root_certificate(workdir)
    if one_root:
        variants["receiver_one_root"] = (args.binary, dict(env, SSL_CERT_FILE=one_root))
    if args.reference_binary:
        variants["reference"] = (args.reference_binary, env)
    runs, failures = {name: [] for name in variants}, 0
    deadline = time.monotonic() + args.phase_timeout
    for i in range(args.start_runs):
        if time.monotonic() > deadline:
            break
        for name, (binary, variant_env) in variants.items():
            with open(os.path.join(workdir, f"start-{name}-{i}.stderr"), "wb") as err:
                measured = start_once(binary, variant_env, err)
            failures += measured is None
            runs[name] += [measured] if measured else []

    def figures(name, what):
        ms, mib = zip(*runs[name]) if runs[name] else ((), ())
        return {"what": what, "ms": stats(ms), "vmhwm_at_first_next_mib": stats(mib)}

    result = figures("receiver", "process spawn -> first GET /runtime/invocation/next (Lambda mode, 128 MB settings)")
    result["failures"] = failures
    if one_root:
        result["one_root"] = figures(
            "receiver_one_root",
            "the same binary with SSL_CERT_FILE naming one root certificate: init without the system trust store",
        )
    if args.reference_binary:
        what = "examples/bare_runtime.rs: lambda_runtime alone, no configuration, no SDK"
        result["reference"] = {**figures("reference", what), "binary_bytes": os.path.getsize(args.reference_binary)}
    return result


def delivery_logs(path):
    """(result, latency_ms) of each "delivery" log line."""
    with open(path, "rb") as f:
        docs = [json.loads(line) for line in f if line.startswith(b"{") and line.rstrip().endswith(b"}")]
    return [(d.get("result"), d.get("latency_ms")) for d in docs if "delivery" in (d.get("message"), d.get("fields", {}).get("message"))]


def one_cold_delivery(args, env, workdir, ddb, name):
    """Spawn, Gu1's approved example (its session forgotten first), then a
    warm delivery of another session."""
    with open(os.path.join(ROOT, "bench", "inputs", "approved.json"), "rb") as f:
        body = f.read()
    warm = session_body(body, f"bio-warm-{name}", "approved")
    signatures = sign(args, [body, warm])
    key = {"sessionId": {"S": json.loads(body)["payload"]["id"]}}
    ddb.delete_item(TableName=args.table, Key=key)
    errpath = os.path.join(workdir, f"{name}.stderr")
    with open(errpath, "wb") as err, Lambda(args.binary, env, err) as fn:
        fn.events.put((f"req-{name}-1", apigw_event(body, signatures[0], f"{name}-1")))
        nxt = fn.wait_for(("next",))
        sent = fn.wait_for(("event_sent",), f"req-{name}-1")
        resp = fn.wait_for(("response", "error"), f"req-{name}-1")
        if not (nxt and sent and resp) or resp[0] != "response":
            return None
        memory = memory_kib(fn.proc.pid)
        fn.events.put((f"req-{name}-2", apigw_event(warm, signatures[1], f"{name}-2")))
        sent2 = fn.wait_for(("event_sent",), f"req-{name}-2")
        resp2 = fn.wait_for(("response", "error"), f"req-{name}-2")
    logged = delivery_logs(errpath) + [(None, None)] * 2
    item = ddb.get_item(TableName=args.table, Key=key).get("Item") or {}
    return {
        "init_ms": fn.ms(nxt),
        "handler_total_ms": fn.ms(resp, sent),
        "spawn_to_response_ms": fn.ms(resp),
        "handler_latency_ms": logged[0][1],
        "result": logged[0][0],
        "status_code": json.loads(resp[3]).get("statusCode"),
        "published": "outcomePublishedAt" in item,
        "warm_handler_total_ms": fn.ms(resp2, sent2) if (sent2 and resp2) else None,
        "warm_handler_latency_ms": logged[1][1],
        "vmhwm_after_first_mib": memory["VmHWM"] / 1024,
    }


def phase_first_delivery(args, env, workdir, ddb):
    """(b) --runs cold first deliveries."""
    runs, failures = [], 0
    deadline = time.monotonic() + args.phase_timeout
    for i in range(args.runs):
        if time.monotonic() > deadline:
            break
        run = one_cold_delivery(args, env, workdir, ddb, f"first-{i}")
        if run and run["status_code"] == 200 and run["published"]:
            runs.append(run)
        else:
            failures += 1
            print(f"first delivery run {i}: {run}", file=sys.stderr)
    keys = ["spawn_to_response_ms", "init_ms", "handler_total_ms", "handler_latency_ms", "warm_handler_total_ms",
            "warm_handler_latency_ms", "vmhwm_after_first_mib"]
    return {
        "what": "spawn -> POST /runtime/invocation/{id}/response for one signed approved delivery "
        "(UpdateItem applied, SendMessage to FIFO, UpdateItem mark published) against moto",
        "results": sorted({r["result"] for r in runs if r["result"]}),
        **{k: stats([r[k] for r in runs]) for k in keys},
        "failures": failures,
    }


def phase_split(args, workdir, ddb):
    """(split) moto's own time per AWS call of the first delivery."""
    proxy = TimingProxy(urllib.parse.urlsplit(args.endpoint))
    env = environment(args, workdir, f"http://127.0.0.1:{proxy.server.port}")
    per_op, handler, failures = {}, [], 0
    try:
        for i in range(args.split_runs):
            proxy.calls = []
            run = one_cold_delivery(args, env, workdir, ddb, f"split-{i}")
            if run is None or run["status_code"] != 200:
                failures += 1
                continue
            handler.append(run["handler_latency_ms"])
            # The first delivery's three calls: apply, send, mark published.
            for n, (op, ms) in enumerate(proxy.calls[:3]):
                per_op.setdefault(f"{n + 1}:{op}", []).append(ms)
    finally:
        proxy.server.close()
    return {
        "what": "moto's own time per AWS call of the first delivery, measured by a proxy in front of moto "
        "(the handler latency here includes the proxy's overhead)",
        "moto_ms_by_call": {op: stats(v) for op, v in sorted(per_op.items())},
        "handler_latency_ms_via_proxy": stats(handler),
        "failures": failures,
    }


def rss_workload(args):
    """Sessions in windows of 50, each pending -> in_progress -> terminal ->
    the same terminal again; every 10th also a stale in_progress, every 50th
    a conflicting terminal; every 100th delivery a bad signature."""
    with open(os.path.join(ROOT, "bench", "inputs", "approved.json"), "rb") as f:
        template = f.read()
    bodies, first = [], 0
    while len(bodies) < args.deliveries:
        for step in range(6):
            for j in range(first, first + 50):
                status = [
                    "pending", "in_progress", TERMINAL[j % 5], TERMINAL[j % 5],
                    "in_progress" if j % 10 == 0 else None, TERMINAL[(j + 1) % 5] if j % 50 == 0 else None,
                ][step]
                if status:
                    bodies.append(session_body(template, f"bio-rss-{j:06d}", status))
        first += 50
    bodies = bodies[: args.deliveries]
    signatures = sign(args, bodies)
    return [(body, signature if (k + 1) % 100 else "0" * 64, f"wh-rss-{k + 1}")
            for k, (body, signature) in enumerate(zip(bodies, signatures))]


def phase_rss(args, env, workdir):
    """(c) serve: N deliveries, VmHWM/VmRSS at 0, 10 %, 50 %, 100 %."""
    n, work, codes, samples, lock = args.deliveries, rss_workload(args), {}, [], threading.Lock()
    errpath, local = os.path.join(workdir, "serve.stderr"), threading.local()
    with open(errpath, "wb") as err:
        proc = spawn([args.binary, "serve", "--listen", "127.0.0.1:0"], env, err)
    try:
        for _ in range(500):  # its first log line names the port it got
            with open(errpath, "rb") as f:
                listening = re.search(rb'"address":"127\.0\.0\.1:(\d+)"', f.read())
            if listening or proc.poll() is not None:
                break
            time.sleep(0.02)
        if not listening:
            raise SystemExit(f"serve did not listen within 10 s; see {errpath}")
        started = time.monotonic()
        samples.append({"deliveries": 0, **memory_kib(proc.pid)})

        def post(delivery):
            if time.monotonic() > started + args.phase_timeout:
                return
            if not hasattr(local, "conn"):  # one keep-alive connection per client
                local.conn = http.client.HTTPConnection("127.0.0.1", int(listening[1]), timeout=10)
            body, signature, webhook_id = delivery
            headers = {"content-type": "application/json", "x-webhook-signature": signature, "x-webhook-id": webhook_id}
            try:
                local.conn.request("POST", "/webhooks/gu1", body=body, headers=headers)
                with local.conn.getresponse() as resp:
                    code = resp.status
                    resp.read()
            except (OSError, http.client.HTTPException):
                local.conn.close()
                code = "error"
            with lock:
                codes[code] = codes.get(code, 0) + 1
                if sum(codes.values()) in (n // 10, n // 2, n):
                    samples.append({"deliveries": sum(codes.values()), **memory_kib(proc.pid)})

        with concurrent.futures.ThreadPoolExecutor(args.clients) as clients:
            list(clients.map(post, work))
        elapsed, done = time.monotonic() - started, sum(codes.values())
    finally:
        final = memory_kib(proc.pid) if proc.poll() is None else {"VmHWM": 0, "VmRSS": 0}
        stop(proc)
    mib = lambda s: {"vmhwm_mib": round(s["VmHWM"] / 1024, 2), "vmrss_mib": round(s["VmRSS"] / 1024, 2)}  # noqa: E731
    return {
        "what": f"gu1-webhook serve, {args.clients} keep-alive clients, mixed statuses over many sessions, "
        "1 % bad signatures",
        "deliveries_requested": n,
        "deliveries_done": done,
        "seconds": round(elapsed, 1),
        "deliveries_per_second": round(done / elapsed, 1) if elapsed else None,
        "status_codes": {str(k): v for k, v in sorted(codes.items(), key=lambda kv: str(kv[0]))},
        "samples": [{"deliveries": s["deliveries"], **mib(s)} for s in samples],
        "final": mib(final),
        "peak_rss_mib": round(max(s["VmHWM"] for s in samples + [final]) / 1024, 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("--binary", "--signer", "--endpoint", "--table", "--queue-url", "--out"):
        parser.add_argument(name, required=True)
    parser.add_argument("--reference-binary", help="a bare lambda_runtime function, timed alongside in phase a")
    parser.add_argument("--smoke", action="store_true", help="3 runs, 300 deliveries")
    for name, default in ("runs", 30), ("start-runs", 100), ("split-runs", 10), ("deliveries", 10_000), ("clients", 4):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--phases", default="a,b,split,c")
    parser.add_argument("--phase-timeout", type=float, default=600, help="seconds per phase")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.start_runs, args.split_runs, args.deliveries, args.phase_timeout = 3, 3, 2, 300, 60
    phases = args.phases.split(",")
    workdir = tempfile.mkdtemp(prefix="gu1-coldstart-")
    ddb = boto3.client("dynamodb", endpoint_url=args.endpoint, region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    results = {"binary": args.binary, "binary_bytes": os.path.getsize(args.binary)}
    env = environment(args, workdir, args.endpoint)
    try:
        if "a" in phases:
            results["coldstart"] = phase_coldstart(args, env, workdir)
            print(f"cold start: {results['coldstart']['ms']}", file=sys.stderr)
        if "b" in phases:
            results["first_delivery"] = phase_first_delivery(args, env, workdir, ddb)
            print(f"first delivery: {results['first_delivery']['spawn_to_response_ms']}", file=sys.stderr)
        if "split" in phases and args.split_runs > 0:
            results["first_delivery_split"] = phase_split(args, workdir, ddb)
            print(f"split: {results['first_delivery_split']['moto_ms_by_call']}", file=sys.stderr)
        if "c" in phases:
            results["rss"] = phase_rss(args, environment(args, workdir, args.endpoint, False), workdir)
            print(f"rss: {results['rss']['samples']}", file=sys.stderr)
    finally:
        clean_up(workdir, args.keep_logs)
    with open(args.out, "w") as f:
        f.write(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
