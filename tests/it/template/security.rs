//! The security baseline (issue 18), every part a parameter whose empty
//! default keeps the stack as it was: `TableKmsKeyArn` (the table's customer
//! key, and its use through DynamoDB by every role that touches the table),
//! `PermissionsBoundaryArn` (on every role the stack creates),
//! `Gu1ApiKeyKmsKeyArn` (reconciliation may decrypt a customer-keyed API-key
//! secret), and the `Rules:` block refusing `Gu1ApiKeySecretArn` without
//! `Gu1OrganizationId`. Tags are not a parameter: they are the stack's own
//! (`sam deploy --tags`, docs/deploy.md), which CloudFormation propagates.

use super::iam::{actions, statements};
use super::resources::*;
use super::yaml::*;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What DynamoDB needs of a caller for a table under a customer key.
const TABLE_KEY_ACTIONS: [&str; 5] = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
];

fn is_no_value(value: &Value) -> bool {
    ref_target(value).as_deref() == Some("AWS::NoValue")
}

/// `!If [condition, then, !Ref AWS::NoValue]`: its `then`, else `None`.
fn only_if<'a>(value: &'a Value, condition: &str) -> Option<&'a Value> {
    match intrinsic(value) {
        Some((name, args)) if name == "If" => {
            let args = list(args);
            (text(&args[0]) == condition && is_no_value(&args[2])).then_some(&args[1])
        }
        _ => None,
    }
}

/// A function's statements that exist only under `condition`.
fn statements_if<'a>(function: &'a Value, condition: &str) -> Vec<&'a Value> {
    list(at(function, &["Properties", "Policies"]))
        .iter()
        .flat_map(|policy| list(at(policy, &["Statement"])))
        .filter_map(|s| only_if(s, condition))
        .collect()
}

/// The statements (of any function) that name `parameter` as a resource.
fn grants_on<'a>(function: &'a Value, parameter: &str) -> Vec<&'a Value> {
    statements(function)
        .into_iter()
        .filter(|s| ref_target(at(s, &["Resource"])).as_deref() == Some(parameter))
        .collect()
}

fn via_service(statement: &Value) -> String {
    sub_text(at(
        statement,
        &["Condition", "StringEquals", "kms:ViaService"],
    ))
}

#[test]
fn the_baseline_is_off_by_default() {
    let t = template();
    for (parameter, condition) in [
        ("TableKmsKeyArn", "HasTableKmsKey"),
        ("PermissionsBoundaryArn", "HasBoundary"),
        ("Gu1ApiKeyKmsKeyArn", "HasApiKeyKmsKey"),
    ] {
        let p = at(&t, &["Parameters", parameter]);
        assert_eq!(text(at(p, &["Type"])), "String", "{parameter}");
        assert_eq!(
            text(at(p, &["Default"])),
            "",
            "{parameter} defaults to empty"
        );
        assert!(
            text(at(p, &["AllowedPattern"])).starts_with("^$|^arn:aws"),
            "{parameter} takes empty or an ARN"
        );
        // HasX: !Not [!Equals [!Ref X, ""]], false by default.
        let (not, args) = intrinsic(at(&t, &["Conditions", condition])).expect("an intrinsic");
        assert_eq!(not, "Not", "{condition}");
        let (equals, args) = intrinsic(&list(args)[0]).expect("an intrinsic");
        assert_eq!(equals, "Equals", "{condition}");
        let args = list(args);
        assert_eq!(ref_target(&args[0]).as_deref(), Some(parameter));
        assert_eq!(text(&args[1]), "");
        assert!(!condition_holds(&t, condition), "{condition} by default");
    }
}

#[test]
fn the_table_takes_the_customer_key_when_given() {
    let t = template();
    let tables = resources_of_type(&t, "AWS::DynamoDB::Table");
    let sse = at(tables[0].1, &["Properties", "SSESpecification"]);
    // As before: SSEEnabled alone, the AWS-managed key.
    assert_eq!(text(at(sse, &["SSEEnabled"])), "true");
    let sse_type = only_if(at(sse, &["SSEType"]), "HasTableKmsKey")
        .expect("SSEType: !If [HasTableKmsKey, KMS, !Ref AWS::NoValue]");
    assert_eq!(text(sse_type), "KMS");
    let key = only_if(at(sse, &["KMSMasterKeyId"]), "HasTableKmsKey")
        .expect("KMSMasterKeyId: !If [HasTableKmsKey, !Ref TableKmsKeyArn, !Ref AWS::NoValue]");
    assert_eq!(ref_target(key).as_deref(), Some("TableKmsKeyArn"));
    assert!(is_no_value(with_defaults(&t, at(sse, &["SSEType"]))));
    assert!(is_no_value(with_defaults(&t, at(sse, &["KMSMasterKeyId"]))));
}

