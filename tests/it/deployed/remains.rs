//! After `sam delete`: the table (DeletionPolicy Retain) and the secrets
//! (created outside the stack) remain; the stack, its functions and its
//! queues are gone. Skipped unless GU1_DELETED_STACK is set, with
//! GU1_DELETED_TABLE (the table's name) and GU1_DELETED_SECRETS (the
//! secrets' ARNs, comma-separated).

use super::{aws, sdk, string};

#[tokio::test]
async fn after_sam_delete_the_table_and_the_secrets_remain() {
    let Ok(stack) = std::env::var("GU1_DELETED_STACK") else {
        println!("skipped: GU1_DELETED_STACK not set");
        return;
    };
    let table = std::env::var("GU1_DELETED_TABLE").expect("GU1_DELETED_TABLE");
    let secrets = std::env::var("GU1_DELETED_SECRETS").expect("GU1_DELETED_SECRETS");
    let config = sdk();

    let listed = aws(&["cloudformation", "list-stacks"]).await;
    let statuses: Vec<String> = listed["StackSummaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["StackName"] == stack.as_str())
        .map(|s| string(&s["StackStatus"]))
        .collect();
    assert!(
        statuses.iter().all(|s| s == "DELETE_COMPLETE"),
        "stack {stack} after sam delete: {statuses:?}"
    );
    println!(
        "   stack {stack}: {}",
        statuses.first().map_or("gone", String::as_str)
    );

    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let description = dynamodb
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("the table");
    let status = description
        .table()
        .and_then(|t| t.table_status())
        .map(|s| s.as_str().to_owned());
    assert_eq!(status.as_deref(), Some("ACTIVE"), "table {table}");
    let count = dynamodb
        .scan()
        .table_name(&table)
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await
        .expect("scan")
        .count;
    assert!(count > 0, "table {table} is empty");
    println!("   table {table}: kept (DeletionPolicy Retain), {count} items");

    let secrets_client = aws_sdk_secretsmanager::Client::new(&config);
    for arn in secrets.split(',') {
        let secret = secrets_client
            .describe_secret()
            .secret_id(arn)
            .send()
            .await
            .expect("the secret");
        assert!(
            secret.deleted_date().is_none(),
            "secret {arn} is scheduled for deletion"
        );
        println!(
            "   secret {}: kept (created outside the stack)",
            secret.name().unwrap_or(arn)
        );
    }

    let prefix = format!("{stack}-");
    let functions = aws(&["lambda", "list-functions"]).await;
    let functions: Vec<String> = functions["Functions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| string(&f["FunctionName"]))
        .filter(|name| name.starts_with(&prefix))
        .collect();
    let queues = aws_sdk_sqs::Client::new(&config)
        .list_queues()
        .queue_name_prefix(&prefix)
        .send()
        .await
        .expect("list queues");
    let queues = queues.queue_urls();
    assert!(
        functions.is_empty() && queues.is_empty(),
        "left behind: functions {functions:?}, queues {queues:?}"
    );
    println!("   functions and queues: deleted with the stack");
}
