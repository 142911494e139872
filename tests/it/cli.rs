//! The command line of the real binary, as a newcomer meets it: `--help`
//! and each command's `--help` answer on stdout with exit 0, `--version`
//! names the release, and a mistake exits 2 with the reason and the usage
//! on stderr. None of them needs any configuration (the environment is
//! empty): a mistake is refused before anything is read.

use std::process::{Command, Output};

const COMMANDS: [(&str, &[&str]); 3] = [
    ("serve", &["--listen ADDR"]),
    ("sweep", &["--grace-seconds N", "--page-size N"]),
    ("reconcile", &["--stale-after N", "--session ID"]),
];

/// The top-level usage's first line.
const USAGE: &str = "usage: gu1-webhook [COMMAND] [OPTIONS]\n";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gu1-webhook"))
        .env_clear()
        .args(args)
        .output()
        .expect("run gu1-webhook")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// `args` succeed with `first_line` on stdout and nothing on stderr; the
/// whole stdout.
fn answers(args: &[&str], first_line: &str) -> String {
    let output = run(args);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    assert!(stdout.starts_with(first_line), "{args:?}: {stdout}");
    assert_eq!(stderr, "", "{args:?}");
    stdout
}

/// `args` exit 2 with `reason` and the usage that starts with `usage` on
/// stderr, and nothing on stdout.
fn refused(args: &[&str], reason: &str, usage: &str) {
    let output = run(args);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stdout, "", "{args:?}");
    let expected = format!("gu1-webhook: {reason}\n\n{usage}");
    assert!(stderr.starts_with(&expected), "{args:?}: {stderr}");
}

/// `--version` names the release a deployment runs (the number in
/// Cargo.toml, which `scripts/release` tags).
#[test]
fn version_names_the_release() {
    for flag in ["--version", "-V"] {
        let version = answers(&[flag], "gu1-webhook ");
        assert_eq!(
            version.trim(),
            format!("gu1-webhook {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn help_lists_every_command() {
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let usage = answers(args, USAGE);
        for (command, _) in COMMANDS {
            assert!(usage.contains(&format!("\n  {command} ")), "{command}");
        }
        assert!(usage.contains("--version"));
    }
}

#[test]
fn each_command_explains_itself() {
    for (command, options) in COMMANDS {
        let first_line = format!("usage: gu1-webhook {command} ");
        let usage = answers(&[command, "--help"], &first_line);
        for option in options {
            assert!(usage.contains(option), "{command}: {option}");
        }
        assert_eq!(answers(&[command, "-h"], &first_line), usage);
        assert_eq!(answers(&["help", command], &first_line), usage);
        // After an option, and where a value was due: still the usage.
        let late = [command, options[0].split(' ').next().unwrap(), "--help"];
        assert_eq!(answers(&late, &first_line), usage);
    }
}

#[test]
fn mistakes_exit_2_with_the_reason_and_the_usage() {
    refused(&["deploy"], "unknown command deploy", USAGE);
    refused(&["--bogus"], "unknown option --bogus", USAGE);
    refused(&["help", "deploy"], "unknown command deploy", USAGE);
    refused(
        &["sweep", "--listen", "127.0.0.1:0"],
        "unknown option --listen for sweep",
        "usage: gu1-webhook sweep ",
    );
    refused(
        &["serve", "now"],
        "unexpected argument now for serve",
        "usage: gu1-webhook serve ",
    );
    refused(
        &["sweep", "--page-size"],
        "--page-size needs a value",
        "usage: gu1-webhook sweep ",
    );
    refused(
        &["sweep", "--page-size=0"],
        "--page-size takes a number from 1 to 1000",
        "usage: gu1-webhook sweep ",
    );
    refused(
        &["reconcile", "--session", "..", "--stale-after", "60"],
        "--session \"..\": a session id must be 1 to 100 printable ASCII characters, not only dots",
        "usage: gu1-webhook reconcile ",
    );
}
