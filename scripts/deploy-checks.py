#!/usr/bin/env python3
"""The checks of scripts/deploy-test, against the stack it deployed to MiniStack.

Runs in the ministack venv (boto3, jsonschema) with deploy-test's environment:
AWS_ENDPOINT_URL pointing at the emulator and its dummy account credentials,
which act as the account's administrator. Every request goes to 127.0.0.1.

  deploy-checks.py same-binary ZIP FILE     FILE is the bootstrap inside ZIP
  deploy-checks.py route STACK              create the HTTP API's routes (below)
  deploy-checks.py fake-gu1 PORT_FILE KEY ORG   a stand-in for Gu1's API (below)
  deploy-checks.py describe STACK FAKE_URL  names and URLs, for scripts/deploy-local
  deploy-checks.py exercise STACK URL FAKE_URL   deliveries, table, queue, sweeper,
                                            reconciliation, roles
  deploy-checks.py remains STACK TABLE SECRET_ARN...   after `sam delete`
  deploy-checks.py logs STACK [LINES]       what the functions logged

Routing: SAM turns the HttpApi event into an OpenAPI `Body` on the
AWS::ApiGatewayV2::Api, and MiniStack creates that API without its routes
(every request would be a 404). `route` reads the routes and integrations
from the stack's processed template and creates them with the apigatewayv2
API, as API Gateway's import would; if the API already has routes (a later
MiniStack that imports them), it leaves them alone. Deliveries then go
through the deployed API: MiniStack's API Gateway, the Lambda proxy
integration (payload v2) and the real bootstrap running under its role.

Gu1's API: `fake-gu1` serves, on a free 127.0.0.1 port (written to
PORT_FILE once it listens), what the reconcile function reads:
`GET /api/kyc/biometric/sessions/{id}` answers the session set for that id
(a JSON object shaped like a webhook's payload), 404 for an id it does not
know, 401 without `Authorization: Bearer KEY` and 403 without
`X-Organization-ID: ORG`, and records every such request. The checks set
sessions with `PUT /_fake/sessions/{id}` (the JSON body) and read the
requests with `GET /_fake/requests`. It ends with the process that started
it (deploy-test), even one killed too hard to clean up.

A failed check prints what was expected and what came instead, and exits 1.
"""
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import pathlib
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
import zipfile

import boto3
import jsonschema

REPO = pathlib.Path(__file__).resolve().parent.parent
EVENTS = sorted((REPO / "events").glob("*.json"))
SCHEMA = json.loads((REPO / "schema" / "outcome-message.v1.json").read_text())
TERMINAL = {"approved", "rejected", "abandoned", "cancelled", "expired"}
# The events/ file whose signature matches no secret; every other one is
# authentic and, sent once in order to a fresh table, applied.
BAD_SIGNATURE = "08-bad-signature"
# The session the sweeper check leaves pending (not one of the events/ ones).
SWEPT = "deploy-test-swept"
# The webhook secret deliveries made up here are signed with: the README's
# local secret, the second of deploy-test's list (as for the events/ files).
SIGNING_SECRET = b"gu1-local-demo-secret"
# Reconciliation's sessions: one delivered pending that Gu1's API then says
# is approved (a one-off run, as README Operate shows); one in progress that
# the API says is rejected and one pending the API does not know, both found
# stale by a scheduled run.
RECONCILED = "deploy-test-reconciled"
STALE = "deploy-test-stale"
UNKNOWN_TO_GU1 = "deploy-test-unknown-to-gu1"
# A session Gu1 finished but never delivered to us: a one-off run creates it.
NEVER_DELIVERED = "deploy-test-never-delivered"


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def say(message):
    print(f"   {message}", flush=True)


# ---------------------------------------------------------------- the stack

class Stack:
    def __init__(self, name):
        self.name = name
        self.cf = boto3.client("cloudformation")
        stack = self.cf.describe_stacks(StackName=name)["Stacks"][0]
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        self.resources = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in self.cf.describe_stack_resources(StackName=name)["StackResources"]
        }
        self.parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}

    def processed_template(self):
        body = self.cf.get_template(StackName=self.name, TemplateStage="Processed")["TemplateBody"]
        return json.loads(body) if isinstance(body, str) else body

    def function_arn(self, logical_id):
        name = self.resources[logical_id]
        return boto3.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]

    def api_endpoint(self):
        api_id = self.resources["Api"]
        return boto3.client("apigatewayv2").get_api(ApiId=api_id)["ApiEndpoint"]


# ---------------------------------------------------------------- same-binary

def same_binary(zip_path, file_path):
    """The bootstrap sam build packaged is the one scripts/build-lambda built."""
    with zipfile.ZipFile(zip_path) as archive:
        built = hashlib.sha256(archive.read("bootstrap")).hexdigest()
    packaged = hashlib.sha256(pathlib.Path(file_path).read_bytes()).hexdigest()
    check(built == packaged,
          f"{file_path} (sha256 {packaged[:16]}) is not the bootstrap in {zip_path} "
          f"(sha256 {built[:16]}): sam build compiled its own")
    print(f"{file_path}: identical to the bootstrap in {zip_path}")


