#!/usr/bin/env python3
"""The first delivery as Lambda runs it (issue 20, part 1), for scripts/bench.

The release binary in Lambda mode against a local Runtime API (coldstart.py's),
its AWS endpoints over HTTPS as AWS has them: one host per service
(dynamodb., sqs., secretsmanager.us-east-1.amazonaws.com, resolved to
127.0.0.1 by a private /etc/hosts), each behind a TLS terminator
(tls_endpoints.py) in front of the moto that scripts/bench started, with a
chain like AWS's (root -> intermediate -> leaf, RSA 2048), the root added
to the system CA bundle (/etc/ssl/certs/ca-certificates.crt, what the SDK
reads through rustls-native-certs when SSL_CERT_FILE/SSL_CERT_DIR are
unset, as in Lambda). Both files are bind-mounted, so this must run in a
private mount namespace (scripts/bench: `unshare --mount`); it refuses
otherwise, and never touches the machine's own files.

Per run: spawn -> first GET next (INIT, unthrottled), then the whole process
(every thread) moved into a CPU cgroup limited to MEMORY/1769 of a core
(Lambda's CPU share for its memory size; 128 MB by default), then Gu1's
approved example (first delivery, new session), then another approved
session (warm delivery). The terminator times every request inside moto;
that time is subtracted as the "own" column. Variants take turns run by run:
the bare lambda_runtime function, the receiver as deployed (secret read from
Secrets Manager at INIT) and the receiver with its secrets in the
environment. One untimed warm-up round first. Without a usable cgroup the
runs go on unthrottled, and the results say so.

Only 127.0.0.1; every loop bounded; every process started is ended on exit.
"""
import argparse, json, os, socket, ssl, subprocess, sys, tempfile, time  # noqa: E401

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coldstart as cs  # noqa: E402
from tls_endpoints import Terminator, make_chain  # noqa: E402

import boto3  # noqa: E402

REGION, ACCOUNT = "us-east-1", "123456789012"
HOSTS = {s: f"{s}.{REGION}.amazonaws.com" for s in ("dynamodb", "sqs", "secretsmanager")}
ENDPOINT_VARS = {"dynamodb": "AWS_ENDPOINT_URL_DYNAMODB", "sqs": "AWS_ENDPOINT_URL_SQS",
                 "secretsmanager": "AWS_ENDPOINT_URL_SECRETS_MANAGER"}
FULL_CORE_MB = 1769  # Lambda: "at 1,769 MB, a function has the equivalent of one vCPU"
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
SECRET_NAME = "gu1-webhook-bench-first-delivery"


def private_namespace_or_exit():
    """This process's mount namespace must be its own (not its parent's, as
    after `unshare --mount`) and share no mount with another namespace."""
    try:
        mine, parent = os.readlink("/proc/self/ns/mnt"), os.readlink(f"/proc/{os.getppid()}/ns/mnt")
        with open("/proc/self/mountinfo") as f:
            shared = [line.split()[4] for line in f if "shared:" in line.split(" - ")[0]]
    except OSError as e:
        sys.exit(f"cannot tell whether this is a private mount namespace ({e}): refusing to bind-mount")
    if mine == parent:
        sys.exit("not in a mount namespace of its own: run under `unshare --mount --propagation private` "
                 "(this script bind-mounts over /etc/hosts and the CA bundle)")
    if shared:
        sys.exit(f"mounts shared with another namespace ({', '.join(shared[:5])}): "
                 "run under `unshare --mount --propagation private`")


def trust_and_resolve(workdir, root_pem):
    """The bench's root in the system bundle, the service hosts on 127.0.0.1,
    both only in this mount namespace; checked before anything is spawned."""
    with open(SYSTEM_BUNDLE, "rb") as f:
        bundle = f.read()
    with open(root_pem, "rb") as f:
        bundle = bundle.rstrip(b"\n") + b"\n" + f.read()
    with open("/etc/hosts", "rb") as f:
        hosts = f.read().rstrip(b"\n") + b"\n127.0.0.1 " + " ".join(HOSTS.values()).encode() + b"\n"
    for name, content, target in (("ca-certificates.crt", bundle, SYSTEM_BUNDLE), ("hosts", hosts, "/etc/hosts")):
        path = os.path.join(workdir, name)
        with open(path, "wb") as f:
            f.write(content)
        subprocess.run(["mount", "--bind", path, target], check=True)
    for host in HOSTS.values():
        addresses = {a[4][0] for a in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)}
        if addresses != {"127.0.0.1"}:
            sys.exit(f"{host} resolves to {addresses}, not 127.0.0.1 only: refusing to go on")


