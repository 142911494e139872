//! `decide`: a session's deliveries, duplicated, reordered, conflicting,
//! with lost answers and failed sends, replayed against a one-item model
//! store: the first terminal wins, the rank never falls, one outcome is sent.

use super::config;
use gu1_webhook::decide::{OutcomeDuty, Verdict, outcome_duty, verdict};
use gu1_webhook::parse::{Delivery, parse_delivery};
use gu1_webhook::session::{SessionRecord, SessionStatus, WriteToken};
use proptest::prelude::*;
use serde_json::json;

const TERMINALS: [SessionStatus; 5] = [
    SessionStatus::Approved,
    SessionStatus::Rejected,
    SessionStatus::Abandoned,
    SessionStatus::Cancelled,
    SessionStatus::Expired,
];
/// How long the model's publish lease lasts, in model milliseconds (one
/// delivery is one millisecond).
const LEASE_MS: u64 = 5;

/// What replaying a sequence of deliveries did.
#[derive(Debug, Default)]
struct Trace {
    /// The stored status after each delivery.
    stored: Vec<SessionStatus>,
    verdicts: Vec<Verdict>,
    /// Terminal statuses that were `Applied`.
    terminals_applied: Vec<SessionStatus>,
    /// Outcomes that reached the queue.
    sent: Vec<SessionStatus>,
    /// `OutcomeDuty::Publish` decisions.
    publish_duties: usize,
}

impl Trace {
    fn last(&self) -> Option<SessionStatus> {
        self.stored.last().copied()
    }
}

/// Replays `deliveries` in order against a store holding one session, the way
/// `delivery.rs` and `store.rs` use the rules: each delivery writes under its
/// own [`WriteToken`]; the verdict decides the write (`Applied` replaces the
/// status; a terminal write takes the publish lease), then the outcome duty
/// decides who sends. `lost[i]` says the answer to the i-th delivery's write
/// was lost, so the SDK sent it again and the retry read the item back
/// (`ALL_OLD`). `send_ok[i]` says whether the send of the i-th delivery works
/// (missing: it works); a failed send releases the lease, as the writer
/// that gives up does (`Outbox::give_back`).
fn replay(deliveries: &[SessionStatus], lost: &[bool], send_ok: &[bool]) -> Trace {
    let mut stored: Option<SessionRecord> = None;
    let mut trace = Trace::default();
    for (i, &incoming) in deliveries.iter().enumerate() {
        let now = i as u64;
        let writer = WriteToken::unique();
        let mut v = verdict(stored.as_ref().map(|r| r.status), incoming);
        if v == Verdict::Applied {
            let record = stored.get_or_insert_with(|| new_session(incoming));
            record.status = incoming;
            record.applied_by = Some(writer.clone());
            if incoming.is_terminal() {
                record.publish_lease_until = Some(now + LEASE_MS);
                record.lease_holder = Some(writer.clone());
                trace.terminals_applied.push(incoming);
            }
        }
        let record = stored
            .as_mut()
            .expect("stored after an applied first delivery");
        if lost.get(i).copied().unwrap_or(false) {
            // The retry's condition fails against the first attempt's write;
            // the store classifies it from the image, as `SessionStore::apply`.
            v = if record.applied_by(&writer) {
                Verdict::Applied
            } else {
                verdict(Some(record.status), incoming)
            };
        }
        let publish = match outcome_duty(record, &writer, now) {
            OutcomeDuty::None | OutcomeDuty::HeldElsewhere => false,
            OutcomeDuty::Publish => {
                trace.publish_duties += 1;
                true
            }
            // The claim is a conditional write on a lapsed (or released) lease.
            OutcomeDuty::ClaimAndPublish => {
                assert!(!record.lease_live(now));
                record.publish_lease_until = Some(now + LEASE_MS);
                record.lease_holder = Some(writer.clone());
                true
            }
        };
        if publish {
            if send_ok.get(i).copied().unwrap_or(true) {
                trace.sent.push(record.status);
                record.outcome_published_at = Some(format!("t{now}"));
            }
            record.publish_lease_until = None;
            record.lease_holder = None;
        }
        trace.verdicts.push(v);
        trace.stored.push(record.status);
    }
    trace
}