# ---------------------------------------------------------------- route

def resolve_sub(value, stack):
    """Resolves the Fn::Sub SAM writes into an integration's uri."""
    if isinstance(value, str):
        return value
    template = value["Fn::Sub"]
    region = boto3.session.Session().region_name

    def substitute(match):
        name = match.group(1)
        if name == "AWS::Partition":
            return "aws"
        if name == "AWS::Region":
            return region
        if name.endswith(".Arn"):
            return stack.function_arn(name[: -len(".Arn")])
        raise Failed(f"cannot resolve ${{{name}}} in the integration uri {template}")

    return re.sub(r"\$\{([^}]+)\}", substitute, template)


def route(stack_name):
    stack = Stack(stack_name)
    client = boto3.client("apigatewayv2")
    resources = stack.processed_template()["Resources"]
    apis = [(lid, r) for lid, r in resources.items()
            if r["Type"] == "AWS::ApiGatewayV2::Api" and "Body" in r.get("Properties", {})]
    check(apis, "the processed template has no AWS::ApiGatewayV2::Api with an OpenAPI Body")
    for logical_id, resource in apis:
        api_id = stack.resources[logical_id]
        existing = client.get_routes(ApiId=api_id)["Items"]
        if existing:
            say(f"{logical_id} ({api_id}) already has routes "
                f"{sorted(r['RouteKey'] for r in existing)}: left as they are")
            continue
        for path, operations in resource["Properties"]["Body"]["paths"].items():
            for method, operation in operations.items():
                spec = operation["x-amazon-apigateway-integration"]
                integration = client.create_integration(
                    ApiId=api_id,
                    IntegrationType=spec["type"].upper(),
                    IntegrationMethod=spec.get("httpMethod", "POST"),
                    IntegrationUri=resolve_sub(spec["uri"], stack),
                    PayloadFormatVersion=spec.get("payloadFormatVersion", "2.0"),
                )
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                client.create_route(ApiId=api_id, RouteKey=f"{verb} {path}",
                                    Target=f"integrations/{integration['IntegrationId']}")
                say(f"{logical_id} ({api_id}): route {verb} {path} -> {spec['type']} "
                    f"(payload {spec.get('payloadFormatVersion')})")


# ---------------------------------------------------------------- fake-gu1

SESSION_PATH = "/api/kyc/biometric/sessions/"
CONTROL_PATH = "/_fake/sessions/"


def fake_gu1(port_file, key, organization):
    """Gu1's API as the reconcile function reads it (see the module's doc)."""
    sessions, requests, lock = {}, [], threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/_fake/requests":
                with lock:
                    return self.answer(200, requests)
            if not self.path.startswith(SESSION_PATH):
                return self.answer(404, {"error": "Not Found"})
            session = urllib.parse.unquote(self.path[len(SESSION_PATH):])
            authorization = self.headers.get("Authorization")
            organization_sent = self.headers.get("X-Organization-ID")
            with lock:
                if authorization != f"Bearer {key}":
                    status, body = 401, {"error": "Unauthorized"}
                elif organization_sent != organization:
                    status, body = 403, {"error": "Forbidden"}
                elif session in sessions:
                    status, body = 200, sessions[session]
                else:
                    status, body = 404, {"error": "Biometric session not found"}
                requests.append({"session": session, "authorization": authorization,
                                 "organization": organization_sent, "status": status})
            self.answer(status, body)

        def do_PUT(self):
            if not self.path.startswith(CONTROL_PATH):
                return self.answer(404, {"error": "Not Found"})
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            with lock:
                sessions[urllib.parse.unquote(self.path[len(CONTROL_PATH):])] = body
            self.answer(200, body)

        def log_message(self, format, *args):
            print(f"fake-gu1: {format % args}", file=sys.stderr, flush=True)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    parent = os.getppid()

    def orphaned():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    pathlib.Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


class FakeGu1:
    """The checks' side of fake-gu1."""

    def __init__(self, url):
        check(urllib.parse.urlsplit(url).hostname == "127.0.0.1", f"{url} is not on loopback")
        self.url = url.rstrip("/")

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        # Loopback only: no proxy, whatever the environment says.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as response:
            return json.loads(response.read())

    def set_session(self, session):
        self._call("PUT", CONTROL_PATH + urllib.parse.quote(session["id"], safe=""), session)

    def requests(self):
        return self._call("GET", "/_fake/requests")


# ---------------------------------------------------------------- describe

