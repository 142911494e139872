#!/usr/bin/env python3
"""Cold start, cold first delivery and memory of the release binary.

Runs with the Python of moto's venv (it needs boto3 and moto_server):

    $GU1_VENV_DIR/moto/bin/python bench/coldstart.py --binary target/release/gu1-webhook [--smoke] [--out FILE]

Phases (all loopback, every loop bounded in count and time, every process it
starts is ended on exit):

  a. cold start: a minimal Lambda Runtime API (this file, stdlib http.server)
     on 127.0.0.1; spawn the binary in Lambda mode; time from just before the
     spawn to its first `GET /2018-06-01/runtime/invocation/next`. Taking
     turns with it: the receiver trusting one root certificate (what the
     system trust store costs) and, with --reference-binary, a bare
     lambda_runtime function (examples/bare_runtime.rs).
  b. cold first delivery: the same, then one signed `approved` delivery
     (Gu1's example body, byte for byte) against moto; time to the
     `POST .../response`. Split: init (spawn -> GET next), handler total
     (GET next answered -> response POSTed) and the handler's own
     `latency_ms` from its "delivery" log line; then a second (warm) delivery
     in the same process. A few more runs go through a timing proxy in front
     of moto, which records how long each DynamoDB/SQS call took in moto.
  c. memory: `gu1-webhook serve` on 127.0.0.1 takes N signed deliveries
     (mixed statuses over many sessions, a few bad signatures); VmHWM/VmRSS
     from /proc/PID/status at 0, 10%, 50% and 100% of N.
"""

import argparse
import atexit
import hashlib
import hmac
import http.client
import http.server
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SECRET = "bench-secret-0123456789abcdef"
TABLE = "gu1-sessions-bench"
QUEUE = "gu1-outcomes-bench.fifo"
REGION = "us-east-1"
API_PREFIX = "/2018-06-01/runtime"

# ---------------------------------------------------------------- processes

CHILDREN = []


def spawn(args, **kwargs):
    proc = subprocess.Popen(args, **kwargs)
    CHILDREN.append(proc)
    return proc


def stop(proc, grace=3.0):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)
    if proc in CHILDREN:
        CHILDREN.remove(proc)


def stop_all():
    for proc in list(CHILDREN):
        try:
            stop(proc)
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass


atexit.register(stop_all)


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, deadline):
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.01)
    return False


def proc_memory_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0])
    return out


def stats(values):
    values = sorted(values)
    if not values:
        return None

    def pct(p):
        rank = p * (len(values) - 1)
        lo = int(rank)
        hi = min(lo + 1, len(values) - 1)
        return values[lo] + (values[hi] - values[lo]) * (rank - lo)

    return {
        "median": round(pct(0.5), 3),
        "p90": round(pct(0.9), 3),
        "min": round(values[0], 3),
        "max": round(values[-1], 3),
        "n": len(values),
    }