/// The session a first delivery creates: `SessionRecord::from` its event.
fn new_session(status: SessionStatus) -> SessionRecord {
    let body = json!({"event": "biometric.session_x", "payload": {"id": "s1", "status": status}});
    match parse_delivery(body.to_string().as_bytes()) {
        Ok(Delivery::Session(event)) => SessionRecord::from(&event),
        other => panic!("{other:?}"),
    }
}

/// The final status the rules promise for `deliveries`: the highest rank
/// delivered, and among terminal statuses the first one delivered.
fn expected_final(deliveries: &[SessionStatus]) -> Option<SessionStatus> {
    deliveries
        .iter()
        .copied()
        .find(|s| s.is_terminal())
        .or_else(|| deliveries.iter().copied().max_by_key(|s| s.rank()))
}

fn terminal() -> impl Strategy<Value = SessionStatus> {
    proptest::sample::select(TERMINALS.to_vec())
}

/// A valid ordered lifecycle (`pending`, `in_progress`, one terminal), or a
/// prefix of it (the session is not over yet), with every event delivered 1
/// to 3 times: (the ordered lifecycle, the deliveries in that order).
fn lifecycle() -> impl Strategy<Value = (Vec<SessionStatus>, Vec<SessionStatus>)> {
    (
        terminal(),
        1..=3usize,
        proptest::collection::vec(1..=3usize, 3),
    )
        .prop_map(|(last, len, copies)| {
            let ordered: Vec<SessionStatus> =
                [SessionStatus::Pending, SessionStatus::InProgress, last][..len].to_vec();
            let deliveries = ordered
                .iter()
                .zip(&copies)
                .flat_map(|(&s, &n)| std::iter::repeat_n(s, n))
                .collect();
            (ordered, deliveries)
        })
}

/// The lifecycle's deliveries in any order: (ordered lifecycle, shuffled).
fn permuted_lifecycle() -> impl Strategy<Value = (Vec<SessionStatus>, Vec<SessionStatus>)> {
    lifecycle()
        .prop_flat_map(|(ordered, deliveries)| (Just(ordered), Just(deliveries).prop_shuffle()))
}

/// A lifecycle with 0 to 4 extra terminal statuses (some conflicting with the
/// lifecycle's, some repeating it) mixed in anywhere.
fn conflicting_deliveries() -> impl Strategy<Value = Vec<SessionStatus>> {
    (lifecycle(), proptest::collection::vec(terminal(), 0..=4)).prop_flat_map(
        |((_, mut deliveries), extra)| {
            deliveries.extend(extra);
            Just(deliveries).prop_shuffle()
        },
    )
}