def describe(stack_name, fake_url):
    stack = Stack(stack_name)
    url = f"{stack.api_endpoint()}/webhooks/gu1"
    print(f"\nStack outputs ({stack_name}):")
    for key, value in stack.outputs.items():
        print(f"  {key:28} {value}")
    print(f"\nOn this emulator the webhook URL is not WebhookUrl (that is AWS's form) but\n  {url}")
    print("Send a delivery (curl resolves *.localhost to 127.0.0.1 itself):")
    print(f"  curl -i -X POST {url} -d '{{}}'     # 401 rejected_signature, from the function")
    print("  body=$(jq -r .body events/03-session-approved.json)")
    print("  sig=$(jq -r '.headers[\"x-webhook-signature\"]' events/03-session-approved.json)")
    print(f"  curl -i {url} -H \"X-Webhook-Signature: $sig\" --data-binary \"$body\"")
    if "ReconcileFunctionName" in stack.outputs:
        session = '{"id":"bio-session-uuid","entityId":"entity-uuid","status":"approved"}'
        print(f"\nReconciliation reads Gu1's API from a stand-in at {fake_url} (key and organization")
        print("as deployed). Say what Gu1 answers for a session, reconcile it, see what it was asked:")
        print(f"  curl -X PUT {fake_url}{CONTROL_PATH}bio-session-uuid -d '{session}'")
        print(f"  aws lambda invoke --function-name {stack.outputs['ReconcileFunctionName']} "
              "--cli-binary-format raw-in-base64-out \\\n"
              "    --payload '{\"sessions\":[\"bio-session-uuid\"]}' out.json && cat out.json")
        print(f"  curl {fake_url}/_fake/requests")
        print("(That is AWS CLI v2; with v1, leave out --cli-binary-format raw-in-base64-out.)")


# ---------------------------------------------------------------- exercise