def check_chain(terminator):
    """A handshake to each host with the system's trust (OpenSSL's default
    paths, which are the bundle above): the chain verifies as AWS's would."""
    context = ssl.create_default_context()
    for host in HOSTS.values():
        with socket.create_connection(("127.0.0.1", terminator.port(host)), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                version = tls.version()
    return version


class CpuLimit:
    """A CPU cgroup (v1 `cpu` controller, else v2 `cpu.max`) limited to
    quota/period of a core, with CPU accounting where it can be had. `error`
    says why there is none."""

    def __init__(self, memory_mb, period_us):
        self.period_us = period_us
        self.quota_us = round(period_us * memory_mb / FULL_CORE_MB)
        self.path = self.acct = self.kind = self.error = None
        name = f"gu1-bench-{os.getpid()}-{period_us}"
        mounts = [line.split() for line in open("/proc/mounts")]
        v1 = [m[1] for m in mounts if m[2] == "cgroup" and "cpu" in m[3].split(",")]
        v2 = [m[1] for m in mounts if m[2] == "cgroup2"]
        try:
            if v1:
                self.path, self.kind = os.path.join(v1[0], name), "v1"
                os.mkdir(self.path)
                self._write("cpu.cfs_period_us", period_us)
                self._write("cpu.cfs_quota_us", self.quota_us)
                acct = [m[1] for m in mounts if m[2] == "cgroup" and "cpuacct" in m[3].split(",")]
                if acct:
                    self.acct = os.path.join(acct[0], name)
                    if self.acct != self.path:
                        os.mkdir(self.acct)
            elif v2:
                root = v2[0]
                with open(os.path.join(root, "cgroup.controllers")) as f:
                    if "cpu" not in f.read().split():
                        raise OSError(f"cgroup v2 at {root} has no cpu controller")
                with open(os.path.join(root, "cgroup.subtree_control"), "w") as f:
                    f.write("+cpu")
                self.path, self.kind = os.path.join(root, name), "v2"
                os.mkdir(self.path)
                self._write("cpu.max", f"{self.quota_us} {period_us}")
            else:
                raise OSError("no cgroup v1 cpu controller and no cgroup v2 mounted")
        except OSError as e:
            self.error = f"{type(e).__name__}: {e}"
            self.close()
            self.path = self.acct = None

    def _write(self, name, value, base=None):
        with open(os.path.join(base or self.path, name), "w") as f:
            f.write(str(value))

    def enter(self, pid):
        """Moves every thread of `pid`; returns the threads that are not in
        the cgroup afterwards (none, or the move failed)."""
        self._write("cgroup.procs", pid)
        if self.acct and self.acct != self.path:
            self._write("cgroup.procs", pid, self.acct)
        leaf = "/" + os.path.basename(self.path)
        stray = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/cgroup") as f:
                    lines = [line.rstrip("\n").split(":", 2) for line in f]
            except OSError:
                continue  # the thread ended
            wanted = [p for _, ctrl, p in lines if ("cpu" in ctrl.split(",") if self.kind == "v1" else ctrl == "")]
            if leaf not in wanted:
                stray.append(tid)
        return stray

    def usage_ns(self):
        """CPU time used by the cgroup so far, or None."""
        try:
            if self.kind == "v1" and self.acct:
                with open(os.path.join(self.acct, "cpuacct.usage")) as f:
                    return int(f.read())
            if self.kind == "v2":
                with open(os.path.join(self.path, "cpu.stat")) as f:
                    return int(dict(line.split() for line in f)["usage_usec"]) * 1000
        except (OSError, KeyError, ValueError):
            pass
        return None

    def throttled(self):
        """(periods throttled, ns throttled) so far, or (None, None)."""
        try:
            with open(os.path.join(self.path, "cpu.stat")) as f:
                stat = dict(line.split() for line in f)
            if self.kind == "v1":
                return int(stat["nr_throttled"]), int(stat["throttled_time"])
            return int(stat["nr_throttled"]), int(stat["throttled_usec"]) * 1000
        except (OSError, KeyError, ValueError, TypeError):
            return None, None

    def close(self):
        for path in {self.path, self.acct} - {None}:
            for _ in range(50):  # empty once the stopped process is reaped
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)

    def describe(self):
        if self.error:
            return {"applied": False, "reason": self.error}
        return {"applied": True, "cgroup": self.kind, "path": self.path, "quota_us": self.quota_us,
                "period_us": self.period_us, "share_of_a_core": round(self.quota_us / self.period_us, 4)}


