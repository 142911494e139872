use super::*;
use crate::operate::{Erase, Republish};
use crate::session::SessionStatus;

fn parse(args: &[&str]) -> Result<Command, Refused> {
    parse_args(args.iter().map(|a| a.to_string()).collect())
}

#[test]
fn commands_and_their_options_parse() {
    assert!(matches!(parse(&[]), Ok(Command::Lambda)));
    assert!(matches!(
        parse(&["serve"]),
        Ok(Command::Serve { listen }) if listen == "127.0.0.1:3000"
    ));
    assert!(matches!(
        parse(&["serve", "--listen", "127.0.0.1:9"]),
        Ok(Command::Serve { listen }) if listen == "127.0.0.1:9"
    ));
    assert!(matches!(
        parse(&["serve", "--listen=[::1]:9"]),
        Ok(Command::Serve { listen }) if listen == "[::1]:9"
    ));
    assert!(matches!(
        parse(&["sweep", "--grace-seconds", "0", "--page-size", "5"]),
        Ok(Command::Sweep { grace: Some(grace), page_size: Some(5) }) if grace.is_zero()
    ));
    assert!(matches!(
        parse(&["sweep"]),
        Ok(Command::Sweep {
            grace: None,
            page_size: None
        })
    ));
    let Ok(Command::Reconcile {
        stale_after,
        sessions,
    }) = parse(&[
        "reconcile",
        "--session",
        "s-1",
        "--stale-after=60",
        "--session=-s-2",
    ])
    else {
        panic!("reconcile did not parse");
    };
    assert_eq!(stale_after, Some(Duration::from_secs(60)));
    let sessions: Vec<&str> = sessions.iter().map(SessionId::as_str).collect();
    assert_eq!(sessions, ["s-1", "-s-2"]);
    assert!(matches!(parse(&["--version"]), Ok(Command::Version)));
    assert!(matches!(parse(&["-V"]), Ok(Command::Version)));
}

#[test]
fn help_is_the_usage_of_what_it_follows() {
    for (args, usage) in [
        (&["--help"][..], USAGE),
        (&["-h"][..], USAGE),
        (&["help"][..], USAGE),
        (&["help", "sweep"][..], SWEEP_USAGE),
        (&["serve", "--help"][..], SERVE_USAGE),
        (&["sweep", "-h"][..], SWEEP_USAGE),
        (
            &["reconcile", "--session", "s-1", "--help"][..],
            RECONCILE_USAGE,
        ),
        // Wherever it stands, even where a value was due or after a mistake.
        (&["serve", "--listen", "--help"][..], SERVE_USAGE),
        (&["sweep", "--bogus", "-h"][..], SWEEP_USAGE),
    ] {
        match parse(args) {
            Ok(Command::Help(text)) => assert_eq!(text, usage, "{args:?}"),
            other => panic!("{args:?}: {other:?}"),
        }
    }
}

#[test]
fn mistakes_are_refused_with_a_reason_and_the_usage() {
    for (args, reason, usage) in [
        (&["deploy"][..], "unknown command deploy", USAGE),
        (&["--bogus"][..], "unknown option --bogus", USAGE),
        (&["help", "deploy"][..], "unknown command deploy", USAGE),
        (
            &["serve", "--grace-seconds", "1"][..],
            "unknown option --grace-seconds for serve",
            SERVE_USAGE,
        ),
        (
            &["serve", "--version"][..],
            "unknown option --version for serve",
            SERVE_USAGE,
        ),
        (
            &["sweep", "now"][..],
            "unexpected argument now for sweep",
            SWEEP_USAGE,
        ),
        (
            &["sweep", "--grace-seconds"][..],
            "--grace-seconds needs a value",
            SWEEP_USAGE,
        ),
        (
            &["sweep", "--grace-seconds", "--page-size", "5"][..],
            "--grace-seconds needs a value",
            SWEEP_USAGE,
        ),
        (
            &["sweep", "--grace-seconds", "soon"][..],
            "--grace-seconds takes a whole number of seconds",
            SWEEP_USAGE,
        ),
        (
            &["sweep", "--page-size=0"][..],
            "--page-size takes a number from 1 to 1000",
            SWEEP_USAGE,
        ),
        (
            &["serve", "--listen", "a", "--listen", "b"][..],
            "--listen given twice",
            SERVE_USAGE,
        ),
        (
            &["reconcile", "--stale-after", "-5"][..],
            "--stale-after needs a value",
            RECONCILE_USAGE,
        ),
        (
            &["reconcile", "--session", ".."][..],
            "--session \"..\": a session id must be 1 to 100 printable ASCII characters, not only dots",
            RECONCILE_USAGE,
        ),
    ] {
        let expected = Refused {
            reason: reason.to_owned(),
            usage,
        };
        assert_eq!(parse(args).err(), Some(expected), "{args:?}");
    }
}

