//! The deployed stack: the checks `scripts/deploy-test` runs against the
//! stack it deployed with SAM to MiniStack (an AWS emulator on loopback, IAM
//! enforced), after deploying it. Every test passes at once, printing
//! "skipped: GU1_DEPLOYED_STACK not set", unless deploy-test's variables are
//! set (the emulator's `AWS_*` ones too):
//!
//! | variable | what |
//! |---|---|
//! | `GU1_DEPLOYED_STACK` | the stack's name |
//! | `GU1_DEPLOYED_WEBHOOK_URL` | the webhook URL on the emulator, `http://{api}.execute-api.localhost:PORT/webhooks/gu1` |
//! | `GU1_DEPLOYED_GU1_API_PORT` | the loopback port the stack's `Gu1ApiUrl` names: the reconcile checks serve the fake Gu1 API there |
//! | `GU1_DEPLOYED_WORKER_TABLE`, `GU1_DEPLOYED_WORKER_FUNCTION` | the example worker's table and function, once deploy-test deployed it: see `worker` |
//! | `GU1_DEPLOYED_SECURITY` | `set` or `defaults`: whether the stack was deployed with every security parameter set, or (a second deploy) with all of them empty: see `security` |
//! | `GU1_DELETED_STACK`, `GU1_DELETED_TABLE`, `GU1_DELETED_SECRETS` | after `sam delete` only: see `remains` |
//!
//! Data-plane calls go through the crate's SDK clients; the control plane
//! (invoking a function, IAM's policy simulator, CloudFormation) through
//! the `aws` CLI on `PATH`, as deploy-test sets it. Each test stands alone
//! (its own sessions, `deploy-test-*`, unique per run, beside the fixed ids
//! of `events/`) and leaves the queue as it found it: empty.
//!
//! | module | what it holds the stack to |
//! |---|---|
//! | `api` | `events/` through the deployed API: answers, items, messages; API Gateway's 404; the function's own 405/404 invoked directly |
//! | `dashboard` | the dashboard names the deployed functions and queues and only the code's metrics; `NoDeliveryAlarm` watches `AuthenticDeliveries`; every alarm is in CloudWatch on the code's metrics, the refusal alarms on refused `Deliveries` |
//! | `sweeper` | an outcome left pending is published by the sweeper |
//! | `reconcile` | the reconcile function against the fake Gu1 API: one-off, never delivered, scheduled, a refused key |
//! | `queue` | the queues' policies: a role outside the stack cannot send (a real call under an assumed role), the workers' role in `ConsumerPrincipalArns` receives |
//! | `roles` | what IAM lets each function's role do; only the operator may query its three indexes |
//! | `operations` | the operator function's commands: `republish` by session and by window (a new message, `republishedAt`, the original's body), `erase` by entity and by external id (no personal field left, another person's item untouched, a replay answered `erased`), a payload that is no command |
//! | `retention` | `RetentionDays`: the table's time to live on `expiresAt`, an applied delivery's `expiresAt`, a delivery older than the retention `beyond_retention` and not stored |
//! | `security` | the security baseline: tracing, the permissions boundary, the customer keys and who may use them; or all back to the defaults, a delivery still applied |
//! | `worker` | the example worker, deployed on the outcomes queue: a signed delivery's outcome reaches its table, once |
//! | `remains` | after `sam delete`: the table and the secrets stay, the rest goes |

mod api;
mod dashboard;
mod messages;
mod operations;
mod queue;
mod reconcile;
mod remains;
mod retention;
mod roles;
mod schema;
mod security;
mod sweeper;
mod worker;

use crate::support::{self, Item, Value, WebhookClient, json};
use aws_sdk_dynamodb::types::AttributeValue;
use gu1_webhook::local::sign_hex;
use std::collections::HashMap;
use std::process::Command;
use std::sync::OnceLock;

/// The webhook secret the checks sign with: the second of deploy-test's
/// list, the documented local secret the `events/` files are signed with.
pub const SIGNING_SECRET: &str = "gu1-local-demo-secret";
/// The terminal statuses: one message each.
pub const TERMINAL: [&str; 5] = ["approved", "rejected", "abandoned", "cancelled", "expired"];

/// The stack deploy-test deployed, as CloudFormation describes it.
pub struct Deployed {
    pub stack: String,
    /// `{api}.execute-api.localhost:PORT`: requests connect to 127.0.0.1
    /// and name the API in the Host header, as that name would resolve.
    host: String,
    api: WebhookClient,
    pub gu1_api_port: u16,
    pub outputs: HashMap<String, String>,
    pub parameters: HashMap<String, String>,
    /// Logical id -> (physical id, resource type).
    pub resources: HashMap<String, (String, String)>,
}