class Api:
    """Requests to the deployed API. Connects to 127.0.0.1 and names the API
    in the Host header, as `{api-id}.execute-api.localhost` would resolve."""

    def __init__(self, endpoint):
        url = urllib.parse.urlsplit(endpoint)
        self.host = url.netloc
        self.port = url.port or 80

    def request(self, method, path, body=b"", headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            sent = {"Host": self.host}
            sent.update(headers or {})
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data
        finally:
            connection.close()


def event_request(path):
    """The HTTP request inside an API Gateway v2 event file."""
    event = json.loads(path.read_text())
    body = event.get("body") or ""
    body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    headers = {k: v for k, v in event["headers"].items() if k.lower() not in ("host", "content-length")}
    return event, event["requestContext"]["http"]["method"], event["rawPath"], headers, body


def payload_of(body):
    return json.loads(body)["payload"]


def answer(status, data):
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data.decode(errors="replace")


def expect_answer(what, got, want_status, result=None, **fields):
    code, body = got
    ok = code == want_status and (result is None or (isinstance(body, dict) and body.get("result") == result))
    for key, value in fields.items():
        ok = ok and isinstance(body, dict) and body.get(key) == value
    check(ok, f"{what}: expected {want_status} {result or ''} {fields or ''}, got {code} {body}")


def exercise(stack_name, webhook_url, fake_url):
    stack = Stack(stack_name)
    url = urllib.parse.urlsplit(webhook_url)
    check(url.hostname.endswith(".localhost"), f"{webhook_url} is not on the emulator")
    api = Api(f"{url.scheme}://{url.netloc}")
    ddb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    lam = boto3.client("lambda")
    table = stack.outputs["SessionsTableName"]
    queue_url = stack.outputs["OutcomesQueueUrl"]

    # -- through the deployed API --------------------------------------------------
    print("-- the API (MiniStack's API Gateway -> Lambda proxy -> the receiver)")
    sessions = {}
    for path in EVENTS:
        _, method, raw_path, headers, body = event_request(path)
        status, _, data = api.request(method, raw_path, body, headers)
        got = answer(status, data)
        if path.stem == BAD_SIGNATURE:
            expect_answer(path.name, got, 401, "rejected_signature")
        else:
            payload = payload_of(body)
            expect_answer(path.name, got, 200, "applied",
                          sessionId=payload["id"], status=payload["status"])
            sessions[payload["id"]] = payload["status"]
        say(f"{path.name}: {got[0]} {got[1].get('result') if isinstance(got[1], dict) else got[1]}")

    for name, result in (("03-session-approved", "duplicate"), ("02-session-in-progress", "stale")):
        _, method, raw_path, headers, body = event_request(REPO / "events" / f"{name}.json")
        got = answer(*api.request(method, raw_path, body, headers)[::2])
        expect_answer(f"{name}.json sent again", got, 200, result)
        say(f"{name}.json again: 200 {result}")

    # API Gateway, not the function, answers what no route matches.
    for method, path in (("GET", "/webhooks/gu1"), ("POST", "/elsewhere")):
        got = answer(*api.request(method, path, b"{}")[::2])
        check(got == (404, {"message": "Not Found"}),
              f"{method} {path} through the API: expected API Gateway's 404 "
              f"{{\"message\":\"Not Found\"}}, got {got[0]} {got[1]}")
        say(f"{method} {path}: 404 {{\"message\":\"Not Found\"}} from API Gateway")

    # -- the function invoked directly, with an events/ file -------------------------
    print("-- the receiver invoked directly (events/ files, API Gateway v2 payload)")
    receiver = stack.outputs["ReceiverFunctionName"]
    event = json.loads((REPO / "events" / "03-session-approved.json").read_text())
    for method, path, status, result in (("POST", "/webhooks/gu1", 200, "duplicate"),
                                         ("GET", "/webhooks/gu1", 405, "method_not_allowed"),
                                         ("POST", "/elsewhere", 404, "not_found")):
        event["requestContext"]["http"]["method"] = method
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
        response = lam.invoke(FunctionName=receiver, Payload=json.dumps(event).encode())
        output = json.loads(response["Payload"].read())
        check("FunctionError" not in response, f"direct {method} {path}: the function failed: {output}")
        got = answer(output.get("statusCode"), (output.get("body") or "").encode())
        expect_answer(f"direct invocation, {method} {path}", got, status, result)
        if status == 405:
            allow = {k.lower(): v for k, v in (output.get("headers") or {}).items()}.get("allow")
            check(allow == "POST", f"direct GET: expected Allow: POST, got {allow!r}")
        say(f"{method} {path}: {status} {result}")

    # -- the table --------------------------------------------------------------------
    print(f"-- DynamoDB ({table})")
    items = {}
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items[item["sessionId"]["S"]] = item
    check(set(items) == set(sessions),
          f"expected one item per session {sorted(sessions)}, found {sorted(items)}")
    for session, status in sessions.items():
        item = items[session]
        check(item["status"]["S"] == status, f"{session}: status {item['status']['S']}, expected {status}")
        if status in TERMINAL:
            check("outcomePublishedAt" in item and "pendingOutcome" not in item,
                  f"{session}: terminal but not marked published: {sorted(item)}")
        say(f"{session}: {status}" + (", outcome published" if status in TERMINAL else ""))

    # -- the queue --------------------------------------------------------------------
    print(f"-- SQS ({queue_url})")
    terminal = {s: st for s, st in sessions.items() if st in TERMINAL}
    messages = receive(sqs, queue_url, len(terminal))
    got = {m["sessionId"]: m["status"] for m in messages}
    check(len(messages) == len(terminal) and got == terminal,
          f"expected one outcome per terminal session {terminal}, got {len(messages)}: {got}")
    say(f"{len(messages)} outcomes, one per terminal session, each valid against "
        "schema/outcome-message.v1.json")

    # -- the sweeper ------------------------------------------------------------------
    print("-- the sweeper")
    sweeper = stack.outputs["SweeperFunctionName"]
    # An outcome a delivery stored but could not publish (SQS down, say): a
    # stored terminal session, with the pending mark and an old terminalAt.
    item = dict(items["bio-session-rejected"])
    for attribute in ("outcomePublishedAt", "outcomeMessageId", "publishLeaseUntil"):
        item.pop(attribute, None)
    item["sessionId"] = {"S": SWEPT}
    item["pendingOutcome"] = {"S": "PENDING"}
    item["terminalAt"] = {"N": str(int(time.time() * 1000) - 10 * 60 * 1000)}
    ddb.put_item(TableName=table, Item=item)
    response = lam.invoke(FunctionName=sweeper, Payload=json.dumps(scheduled_event()).encode())
    output = json.loads(response["Payload"].read() or b"null")
    check("FunctionError" not in response, f"the sweeper failed: {output}")
    check(isinstance(output, dict) and output.get("failed") == 0,
          f"expected a sweep report with failed 0, got {output}")
    swept = ddb.get_item(TableName=table, Key={"sessionId": {"S": SWEPT}}, ConsistentRead=True)["Item"]
    check("outcomePublishedAt" in swept and "pendingOutcome" not in swept,
          f"the sweeper left {SWEPT} unpublished: {sorted(swept)}")
    messages = receive(sqs, queue_url, 1)
    check([(m["sessionId"], m["status"]) for m in messages] == [(SWEPT, "rejected")],
          f"expected the swept outcome on the queue, got {messages}")
    who = "this run" if output.get("published") == 1 else "the scheduled run, just before"
    say(f"invoked: {json.dumps(output)}; {SWEPT} published once (by {who})")

    # -- reconciliation -----------------------------------------------------------------
    reconcile(stack, api, FakeGu1(fake_url), ddb, sqs, lam, table, queue_url)

    # -- the roles --------------------------------------------------------------------
    print("-- the roles (IAM enforced: the calls above ran under them; now what else they may do)")
    roles(stack)


def api_session(session, status, organization, when):
    """A session as Gu1's API (and a webhook's payload) has it."""
    terminal = status in TERMINAL
    body = {"id": session, "entityId": "entity-deploy-test", "organizationId": organization,
            "status": status, "mode": "face_match",
            "sessionUrl": "https://verify.example.com/session/deploy-test",
            "rejectionCode": "FACE_MATCH_SCORE_LOW" if status == "rejected" else None,
            "rejectionMessage": "Face match score 28.5 is below organization threshold 30"
            if status == "rejected" else None,
            "createdAt": when, "updatedAt": when, "completedAt": when if terminal else None,
            "entity": {"id": "entity-deploy-test", "externalId": "customer-deploy-test",
                       "name": "Jane Doe", "type": "person"}}
    if terminal:
        body["decision"] = {"face_match": {"status": "Approved", "score": 99.2},
                            "liveness": {"status": "Approved", "score": 98.5}}
    return body


def deliver(api, session, status, organization):
    """Sends a signed delivery of `session` at `status` through the deployed
    API; it must be applied."""
    when = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    event = f"biometric.session_{'created' if status == 'pending' else status}"
    body = json.dumps({"event": event, "timestamp": when, "organizationId": organization,
                       "payload": api_session(session, status, organization, when)}).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Gu1-Webhooks/1.0",
               "X-Webhook-Event": event, "X-Webhook-Id": f"wh-{session}-{status}",
               "X-Webhook-Timestamp": when,
               "X-Webhook-Signature": hmac.new(SIGNING_SECRET, body, hashlib.sha256).hexdigest()}
    got = answer(*api.request("POST", "/webhooks/gu1", body, headers)[::2])
    expect_answer(f"a delivery of {session} ({status})", got, 200, "applied",
                  sessionId=session, status=status)


