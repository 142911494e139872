//! The queues' trust boundary: only the stack's functions may send to the
//! outcomes and reviews queues, nobody to their dead-letter queue; the workers' roles in
//! `ConsumerPrincipalArns` may receive, delete and change visibility, and
//! nothing more is granted (nothing at all by default); the visibility
//! timeout is a parameter; the dead-letter queue's ARN is an output.

use super::iam::{actions, statements};
use super::resources::*;
use super::yaml::*;
use serde_yaml::Value;
use std::collections::BTreeSet;

/// The one `AWS::SQS::QueuePolicy` attached to the queue `queue` (by `!Ref`).
fn policy_of<'a>(t: &'a Value, queue: &str) -> &'a Value {
    let policies: Vec<_> = resources_of_type(t, "AWS::SQS::QueuePolicy")
        .into_iter()
        .filter(|(_, p)| {
            list(at(p, &["Properties", "Queues"]))
                .iter()
                .any(|q| ref_target(q).as_deref() == Some(queue))
        })
        .collect();
    assert_eq!(policies.len(), 1, "one queue policy on {queue}");
    at(policies[0].1, &["Properties", "PolicyDocument"])
}

/// Every statement of a policy document, both branches of any `!If`.
fn all_statements(document: &Value) -> Vec<&Value> {
    fn branches(value: &Value) -> Vec<&Value> {
        match intrinsic(value) {
            Some((name, args)) if name == "If" => {
                list(args)[1..].iter().flat_map(branches).collect()
            }
            Some((name, _)) if name == "Ref" => Vec::new(), // AWS::NoValue
            _ => vec![value],
        }
    }
    list(at(document, &["Statement"]))
        .iter()
        .flat_map(branches)
        .collect()
}

/// The statements that hold when every parameter has its default.
fn default_statements<'a>(t: &Value, document: &'a Value) -> Vec<&'a Value> {
    list(at(document, &["Statement"]))
        .iter()
        .map(|s| with_defaults(t, s))
        .filter(|s| ref_target(s).is_none())
        .collect()
}

/// The resource a `!GetAtt X.Arn` names.
fn arn_of(value: &Value) -> Option<String> {
    match intrinsic(value)? {
        (name, arg) if name == "GetAtt" => {
            let target = text(arg);
            target.strip_suffix(".Arn").map(str::to_owned)
        }
        _ => None,
    }
}

/// The resources a statement's `Resource` names (one `!GetAtt X.Arn`, or a
/// list of them), sorted.
fn arns_of(value: &Value) -> Vec<String> {
    let mut arns: Vec<String> = match untag(value) {
        Value::Sequence(items) => items.iter().filter_map(arn_of).collect(),
        _ => arn_of(value).into_iter().collect(),
    };
    arns.sort();
    arns
}

