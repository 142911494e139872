//! The trust boundaries, from the outside (the real binary, the fault
//! proxy, the fake Gu1 API): a session's identity cannot be rewritten by a
//! later delivery or API answer, an answer about another organization is
//! refused, dot-only ids never reach a key or a URL, and a delivery that
//! gives up gives its publish lease back.

use crate::support::binary::{Env, Proxied, Reconciled};
use crate::support::gu1::{FakeGu1, api};
use crate::support::proxy::{Fault, Rule, Service};
use crate::support::*;
use std::time::Duration;

/// `event` as another person's (or organization's) event for the same
/// session: what a rogue or mistaken sender would deliver.
fn rewritten(mut event: Value, entity: Option<&str>, organization: Option<&str>) -> Value {
    if let Some(entity) = entity {
        event["payload"]["entityId"] = entity.into();
        if event["payload"]["entity"].is_object() {
            event["payload"]["entity"]["id"] = entity.into();
        }
    }
    if let Some(organization) = organization {
        event["organizationId"] = organization.into();
        event["payload"]["organizationId"] = organization.into();
    }
    event
}

/// `(entityId, organizationId)` of a message or an item's JSON view.
fn identity_of(message: &Value) -> (Value, Value) {
    (
        message["entityId"].clone(),
        message["organizationId"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_naming_another_entity_is_refused_recorded_and_never_published() {
    let rig = Proxied::start().await;
    let session = unique("s-identity");
    let answer = rig.server.deliver(&seed::in_progress(&session)).await;
    assert_eq!(answer.result(), "applied", "{answer:?}");

    // Another entity's approval for this session: nothing of it applies.
    let rogue = rewritten(seed::approved(&session), Some("entity-rogue"), None);
    let answer = rig.server.deliver(&rogue).await;
    assert_eq!(
        (answer.status, &answer.body),
        (
            200,
            &json!({"result": "identity_conflict", "sessionId": session, "status": "in_progress"})
        )
    );
    let item = rig.stack.item(&session).await.expect("stored");
    assert_eq!(text(&item, "status"), Some("in_progress"));
    assert_eq!(text(&item, "entityId"), Some("entity-uuid"));
    assert!(text(&item, "lastIdentityConflictAt").is_some(), "{item:?}");
    let recorded = item["identityConflicts"].as_ss().expect("a set");
    assert_eq!(recorded, &["entityId=entity-rogue".to_owned()]);
    assert!(rig.stack.messages().await.is_empty(), "nothing published");

    // The session's own approval goes out under its own identity.
    let answer = rig.server.deliver(&seed::approved(&session)).await;
    assert_eq!(answer.result(), "applied", "{answer:?}");
    let bodies = rig.stack.outcome_bodies().await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(
        identity_of(&bodies[0]),
        (json!("entity-uuid"), json!("org-uuid"))
    );
    assert_eq!(bodies[0]["externalId"], "customer-123");

    // After the outcome, a rogue terminal event is still refused, not a
    // status conflict: the answer says which it is.
    let late = rewritten(seed::rejected(&session), None, Some("org-rogue"));
    assert_eq!(
        rig.server.deliver(&late).await.result(),
        "identity_conflict"
    );
    // (Messages already received stay invisible: anything here is new.)
    assert!(
        rig.stack.messages().await.is_empty(),
        "nothing more published"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_naming_two_entities_and_dot_only_ids_are_400_and_store_nothing() {
    let rig = Proxied::start().await;
    let mut mixed = seed::approved(&unique("s-mixed"));
    mixed["payload"]["entity"]["id"] = "entity-other".into();
    let answer = rig.server.deliver(&mixed).await;
    assert_eq!((answer.status, answer.result()), (400, "bad_request"));
    assert_eq!(
        answer.body["reason"],
        "the event names two different entityIds"
    );
    for id in [".", "..", "..."] {
        let answer = rig.server.deliver(&seed::approved(id)).await;
        assert_eq!(
            (answer.status, answer.result()),
            (400, "bad_request"),
            "{id}"
        );
        assert!(
            answer.body["reason"]
                .as_str()
                .is_some_and(|r| r.contains("not only dots")),
            "{answer:?}"
        );
    }
    assert_eq!(rig.stack.item_count().await, 0);
    assert!(rig.stack.messages().await.is_empty());
}

/// Every answer to the apply write is lost (each attempt landed): the
/// delivery answers `503`, but gives its lease back first, so Gu1's retry
/// publishes at once instead of after the lease and the sweeper.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_after_every_answer_to_the_write_was_lost_publishes_at_once() {
    let rig = Proxied::start().await;
    // The SDK's three attempts at the apply write; the give-back passes.
    rig.proxy.inject(
        Rule::on(Service::DynamoDb, Fault::DropAnswer)
            .only("UpdateItem")
            .times(3),
    );
    let session = unique("s-lost-answers");
    let answer = rig.server.deliver(&seed::approved(&session)).await;
    assert_eq!((answer.status, answer.result()), (503, "failed"));
    assert_eq!(
        rig.proxy.count("UpdateItem"),
        4,
        "three attempts and the give-back: {:?}",
        rig.proxy.seen()
    );
    let item = rig.stack.item(&session).await.expect("the write landed");
    assert_eq!(text(&item, "pendingOutcome"), Some("PENDING"));
    assert!(
        !item.contains_key("publishLeaseUntil"),
        "the lease was given back: {item:?}"
    );
    assert!(rig.stack.messages().await.is_empty());

    let answer = rig.server.deliver(&seed::approved(&session)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(
        ["applied", "duplicate"].contains(&answer.result()),
        "{answer:?}"
    );
    let bodies = rig.stack.outcome_bodies().await;
    assert_eq!(bodies.len(), 1, "published at once: {bodies:?}");
    assert_eq!(bodies[0]["sessionId"], session.as_str());
    let item = rig.stack.item(&session).await.expect("stored");
    assert!(item.contains_key("outcomePublishedAt"), "{item:?}");
}

/// A session delivered as in progress, then read from the fake API.
struct Reconciling {
    app: TestApp,
    gu1: FakeGu1,
    env: Env,
}

impl Reconciling {
    async fn start(session: &str) -> Reconciling {
        let app = TestApp::spawn().await;
        let gu1 = FakeGu1::start().await;
        let env = Env::for_tests(&app, &moto().endpoint).with_gu1_api(&gu1.url);
        assert_eq!(
            app.deliver(&seed::in_progress(session)).await.result(),
            "applied"
        );
        Reconciling { app, gu1, env }
    }
}

impl Reconciling {
    /// Gu1's API answers the session approved, as `edit` rewrites it; a
    /// `reconcile --session` run must refuse it: counted failed, exit
    /// non-zero, nothing applied or published. Returns the run and the item.
    async fn refuses(&self, session: &str, edit: impl FnOnce(&mut Value)) -> (Reconciled, Item) {
        let mut answer = api::approved(session);
        edit(&mut answer);
        self.gu1.put(answer);
        let run = self.env.reconcile(&["--session", session]).await;
        assert!(!run.status.success(), "{run:?}");
        assert_eq!(run.counts(), [1, 0, 0, 0, 1]);
        let item = self.app.item(session).await.expect("stored");
        assert_eq!(text(&item, "status"), Some("in_progress"));
        assert_eq!(text(&item, "entityId"), Some("entity-uuid"));
        assert!(self.app.messages().await.is_empty());
        (run, item)
    }
}

#[tokio::test]
async fn an_api_answer_naming_another_entity_is_refused_and_counted_failed() {
    let session = unique("s-api-identity");
    let w = Reconciling::start(&session).await;
    let (run, item) = w
        .refuses(&session, |answer| {
            answer["entityId"] = "entity-rogue".into();
            answer["entity"]["id"] = "entity-rogue".into();
        })
        .await;
    assert_eq!(
        item["identityConflicts"].as_ss().expect("recorded"),
        &["entityId=entity-rogue".to_owned()]
    );
    assert!(
        !run.stderr.contains("entity-rogue"),
        "values are fingerprinted in logs"
    );
}

#[tokio::test]
async fn an_api_answer_about_another_organization_is_refused_and_counted_failed() {
    let session = unique("s-api-foreign");
    let w = Reconciling::start(&session).await;
    let (run, item) = w
        .refuses(&session, |answer| {
            answer["organizationId"] = "org-someone-else".into();
        })
        .await;
    assert!(!item.contains_key("identityConflicts"), "nothing written");
    assert!(
        run.stderr.contains("another organization"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn reconcile_refuses_dot_only_session_ids_before_any_request() {
    let session = unique("s-dots");
    let w = Reconciling::start(&session).await;
    for id in [".", ".."] {
        let run = w.env.reconcile(&["--session", id]).await;
        assert_eq!(run.status.code(), Some(2), "{run:?}");
        assert!(run.stderr.contains("not only dots"), "{}", run.stderr);
    }
    // Give a stray request time to arrive, were there one.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(w.gu1.seen().is_empty(), "{:?}", w.gu1.seen());
}

/// The property: whatever the order of a session's authentic deliveries,
/// with a rogue event (another entity or organization, any status) mixed
/// in, every outcome message and the item carry the identity of the first
/// event stored, each event of another identity is answered
/// `identity_conflict`, and the outcome goes out exactly when an event of
/// the session's own identity made it terminal. 48 shuffled sequences,
/// six sessions at a time, against moto.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_order_of_deliveries_with_a_rogue_event_mixes_an_identity() {
    use futures::StreamExt;
    const STATUSES: [&str; 7] = [
        "pending",
        "in_progress",
        "approved",
        "rejected",
        "abandoned",
        "cancelled",
        "expired",
    ];
    let app = TestApp::spawn().await;
    let cases: Vec<(String, Vec<Value>)> = (0..48u64)
        .map(|case| {
            let session = unique("s-prop");
            let terminal = STATUSES[2 + (case as usize % 5)];
            let rogue_status = STATUSES[(case as usize * 3) % 7];
            let rogue = match case % 3 {
                0 => (Some("entity-rogue"), None),
                1 => (None, Some("org-rogue")),
                _ => (Some("entity-rogue"), Some("org-rogue")),
            };
            let mut events = vec![
                seed::created(&session),
                seed::in_progress(&session),
                seed::terminal(&session, terminal),
                seed::terminal(&session, terminal),
                rewritten(seed::terminal(&session, rogue_status), rogue.0, rogue.1),
            ];
            if rogue_status == "pending" {
                let last = events.len() - 1;
                events[last] = rewritten(seed::created(&session), rogue.0, rogue.1);
            } else if rogue_status == "in_progress" {
                let last = events.len() - 1;
                events[last] = rewritten(seed::in_progress(&session), rogue.0, rogue.1);
            }
            shuffle(&mut events, 0x2545_f491_4f6c_dd1d ^ (case + 1));
            (session, events)
        })
        .collect();

    let identity = |event: &Value| {
        let payload = &event["payload"];
        let organization = match &payload["organizationId"] {
            Value::Null => event["organizationId"].clone(),
            org => org.clone(),
        };
        (payload["entityId"].clone(), organization)
    };
    let expected: Vec<((Value, Value), bool)> = futures::stream::iter(&cases)
        .map(|(session, events)| {
            let app = &app;
            async move {
                let first = identity(&events[0]);
                let mut terminal = false;
                for event in events {
                    let answer = app.deliver(event).await;
                    assert_eq!(answer.status, 200, "{session}: {answer:?}");
                    if identity(event) == first {
                        assert_ne!(answer.result(), "identity_conflict", "{session}");
                        let status = event["payload"]["status"].as_str().unwrap_or_default();
                        terminal |= !["pending", "in_progress"].contains(&status);
                    } else {
                        assert_eq!(answer.result(), "identity_conflict", "{session}");
                    }
                }
                (first, terminal)
            }
        })
        .buffered(6)
        .collect()
        .await;
    assert_eq!(
        app.sweep_now().await.published,
        0,
        "nothing was left pending"
    );

    let bodies = app.outcome_bodies().await;
    for ((session, _), (first, terminal)) in cases.iter().zip(&expected) {
        let item = app.item(session).await.expect("stored");
        let stored = (
            json!(text(&item, "entityId")),
            json!(text(&item, "organizationId")),
        );
        assert_eq!(&stored, first, "{session}");
        let mine: Vec<&Value> = bodies
            .iter()
            .filter(|m| m["sessionId"] == session.as_str())
            .collect();
        assert_eq!(mine.len(), usize::from(*terminal), "{session}: {mine:?}");
        for message in mine {
            assert_eq!(&identity_of(message), first, "{session}");
        }
    }
}
