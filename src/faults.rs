//! Fault points for the failure tests, compiled only with the `test-faults`
//! feature: never part of a release build.

use crate::session::SessionId;
use std::collections::HashSet;
use std::sync::Mutex;

static CRASH_AFTER_STORE: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Makes the next delivery of `session` die right after its DynamoDB write,
/// before anything is sent to SQS, as a process killed at that point would.
pub fn crash_after_store(session: &str) {
    if let Ok(mut armed) = CRASH_AFTER_STORE.lock() {
        armed
            .get_or_insert_with(HashSet::new)
            .insert(session.to_owned());
    }
}

/// The fault point itself: panics (the task dies, the connection drops
/// without an answer) if `session` was armed.
pub(crate) fn after_store(session: &SessionId) {
    let armed = CRASH_AFTER_STORE
        .lock()
        .ok()
        .and_then(|mut armed| armed.as_mut().map(|set| set.remove(session.as_str())))
        .unwrap_or(false);
    if armed {
        panic!("test fault: process died after the DynamoDB write");
    }
}
