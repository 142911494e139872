#!/usr/bin/env python3
"""The checks of scripts/deploy-test, against the stack it deployed to MiniStack.

Runs in the ministack venv (boto3, jsonschema) with deploy-test's environment:
AWS_ENDPOINT_URL pointing at the emulator and its dummy account credentials,
which act as the account's administrator. Every request goes to 127.0.0.1.

  deploy-checks.py same-binary ZIP FILE     FILE is the bootstrap inside ZIP
  deploy-checks.py route STACK              create the HTTP API's routes (below)
  deploy-checks.py describe STACK           names and URLs, for scripts/deploy-local
  deploy-checks.py exercise STACK URL       deliveries, table, queue, sweeper, roles
  deploy-checks.py remains STACK TABLE SECRET_ARN   after `sam delete`
  deploy-checks.py logs STACK [LINES]       what the functions logged

Routing: SAM turns the HttpApi event into an OpenAPI `Body` on the
AWS::ApiGatewayV2::Api, and MiniStack creates that API without its routes
(every request would be a 404). `route` reads the routes and integrations
from the stack's processed template and creates them with the apigatewayv2
API, as API Gateway's import would; if the API already has routes (a later
MiniStack that imports them), it leaves them alone. Deliveries then go
through the deployed API: MiniStack's API Gateway, the Lambda proxy
integration (payload v2) and the real bootstrap running under its role.

A failed check prints what was expected and what came instead, and exits 1.
"""
import base64
import hashlib
import http.client
import json
import pathlib
import re
import sys
import time
import urllib.parse
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


# ---------------------------------------------------------------- describe

def describe(stack_name):
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


def exercise(stack_name, webhook_url):
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

    # -- the roles --------------------------------------------------------------------
    print("-- the roles (IAM enforced: the calls above ran under them; now what else they may do)")
    roles(stack)


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
    region = boto3.session.Session().region_name
    table = boto3.client("dynamodb").describe_table(
        TableName=stack.outputs["SessionsTableName"])["Table"]["TableArn"]
    index = f"{table}/index/UnpublishedOutcomes"
    queue = stack.outputs["OutcomesQueueArn"]
    dlq = queue.replace("-outcomes", "-outcomes-dlq")
    secret = stack.parameters["WebhookSecretArn"]
    other_secret = f"arn:aws:secretsmanager:{region}:000000000000:secret:some-other-secret-AbCdEf"
    logs = f"arn:aws:logs:{region}:000000000000:log-group:/aws/lambda/{stack.name}-receiver:*"

    common_allowed = [("dynamodb:UpdateItem", table), ("sqs:SendMessage", queue),
                      ("secretsmanager:GetSecretValue", secret),
                      ("logs:CreateLogStream", logs), ("logs:PutLogEvents", logs)]
    common_denied = [("dynamodb:Scan", table), ("dynamodb:GetItem", table), ("dynamodb:PutItem", table),
                     ("dynamodb:DeleteItem", table), ("dynamodb:DeleteTable", table),
                     ("sqs:ReceiveMessage", queue), ("sqs:DeleteMessage", queue),
                     ("sqs:PurgeQueue", queue), ("sqs:DeleteQueue", queue), ("sqs:SendMessage", dlq),
                     ("secretsmanager:PutSecretValue", secret), ("secretsmanager:DeleteSecret", secret),
                     ("secretsmanager:GetSecretValue", other_secret),
                     ("iam:PassRole", "*"), ("lambda:InvokeFunction", "*")]
    expected = {
        "ReceiverFunctionRole": (common_allowed,
                                 common_denied + [("dynamodb:Query", table), ("dynamodb:Query", index)]),
        "SweeperFunctionRole": (common_allowed + [("dynamodb:Query", index)],
                                common_denied + [("dynamodb:Query", table)]),
    }
    # A new function (the reconcile function, say) brings a new role: this
    # check, and the invocations above, must learn what its code calls.
    cf_types = {r["LogicalResourceId"]: r["ResourceType"] for r in
                stack.cf.describe_stack_resources(StackName=stack.name)["StackResources"]}
    unknown = sorted(lid for lid, kind in cf_types.items()
                     if kind in ("AWS::IAM::Role", "AWS::Lambda::Function")
                     and lid not in expected and lid not in ("ReceiverFunction", "SweeperFunction"))
    check(not unknown, f"the stack has {unknown}, which scripts/deploy-checks.py does not exercise: "
          "invoke the function and list what its role may and may not do")
    for logical_id, (allowed, denied) in expected.items():
        role_arn = iam.get_role(RoleName=stack.resources[logical_id])["Role"]["Arn"]
        wrong = []
        for want, cases in (("allowed", allowed), ("denied", denied)):
            for action, resource in cases:
                result = iam.simulate_principal_policy(
                    PolicySourceArn=role_arn, ActionNames=[action], ResourceArns=[resource],
                )["EvaluationResults"][0]["EvalDecision"]
                if (result == "allowed") != (want == "allowed"):
                    wrong.append(f"{action} on {resource.rsplit(':', 1)[-1]}: {result}, should be {want}")
        check(not wrong, f"{logical_id}:\n      " + "\n      ".join(wrong))
        say(f"{logical_id}: {len(allowed)} needed calls allowed, {len(denied)} others denied")


# ---------------------------------------------------------------- remains

def remains(stack_name, table, secret_arn):
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
    for key in ("ReceiverLogGroup", "SweeperLogGroup"):
        group = stack.outputs[key]
        try:
            events = client.filter_log_events(logGroupName=group)["events"]
        except client.exceptions.ResourceNotFoundException:
            events = []
        print(f"--- {group}: {len(events)} lines" + (f", the last {lines}:" if events else ""))
        for event in events[-int(lines):]:
            message = event["message"].rstrip()
            print(f"    {message[:700]}" + (" [...]" if len(message) > 700 else ""))


# ---------------------------------------------------------------- main

COMMANDS = {"same-binary": same_binary, "route": route, "describe": describe,
            "exercise": exercise, "remains": remains, "logs": logs}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except Failed as failure:
        print(f"deploy-checks {sys.argv[1]}: {failure}", file=sys.stderr)
        sys.exit(1)