/// The invariants that hold for any delivery order, conflicts included.
fn check_invariants(deliveries: &[SessionStatus], trace: &Trace) -> Result<(), TestCaseError> {
    prop_assert_eq!(trace.last(), expected_final(deliveries));
    let first_terminal = deliveries.iter().copied().find(|s| s.is_terminal());
    if let Some(first) = first_terminal {
        prop_assert_eq!(
            trace.last(),
            Some(first),
            "the first terminal delivered is kept"
        );
    }
    prop_assert!(
        trace.terminals_applied.len() <= 1,
        "more than one terminal applied: {:?}",
        trace.terminals_applied
    );
    prop_assert_eq!(trace.terminals_applied.first().copied(), first_terminal);
    prop_assert!(
        trace.stored.windows(2).all(|w| w[0].rank() <= w[1].rank()),
        "rank went down: {:?}",
        trace.stored
    );
    prop_assert!(trace.sent.len() <= 1, "outcomes sent: {:?}", trace.sent);
    prop_assert!(
        trace.publish_duties <= 1,
        "{} publish duties",
        trace.publish_duties
    );
    for (i, (&incoming, &v)) in deliveries.iter().zip(&trace.verdicts).enumerate() {
        let before = i.checked_sub(1).map(|j| trace.stored[j]);
        let conflict =
            before.is_some_and(|b| b.is_terminal() && incoming.is_terminal() && b != incoming);
        prop_assert_eq!(
            v == Verdict::Conflict,
            conflict,
            "delivery {} ({})",
            i,
            incoming
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(10_000, 0x6775_315f_6465_6369))]

    /// Duplicated, reordered and conflicting deliveries: the first terminal
    /// wins, the rank never falls, and exactly one outcome is sent once the
    /// session is terminal.
    #[test]
    fn any_delivery_order_keeps_the_first_terminal_and_sends_once(
        deliveries in conflicting_deliveries(),
    ) {
        let trace = replay(&deliveries, &[], &[]);
        check_invariants(&deliveries, &trace)?;
        let terminal = deliveries.iter().copied().find(|s| s.is_terminal());
        prop_assert_eq!(trace.sent.first().copied(), terminal);
        prop_assert_eq!(trace.publish_duties, usize::from(terminal.is_some()));
    }

    /// Without conflicts, every permutation of a (duplicated) lifecycle ends
    /// where the lifecycle delivered in order ends, and sends what it sends.
    #[test]
    fn every_permutation_ends_where_the_ordered_lifecycle_ends(
        (ordered, deliveries) in permuted_lifecycle(),
    ) {
        let in_order = replay(&ordered, &[], &[]);
        let shuffled = replay(&deliveries, &[], &[]);
        check_invariants(&deliveries, &shuffled)?;
        prop_assert_eq!(shuffled.last(), ordered.last().copied());
        prop_assert_eq!(shuffled.last(), in_order.last());
        prop_assert_eq!(&shuffled.sent, &in_order.sent);
        prop_assert!(shuffled.verdicts.iter().all(|v| *v != Verdict::Conflict));
    }

    /// Sends that fail (and release the lease) are retried by a later
    /// delivery of the same session; still at most one outcome is sent.
    #[test]
    fn failed_sends_are_retried_by_later_deliveries_and_sent_at_most_once(
        deliveries in conflicting_deliveries(),
        send_ok in proptest::collection::vec(any::<bool>(), 0..16),
    ) {
        let trace = replay(&deliveries, &[], &send_ok);
        check_invariants(&deliveries, &trace)?;
        if let Some(sent) = trace.sent.first() {
            prop_assert_eq!(Some(*sent), trace.last(), "the kept terminal is what is sent");
        }
        // Once terminal, a delivery whose send works sends the outcome (if
        // nothing has yet): the lease is released after every failure.
        let terminal_from = deliveries.iter().position(|s| s.is_terminal());
        if let Some(from) = terminal_from {
            let any_send_works = (from..deliveries.len()).any(|i| send_ok.get(i).copied().unwrap_or(true));
            prop_assert_eq!(trace.sent.len(), usize::from(any_send_works));
        }
    }

    /// Answers to writes lost anywhere (the write landed, the SDK retried):
    /// every delivery is classified as if its answer had arrived, and the
    /// delivery that made the session terminal still sends the outcome itself,
    /// at once, exactly once.
    #[test]
    fn a_lost_answer_never_changes_the_verdict_or_who_sends(
        deliveries in conflicting_deliveries(),
        lost in proptest::collection::vec(any::<bool>(), 0..16),
    ) {
        let answered = replay(&deliveries, &[], &[]);
        let trace = replay(&deliveries, &lost, &[]);
        check_invariants(&deliveries, &trace)?;
        prop_assert_eq!(&trace.verdicts, &answered.verdicts);
        prop_assert_eq!(&trace.sent, &answered.sent);
        prop_assert_eq!(trace.publish_duties, usize::from(trace.sent.len() == 1));
    }
}