def environment(args, workdir, terminator, secret_arn):
    env = dict(PATH="/usr/bin:/bin", HOME=workdir, RUST_LOG="info", AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION,
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_SESSION_TOKEN="bench",
               SESSIONS_TABLE=args.table, OUTCOMES_QUEUE_URL=args.queue_url, _HANDLER="bootstrap",
               AWS_LAMBDA_FUNCTION_NAME="gu1-webhook-bench", AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(args.memory_mb),
               AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_INITIALIZATION_TYPE="on-demand",
               AWS_LAMBDA_LOG_STREAM_NAME="2026/12/02/[$LATEST]bench",
               AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/gu1-webhook-bench")
    for service, var in ENDPOINT_VARS.items():
        env[var] = f"https://{HOSTS[service]}:{terminator.port(HOSTS[service])}"
    deployed = dict(env, GU1_WEBHOOK_SECRETS_ARN=secret_arn)
    in_env = dict(env, GU1_WEBHOOK_SECRETS=cs.SECRET)
    return {"bare": (args.reference_binary, env), "receiver": (args.binary, deployed),
            "receiver_env_secret": (args.binary, in_env)}


def union_ns(intervals):
    """The total length of the union of (start, end) intervals."""
    total, reach = 0, None
    for begin, end in sorted(intervals):
        if reach is None or begin > reach:
            total, reach = total + end - begin, end
        elif end > reach:
            total, reach = total + end - reach, end
    return total


def window(terminator, start, end):
    """What the terminator saw in [start, end]: ms inside moto, the
    operations, the handshakes and their ms, and the client's own time
    before the first request reached moto (`lead`: the handler, the SDK's
    request, and for a new connection DNS, TCP and TLS), between requests
    (`between`: a response read, the next request, its connection if new)
    and after the last (`tail`: the answer to the Runtime API)."""
    events = terminator.between(start, end)
    requests = sorted((e for e in events if e[0] == "request"), key=lambda e: e[2])
    shakes = [e for e in events if e[0] == "handshake"]
    # The wall time during which at least one request was inside moto: INIT
    # sends its requests at once (the secret read, the two warm-up reads),
    # and overlapping times are waited for once, not summed.
    out = {"emulator_ms": union_ns((e[2], e[3]) for e in requests) / 1e6, "requests": [e[4] for e in requests],
           "handshakes": len(shakes), "handshake_ms": sum(e[3] - e[2] for e in shakes) / 1e6}
    if requests:
        out["lead_ms"] = (requests[0][2] - start) / 1e6
        out["between_ms"] = sum(max(0, b[2] - a[3]) for a, b in zip(requests, requests[1:])) / 1e6
        out["tail_ms"] = (end - requests[-1][3]) / 1e6
    return out


def one_run(variant, binary, env, events, limit, terminator, workdir, name):
    """One process: INIT, move into the cgroup, first and warm delivery."""
    err_path = os.path.join(workdir, f"{name}.stderr")
    run = {}
    with open(err_path, "wb") as err, cs.Lambda(binary, env, err) as fn:
        nxt = fn.wait_for(("next", "init_error"), deadline=time.monotonic() + 20)
        if not nxt or nxt[0] != "next":
            return None, f"no GET next ({nxt and nxt[0]}); see {err_path}"
        if limit:
            stray = limit.enter(fn.proc.pid)
            if stray:
                return None, f"threads {stray} not moved into the cgroup"
        usage0, throttle0 = (limit.usage_ns(), limit.throttled()) if limit else (None, (None, None))
        marks = []
        for k, (request_id, event) in enumerate(events):
            fn.events.put((request_id, event))
            sent = fn.wait_for(("event_sent",), request_id)
            resp = fn.wait_for(("response", "error"), request_id, deadline=time.monotonic() + 30)
            if not (sent and resp) or resp[0] != "response":
                return None, f"delivery {k + 1}: {resp and resp[0]} {resp and resp[3]!r}; see {err_path}"
            if variant != "bare":
                answer = json.loads(resp[3])
                body = json.loads(answer.get("body") or "{}")
                if answer.get("statusCode") != 200 or body.get("result") != "applied":
                    return None, f"delivery {k + 1} answered {answer}; see {err_path}"
            marks.append((sent, resp, limit.usage_ns() if limit else None, limit.throttled() if limit else (None,) * 2))
    (sent1, resp1, usage1, thr1), (sent2, resp2, usage2, thr2) = marks
    init_ms = fn.ms(nxt)
    for label, start, end in (("init", fn.t0, nxt[2]), ("first", sent1[2], resp1[2]), ("warm", sent2[2], resp2[2])):
        seen = window(terminator, start, end)
        run[f"{label}_ms"] = (end - start) / 1e6
        run[f"{label}_own_ms"] = run[f"{label}_ms"] - seen["emulator_ms"]
        run.update({f"{label}_{k}": v for k, v in seen.items()})
    assert abs(run["init_ms"] - init_ms) < 1e-6
    run["init_plus_first_ms"] = run["init_ms"] + run["first_ms"]
    run["init_plus_first_own_ms"] = run["init_own_ms"] + run["first_own_ms"]
    if usage0 is not None and usage1 is not None:
        run["first_cpu_ms"], run["warm_cpu_ms"] = (usage1 - usage0) / 1e6, (usage2 - usage1) / 1e6
    if throttle0[0] is not None and thr1[0] is not None:
        run["first_throttled_periods"], run["first_throttled_ms"] = thr1[0] - throttle0[0], (thr1[1] - throttle0[1]) / 1e6
        run["warm_throttled_periods"], run["warm_throttled_ms"] = thr2[0] - thr1[0], (thr2[1] - thr1[1]) / 1e6
    return run, None


FIGURES = ["init_ms", "init_own_ms", "first_ms", "first_own_ms", "warm_ms", "warm_own_ms", "init_plus_first_ms",
           "init_plus_first_own_ms", "init_emulator_ms", "first_emulator_ms", "warm_emulator_ms",
           "init_handshakes", "first_handshakes", "warm_handshakes", "init_handshake_ms", "first_handshake_ms",
           "warm_handshake_ms", "first_cpu_ms", "warm_cpu_ms", "first_throttled_periods", "first_throttled_ms",
           "warm_throttled_periods", "warm_throttled_ms", "init_lead_ms", "init_tail_ms", "first_lead_ms",
           "first_between_ms", "first_tail_ms", "warm_lead_ms", "warm_between_ms", "warm_tail_ms"]
EACH = ["init_ms", "init_emulator_ms", "first_ms", "first_emulator_ms", "first_cpu_ms", "first_throttled_ms",
        "warm_ms", "warm_emulator_ms"]
RATIO_FIGURES = ["init_ms", "init_own_ms", "first_ms", "first_own_ms", "warm_ms", "warm_own_ms", "init_plus_first_ms",
                 "init_plus_first_own_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("--binary", "--reference-binary", "--signer", "--endpoint", "--table", "--queue-name", "--out"):
        parser.add_argument(name, required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--memory-mb", type=int, default=128)
    parser.add_argument("--cpu-periods-us", default="100000,20000",
                        help="CFS periods, one setting each, taking turns (Lambda's own period is not published: "
                             "100 ms is the kernel's default; a shorter one lets less CPU run in one burst)")
    parser.add_argument("--no-cpu-limit", action="store_true", help="run unthrottled")
    parser.add_argument("--phase-timeout", type=float, default=900)
    parser.add_argument("--smoke", action="store_true", help="2 runs, the first period only, no warm-up round")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    periods = [int(p) for p in args.cpu_periods_us.split(",")]
    if args.smoke:
        args.runs, periods = 2, periods[:1]
    private_namespace_or_exit()
    args.queue_url = f"https://{HOSTS['sqs']}/{ACCOUNT}/{args.queue_name}"
    workdir = tempfile.mkdtemp(prefix="gu1-first-delivery-")
    terminator, limits = None, []
    upstream = args.endpoint.removeprefix("http://").rstrip("/")
    host, port = upstream.rsplit(":", 1)
    try:
        root, chains = make_chain(workdir, HOSTS.values())
        trust_and_resolve(workdir, root)
        terminator = Terminator(chains, (host, int(port)))
        tls_version = check_chain(terminator)
        sm = boto3.client("secretsmanager", endpoint_url=args.endpoint, region_name=REGION,
                          aws_access_key_id="bench", aws_secret_access_key="bench")
        try:
            secret_arn = sm.create_secret(Name=SECRET_NAME, SecretString=cs.SECRET)["ARN"]
        except sm.exceptions.ResourceExistsException:
            secret_arn = sm.describe_secret(SecretId=SECRET_NAME)["ARN"]
        variants = environment(args, workdir, terminator, secret_arn)
        # One setting per period; none (unthrottled) when no cgroup can be made.
        settings = {}
        if args.no_cpu_limit:
            settings["unthrottled"] = (None, {"applied": False, "reason": "--no-cpu-limit"})
        else:
            for period in periods:
                limit = CpuLimit(args.memory_mb, period)
                if limit.error:
                    print(f"NO CPU LIMIT: {limit.error}; the figures below are UNTHROTTLED", file=sys.stderr)
                    settings = {"unthrottled": (None, limit.describe())}
                    break
                limits.append(limit)
                settings[f"{period // 1000}ms"] = (limit, limit.describe())

        with open(os.path.join(cs.ROOT, "bench", "inputs", "approved.json"), "rb") as f:
            template = f.read()
        rounds = args.runs + (0 if args.smoke else 1)  # round 0: warm-up, not counted
        turns = [(s, v) for s in settings for v in variants]
        bodies = [cs.session_body(template, f"bio-first-{os.getpid()}-{i}-{s}-{v}-{k}", "approved")
                  for i in range(rounds) for s, v in turns for k in (1, 2)]
        signatures, bodies = iter(cs.sign(args, bodies)), iter(bodies)
        runs = {turn: [] for turn in turns}
        failures = {turn: [] for turn in turns}
        deadline = time.monotonic() + args.phase_timeout
        for i in range(rounds):
            if time.monotonic() > deadline:
                print(f"phase timeout after {i} rounds", file=sys.stderr)
                break
            for setting, variant in turns:
                binary, env = variants[variant]
                name = f"{setting}-{variant}-{i}"
                events = [(f"req-{name}-{k}", cs.apigw_event(next(bodies), next(signatures), f"{name}-{k}"))
                          for k in (1, 2)]
                limit = settings[setting][0]
                run, error = one_run(variant, binary, env, events, limit, terminator, workdir, name)
                if error:
                    failures[(setting, variant)].append(error)
                    print(f"{name}: {error}", file=sys.stderr)
                elif i > 0 or args.smoke:
                    runs[(setting, variant)].append(run)
        results = {
            "what": "Lambda mode against a local Runtime API; DynamoDB, SQS and Secrets Manager over HTTPS, one "
                    "host each (TLS terminator in front of moto, root -> intermediate -> leaf RSA 2048, the root "
                    "in the system CA bundle); INIT unthrottled, then every thread moved into the CPU cgroup before "
                    "the first event; first = Gu1's approved example for a new session (UpdateItem, SendMessage, "
                    "UpdateItem), warm = another new session on the same process; *_own = minus the time inside "
                    "moto, measured at the terminator",
            "memory_mb": args.memory_mb, "tls_version": tls_version,
            "hosts": {s: f"{h}:{terminator.port(h)}" for s, h in HOSTS.items()},
            "warm_up_round": not args.smoke, "settings": {},
        }
        for setting, (_, cpu) in settings.items():
            out = {"cpu_limit": cpu, "variants": {}, "ratios_to_bare": {}}
            for variant in variants:
                rs = runs[(setting, variant)]
                figures = {k: cs.stats([r.get(k) for r in rs]) for k in FIGURES}
                requests = sorted({", ".join(r[f"{w}_requests"]) for r in rs for w in ("init", "first", "warm")})
                out["variants"][variant] = {"runs": len(rs), "failures": failures[(setting, variant)],
                                            "requests_seen": requests,
                                            "each_run": [{k: round(r[k], 3) for k in EACH if k in r} for r in rs],
                                            **{k: v for k, v in figures.items() if v is not None}}
            bare = out["variants"]["bare"]
            for variant in ("receiver", "receiver_env_secret"):
                mine = out["variants"][variant]
                out["ratios_to_bare"][variant] = {
                    k: {s: round(mine[k][s] / bare[k][s], 2) for s in ("median", "p90") if bare[k][s] > 0}
                    for k in RATIO_FIGURES if k in mine and k in bare}
            receiver = out["variants"]["receiver"]
            if "first_own_ms" in receiver and "warm_own_ms" in receiver:
                out["receiver_first_own_over_warm_own"] = round(
                    receiver["first_own_ms"]["median"] / receiver["warm_own_ms"]["median"], 2)
            results["settings"][setting] = out
    finally:
        for proc in cs.CHILDREN:  # out of the cgroups before they go
            cs.stop(proc)
        if terminator:
            terminator.close()
        for limit in limits:
            limit.close()
        cs.clean_up(workdir, args.keep_logs)
    with open(args.out, "w") as f:
        f.write(json.dumps(results, indent=2) + "\n")
    print_table(results)
    if any(not v["runs"] for s in results["settings"].values() for v in s["variants"].values()):
        sys.exit("a variant has no successful run")


def print_table(results):
    for setting in results["settings"].values():
        cpu = setting["cpu_limit"]
        limit = (f"{cpu['quota_us']} us per {cpu['period_us']} us ({results['memory_mb']} MB)" if cpu["applied"]
                 else f"NONE ({cpu['reason']}): UNTHROTTLED")
        n = min(v["runs"] for v in setting["variants"].values())
        print(f"\nfirst delivery as Lambda runs it, HTTPS ({results['tls_version']}); CPU limit after INIT: "
              f"{limit}; {n} runs per variant", file=sys.stderr)
        print(f"  {'ms, median / p90':<28}" + "".join(f"{v:>22}" for v in setting["variants"]), file=sys.stderr)
        for label, key in (("INIT", "init"), ("first delivery", "first"), ("warm delivery", "warm"),
                           ("INIT + first", "init_plus_first")):
            for suffix, what in (("_ms", ""), ("_own_ms", " - emulator")):
                cells = []
                for v in setting["variants"].values():
                    s = v.get(key + suffix)
                    cells.append(f"{s['median']:.1f} / {s['p90']:.1f}" if s else "-")
                print(f"  {label + what:<28}" + "".join(f"{c:>22}" for c in cells), file=sys.stderr)
        for key, label in (("first_cpu_ms", "first delivery: CPU"), ("first_throttled_ms", "first: throttled"),
                           ("first_handshake_ms", "first: TLS handshakes"), ("first_lead_ms", "first: to 1st request"),
                           ("first_between_ms", "first: between requests"), ("warm_cpu_ms", "warm delivery: CPU"),
                           ("warm_lead_ms", "warm: to 1st request"), ("warm_between_ms", "warm: between requests")):
            cells = []
            for v in setting["variants"].values():
                s = v.get(key)
                cells.append(f"{s['median']:.1f} / {s['p90']:.1f}" if s else "-")
            print(f"  {label:<28}" + "".join(f"{c:>22}" for c in cells), file=sys.stderr)
        for variant, ratios in setting["ratios_to_bare"].items():
            print(f"  {variant} / bare (median): " + ", ".join(f"{k} {r.get('median')}x" for k, r in ratios.items()),
                  file=sys.stderr)


if __name__ == "__main__":
    main()
