//! What each delivery of `events/` costs in DynamoDB: the session's item
//! after the delivery, sized as DynamoDB bills it (`store::item_size`, held
//! to hand-worked items by its unit tests). BENCHMARKS.md's table is this
//! test's output (`cargo test --all-features --test it cost -- --nocapture`).

use crate::support::*;
use gu1_webhook::local::ApiEvent;
use gu1_webhook::store::{WRITE_UNIT_BYTES, item_size, write_units};

#[tokio::test]
async fn every_events_item_stays_within_one_write_unit() {
    let app = TestApp::spawn().await;
    let receiver = app.receiver_accepting("gu1-local-demo-secret").await;
    let files = event_files();
    println!("| event | status | item bytes | of which names | decision | write units |");
    println!("|---|---|---|---|---|---|");
    let mut sized = 0;
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let event = std::fs::read_to_string(file).unwrap();
        let request = lambda_http::request::from_str(&event).expect("an API Gateway event");
        let response = receiver.handle(request).await;
        if response.status() != 200 {
            continue;
        }
        let body: Value =
            serde_json::from_slice(&ApiEvent::read(file).unwrap().body).expect("a JSON body");
        let session = body["payload"]["id"].as_str().expect("payload.id");
        let item = app.item(session).await.expect("the stored item");
        let bytes = item_size(&item);
        let names: usize = item.keys().map(String::len).sum();
        let decision = text(&item, "decision").map_or(0, |d| "decision".len() + d.len());
        println!(
            "| {name} | {} | {bytes} | {names} | {decision} | {} |",
            text(&item, "status").unwrap_or("?"),
            write_units(bytes)
        );
        assert!(
            bytes < WRITE_UNIT_BYTES,
            "{name}: the item is {bytes} bytes, over one write unit"
        );
        sized += 1;
    }
    assert_eq!(sized, 8, "every accepted event was sized");
}