def invoke_reconcile(lam, function, payload):
    """Invokes the reconcile function; (its report or error, whether it failed)."""
    response = lam.invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    return json.loads(response["Payload"].read() or b"null"), "FunctionError" in response


def expect_report(what, got, **want):
    report, failed = got
    expected = {"checked": 0, "applied": 0, "unchanged": 0, "notFound": 0, "failed": 0, **want}
    check(not failed and report == expected,
          f"{what}: expected the report {json.dumps(expected)}, got "
          + ("a function error " if failed else "") + json.dumps(report))


def get_item(ddb, table, session):
    return ddb.get_item(TableName=table, Key={"sessionId": {"S": session}},
                        ConsistentRead=True).get("Item", {})


def reconcile(stack, api, fake, ddb, sqs, lam, table, queue_url):
    """The reconcile function under its role, against fake-gu1: a one-off run
    for one session and a second that changes nothing, one for a session
    never delivered, a scheduled run over the stale sessions and a second
    that finds none, and a refused API key."""
    print("-- reconciliation (the reconcile function -> Gu1's API, a stand-in on loopback)")
    check("ReconcileFunctionName" in stack.outputs,
          "the stack has no reconcile function: deploy it with Gu1ApiKeySecretArn")
    function = stack.outputs["ReconcileFunctionName"]
    organization = stack.parameters["Gu1OrganizationId"]
    secrets = boto3.client("secretsmanager")
    key_arn = stack.parameters["Gu1ApiKeySecretArn"]
    key = secrets.get_secret_value(SecretId=key_arn)["SecretString"]
    seen = 0

    def requests_since():
        nonlocal seen
        requests = fake.requests()
        new, seen = requests[seen:], len(requests)
        return new

    # A one-off run, as README Operate shows: Gu1 says approved, we hold pending.
    deliver(api, RECONCILED, "pending", organization)
    before = get_item(ddb, table, RECONCILED)
    check(before.get("activeSession", {}).get("S") == "ACTIVE",
          f"{RECONCILED}: pending but not in the StaleSessions index: {sorted(before)}")
    fake.set_session(api_session(RECONCILED, "approved", organization,
                                 time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())))
    got = invoke_reconcile(lam, function, {"sessions": [RECONCILED]})
    expect_report(f'{{"sessions":["{RECONCILED}"]}}', got, checked=1, applied=1)
    item = get_item(ddb, table, RECONCILED)
    check(item.get("status", {}).get("S") == "approved" and item.get("event", {}).get("S") == "reconcile",
          f"{RECONCILED}: expected status approved and event reconcile, got "
          f"{item.get('status')} {item.get('event')}")
    check("outcomePublishedAt" in item and "pendingOutcome" not in item and "activeSession" not in item,
          f"{RECONCILED}: approved by reconciliation but not published, or still active: {sorted(item)}")
    messages = receive(sqs, queue_url, 1)
    check([(m["sessionId"], m["status"]) for m in messages] == [(RECONCILED, "approved")],
          f"expected one outcome ({RECONCILED} approved) on the queue, got {messages}")
    requests = requests_since()
    check([r["session"] for r in requests] == [RECONCILED],
          f"expected Gu1's API to be asked for {RECONCILED} once, it saw {requests}")
    check(requests[0]["authorization"] == f"Bearer {key}" and requests[0]["organization"] == organization,
          "Gu1's API did not get the key from the secret and the organization id: "
          f"Authorization {'set' if requests[0]['authorization'] else 'missing'}, "
          f"X-Organization-ID {requests[0]['organization']!r}")
    say(f"{RECONCILED}: pending, Gu1 says approved; invoked with "
        f'{{"sessions":["{RECONCILED}"]}}: {json.dumps(got[0])}')
    say("  the item: approved, event reconcile, published; one outcome on the queue; "
        "Gu1's API got Bearer <the secret's key> and X-Organization-ID")

    got = invoke_reconcile(lam, function, {"sessions": [RECONCILED]})
    expect_report(f"{RECONCILED} again", got, checked=1, unchanged=1)
    again = get_item(ddb, table, RECONCILED)
    check(again.get("version") == item.get("version")
          and again.get("outcomeMessageId") == item.get("outcomeMessageId"),
          f"{RECONCILED} again: the item changed: version {item.get('version')} -> {again.get('version')}")
    messages = receive(sqs, queue_url, 0, wait_s=3)
    check(not messages, f"{RECONCILED} again: expected nothing new on the queue, got {messages}")
    requests = requests_since()
    check([r["session"] for r in requests] == [RECONCILED],
          f"{RECONCILED} again: expected Gu1's API to be asked for it once, it saw {requests}")
    say(f"again: {json.dumps(got[0])}; the item as it was, nothing new on the queue")

    # A one-off run for a session we never heard of.
    fake.set_session(api_session(NEVER_DELIVERED, "approved", organization,
                                 time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())))
    got = invoke_reconcile(lam, function, {"sessions": [NEVER_DELIVERED]})
    expect_report(f"{NEVER_DELIVERED} (never delivered)", got, checked=1, applied=1)
    item = get_item(ddb, table, NEVER_DELIVERED)
    check(item.get("status", {}).get("S") == "approved" and item.get("event", {}).get("S") == "reconcile"
          and "outcomePublishedAt" in item,
          f"{NEVER_DELIVERED}: expected an approved item from reconcile, published: {item}")
    messages = receive(sqs, queue_url, 1)
    check([(m["sessionId"], m["status"]) for m in messages] == [(NEVER_DELIVERED, "approved")],
          f"expected one outcome ({NEVER_DELIVERED} approved) on the queue, got {messages}")
    check([r["session"] for r in requests_since()] == [NEVER_DELIVERED],
          f"{NEVER_DELIVERED}: Gu1's API was not asked for it once")
    say(f"{NEVER_DELIVERED} (never delivered, Gu1 says approved): {json.dumps(got[0])}; "
        "stored and published once")

    # A scheduled run: what nothing has moved for ReconcileStaleAfterSeconds,
    # found through the StaleSessions index (made stale here by moving its
    # lastCheckedAt back), and only that.
    stale_after = int(stack.parameters["ReconcileStaleAfterSeconds"])
    deliver(api, STALE, "in_progress", organization)
    deliver(api, UNKNOWN_TO_GU1, "pending", organization)
    long_ago = int(time.time() * 1000) - (stale_after + 600) * 1000
    for session in (STALE, UNKNOWN_TO_GU1):
        ddb.update_item(TableName=table, Key={"sessionId": {"S": session}},
                        UpdateExpression="SET lastCheckedAt = :t",
                        ExpressionAttributeValues={":t": {"N": str(long_ago)}})
    fake.set_session(api_session(STALE, "rejected", organization,
                                 time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())))
    got = invoke_reconcile(lam, function, scheduled_event())
    expect_report("a scheduled run", got, checked=2, applied=1, notFound=1)
    requests = requests_since()
    check(sorted(r["session"] for r in requests) == sorted([STALE, UNKNOWN_TO_GU1]),
          f"a scheduled run: expected Gu1's API to be asked for {STALE} and {UNKNOWN_TO_GU1} "
          f"(the stale ones), it saw {[r['session'] for r in requests]}")
    item = get_item(ddb, table, STALE)
    check(item.get("status", {}).get("S") == "rejected" and item.get("event", {}).get("S") == "reconcile"
          and item.get("rejectionCode", {}).get("S") == "FACE_MATCH_SCORE_LOW"
          and "outcomePublishedAt" in item,
          f"{STALE}: expected rejected by reconcile, with its rejection code, and published: {item}")
    unknown = get_item(ddb, table, UNKNOWN_TO_GU1)
    checked_at = int(unknown.get("lastCheckedAt", {}).get("N", "0"))
    check(unknown.get("status", {}).get("S") == "pending" and checked_at > long_ago,
          f"{UNKNOWN_TO_GU1}: expected still pending and marked checked, got {unknown}")
    messages = receive(sqs, queue_url, 1)
    check([(m["sessionId"], m["status"]) for m in messages] == [(STALE, "rejected")],
          f"expected one outcome ({STALE} rejected) on the queue, got {messages}")
    say(f"a scheduled run ({STALE} in progress and {UNKNOWN_TO_GU1} pending, both stale): "
        f"{json.dumps(got[0])}")
    say(f"  {STALE}: rejected by reconcile, one outcome on the queue; "
        f"{UNKNOWN_TO_GU1}: Gu1's 404, still pending, back of the stale queue")
    got = invoke_reconcile(lam, function, scheduled_event())
    expect_report("a scheduled run again", got)
    check(not requests_since(), "a scheduled run again: Gu1's API was asked again")
    say(f"again: {json.dumps(got[0])}, nothing asked of Gu1's API")

    # A refused key (read for each run, so a new value counts at once).
    secrets.put_secret_value(SecretId=key_arn, SecretString="not-the-key")
    try:
        report, failed = invoke_reconcile(lam, function, {"sessions": [RECONCILED]})
    finally:
        secrets.put_secret_value(SecretId=key_arn, SecretString=key)
    message = report.get("errorMessage", "") if isinstance(report, dict) else ""
    check(failed and "refused our credentials (401)" in message,
          f"a wrong API key: expected a function error saying the credentials were refused, got "
          f"{'a function error ' if failed else ''}{report}")
    requests = requests_since()
    check([r["status"] for r in requests] == [401], f"a wrong API key: Gu1's API saw {requests}")
    say(f"a wrong API key: function error \"{message}\"")


