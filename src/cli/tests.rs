use super::*;

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
    let Ok(Command::Track { sessions, entity }) = parse(&[
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
        (&["track"][..], "track needs --session"),
        (&["track", "--entity", "e"][..], "track needs --session"),
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