/// Every command has its usage, which names it and every option it takes.
#[test]
fn each_usage_names_its_command_and_options() {
    for (name, usage) in COMMANDS {
        assert!(usage.starts_with(&format!("usage: gu1-webhook {name}")));
        assert!(USAGE.contains(&format!("\n  {name} ")), "{name}");
        assert!(usage.contains("-h, --help"), "{name}");
    }
    for option in ["--listen", "--grace-seconds", "--page-size"] {
        assert!(SERVE_USAGE.contains(option) || SWEEP_USAGE.contains(option));
    }
    for option in ["--stale-after", "--session"] {
        assert!(RECONCILE_USAGE.contains(option));
    }
}

#[test]
fn track_takes_sessions_and_one_entity() {
    let Ok(Command::Operate(Request::Track { sessions, entity })) = parse(&[
        "track",
        "--session",
        "s-1",
        "--entity=ent-1",
        "--session",
        "s-2",
    ]) else {
        panic!("track did not parse");
    };
    let sessions: Vec<&str> = sessions.iter().map(SessionId::as_str).collect();
    assert_eq!(sessions, ["s-1", "s-2"]);
    assert_eq!(entity.as_deref(), Some("ent-1"));
    for (args, reason) in [
        (&["track"][..], "give at least one session"),
        (&["track", "--entity", "e"][..], "give at least one session"),
        (
            &["track", "--session", "s", "--entity", "a", "--entity", "b"][..],
            "--entity given twice",
        ),
        (
            &["track", "--stale-after", "1"][..],
            "unknown option --stale-after for track",
        ),
    ] {
        assert_eq!(
            parse(args).map(|_| ()),
            Err(Refused {
                reason: reason.into(),
                usage: TRACK_USAGE
            }),
            "{args:?}"
        );
    }
    assert!(parse(&["track", "--session", "s", "--entity", ".."]).is_err());
}

#[test]
fn republish_takes_sessions_or_a_window() {
    let Ok(Command::Operate(Request::Republish(Republish::Sessions(sessions)))) =
        parse(&["republish", "--session", "s-1", "--session=s-2"])
    else {
        panic!("republish --session did not parse");
    };
    assert_eq!(sessions.len(), 2);
    let Ok(Command::Operate(Request::Republish(Republish::Window(window)))) = parse(&[
        "republish",
        "--since",
        "2026-12-01T14:00:00Z",
        "--until=2026-12-01T15:00:00.5Z",
        "--status",
        "rejected",
        "--limit",
        "7",
        "--after",
        "1796133600000:s-9",
    ]) else {
        panic!("republish --since did not parse");
    };
    assert_eq!(window.since_ms, 1_796_133_600_000);
    assert_eq!(window.until_ms, Some(1_796_137_200_500));
    assert_eq!(window.status, Some(SessionStatus::Rejected));
    assert_eq!(window.limit, 7);
    assert_eq!(
        window.after.map(|c| c.to_string()).as_deref(),
        Some("1796133600000:s-9")
    );
    for (args, reason) in [
        (&["republish"][..], "give at least one session"),
        (
            &[
                "republish",
                "--session",
                "s",
                "--since",
                "2026-12-01T14:00:00Z",
            ][..],
            "give sessions or since, not both",
        ),
        (
            &["republish", "--since", "yesterday"][..],
            "since \"yesterday\" is not an RFC 3339 time, e.g. 2026-12-01T14:00:00Z",
        ),
        (
            &[
                "republish",
                "--since",
                "2026-12-01T14:00:00Z",
                "--status",
                "pending",
            ][..],
            "status \"pending\" is not a terminal status",
        ),
        (
            &[
                "republish",
                "--since",
                "2026-12-01T14:00:00Z",
                "--limit",
                "0",
            ][..],
            "limit is a number from 1 to 1000",
        ),
        (
            &[
                "republish",
                "--since",
                "2026-12-01T14:00:00Z",
                "--until",
                "2026-01-01T00:00:00Z",
            ][..],
            "until is before since",
        ),
        (
            &["republish", "--session", "s", "--limit", "5"][..],
            "limit is not an option of republish without since",
        ),
        (
            &["republish", "--entity", "e"][..],
            "unknown option --entity for republish",
        ),
    ] {
        assert_eq!(
            parse(args).map(|_| ()),
            Err(Refused {
                reason: reason.into(),
                usage: REPUBLISH_USAGE
            }),
            "{args:?}"
        );
    }
}

#[test]
fn erase_takes_exactly_one_way_to_find_the_person() {
    for (args, expected) in [
        (
            &["erase", "--session", "s-1"][..],
            Erase::Sessions(vec![SessionId::parse("s-1").unwrap()]),
        ),
        (
            &["erase", "--entity", "ent-1"][..],
            Erase::Entity("ent-1".into()),
        ),
        (
            &["erase", "--external-id", "customer 42"][..],
            Erase::ExternalId("customer 42".into()),
        ),
    ] {
        assert!(
            matches!(parse(args), Ok(Command::Operate(Request::Erase(ref e))) if *e == expected),
            "{args:?}"
        );
    }
    for args in [
        &["erase"][..],
        &["erase", "--entity", "e", "--external-id", "x"][..],
        &["erase", "--session", "s", "--entity", "e"][..],
    ] {
        assert_eq!(
            parse(args).map(|_| ()),
            Err(Refused {
                reason: "erase takes one of sessions, entity or external id".into(),
                usage: ERASE_USAGE
            }),
            "{args:?}"
        );
    }
}