def scheduled_event():
    return {"version": "0", "id": "deploy-test", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "000000000000",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": "us-east-1", "resources": [], "detail": {}}


def receive(sqs, queue_url, expected, wait_s=15):
    """Receives (and deletes) messages until `expected` arrived and the queue
    has stayed empty for a moment, or wait_s passed. Each body must satisfy
    the published schema and carry the status attribute."""
    messages, deadline, empty = [], time.time() + wait_s, 0
    while time.time() < deadline and (len(messages) < expected or empty < 1):
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                    WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages", [])
        empty = 0 if batch else empty + 1
        for message in batch:
            body = json.loads(message["Body"])
            try:
                jsonschema.validate(body, SCHEMA)
            except jsonschema.ValidationError as err:
                raise Failed(f"message for {body.get('sessionId')} does not match the schema: {err.message}")
            status = message.get("MessageAttributes", {}).get("status", {}).get("StringValue")
            check(status == body["status"], f"message for {body['sessionId']}: status attribute {status!r}")
            messages.append(body)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def roles(stack):
    """Asks IAM (iam:SimulatePrincipalPolicy, the same evaluator that enforced
    the calls above) what each function's role may do: exactly what its code
    calls is allowed, and a sample of what it must not do is denied."""
    iam = boto3.client("iam")
    lam = boto3.client("lambda")
    region = boto3.session.Session().region_name
    table = boto3.client("dynamodb").describe_table(
        TableName=stack.outputs["SessionsTableName"])["Table"]["TableArn"]
    unpublished = f"{table}/index/UnpublishedOutcomes"
    stale = f"{table}/index/StaleSessions"
    queue = stack.outputs["OutcomesQueueArn"]
    dlq = queue.replace("-outcomes", "-outcomes-dlq")
    webhook_secret = stack.parameters["WebhookSecretArn"]
    api_key = stack.parameters["Gu1ApiKeySecretArn"]
    other_secret = f"arn:aws:secretsmanager:{region}:000000000000:secret:some-other-secret-AbCdEf"

    def log_calls(function):
        group = f"arn:aws:logs:{region}:000000000000:log-group:/aws/lambda/{stack.name}-{function}:*"
        return [("logs:CreateLogStream", group), ("logs:PutLogEvents", group)]

    # Every role: its writes and sends, nothing else on the table, the queues
    # or the secrets.
    allowed = [("dynamodb:UpdateItem", table), ("sqs:SendMessage", queue)]
    denied = [("dynamodb:Scan", table), ("dynamodb:GetItem", table), ("dynamodb:PutItem", table),
              ("dynamodb:DeleteItem", table), ("dynamodb:DeleteTable", table),
              ("dynamodb:Query", table),
              ("sqs:ReceiveMessage", queue), ("sqs:DeleteMessage", queue),
              ("sqs:PurgeQueue", queue), ("sqs:DeleteQueue", queue), ("sqs:SendMessage", dlq),
              ("secretsmanager:GetSecretValue", other_secret),
              ("iam:PassRole", "*"), ("lambda:InvokeFunction", "*")]
    for secret in (webhook_secret, api_key):
        denied += [("secretsmanager:PutSecretValue", secret), ("secretsmanager:DeleteSecret", secret)]
    # Per function (logical id): what its code calls, and what only another
    # function may do.
    expected = {
        "ReceiverFunction": (
            allowed + log_calls("receiver") + [("secretsmanager:GetSecretValue", webhook_secret)],
            denied + [("dynamodb:Query", unpublished), ("dynamodb:Query", stale),
                      ("secretsmanager:GetSecretValue", api_key)]),
        "SweeperFunction": (
            allowed + log_calls("sweeper") + [("dynamodb:Query", unpublished)],
            denied + [("dynamodb:Query", stale), ("secretsmanager:GetSecretValue", webhook_secret),
                      ("secretsmanager:GetSecretValue", api_key)]),
        "ReconcileFunction": (
            allowed + log_calls("reconcile") + [("dynamodb:Query", stale),
                                           ("secretsmanager:GetSecretValue", api_key)],
            denied + [("dynamodb:Query", unpublished),
                      ("secretsmanager:GetSecretValue", webhook_secret)]),
    }
    # A new function brings a new role: this check, and the invocations
    # above, must learn what its code calls. Each function's role is the one
    # Lambda runs it under; a role no known function runs under is unknown too.
    cf_types = {r["LogicalResourceId"]: r["ResourceType"] for r in
                stack.cf.describe_stack_resources(StackName=stack.name)["StackResources"]}
    functions = sorted(lid for lid, kind in cf_types.items() if kind == "AWS::Lambda::Function")
    unknown = [lid for lid in functions if lid not in expected]
    check(not unknown, f"the stack has {unknown}, which scripts/deploy-checks.py does not exercise: "
          "invoke the function and list what its role may and may not do")
    missing = [lid for lid in expected if lid not in functions]
    check(not missing, f"the stack lacks {missing}, which scripts/deploy-checks.py expects")
    role_of = {lid: lam.get_function_configuration(FunctionName=stack.resources[lid])["Role"]
               for lid in functions}
    role_names = {arn.rsplit("/", 1)[-1] for arn in role_of.values()}
    stray = sorted(lid for lid, kind in cf_types.items()
                   if kind == "AWS::IAM::Role" and stack.resources[lid] not in role_names)
    check(not stray, f"the stack has roles {stray} that no known function runs under: "
          "scripts/deploy-checks.py must learn what they may do")
    check(len(role_names) == len(functions), f"functions share a role: {role_of}")
    for logical_id, (allowed_calls, denied_calls) in expected.items():
        role_arn = role_of[logical_id]
        wrong = []
        for want, cases in (("allowed", allowed_calls), ("denied", denied_calls)):
            for action, resource in cases:
                result = iam.simulate_principal_policy(
                    PolicySourceArn=role_arn, ActionNames=[action], ResourceArns=[resource],
                )["EvaluationResults"][0]["EvalDecision"]
                if (result == "allowed") != (want == "allowed"):
                    wrong.append(f"{action} on {resource.rsplit(':', 1)[-1]}: {result}, should be {want}")
        check(not wrong, f"{logical_id}'s role ({role_arn.rsplit('/', 1)[-1]}):\n      "
              + "\n      ".join(wrong))
        say(f"{logical_id}'s role: {len(allowed_calls)} needed calls allowed, "
            f"{len(denied_calls)} others denied")


# ---------------------------------------------------------------- remains

def remains(stack_name, table, *secret_arns):
    cf = boto3.client("cloudformation")
    try:
        status = cf.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    except cf.exceptions.ClientError:
        status = "gone"
    check(status in ("gone", "DELETE_COMPLETE"), f"stack {stack_name} is {status} after sam delete")
    say(f"stack {stack_name}: {status}")

    description = boto3.client("dynamodb").describe_table(TableName=table)["Table"]
    check(description["TableStatus"] == "ACTIVE", f"table {table} is {description['TableStatus']}")
    count = boto3.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]
    check(count > 0, f"table {table} is empty")
    say(f"table {table}: kept (DeletionPolicy Retain), {count} items")

    for secret_arn in secret_arns:
        secret = boto3.client("secretsmanager").describe_secret(SecretId=secret_arn)
        check("DeletedDate" not in secret, f"secret {secret_arn} is scheduled for deletion")
        say(f"secret {secret['Name']}: kept (created outside the stack)")

    functions = [f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]
                 if f["FunctionName"].startswith(f"{stack_name}-")]
    queues = boto3.client("sqs").list_queues(QueueNamePrefix=f"{stack_name}-").get("QueueUrls", [])
    check(not functions and not queues, f"left behind: functions {functions}, queues {queues}")
    say("functions and queues: deleted with the stack")


# ---------------------------------------------------------------- logs

def logs(stack_name, lines="15"):
    """The last lines each function logged (for a failure message)."""
    stack = Stack(stack_name)
    client = boto3.client("logs")
    for key in ("ReceiverLogGroup", "SweeperLogGroup", "ReconcileLogGroup"):
        group = stack.outputs.get(key)
        if group is None:
            continue
        try:
            events = client.filter_log_events(logGroupName=group)["events"]
        except client.exceptions.ResourceNotFoundException:
            events = []
        print(f"--- {group}: {len(events)} lines" + (f", the last {lines}:" if events else ""))
        for event in events[-int(lines):]:
            message = event["message"].rstrip()
            print(f"    {message[:700]}" + (" [...]" if len(message) > 700 else ""))


# ---------------------------------------------------------------- main

COMMANDS = {"same-binary": same_binary, "route": route, "fake-gu1": fake_gu1,
            "describe": describe, "exercise": exercise, "remains": remains, "logs": logs}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except Failed as failure:
        print(f"deploy-checks {sys.argv[1]}: {failure}", file=sys.stderr)
        sys.exit(1)
