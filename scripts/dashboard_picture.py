"""Drives a local run and draws the dashboard from it (see scripts/dashboard-picture).

drive: the real binary as Lambda names it (EMF lines on stdout), signed
       deliveries over a few minutes, the sweeper once a minute, the queue's
       depth sampled from moto; everything it measured lands in --out.
draw:  every widget of template.yaml's DashboardBody, each line from what the
       run measured, aggregated per minute as CloudWatch would.
"""

import argparse
import hashlib
import hmac
import json
import os
import random
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

RECEIVER, SWEEPER = "gu1-webhook-receiver", "gu1-webhook-sweeper"
SECRET, WRONG_SECRET = b"gu1-local-demo-secret", b"gu1-wrong-secret"
TERMINAL = ["approved"] * 6 + ["rejected"] * 2 + ["abandoned", "expired", "cancelled"]

# ------------------------------------------------------------------ drive

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)

def body(session, status, t):
    """A delivery of the events/ kind, for a fresh session, timestamped now."""
    payload = {"id": session, "entityId": "entity-" + session, "status": status, "mode": "face_match",
               "entity": {"id": "entity-" + session, "externalId": "customer-" + session, "type": "person"}}
    if status in ("approved", "rejected"):
        payload["completedAt"] = rfc3339(t)
        payload["decision"] = {"face_match": {"status": "Approved", "score": 97.5}}
    event = status if status != "pending" else "created"
    return {"event": "biometric.session_" + event, "timestamp": rfc3339(t),
            "organizationId": "org-uuid", "payload": payload}

def post(port, doc, secret):
    data = json.dumps(doc).encode()
    signature = hmac.new(secret, data, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/gu1", data=data, method="POST",
                                     headers={"content-type": "application/json",
                                              "x-webhook-signature": signature})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as e:
        return e.code

def plan(minutes, rng):
    """(seconds from the start, what to send): sessions created, in progress
    and decided, duplicates and late deliveries, a kyc event now and then; in
    the second minute a few unreadable deliveries, in the third a wrong secret
    for half of them, and the SQS outage third from last."""
    events = []
    for minute in range(minutes):
        base = minute * 60
        for n in range(rng.randint(6, 12)):
            session = f"bio-{minute}-{n}-{rng.randrange(1 << 32):08x}"
            t0 = base + rng.uniform(0, 40)
            done = t0 + rng.uniform(8, 18)
            terminal = rng.choice(TERMINAL)
            events += [(t0, session, "pending"), (t0 + rng.uniform(2, 6), session, "in_progress"),
                       (done, session, terminal)]
            if rng.random() < 0.2:
                events.append((done + rng.uniform(1, 4), session, terminal))  # Gu1's retry: duplicate
            if rng.random() < 0.1:
                events.append((done + rng.uniform(1, 4), session, "in_progress"))  # late: stale
        for _ in range(rng.randint(1, 2)):
            events.append((base + rng.uniform(0, 58), None, "kyc"))
        if minute == 1:
            events += [(base + rng.uniform(0, 58), f"bio-unreadable-{i}", "manual_review") for i in range(3)]
        if minute == minutes - 2:
            session = f"bio-reversed-{rng.randrange(1 << 32):08x}"
            events += [(base + 5, session, "approved"), (base + 9, session, "rejected")]  # conflict
    return sorted(events, key=lambda e: e[0])