#[test]
fn every_role_that_touches_the_table_may_use_its_key_through_dynamodb() {
    let t = template();
    let mut touching = 0;
    for (name, function) in resources_of_type(&t, "AWS::Serverless::Function") {
        let grants = grants_on(function, "TableKmsKeyArn");
        let uses_table = statements(function)
            .into_iter()
            .any(|s| actions(s).iter().any(|a| a.starts_with("dynamodb:")));
        if !uses_table {
            assert!(
                grants.is_empty(),
                "{name} may use the table's key without the table"
            );
            continue;
        }
        touching += 1;
        let conditional = statements_if(function, "HasTableKmsKey");
        assert_eq!(
            conditional.len(),
            1,
            "{name}: one statement under HasTableKmsKey"
        );
        assert_eq!(
            grants.len(),
            1,
            "{name}: the table's key only under HasTableKmsKey"
        );
        let grant = conditional[0];
        assert!(std::ptr::eq(grant, grants[0]), "{name}");
        assert_eq!(text(at(grant, &["Effect"])), "Allow");
        let granted: BTreeSet<String> = actions(grant).into_iter().collect();
        let wanted: BTreeSet<String> = TABLE_KEY_ACTIONS.map(String::from).into();
        assert_eq!(granted, wanted, "{name}");
        assert_eq!(via_service(grant), "dynamodb.${AWS::Region}.amazonaws.com");
    }
    assert_eq!(
        touching, 4,
        "the receiver, the sweeper, reconciliation and the operator"
    );
}

#[test]
fn every_role_gets_the_permissions_boundary() {
    let t = template();
    let boundary = at(&t, &["Globals", "Function", "PermissionsBoundary"]);
    let then = only_if(boundary, "HasBoundary")
        .expect("!If [HasBoundary, !Ref PermissionsBoundaryArn, !Ref AWS::NoValue]");
    assert_eq!(ref_target(then).as_deref(), Some("PermissionsBoundaryArn"));
    // SAM creates one role per function from Globals; no function brings its
    // own role or overrides the boundary, and the template declares none.
    for (name, function) in resources_of_type(&t, "AWS::Serverless::Function") {
        let props = at(function, &["Properties"]);
        assert!(get(props, "Role").is_none(), "{name} brings its own role");
        assert!(
            get(props, "PermissionsBoundary").is_none(),
            "{name} overrides the boundary"
        );
    }
    assert!(
        resources_of_type(&t, "AWS::IAM::Role").is_empty(),
        "a role outside SAM's"
    );
}

#[test]
fn only_reconciliation_may_decrypt_the_api_keys_secret() {
    let t = template();
    let reconcile = reconciler(&t);
    let conditional = statements_if(reconcile, "HasApiKeyKmsKey");
    assert_eq!(conditional.len(), 1, "one statement under HasApiKeyKmsKey");
    let grant = conditional[0];
    assert_eq!(grants_on(reconcile, "Gu1ApiKeyKmsKeyArn").len(), 1);
    assert_eq!(actions(grant), ["kms:Decrypt"]);
    assert_eq!(
        ref_target(at(grant, &["Resource"])).as_deref(),
        Some("Gu1ApiKeyKmsKeyArn")
    );
    assert_eq!(
        via_service(grant),
        "secretsmanager.${AWS::Region}.amazonaws.com"
    );
    for function in [receiver(&t), sweeper(&t), operator(&t)] {
        assert!(grants_on(function, "Gu1ApiKeyKmsKeyArn").is_empty());
    }
}

/// A rule function (`Not`, `Equals`, `Or`, `And`, `Ref`) over given parameters.
fn rule_value(value: &Value, parameters: &BTreeMap<&str, &str>) -> String {
    let Some((function, args)) = intrinsic(value) else {
        return text(value);
    };
    let truth = |b: bool| b.to_string();
    let holds = |v: &Value| rule_value(v, parameters) == "true";
    match function.as_str() {
        "Ref" => parameters[text(args).as_str()].to_owned(),
        "Equals" => {
            let args = list(args);
            truth(rule_value(&args[0], parameters) == rule_value(&args[1], parameters))
        }
        "Not" => truth(!holds(&list(args)[0])),
        "Or" => truth(list(args).iter().any(holds)),
        "And" => truth(list(args).iter().all(holds)),
        other => panic!("unsupported rule function {other}"),
    }
}

/// Whether the template's rules accept these parameter values.
fn rules_accept(t: &Value, parameters: &BTreeMap<&str, &str>) -> bool {
    let rules = at(t, &["Rules"]).as_mapping().expect("Rules is a map");
    rules.values().all(|rule| {
        let applies =
            get(rule, "RuleCondition").is_none_or(|c| rule_value(c, parameters) == "true");
        !applies
            || list(at(rule, &["Assertions"]))
                .iter()
                .all(|a| rule_value(at(a, &["Assert"]), parameters) == "true")
    })
}

#[test]
fn a_rule_refuses_the_api_key_without_the_organization() {
    let t = template();
    let key = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gu1-api-key-AbCdEf";
    for (api_key, organization, accepted) in [
        ("", "", true),
        ("", "org-1", true),
        (key, "org-1", true),
        (key, "", false),
    ] {
        let parameters = BTreeMap::from([
            ("Gu1ApiKeySecretArn", api_key),
            ("Gu1OrganizationId", organization),
        ]);
        assert_eq!(
            rules_accept(&t, &parameters),
            accepted,
            "Gu1ApiKeySecretArn={api_key:?} Gu1OrganizationId={organization:?}"
        );
    }
    let descriptions: Vec<String> = at(&t, &["Rules"])
        .as_mapping()
        .expect("Rules is a map")
        .values()
        .flat_map(|rule| list(at(rule, &["Assertions"])))
        .map(|a| text(at(a, &["AssertDescription"])))
        .collect();
    assert!(
        descriptions
            .iter()
            .any(|d| d.contains("Gu1OrganizationId") && d.contains("Gu1ApiKeySecretArn")),
        "the refusal names both parameters: {descriptions:?}"
    );
}