class QuietServer(http.server.ThreadingHTTPServer):
    """Stopping a process mid-connection resets it: expected, not worth a
    traceback on stderr."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


# ---------------------------------------------------------------- moto


class Moto:
    def __init__(self, venv_bin, workdir):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(workdir, "moto.log"), "w")
        self.proc = spawn(
            [os.path.join(venv_bin, "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).read()
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit("moto_server exited; see moto.log")
                time.sleep(0.1)
        else:
            raise SystemExit("moto_server did not start within 30 s")
        import boto3  # moto's venv has it

        session = boto3.session.Session(
            aws_access_key_id="bench", aws_secret_access_key="bench", region_name=REGION
        )
        self.ddb = session.client("dynamodb", endpoint_url=self.url)
        self.sqs = session.client("sqs", endpoint_url=self.url)
        self.ddb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "sessionId", "AttributeType": "S"},
                {"AttributeName": "pendingOutcome", "AttributeType": "S"},
                {"AttributeName": "terminalAt", "AttributeType": "N"},
            ],
            KeySchema=[{"AttributeName": "sessionId", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "UnpublishedOutcomes",
                    "KeySchema": [
                        {"AttributeName": "pendingOutcome", "KeyType": "HASH"},
                        {"AttributeName": "terminalAt", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        )
        self.queue_url = self.sqs.create_queue(
            QueueName=QUEUE,
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
        )["QueueUrl"]

    def forget(self, session_id):
        self.ddb.delete_item(TableName=TABLE, Key={"sessionId": {"S": session_id}})

    def item(self, session_id):
        return self.ddb.get_item(TableName=TABLE, Key={"sessionId": {"S": session_id}}).get("Item")

    def close(self):
        stop(self.proc)
        self.log.close()


# ---------------------------------------------------------------- timing proxy


class TimingProxy:
    """Forwards every request to moto and records how long moto took, by
    operation (X-Amz-Target, e.g. DynamoDB_20120810.UpdateItem)."""

    def __init__(self, upstream_port):
        self.calls = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY: headers and body go out in separate writes, and
            # Nagle + delayed ACK would add up to 40 ms to each answer.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                op = self.headers.get("X-Amz-Target") or "?"
                if op == "?":
                    m = re.search(rb"Action=(\w+)", body)
                    op = m.group(1).decode() if m else self.command
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                if not hasattr(self, "upstream"):
                    self.upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=10)
                started = time.perf_counter()
                self.upstream.request(self.command, self.path, body=body, headers=headers)
                resp = self.upstream.getresponse()
                data = resp.read()
                elapsed_ms = (time.perf_counter() - started) * 1000
                with proxy.lock:
                    proxy.calls.append((op, elapsed_ms))
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.port = free_port()
        self.server = QuietServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self):
        with self.lock:
            calls, self.calls = self.calls, []
        return calls

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- Runtime API


class RuntimeApi:
    """The four Lambda Runtime API routes the runtime client uses. Events are
    handed out per *generation* (one per spawned process), so that a GET left
    waiting by a killed process never takes the next process's event."""

    def __init__(self):
        self.gen = 0
        self.events = queue.Queue()
        self.cond = threading.Condition()
        self.log = []  # (gen, kind, request_id, perf_counter_ns, body)
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY: headers and body go out in separate writes, and
            # Nagle + delayed ACK would add up to 40 ms to each answer.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _reply(self, code, body=b"", headers=None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                now = time.perf_counter_ns()
                gen = api.gen
                if self.path != f"{API_PREFIX}/invocation/next":
                    return self._reply(404, b'{"errorMessage":"not found"}')
                api.record(gen, "next", None, now, None)
                while api.gen == gen:
                    try:
                        request_id, event = api.events.get(timeout=0.05)
                    except queue.Empty:
                        continue
                    if api.gen != gen:
                        return
                    api.record(gen, "event_sent", request_id, time.perf_counter_ns(), None)
                    return self._reply(
                        200,
                        event,
                        {
                            "Lambda-Runtime-Aws-Request-Id": request_id,
                            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30_000),
                            "Lambda-Runtime-Invoked-Function-Arn": (
                                "arn:aws:lambda:us-east-1:123456789012:function:gu1-webhook-bench"
                            ),
                            "Lambda-Runtime-Trace-Id": (
                                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0"
                            ),
                        },
                    )
                # The process this GET belonged to is gone: close quietly.
                self.close_connection = True

            def do_POST(self):
                now = time.perf_counter_ns()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                m = re.fullmatch(API_PREFIX + r"/invocation/([^/]+)/(response|error)", self.path)
                if m:
                    api.record(api.gen, m.group(2), m.group(1), now, body)
                    return self._reply(202, b'{"status":"OK"}')
                if self.path == f"{API_PREFIX}/init/error":
                    api.record(api.gen, "init_error", None, now, body)
                    return self._reply(202, b'{"status":"OK"}')
                return self._reply(404, b'{"errorMessage":"not found"}')

        self.port = free_port()
        self.server = QuietServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def record(self, gen, kind, request_id, t, body):
        with self.cond:
            self.log.append((gen, kind, request_id, t, body))
            self.cond.notify_all()

    def new_generation(self):
        with self.cond:
            self.gen += 1
            self.events = queue.Queue()
            return self.gen

    def push(self, request_id, event):
        self.events.put((request_id, event))

    def wait_for(self, gen, kinds, request_id=None, deadline=None, proc=None):
        """The first log entry of this generation of one of `kinds`."""
        with self.cond:
            while True:
                for entry in self.log:
                    if entry[0] == gen and entry[1] in kinds and (request_id is None or entry[2] == request_id):
                        return entry
                if proc is not None and proc.poll() is not None:
                    return None
                if time.monotonic() > deadline:
                    return None
                self.cond.wait(0.05)

    def close(self):
        self.gen += 1
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- bodies


def approved_body():
    with open(os.path.join(HERE, "inputs", "approved.json"), "rb") as f:
        return f.read()