def drive(args):
    out = Path(args.out)
    rng = random.Random(18)
    env = dict(os.environ, RUST_LOG="info")
    receivers = {}
    for name, extra in [("a", {}), ("b", {"AWS_ENDPOINT_URL_SQS": f"http://127.0.0.1:{free_port()}"})]:
        port = free_port()
        process = subprocess.Popen(
            [args.bin, "serve", "--listen", f"127.0.0.1:{port}"],
            env=dict(env, AWS_LAMBDA_FUNCTION_NAME=RECEIVER, **extra),
            stdout=open(out / f"receiver-{name}.out", "wb"), stderr=open(out / f"receiver-{name}.err", "wb"))
        receivers[name] = (port, process)
    for port, process in receivers.values():
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
    start = time.time()
    end = start + args.minutes * 60
    stop = threading.Event()
    queue_url = os.environ["OUTCOMES_QUEUE_URL"]
    threads = [threading.Thread(target=f, args=a) for f, a in [
        (sweeper, (args.bin, env, out, start, stop)),
        (sample_queue, (queue_url, out, stop)),
        (worker, (queue_url, stop)),
    ]]
    for thread in threads:
        thread.start()
    answers = {}
    outage_minute = args.minutes - 3
    try:
        for offset, session, status in plan(args.minutes, rng):
            time.sleep(max(0.0, start + offset - time.time()))
            now = time.time()
            minute = int((now - start) // 60)
            port = receivers["b" if minute == outage_minute else "a"][0]
            secret = WRONG_SECRET if minute == 2 and rng.random() < 0.5 else SECRET
            if status == "kyc":
                doc = {"event": "kyc.validation_completed", "timestamp": rfc3339(now),
                       "organizationId": "org-uuid", "payload": {"id": f"kyc-{rng.randrange(1 << 32)}"}}
            else:
                doc = body(session, status, now)
            code = post(port, doc, secret)
            answers[code] = answers.get(code, 0) + 1
        time.sleep(max(0.0, end - time.time()))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        for _, process in receivers.values():
            process.terminate()
            process.wait()
    (out / "run.json").write_text(json.dumps({"start": start, "end": end, "answers": answers}))
    print("answers by status code:", dict(sorted(answers.items())))

def sweeper(binary, env, out, start, stop):
    """`gu1-webhook sweep` as the scheduled sweeper: once a minute, 30 s in."""
    k = 0
    with open(out / "sweeper.out", "ab") as emf, open(out / "sweeps.jsonl", "a") as runs:
        while not stop.wait(max(0.0, start + 30 + 60 * k - time.time())):
            t = time.time()
            done = subprocess.run([binary, "sweep"], env=dict(env, AWS_LAMBDA_FUNCTION_NAME=SWEEPER),
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            emf.write(done.stdout)
            runs.write(json.dumps({"t": t, "exit": done.returncode}) + "\n")
            k += 1

def sqs(queue_url, action, **params):
    """One SQS call to moto in the query protocol (moto checks no signature)."""
    form = {"Action": action, "Version": "2012-11-05", "QueueUrl": queue_url, **params}
    # moto tells the service by the credential scope of an Authorization header.
    auth = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"
    request = urllib.request.Request(queue_url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                     headers={"Authorization": auth})
    with urllib.request.urlopen(request, timeout=10) as answer:
        tree = ET.fromstring(answer.read())
    return tree

def local_name(element):
    return element.tag.rsplit("}", 1)[-1]

def sample_queue(queue_url, out, stop):
    """The queue's depth as SQS answers it, every 10 s."""
    with open(out / "queue.jsonl", "a") as samples:
        while True:
            tree = sqs(queue_url, "GetQueueAttributes", **{"AttributeName.1": "All"})
            attributes = {}
            for attribute in tree.iter():
                if local_name(attribute) == "Attribute":
                    fields = {local_name(c): c.text for c in attribute}
                    attributes[fields["Name"]] = fields["Value"]
            samples.write(json.dumps({"t": time.time(), **attributes}) + "\n")
            if stop.wait(10):
                return

def worker(queue_url, stop):
    """A slow subscriber: every 25 s it takes up to 10 outcomes and deletes them."""
    while not stop.wait(25):
        tree = sqs(queue_url, "ReceiveMessage", MaxNumberOfMessages="10", VisibilityTimeout="30")
        handles = [e.text for e in tree.iter() if local_name(e) == "ReceiptHandle"]
        for handle in handles:
            sqs(queue_url, "DeleteMessage", ReceiptHandle=handle)

# ------------------------------------------------------------------ draw

# The stack's names as the run used them (the template's under the default
# parameters: no reconciliation, a FIFO queue).
NAMES = {"AWS::Region": "us-east-1", "ReceiverFunction": RECEIVER, "SweeperFunction": SWEEPER,
         "ReceiverLogs": "/aws/lambda/" + RECEIVER, "OutcomesQueue.QueueName": "gu1-outcomes.fifo",
         "OutcomesDeadLetterQueue.QueueName": "gu1-outcomes-dlq.fifo"}

def widgets(template):
    import yaml
    class Cfn(yaml.SafeLoader):
        pass

    def tagged(loader, tag, node):
        if isinstance(node, yaml.ScalarNode):
            return {tag: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {tag: loader.construct_sequence(node, deep=True)}
        return {tag: loader.construct_mapping(node, deep=True)}
    Cfn.add_multi_constructor("!", tagged)
    resources = yaml.load(Path(template).read_text(), Loader=Cfn)["Resources"]
    (dashboard,) = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    sub = dashboard["Properties"]["DashboardBody"]["Sub"]
    text, variables = (sub if isinstance(sub, list) else [sub, {}])
    empty = {name: "" for name in variables}  # each variable: a widget under a condition off by default
    text = re.sub(r"\$\{([^}]+)\}", lambda m: empty.get(m[1], NAMES.get(m[1], m[0])), text)
    return json.loads(text)["widgets"]

def emf_points(run):
    """Every metric value of the EMF lines, once per dimension set declared."""
    points = []
    for name in ["receiver-a.out", "receiver-b.out", "sweeper.out"]:
        for line in (run / name).read_text().splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            aws = doc.get("_aws") if isinstance(doc, dict) else None
            for spec in (aws or {}).get("CloudWatchMetrics", []):
                for metric in spec["Metrics"]:
                    for dimensions in spec["Dimensions"]:
                        points.append(((spec["Namespace"], metric["Name"], {d: doc[d] for d in dimensions}),
                                       aws["Timestamp"] / 1000, doc[metric["Name"]]))
    return points

def jsonl(path):
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []

def parse_time(text):
    whole, _, fraction = text.rstrip("Z").partition(".")
    return time.mktime(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) - time.timezone + float("0." + (fraction or "0"))

def local_source(run, namespace, name, dimensions):
    """An AWS metric's points from what the run measured, and a note saying
    from what; None where a local run has nothing to measure it by."""
    function = dimensions.get("FunctionName")
    queue = dimensions.get("QueueName")
    if (namespace, name, function) == ("AWS/Lambda", "Duration", RECEIVER):
        lines = [json.loads(l) for f in ["receiver-a.err", "receiver-b.err"]
                 for l in (run / f).read_text().splitlines() if l.startswith("{")]
        return ([(parse_time(l["timestamp"]), l["latency_ms"]) for l in lines if l.get("message") == "delivery"],
                "the delivery lines' latency_ms")
    if namespace == "AWS/Lambda" and function == SWEEPER and name in ("Invocations", "Errors"):
        runs = jsonl(run / "sweeps.jsonl")
        return [(r["t"], 1 if name == "Invocations" else int(r["exit"] != 0)) for r in runs], "the sweep runs"
    attribute = {"ApproximateNumberOfMessagesVisible": "ApproximateNumberOfMessages",
                 "ApproximateNumberOfMessagesNotVisible": "ApproximateNumberOfMessagesNotVisible"}.get(name)
    if namespace == "AWS/SQS" and queue == NAMES["OutcomesQueue.QueueName"] and attribute:
        return [(s["t"], float(s[attribute])) for s in jsonl(run / "queue.jsonl")], "moto, every 10 s"
    return None

def aggregate(points, stat, start, minutes):
    import numpy as np
    bins = [[] for _ in range(minutes)]
    for t, value in points:
        minute = int((t - start) // 60)
        if 0 <= minute < minutes:
            bins[minute].append(value)
    def one(values):
        if not values:
            return np.nan
        if stat.startswith("p"):
            return float(np.percentile(values, float(stat[1:]), method="nearest"))
        return {"Sum": sum, "Maximum": max, "Minimum": min, "SampleCount": len,
                "Average": lambda v: sum(v) / len(v)}[stat](values)
    return np.array([one(v) for v in bins], dtype=float)

def series(run, widget, points, start, minutes):
    """A widget's lines: (label, values per minute, right axis) and the
    labels of those a local run cannot measure."""
    import numpy as np
    properties = widget["properties"]
    drawn, missing, by_id = [], [], {}
    for entry in properties["metrics"]:
        options = entry[-1] if isinstance(entry[-1], dict) else {}
        if "expression" in options:
            continue
        names = [e for e in entry if isinstance(e, str)]
        namespace, name, dimensions = names[0], names[1], dict(zip(names[2::2], names[3::2]))
        stat = options.get("stat", properties.get("stat"))
        label = options.get("label") or dimensions.get("Result") or dimensions.get("Status") or name
        if namespace.startswith("AWS/"):
            source = local_source(run, namespace, name, dimensions)
            if source is None:
                missing.append(label)
                continue
            values, note = source
            label = f"{label} ({note})"
        else:
            values = [(t, v) for (key, t, v) in points if key == (namespace, name, dimensions)]
        values = aggregate(values, stat, start, minutes)
        if namespace == "Gu1Webhook" and stat == "Sum":
            values = np.nan_to_num(values)  # a count with no line that minute: none
        by_id[options.get("id", f"line{len(by_id)}")] = values
        if options.get("visible", True):
            drawn.append((label, values, options.get("yAxis") == "right"))
    for entry in properties["metrics"]:
        if "expression" in entry[-1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                values = eval(entry[-1]["expression"], {"FILL": lambda a, v: np.where(np.isnan(a), v, a)}, by_id)
            drawn.insert(0, (entry[-1].get("label", entry[-1]["id"]), values, False))
    return drawn, missing

def draw(args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    run = Path(args.run)
    meta = json.loads((run / "run.json").read_text())
    start, minutes = meta["start"], round((meta["end"] - meta["start"]) / 60)
    points = emf_points(run)
    layout = widgets(args.template)
    rows = max(w["y"] + w["height"] for w in layout)
    fig = plt.figure(figsize=(22, rows * 0.62))
    x_labels = [time.strftime("%H:%M", time.gmtime(start + 60 * m)) for m in range(minutes)]
    for widget in layout:
        left, width = widget["x"] / 24, widget["width"] / 24
        top, height = 1 - widget["y"] / rows, widget["height"] / rows
        ax = fig.add_axes([left + 0.035, top - height + 0.03, width - 0.05, height - 0.07])
        ax.set_title(widget["properties"]["title"], fontsize=10, loc="left")
        if widget["type"] != "metric":
            ax.text(0.5, 0.5, "not available locally\n(Lambda's platform.report records)",
                    ha="center", va="center", color="grey", transform=ax.transAxes)
            ax.set_xticks([]), ax.set_yticks([])
            continue
        drawn, missing = series(run, widget, points, start, minutes)
        right = ax.twinx() if any(r for _, _, r in drawn) else None
        for n, (label, values, on_right) in enumerate(drawn):
            (right if on_right else ax).plot(range(minutes), values, marker="o", markersize=3,
                                             label=label, color=f"C{n}")
        ax.set_ylim(bottom=0)
        if right is not None:
            right.set_ylim(bottom=0)
        y_axis = widget["properties"].get("yAxis", {}).get("left", {})
        if "max" in y_axis:
            ax.set_ylim(top=y_axis["max"])
        ax.set_xticks(range(minutes), x_labels, fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        handles = [h for a in (ax, right) if a is not None for h in a.get_legend_handles_labels()[0]]
        if handles:
            ax.legend(handles=handles, fontsize=6, loc="upper left", ncol=2 if len(handles) > 5 else 1)
        if not drawn:
            ax.set_yticks([])
        if missing:
            text = "not available locally: " + ", ".join(missing)
            ax.text(0.5, 0.5 if not drawn else 0.02, text, ha="center", va="center" if not drawn else "bottom",
                    color="grey", fontsize=8, transform=ax.transAxes, wrap=True)
    answers = ", ".join(f"{code}: {n}" for code, n in sorted(meta["answers"].items()))
    fig.suptitle(f"Dashboard of template.yaml (default parameters), drawn from a {minutes}-minute local run on "
                 f"{time.strftime('%Y-%m-%d', time.gmtime(start))} (UTC): the real gu1-webhook binary as Lambda "
                 f"names it against moto. Answers by status: {answers}", fontsize=11)
    fig.savefig(args.output, dpi=80)

def main():
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    d = commands.add_parser("drive")
    d.add_argument("--bin", required=True)
    d.add_argument("--minutes", type=int, default=6)
    d.add_argument("--out", required=True)
    w = commands.add_parser("draw")
    w.add_argument("--run", required=True)
    w.add_argument("--template", default="template.yaml")
    w.add_argument("--output", default="docs/dashboard.png")
    args = parser.parse_args()
    drive(args) if args.command == "drive" else draw(args)

if __name__ == "__main__":
    main()
