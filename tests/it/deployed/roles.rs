//! What IAM lets each function's role do, asked of IAM's policy simulator
//! (`iam:SimulatePrincipalPolicy`, the evaluator that enforced every call
//! the other checks made): exactly what its code calls is allowed, and a
//! sample of what it must not do is denied. A function, or a role, these
//! checks do not know fails them: they must learn what it may do.

use super::{aws, deployed, string};
use futures::StreamExt as _;
use std::collections::{BTreeMap, HashMap};

type Calls = Vec<(&'static str, String)>;

#[tokio::test]
async fn each_role_may_make_exactly_its_functions_calls() {
    let Some(deployed) = deployed() else { return };
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    let table = deployed
        .clients()
        .dynamodb
        .describe_table()
        .table_name(deployed.output("SessionsTableName"))
        .send()
        .await
        .expect("describe the table")
        .table
        .and_then(|t| t.table_arn)
        .expect("the table's ARN");
    let unpublished = format!("{table}/index/UnpublishedOutcomes");
    let stale = format!("{table}/index/StaleSessions");
    let queue = deployed.output("OutcomesQueueArn").to_owned();
    let dlq = queue.replace("-outcomes", "-outcomes-dlq");
    let webhook_secret = deployed.parameter("WebhookSecretArn").to_owned();
    let api_key = deployed.parameter("Gu1ApiKeySecretArn").to_owned();
    let other_secret =
        format!("arn:aws:secretsmanager:{region}:000000000000:secret:some-other-secret-AbCdEf");
    let log_calls = |function: &str| -> Calls {
        let group = format!(
            "arn:aws:logs:{region}:000000000000:log-group:/aws/lambda/{}-{function}:*",
            deployed.stack
        );
        vec![
            ("logs:CreateLogStream", group.clone()),
            ("logs:PutLogEvents", group),
        ]
    };

    // Every role: its writes and sends, nothing else on the table, the
    // queues or the secrets.
    let reviews = deployed.output("ReviewsQueueArn").to_owned();
    let allowed: Calls = vec![
        ("dynamodb:UpdateItem", table.clone()),
        ("sqs:SendMessage", queue.clone()),
        ("sqs:SendMessage", reviews),
    ];
    let mut denied: Calls = [
        "dynamodb:Scan",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:DeleteTable",
        "dynamodb:Query",
    ]
    .into_iter()
    .map(|action| (action, table.clone()))
    .chain(
        [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:PurgeQueue",
            "sqs:DeleteQueue",
        ]
        .into_iter()
        .map(|action| (action, queue.clone())),
    )
    .collect();
    denied.extend([
        ("sqs:SendMessage", dlq),
        ("secretsmanager:GetSecretValue", other_secret),
        ("iam:PassRole", "*".into()),
        ("lambda:InvokeFunction", "*".into()),
    ]);
    for secret in [&webhook_secret, &api_key] {
        denied.push(("secretsmanager:PutSecretValue", secret.clone()));
        denied.push(("secretsmanager:DeleteSecret", secret.clone()));
    }
    // The operator's indexes: no other function may read them.
    let operators: Calls = [
        "TerminalOutcomes",
        "SessionsByEntity",
        "SessionsByExternalId",
    ]
    .into_iter()
    .map(|index| ("dynamodb:Query", format!("{table}/index/{index}")))
    .collect();
    // A function's calls: what every role may do, its logs and `more`; and
    // what no role may do, the operator's indexes unless it is the
    // operator, and `less`.
    let role = |function: &str, more: Calls, less: Calls| -> (Calls, Calls) {
        let operator = function == "operator";
        let may = allowed
            .iter()
            .cloned()
            .chain(log_calls(function))
            .chain(more);
        let others = if operator { vec![] } else { operators.clone() };
        let may_not = denied.iter().cloned().chain(others).chain(less);
        (may.collect(), may_not.collect())
    };
    // Per function (logical id): what its code calls, and what only another
    // function may do.
    let expected: BTreeMap<&str, (Calls, Calls)> = BTreeMap::from([
        (
            "ReceiverFunction",
            role(
                "receiver",
                vec![
                    ("secretsmanager:GetSecretValue", webhook_secret.clone()),
                    // The reads that open its connections during INIT.
                    ("dynamodb:DescribeTimeToLive", table.clone()),
                    ("sqs:GetQueueAttributes", queue.clone()),
                ],
                vec![
                    ("dynamodb:Query", unpublished.clone()),
                    ("dynamodb:Query", stale.clone()),
                    ("secretsmanager:GetSecretValue", api_key.clone()),
                ],
            ),
        ),
        (
            "SweeperFunction",
            role(
                "sweeper",
                vec![("dynamodb:Query", unpublished.clone())],
                vec![
                    ("dynamodb:Query", stale.clone()),
                    ("secretsmanager:GetSecretValue", webhook_secret.clone()),
                    ("secretsmanager:GetSecretValue", api_key.clone()),
                ],
            ),
        ),
        (
            "ReconcileFunction",
            role(
                "reconcile",
                vec![
                    ("dynamodb:Query", stale.clone()),
                    ("secretsmanager:GetSecretValue", api_key.clone()),
                ],
                vec![
                    ("dynamodb:Query", unpublished.clone()),
                    ("secretsmanager:GetSecretValue", webhook_secret.clone()),
                ],
            ),
        ),
        (
            // republish and erase find sessions through their indexes only:
            // no read of the table, no scan, no other index, no secret.
            "OperatorFunction",
            role(
                "operator",
                operators.clone(),
                vec![
                    ("dynamodb:Query", unpublished),
                    ("dynamodb:Query", stale),
                    ("dynamodb:DescribeTimeToLive", table.clone()),
                    ("secretsmanager:GetSecretValue", webhook_secret),
                    ("secretsmanager:GetSecretValue", api_key),
                ],
            ),
        ),
    ]);

    // A new function brings a new role: these checks, and the invocations
    // of the others, must learn what its code calls.
    let of_type = |kind: &str| -> Vec<&String> {
        let mut ids: Vec<&String> = deployed
            .resources
            .iter()
            .filter(|(_, (_, t))| t == kind)
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids
    };
    let functions = of_type("AWS::Lambda::Function");
    let known: Vec<&str> = expected.keys().copied().collect();
    assert_eq!(
        functions.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        known,
        "the stack's functions are not the ones tests/it/deployed/roles.rs knows: invoke each and \
         list what its role may and may not do"
    );
    let listed = aws(&["lambda", "list-functions"]).await;
    let role_by_name: HashMap<String, String> = listed["Functions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| (string(&f["FunctionName"]), string(&f["Role"])))
        .collect();
    let role_of: BTreeMap<&str, String> = known
        .iter()
        .map(|id| (*id, role_by_name[&deployed.resources[*id].0].clone()))
        .collect();
    let role_names: Vec<&str> = role_of
        .values()
        .map(|arn| arn.rsplit('/').next().unwrap_or(arn))
        .collect();
    let stray: Vec<&String> = of_type("AWS::IAM::Role")
        .into_iter()
        .filter(|id| !role_names.contains(&deployed.resources[id.as_str()].0.as_str()))
        .collect();
    assert!(
        stray.is_empty(),
        "the stack has roles {stray:?} no known function runs under"
    );
    let mut distinct = role_names.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        functions.len(),
        "functions share a role: {role_of:?}"
    );

    // One question per role and resource (the simulator takes one resource
    // per call), a few at a time.
    let mut questions = Vec::new();
    for (function, (allowed, denied)) in &expected {
        let mut by_resource: BTreeMap<&str, Vec<(&str, bool)>> = BTreeMap::new();
        for (calls, want) in [(allowed, true), (denied, false)] {
            for (action, resource) in calls {
                by_resource
                    .entry(resource.as_str())
                    .or_default()
                    .push((*action, want));
            }
        }
        for (resource, actions) in by_resource {
            questions.push((
                *function,
                role_of[function].clone(),
                resource.to_owned(),
                actions,
            ));
        }
    }
    let answers: Vec<(&str, Vec<String>)> = futures::stream::iter(questions)
        .map(|(function, role, resource, actions)| async move {
            let mut args = vec![
                "iam",
                "simulate-principal-policy",
                "--policy-source-arn",
                role.as_str(),
            ];
            args.push("--resource-arns");
            args.push(&resource);
            args.push("--action-names");
            args.extend(actions.iter().map(|(action, _)| *action));
            let results = aws(&args).await;
            let decisions: HashMap<String, String> = results["EvaluationResults"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| (string(&r["EvalActionName"]), string(&r["EvalDecision"])))
                .collect();
            let wrong: Vec<String> = actions
                .iter()
                .filter(|(action, want)| {
                    (decisions.get(*action).map(String::as_str) == Some("allowed")) != *want
                })
                .map(|(action, want)| {
                    let short = resource.rsplit(':').next().unwrap_or(&resource);
                    let decision = decisions.get(*action).map_or("no answer", String::as_str);
                    let should = if *want { "allowed" } else { "denied" };
                    format!("{action} on {short}: {decision}, should be {should}")
                })
                .collect();
            (function, wrong)
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let mut wrong: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (function, mistakes) in answers {
        wrong.entry(function).or_default().extend(mistakes);
    }
    for (function, (allowed, denied)) in &expected {
        let mistakes = &wrong[function];
        assert!(
            mistakes.is_empty(),
            "{function}'s role ({}):\n      {}",
            role_of[function],
            mistakes.join("\n      ")
        );
        println!(
            "   {function}'s role: {} needed calls allowed, {} others denied",
            allowed.len(),
            denied.len()
        );
    }
}