def sign(body):
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def apigw_event(body, request_id, webhook_id):
    return json.dumps(
        {
            "version": "2.0",
            "routeKey": "POST /webhooks/gu1",
            "rawPath": "/webhooks/gu1",
            "rawQueryString": "",
            "headers": {
                "content-type": "application/json",
                "user-agent": "Gu1-Webhooks/1.0",
                "x-webhook-event": "biometric.session_approved",
                "x-webhook-id": webhook_id,
                "x-webhook-signature": sign(body),
            },
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "bench",
                "domainName": "bench.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "bench",
                "http": {
                    "method": "POST",
                    "path": "/webhooks/gu1",
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": "Gu1-Webhooks/1.0",
                },
                "requestId": request_id,
                "routeKey": "POST /webhooks/gu1",
                "stage": "$default",
                "time": "25/Nov/2026:12:00:00 +0000",
                "timeEpoch": int(time.time() * 1000),
            },
            "body": body.decode(),
            "isBase64Encoded": False,
        }
    ).encode()


def session_body(template, session_id, status, event_name=None):
    doc = json.loads(template)
    p = doc["payload"]
    doc["event"] = event_name or (
        "biometric.session_created" if status == "pending" else f"biometric.session_{status}"
    )
    p["id"] = session_id
    p["entityId"] = f"entity-{session_id}"
    p["status"] = status
    if status in ("pending", "in_progress"):
        for k in ("completedAt", "decision"):
            p.pop(k, None)
    elif status == "rejected":
        p["rejectionCode"] = "FACE_MATCH_SCORE_LOW"
        p["rejectionMessage"] = "Face match score 28.5 is below organization threshold 30"
    return json.dumps(doc, indent=2).encode()


# ---------------------------------------------------------------- phases


def base_env(workdir, endpoint, queue_url):
    home = os.path.join(workdir, "home")
    os.makedirs(home, exist_ok=True)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "RUST_LOG": "info",
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL": endpoint,
        "GU1_WEBHOOK_SECRETS": SECRET,
        "SESSIONS_TABLE": TABLE,
        "OUTCOMES_QUEUE_URL": queue_url,
    }


def lambda_env(workdir, endpoint, queue_url, api_port):
    env = base_env(workdir, endpoint, queue_url)
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api_port}",
            "AWS_LAMBDA_FUNCTION_NAME": "gu1-webhook-bench",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/25/[$LATEST]bench",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/gu1-webhook-bench",
        }
    )
    return env