/// The deployed stack, or `None` (a note printed: the test passes) when
/// GU1_DEPLOYED_STACK is not set.
pub fn deployed() -> Option<&'static Deployed> {
    static DEPLOYED: OnceLock<Option<Deployed>> = OnceLock::new();
    let deployed = DEPLOYED
        .get_or_init(|| {
            let stack = std::env::var("GU1_DEPLOYED_STACK").ok()?;
            Some(Deployed::describe(stack))
        })
        .as_ref();
    if deployed.is_none() {
        println!("skipped: GU1_DEPLOYED_STACK not set");
    }
    deployed
}

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("GU1_DEPLOYED_STACK is set but {name} is not"))
}

impl Deployed {
    fn describe(stack: String) -> Deployed {
        let url = required("GU1_DEPLOYED_WEBHOOK_URL");
        let host = url
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .filter(|host| {
                host.split(':')
                    .next()
                    .is_some_and(|h| h.ends_with(".localhost"))
            })
            .unwrap_or_else(|| panic!("{url} is not an http URL on the emulator (*.localhost)"))
            .to_owned();
        let port = host.rsplit_once(':').map_or("80", |(_, port)| port);
        let gu1_api_port = required("GU1_DEPLOYED_GU1_API_PORT")
            .parse()
            .expect("GU1_DEPLOYED_GU1_API_PORT is a port");
        let description = aws_sync(&["cloudformation", "describe-stacks", "--stack-name", &stack]);
        let description = &description["Stacks"][0];
        let pairs = |list: &Value, key: &str, value: &str| -> HashMap<String, String> {
            let list = list.as_array().into_iter().flatten();
            list.map(|pair| (string(&pair[key]), string(&pair[value])))
                .collect()
        };
        let resources = aws_sync(&[
            "cloudformation",
            "describe-stack-resources",
            "--stack-name",
            &stack,
        ]);
        let resources = resources["StackResources"].as_array().into_iter().flatten();
        Deployed {
            api: WebhookClient::new(&format!("http://127.0.0.1:{port}")),
            host,
            gu1_api_port,
            outputs: pairs(&description["Outputs"], "OutputKey", "OutputValue"),
            parameters: pairs(&description["Parameters"], "ParameterKey", "ParameterValue"),
            resources: resources
                .map(|r| {
                    let ids = (string(&r["PhysicalResourceId"]), string(&r["ResourceType"]));
                    (string(&r["LogicalResourceId"]), ids)
                })
                .collect(),
            stack,
        }
    }

    /// A stack output; the test fails without it.
    pub fn output(&self, key: &str) -> &str {
        self.outputs
            .get(key)
            .unwrap_or_else(|| panic!("the stack has no output {key}"))
    }

    /// A stack parameter; the test fails without it.
    pub fn parameter(&self, key: &str) -> &str {
        self.parameters
            .get(key)
            .unwrap_or_else(|| panic!("the stack has no parameter {key}"))
    }

    /// Clients of the table and the queue (built per test: a client belongs
    /// to the runtime it first ran on), with the emulator's account.
    pub fn clients(&self) -> support::Stack {
        let config = sdk();
        support::Stack {
            table: self.output("SessionsTableName").to_owned(),
            queue_url: self.output("OutcomesQueueUrl").to_owned(),
            reviews_url: self.output("ReviewsQueueUrl").to_owned(),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
        }
    }

    /// A Secrets Manager client, as [`Deployed::clients`].
    pub fn secrets(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&sdk())
    }

    /// A request through the deployed API.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> support::Answer {
        let mut sent = vec![("host", self.host.as_str())];
        sent.extend_from_slice(headers);
        self.api.request(method, path, &sent, body).await
    }

    /// Sends `body` signed as Gu1 would through the deployed API; it must
    /// be applied.
    pub async fn deliver(&self, body: &Value) {
        let payload = &body["payload"];
        let applied =
            json!({"result": "applied", "sessionId": payload["id"], "status": payload["status"]});
        self.deliver_expecting(body, applied).await;
    }

    /// Sends `body` signed as Gu1 would through the deployed API; it must
    /// be answered `200` with `expected`.
    pub async fn deliver_expecting(&self, body: &Value, expected: Value) {
        let (bytes, signature) = signed(body);
        let answer = self
            .request(
                "POST",
                "/webhooks/gu1",
                &[
                    ("content-type", "application/json"),
                    ("x-webhook-signature", signature.as_str()),
                ],
                bytes,
            )
            .await;
        let payload = &body["payload"];
        assert_eq!(
            (answer.status, &answer.body),
            (200, &expected),
            "a delivery of {} ({})",
            payload["id"],
            payload["status"]
        );
    }

    /// Invokes the function of output `function_key` with `payload`.
    pub async fn invoke(&self, function_key: &str, payload: &Value) -> Invocation {
        invoke(self.output(function_key), payload).await
    }
}