/// The names of the message queues (outcomes, reviews), sorted.
fn message_queue_names(t: &Value) -> Vec<String> {
    message_queues(t)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// The dead-letter queue the message queues share.
fn the_dead_letter_queue(t: &Value) -> String {
    let targets: BTreeSet<String> = message_queues(t)
        .into_iter()
        .map(|(_, queue)| {
            let target = at(
                queue,
                &["Properties", "RedrivePolicy", "deadLetterTargetArn"],
            );
            arn_of(target).expect("deadLetterTargetArn is !GetAtt <queue>.Arn")
        })
        .collect();
    assert_eq!(targets.len(), 1, "one dead-letter queue: {targets:?}");
    targets.into_iter().next().unwrap_or_default()
}

#[test]
fn only_the_stacks_functions_send_to_the_queues() {
    let t = template();
    let queues = message_queue_names(&t);
    let document = policy_of(&t, &queues[0]);
    assert!(
        std::ptr::eq(document, policy_of(&t, &queues[1])),
        "one policy on both queues"
    );
    let denies: Vec<&Value> = all_statements(document)
        .into_iter()
        .filter(|s| text(at(s, &["Effect"])) == "Deny")
        .collect();
    assert_eq!(denies.len(), 1, "one Deny on the queues");
    let deny = denies[0];
    // Every principal, only SendMessage: administrators still manage the
    // queue and same-account workers with IAM permissions still receive.
    assert_eq!(text(at(deny, &["Principal"])), "*");
    assert_eq!(actions(deny), ["sqs:SendMessage"]);
    assert_eq!(arns_of(at(deny, &["Resource"])), queues);
    let condition = untag(at(deny, &["Condition"]))
        .as_mapping()
        .expect("a condition");
    assert_eq!(
        condition.len(),
        1,
        "the deny's only condition is the principal"
    );
    let exempt = list(at(deny, &["Condition", "ArnNotLike", "aws:PrincipalArn"]));

    // Exempt: exactly the roles of the functions that send (SAM's generated
    // <Function>Role), as AWS names them (the role's ARN) and as a session
    // of that role only (arn:...:assumed-role/<role>/*).
    let mut senders = BTreeSet::new();
    for (name, function) in resources_of_type(&t, "AWS::Serverless::Function") {
        assert!(
            get(at(function, &["Properties"]), "Role").is_none(),
            "{name} has its own Role: the queue policy exempts SAM's {name}Role"
        );
        let sends = statements(function)
            .into_iter()
            .any(|s| actions(s).iter().any(|a| a == "sqs:SendMessage"));
        if sends {
            senders.insert(format!("{name}Role"));
        }
    }
    assert_eq!(
        senders.len(),
        4,
        "receiver, sweeper, reconcile and the operator (republish) send: {senders:?}"
    );
    let mut role_arns = BTreeSet::new();
    let mut sessions = BTreeSet::new();
    for value in exempt {
        // A conditional role (reconcile's) sits in an !If whose other
        // branch is AWS::NoValue.
        let value = match intrinsic(value) {
            Some((name, args)) if name == "If" => &list(args)[1],
            _ => value,
        };
        if let Some(role) = arn_of(value) {
            role_arns.insert(role);
        } else {
            let session = sub_text(value);
            let role = session
                .strip_prefix("arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${")
                .and_then(|rest| rest.strip_suffix("}/*"))
                .unwrap_or_else(|| {
                    panic!("an exemption that is not a session of a role: {session}")
                });
            sessions.insert(role.to_owned());
        }
    }
    assert_eq!(role_arns, senders, "the exempt role ARNs");
    assert_eq!(sessions, senders, "the exempt role sessions");
}

#[test]
fn nobody_sends_to_the_dead_letter_queue() {
    let t = template();
    let dlq = the_dead_letter_queue(&t);
    let statements = all_statements(policy_of(&t, &dlq));
    assert_eq!(
        statements.len(),
        1,
        "one statement on the dead-letter queue"
    );
    let deny = statements[0];
    assert_eq!(text(at(deny, &["Effect"])), "Deny");
    assert_eq!(text(at(deny, &["Principal"])), "*");
    assert_eq!(actions(deny), ["sqs:SendMessage"]);
    assert_eq!(arns_of(at(deny, &["Resource"])), [dlq]);
    // No principal is exempt; only SQS itself (moving messages after
    // QueueMaxReceiveCount receives) is left out.
    let condition = untag(at(deny, &["Condition"]))
        .as_mapping()
        .expect("a condition");
    assert_eq!(condition.len(), 1);
    assert_eq!(
        text(at(
            deny,
            &["Condition", "BoolIfExists", "aws:PrincipalIsAWSService"]
        )),
        "false"
    );
}

#[test]
fn consumers_are_granted_receive_only_and_nothing_by_default() {
    let t = template();
    let queues = message_queue_names(&t);
    let document = policy_of(&t, &queues[0]);
    let parameter = at(&t, &["Parameters", "ConsumerPrincipalArns"]);
    assert_eq!(text(at(parameter, &["Type"])), "CommaDelimitedList");
    assert_eq!(text(at(parameter, &["Default"])), "");
    // A role ARN of any account, or nothing.
    let pattern = text(at(parameter, &["AllowedPattern"]));
    assert!(
        pattern.starts_with("^$|") && pattern.contains(":iam::[0-9]{12}:role/"),
        "{pattern}"
    );

    // By default: the deny alone, no Allow.
    assert!(!condition_holds(&t, "HasConsumers"));
    let by_default = default_statements(&t, document);
    assert!(
        by_default
            .iter()
            .all(|s| text(at(s, &["Effect"])) == "Deny"),
        "the default policy grants nothing"
    );

    // With workers' roles: exactly the consumer's calls, to them, on the queue.
    let allows: Vec<&Value> = all_statements(document)
        .into_iter()
        .filter(|s| text(at(s, &["Effect"])) == "Allow")
        .collect();
    assert_eq!(allows.len(), 1, "one Allow, for the listed consumers");
    let allow = allows[0];
    assert_eq!(
        ref_target(at(allow, &["Principal", "AWS"])).as_deref(),
        Some("ConsumerPrincipalArns")
    );
    let granted: BTreeSet<String> = actions(allow).into_iter().collect();
    let expected: BTreeSet<String> = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
    ]
    .map(String::from)
    .into();
    assert_eq!(granted, expected);
    assert_eq!(arns_of(at(allow, &["Resource"])), queues);

    // A queue policy cannot grant kms:Decrypt: the descriptions say what
    // the key policy must allow instead.
    for name in ["ConsumerPrincipalArns", "QueueKmsKeyArn"] {
        let description = text(at(&t, &["Parameters", name, "Description"]));
        assert!(
            description.contains("kms:Decrypt") && description.contains("key policy"),
            "{name}'s description should say what the key policy must allow: {description}"
        );
    }
}

#[test]
fn visibility_timeout_is_a_parameter_and_the_dlq_arn_an_output() {
    let t = template();
    let parameter = at(&t, &["Parameters", "QueueVisibilityTimeout"]);
    // SQS's own default, so the default deployment behaves as before.
    assert_eq!(default_number(&t, "QueueVisibilityTimeout"), 30);
    assert_eq!(text(at(parameter, &["MaxValue"])), "43200");
    assert!(
        text(at(parameter, &["Description"])).contains("six times"),
        "the description gives AWS's guidance"
    );
    for (name, queue) in message_queues(&t) {
        assert_eq!(
            ref_target(at(queue, &["Properties", "VisibilityTimeout"])).as_deref(),
            Some("QueueVisibilityTimeout"),
            "{name}"
        );
    }

    let dlq = the_dead_letter_queue(&t);
    let output = at(&t, &["Outputs", "OutcomesDeadLetterQueueArn", "Value"]);
    assert_eq!(arn_of(output).as_deref(), Some(dlq.as_str()));

    // Both new parameters are offered with the queue's.
    let groups = list(at(
        &t,
        &[
            "Metadata",
            "AWS::CloudFormation::Interface",
            "ParameterGroups",
        ],
    ));
    let grouped: Vec<String> = groups
        .iter()
        .flat_map(|g| list(at(g, &["Parameters"])).iter().map(text))
        .collect();
    for name in ["QueueVisibilityTimeout", "ConsumerPrincipalArns"] {
        assert!(
            grouped.iter().any(|g| g == name),
            "{name} is in no parameter group"
        );
    }
}