def cold_start_once(binary, api, env, err):
    """Spawns `binary` in Lambda mode; (ms to its first GET next, VmHWM KiB)
    or None if it never asked for work."""
    gen = api.new_generation()
    t0 = time.perf_counter_ns()
    proc = spawn([binary], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        entry = api.wait_for(gen, ("next", "init_error"), deadline=time.monotonic() + 10, proc=proc)
        if not (entry and entry[1] == "next"):
            return None
        try:
            rss = proc_memory_kib(proc.pid)["VmHWM"]
        except (OSError, KeyError):
            rss = None
        return (entry[3] - t0) / 1e6, rss
    finally:
        stop(proc)


def one_root_certificate(workdir):
    """A file with the first certificate of the system's CA bundle, or None."""
    import ssl

    paths = ssl.get_default_verify_paths()
    for bundle in (paths.cafile, paths.openssl_cafile):
        if bundle and os.path.isfile(bundle):
            with open(bundle) as f:
                text = f.read()
            end = text.find("-----END CERTIFICATE-----")
            if end >= 0:
                path = os.path.join(workdir, "one-root.pem")
                with open(path, "w") as f:
                    f.write(text[text.find("-----BEGIN CERTIFICATE-----") : end + 25] + "\n")
                return path
    return None


def phase_coldstart(args, api, env, workdir):
    """(a) spawn -> first GET next, --start-runs times for each variant
    (100: a p90 of 30 runs is the third-slowest, one noisy moment), which take
    turns run by run so that all see the same machine: the receiver; the
    receiver trusting a single root certificate (SSL_CERT_FILE), which shows
    what loading the system's trust store costs; and, with
    --reference-binary, a bare lambda_runtime function."""
    variants = {"receiver": (args.binary, env)}
    one_root = one_root_certificate(workdir)
    if one_root:
        variants["receiver_one_root"] = (args.binary, dict(env, SSL_CERT_FILE=one_root))
    if args.reference_binary:
        variants["reference"] = (args.reference_binary, env)
    times_ms = {name: [] for name in variants}
    rss_kib = {name: [] for name in variants}
    failures = 0
    deadline_all = time.monotonic() + args.phase_timeout
    for i in range(args.start_runs):
        if time.monotonic() > deadline_all:
            break
        for name, (binary, variant_env) in variants.items():
            with open(os.path.join(workdir, f"coldstart-{name}-{i}.stderr"), "wb") as err:
                measured = cold_start_once(binary, api, variant_env, err)
            if measured is None:
                failures += 1
                continue
            times_ms[name].append(measured[0])
            if measured[1] is not None:
                rss_kib[name].append(measured[1])

    def figures(name):
        return {
            "ms": stats(times_ms[name]),
            "vmhwm_at_first_next_mib": stats([k / 1024 for k in rss_kib[name]]),
        }

    result = {
        "what": "process spawn -> first GET /runtime/invocation/next (Lambda mode, 128 MB settings)",
        **figures("receiver"),
        "failures": failures,
    }
    if "receiver_one_root" in variants:
        result["one_root"] = {
            "what": "the same binary with SSL_CERT_FILE naming one root certificate: init without the system trust store",
            **figures("receiver_one_root"),
        }
    if "reference" in variants:
        result["reference"] = {
            "what": "examples/bare_runtime.rs: lambda_runtime alone, no configuration, no SDK",
            "binary_bytes": os.path.getsize(args.reference_binary),
            **figures("reference"),
        }
    return result


def delivery_log_latency(path):
    out = []
    with open(path, "rb") as f:
        for line in f:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if doc.get("message") == "delivery" or doc.get("fields", {}).get("message") == "delivery":
                out.append((doc.get("result"), doc.get("latency_ms")))
    return out


def one_cold_delivery(args, api, env, workdir, moto, tag, i):
    body = approved_body()
    session_id = json.loads(body)["payload"]["id"]
    moto.forget(session_id)
    gen = api.new_generation()
    api.push(f"req-{tag}-{i}-1", apigw_event(body, f"req-{tag}-{i}-1", f"wh-{tag}-{i}-1"))
    warm_id = f"bio-warm-{tag}-{i}"
    warm_body = session_body(body, warm_id, "approved")
    errpath = os.path.join(workdir, f"{tag}-{i}.stderr")
    err = open(errpath, "wb")
    t0 = time.perf_counter_ns()
    proc = spawn([args.binary], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 20
        nxt = api.wait_for(gen, ("next",), deadline=deadline, proc=proc)
        sent = api.wait_for(gen, ("event_sent",), f"req-{tag}-{i}-1", deadline=deadline, proc=proc)
        resp = api.wait_for(gen, ("response", "error"), f"req-{tag}-{i}-1", deadline=deadline, proc=proc)
        if not (nxt and sent and resp) or resp[1] != "response":
            return None
        answer = json.loads(resp[4])
        memory_first = proc_memory_kib(proc.pid)
        # A second delivery in the same (now warm) process, another session.
        api.push(f"req-{tag}-{i}-2", apigw_event(warm_body, f"req-{tag}-{i}-2", f"wh-{tag}-{i}-2"))
        sent2 = api.wait_for(gen, ("event_sent",), f"req-{tag}-{i}-2", deadline=deadline, proc=proc)
        resp2 = api.wait_for(gen, ("response", "error"), f"req-{tag}-{i}-2", deadline=deadline, proc=proc)
    finally:
        stop(proc)
        err.close()
    logged = delivery_log_latency(errpath)
    item = moto.item(session_id) or {}
    return {
        "init_ms": (nxt[3] - t0) / 1e6,
        "handler_total_ms": (resp[3] - sent[3]) / 1e6,
        "spawn_to_response_ms": (resp[3] - t0) / 1e6,
        "handler_latency_ms": logged[0][1] if logged else None,
        "result": logged[0][0] if logged else None,
        "status_code": answer.get("statusCode"),
        "published": "outcomePublishedAt" in item,
        "warm_handler_total_ms": (resp2[3] - sent2[3]) / 1e6 if (sent2 and resp2) else None,
        "warm_handler_latency_ms": logged[1][1] if len(logged) > 1 else None,
        "vmhwm_after_first_mib": memory_first.get("VmHWM", 0) / 1024,
    }


def phase_first_delivery(args, api, env, workdir, moto):
    """(b) spawn -> response POST for one signed approved delivery."""
    runs, failures = [], 0
    deadline_all = time.monotonic() + args.phase_timeout
    for i in range(args.runs):
        if time.monotonic() > deadline_all:
            break
        run = one_cold_delivery(args, api, env, workdir, moto, "first", i)
        if run is None or run["status_code"] != 200 or not run["published"]:
            failures += 1
            if run is not None:
                print(f"first delivery run {i}: {run}", file=sys.stderr)
            continue
        runs.append(run)
    keys = [
        "spawn_to_response_ms",
        "init_ms",
        "handler_total_ms",
        "handler_latency_ms",
        "warm_handler_total_ms",
        "warm_handler_latency_ms",
        "vmhwm_after_first_mib",
    ]
    return {
        "what": "spawn -> POST /runtime/invocation/{id}/response for one signed approved delivery "
        "(UpdateItem applied, SendMessage to FIFO, UpdateItem mark published) against moto",
        "results": sorted({r["result"] for r in runs if r["result"]}),
        **{k: stats([r[k] for r in runs if r[k] is not None]) for k in keys},
        "failures": failures,
    }


def phase_split(args, api, workdir, moto):
    """(b') the same through a timing proxy: how long moto took per call."""
    proxy = TimingProxy(moto.port)
    env = lambda_env(workdir, f"http://127.0.0.1:{proxy.port}", moto.queue_url, api.port)
    per_op, handler, failures = {}, [], 0
    try:
        for i in range(args.split_runs):
            proxy.take()
            run = one_cold_delivery(args, api, env, workdir, moto, "split", i)
            calls = proxy.take()
            if run is None or run["status_code"] != 200:
                failures += 1
                continue
            handler.append(run["handler_latency_ms"])
            # Only the first delivery's calls: the first three (apply, send, mark).
            for n, (op, ms) in enumerate(calls[:3]):
                per_op.setdefault(f"{n + 1}:{op}", []).append(ms)
    finally:
        proxy.close()
    return {
        "what": "moto's own time per AWS call of the first delivery, measured by a proxy in front of moto "
        "(the handler latency here includes the proxy's overhead)",
        "moto_ms_by_call": {op: stats(v) for op, v in sorted(per_op.items())},
        "handler_latency_ms_via_proxy": stats([h for h in handler if h is not None]),
        "failures": failures,
    }


def phase_rss(args, env, workdir, moto):
    """(c) serve: N deliveries, VmHWM/VmRSS at 0, 10 %, 50 %, 100 %."""
    port = free_port()
    template = approved_body()
    terminal = ["approved", "rejected", "abandoned", "cancelled", "expired"]
    n = args.deliveries

    def deliveries():
        # Sessions in windows of 50: each goes pending -> in_progress ->
        # terminal -> duplicate terminal; every 10th also gets a stale
        # in_progress, every 50th a conflicting terminal, every 100th
        # delivery a bad signature.
        count, window, first = 0, 50, 0
        while True:
            sessions = [f"bio-rss-{j:06d}" for j in range(first, first + window)]
            for step in range(6):
                for j, sid in enumerate(sessions, start=first):
                    status = terminal[j % 5]
                    if step == 0:
                        body = session_body(template, sid, "pending")
                    elif step == 1:
                        body = session_body(template, sid, "in_progress")
                    elif step in (2, 3):
                        body = session_body(template, sid, status)
                    elif step == 4 and j % 10 == 0:
                        body = session_body(template, sid, "in_progress")
                    elif step == 5 and j % 50 == 0:
                        body = session_body(template, sid, terminal[(j + 1) % 5])
                    else:
                        continue
                    count += 1
                    signature = sign(body) if count % 100 else "0" * 64
                    yield body, signature, f"wh-rss-{count}"
                    if count >= n:
                        return
            first += window

    err = open(os.path.join(workdir, "serve.stderr"), "wb")
    out = open(os.path.join(workdir, "serve.stdout"), "wb")
    proc = spawn(
        [args.binary, "serve", "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=err,
    )
    checkpoints = sorted({0, n // 10, n // 2, n})
    samples, codes = [], {}
    lock = threading.Lock()
    done = [0]
    work = deliveries()
    deadline = time.monotonic() + args.phase_timeout
    started = time.monotonic()
    try:
        if not wait_port(port, time.monotonic() + 10):
            raise SystemExit("serve did not listen within 10 s; see serve.stderr")
        samples.append({"deliveries": 0, **proc_memory_kib(proc.pid)})

        def worker():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            while time.monotonic() < deadline:
                with lock:
                    item = next(work, None)
                if item is None:
                    return
                body, signature, wid = item
                try:
                    conn.request(
                        "POST",
                        "/webhooks/gu1",
                        body=body,
                        headers={
                            "content-type": "application/json",
                            "x-webhook-signature": signature,
                            "x-webhook-id": wid,
                        },
                    )
                    resp = conn.getresponse()
                    resp.read()
                    code = resp.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    code = "error"
                with lock:
                    codes[code] = codes.get(code, 0) + 1
                    done[0] += 1
                    if done[0] in checkpoints and done[0] > 0:
                        samples.append({"deliveries": done[0], **proc_memory_kib(proc.pid)})
            conn.close()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()) + 15)
    finally:
        final = proc_memory_kib(proc.pid) if proc.poll() is None else {}
        stop(proc)
        err.close()
        out.close()
    elapsed = time.monotonic() - started
    mib = lambda kib: round(kib / 1024, 2)  # noqa: E731
    return {
        "what": f"gu1-webhook serve, {args.clients} keep-alive clients, mixed statuses over many sessions, "
        "1 % bad signatures",
        "deliveries_requested": n,
        "deliveries_done": done[0],
        "seconds": round(elapsed, 1),
        "deliveries_per_second": round(done[0] / elapsed, 1) if elapsed else None,
        "status_codes": {str(k): v for k, v in sorted(codes.items(), key=lambda kv: str(kv[0]))},
        "samples": [
            {"deliveries": s["deliveries"], "vmhwm_mib": mib(s["VmHWM"]), "vmrss_mib": mib(s["VmRSS"])}
            for s in samples
        ],
        "final": {"vmhwm_mib": mib(final.get("VmHWM", 0)), "vmrss_mib": mib(final.get("VmRSS", 0))},
        "peak_rss_mib": mib(max([s["VmHWM"] for s in samples] + [final.get("VmHWM", 0)])),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "gu1-webhook"))
    # Run with moto's venv Python, so moto_server sits next to it by default.
    parser.add_argument("--moto-bin", default=os.path.dirname(sys.executable))
    parser.add_argument(
        "--reference-binary", help="a bare lambda_runtime function, timed alongside in phase a"
    )
    parser.add_argument("--smoke", action="store_true", help="3 runs, 300 deliveries")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--start-runs", type=int, default=100)
    parser.add_argument("--split-runs", type=int, default=10)
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--phases", default="a,b,split,c")
    parser.add_argument("--phase-timeout", type=float, default=600, help="seconds per phase")
    parser.add_argument("--out")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.start_runs, args.split_runs = 3, 3, 2
        args.deliveries, args.phase_timeout = 300, 60
    args.binary = os.path.abspath(args.binary)
    if not os.access(args.binary, os.X_OK):
        raise SystemExit(f"{args.binary} is not an executable; build it first")
    phases = set(args.phases.split(","))
    workdir = tempfile.mkdtemp(prefix="gu1-coldstart-")
    results = {"binary": args.binary, "binary_bytes": os.path.getsize(args.binary)}
    moto = api = None
    try:
        moto = Moto(args.moto_bin, workdir)
        api = RuntimeApi()
        env = lambda_env(workdir, moto.url, moto.queue_url, api.port)
        if "a" in phases:
            results["coldstart"] = phase_coldstart(args, api, env, workdir)
            print(f"cold start: {results['coldstart']['ms']}", file=sys.stderr)
        if "b" in phases:
            results["first_delivery"] = phase_first_delivery(args, api, env, workdir, moto)
            print(f"first delivery: {results['first_delivery']['spawn_to_response_ms']}", file=sys.stderr)
        if "split" in phases and args.split_runs > 0:
            results["first_delivery_split"] = phase_split(args, api, workdir, moto)
            print(f"split: {results['first_delivery_split']['moto_ms_by_call']}", file=sys.stderr)
        if "c" in phases:
            results["rss"] = phase_rss(args, base_env(workdir, moto.url, moto.queue_url), workdir, moto)
            print(f"rss: {results['rss']['samples']}", file=sys.stderr)
    finally:
        if api:
            api.close()
        if moto:
            moto.close()
        stop_all()
        if args.keep_logs:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    text = json.dumps(results, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