/// The emulator's account (`AWS_ENDPOINT_URL`, us-east-1, `test`), as the
/// crate builds its configuration, with the patience of a test's own
/// clients ([`support::patient`]).
pub fn sdk() -> aws_types::SdkConfig {
    support::patient(&support::sdk(&required("AWS_ENDPOINT_URL")))
}

/// Invokes the deployed function `function` (its name) with `payload`.
pub async fn invoke(function: &str, payload: &Value) -> Invocation {
    let dir = std::env::temp_dir();
    let input = dir.join(support::unique("deploy-test-payload"));
    let output = dir.join(support::unique("deploy-test-output"));
    std::fs::write(&input, payload.to_string()).expect("write the payload");
    let answer = aws(&[
        "lambda",
        "invoke",
        "--function-name",
        function,
        "--payload",
        &format!("fileb://{}", input.display()),
        &output.display().to_string(),
    ])
    .await;
    let returned = std::fs::read(&output).expect("the invocation's output");
    let _ = std::fs::remove_file(input);
    let _ = std::fs::remove_file(output);
    Invocation {
        failed: answer.get("FunctionError").is_some(),
        output: serde_json::from_slice(&returned).unwrap_or(Value::Null),
    }
}

/// What an invocation returned.
#[derive(Debug)]
pub struct Invocation {
    /// Lambda's `FunctionError`: the handler failed.
    pub failed: bool,
    /// The handler's answer, or the error Lambda reports.
    pub output: Value,
}

/// `(sessionId, status)` of each outcome.
pub fn sessions_and_statuses(bodies: &[Value]) -> Vec<(String, String)> {
    bodies
        .iter()
        .map(|b| (string(&b["sessionId"]), string(&b["status"])))
        .collect()
}

/// `body` as bytes and its signature, as Gu1 sends them.
pub fn signed(body: &Value) -> (Vec<u8>, String) {
    let bytes = serde_json::to_vec(body).expect("json");
    let signature = sign_hex(SIGNING_SECRET.as_bytes(), &bytes);
    (bytes, signature)
}

/// An EventBridge scheduled event, as the functions' schedules send.
pub fn scheduled_event() -> Value {
    json!({"version": "0", "id": "deploy-test", "detail-type": "Scheduled Event",
           "source": "aws.events", "account": "000000000000", "time": "2026-06-11T15:00:00Z",
           "region": "us-east-1", "resources": [], "detail": {}})
}

/// The stored item of `session` (strongly consistent), or an empty one.
pub async fn item(aws: &support::Stack, session: &str) -> Item {
    aws.item(session).await.unwrap_or_default()
}

/// Every item of the table.
pub async fn scan(aws: &support::Stack) -> Vec<Item> {
    let (mut items, mut start): (Vec<Item>, Option<HashMap<String, AttributeValue>>) =
        (vec![], None);
    loop {
        let page = aws
            .dynamodb
            .scan()
            .table_name(&aws.table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(page.items().iter().cloned());
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// A JSON string's text ("" for anything else).
pub fn string(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Runs the `aws` CLI (JSON output) off the runtime's threads, so that
/// what the test serves (the fake Gu1 API) keeps answering meanwhile.
pub async fn aws(args: &[&str]) -> Value {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        aws_sync(&args)
    })
    .await
    .expect("the aws CLI")
}

/// Runs the `aws` CLI (JSON output); its parsed output (`Null` when none).
pub fn aws_sync(args: &[&str]) -> Value {
    let output = Command::new("aws")
        .args(args)
        .args(["--output", "json"])
        .output()
        .expect("the aws CLI on PATH (scripts/deploy-test puts it there)");
    assert!(
        output.status.success(),
        "aws {} {}: {}",
        args[0],
        args[1],
        String::from_utf8_lossy(&output.stderr).trim()
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}
