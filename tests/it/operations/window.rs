//! `republish --since T --until T`: exactly the sessions the receiver made
//! terminal in the window go out again, read from the terminal outcomes'
//! index; `--status` narrows them; `--limit 1` with `--after NEXT` walks
//! the window one session a run, with no repeat and no gap.
//!
//! `terminalAt` is the receiver's clock when it stored the terminal status,
//! so the window is made with real time: sessions delivered before `since`,
//! inside, and after `until`, each bound taken between deliveries (a few
//! milliseconds apart, the index's resolution).

use super::*;
use gu1_webhook::clock::{now_ms, rfc3339};
use std::time::Duration;

/// A moment strictly after everything delivered so far and strictly before
/// anything delivered next, as RFC 3339 (milliseconds).
async fn instant() -> String {
    tokio::time::sleep(Duration::from_millis(5)).await;
    let at = rfc3339(now_ms());
    tokio::time::sleep(Duration::from_millis(5)).await;
    at
}

/// Sessions made terminal before, inside and after a window; the queue
/// emptied of their originals.
struct Window {
    w: World,
    since: String,
    until: String,
    /// In delivery order: approved, rejected, expired.
    inside: Vec<String>,
    outside: Vec<String>,
}

async fn window() -> Window {
    let w = world(false).await;
    let before = w
        .app
        .deliver_outcomes(&[("entity-uuid", "win-before", "approved")])
        .await;
    let since = instant().await;
    let inside = w
        .app
        .deliver_outcomes(&[
            ("entity-uuid", "win-in-approved", "approved"),
            ("entity-b", "win-in-rejected", "rejected"),
            ("entity-c", "win-in-expired", "expired"),
        ])
        .await;
    let until = instant().await;
    let after = w
        .app
        .deliver_outcomes(&[("entity-uuid", "win-after", "approved")])
        .await;
    assert_eq!(w.app.messages().await.len(), 5, "the originals");
    Window {
        w,
        since,
        until,
        inside,
        outside: [before, after].concat(),
    }
}

impl Window {
    fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["republish", "--since", &self.since, "--until", &self.until];
        args.extend_from_slice(extra);
        args
    }

    /// No session outside the window was ever republished.
    async fn outside_untouched(&self) {
        for session in &self.outside {
            let item = self.w.item(session).await;
            assert!(!item.contains_key("republishCount"), "{session}: {item:?}");
        }
    }
}

#[tokio::test]
async fn exactly_the_sessions_made_terminal_in_the_window_go_out_again() {
    let win = window().await;
    let run = win.w.run(&win.args(&[])).await;
    assert_eq!(republished(run.report()), [3, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(run.report()["next"], Value::Null, "the window is done");
    let sent = win.w.app.messages().await;
    let mut expected = win.inside.clone();
    expected.sort();
    assert_eq!(sessions_in(&sent), expected);
    assert!(sent.iter().all(|m| attribute(m, "republishedAt").is_some()));
    win.outside_untouched().await;
}

#[tokio::test]
async fn a_status_narrows_the_window() {
    let win = window().await;
    let run = win.w.run(&win.args(&["--status", "rejected"])).await;
    assert_eq!(republished(run.report()), [1, 0, 0, 0, 0, 0, 2, 0]);
    let sent = win.w.app.messages().await;
    assert_eq!(sessions_in(&sent), [win.inside[1].clone()]);
    assert_eq!(body(&sent[0])["status"], "rejected");
    for session in [&win.inside[0], &win.inside[2]] {
        let item = win.w.item(session).await;
        assert!(!item.contains_key("republishCount"), "{session}");
    }
    win.outside_untouched().await;
}

#[tokio::test]
async fn limit_and_after_walk_the_window_once_in_order() {
    let win = window().await;
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    let mut runs = 0;
    for _ in 0..=win.inside.len() + 1 {
        let mut extra = vec!["--limit", "1"];
        if let Some(cursor) = &after {
            extra.extend(["--after", cursor.as_str()]);
        }
        let run = win.w.run(&win.args(&extra)).await;
        runs += 1;
        let counts = republished(run.report());
        let sent = win.w.app.messages().await;
        assert_eq!(counts[0], sent.len() as u64, "{}", run.report());
        assert!(sent.len() <= 1, "at most --limit a run: {}", run.report());
        walked.extend(sessions_in(&sent));
        match run.report()["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => {
                after = None;
                break;
            }
        }
    }
    assert_eq!(after, None, "the walk ends: {walked:?}");
    assert_eq!(
        walked, win.inside,
        "each in-window session once, in the order it became terminal"
    );
    assert!(runs >= win.inside.len(), "one session a run at most");
    for session in &win.inside {
        let item = win.w.item(session).await;
        assert_eq!(number(&item, "republishCount"), Some(1), "{session}");
    }
    win.outside_untouched().await;
}
