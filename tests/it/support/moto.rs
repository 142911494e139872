//! The moto server of this test binary (HTTP, or HTTPS with its own CA for
//! the TLS tests), and the SDK configuration that reaches an endpoint.

use super::free_port;
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_types::SdkConfig;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The moto server of this test binary.
pub struct Moto {
    pub endpoint: String,
    _process: Mutex<Child>,
}

/// The moto server of this test binary, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| Moto::start(None))
}

impl Moto {
    /// Starts moto through `moto_server.py` (see there); over HTTPS when
    /// given a directory, where it writes the `ca.pem` to trust. It runs
    /// under a shell that stops it when our end of its stdin closes, i.e.
    /// when this value is dropped or the test binary exits.
    pub fn start(tls: Option<&std::path::Path>) -> Moto {
        let python = std::env::var("MOTO_PYTHON")
            .unwrap_or_else(|_| format!("{}/.venv/moto/bin/python", env!("CARGO_MANIFEST_DIR")));
        assert!(
            std::path::Path::new(&python).exists(),
            "{python} not found: run scripts/test (it installs moto), or set MOTO_PYTHON"
        );
        let script = format!(
            "{}/tests/it/support/moto_server.py",
            env!("CARGO_MANIFEST_DIR")
        );
        let port = free_port();
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" "$@" >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill $pid"#)
            .arg(&python)
            .arg(&script)
            .arg("127.0.0.1")
            .arg(port.to_string())
            .args(tls)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start moto");
        let scheme = match tls {
            None => {
                wait_for_http(port);
                "http"
            }
            Some(dir) => {
                wait_for_tls(port, &dir.join("ca.pem"));
                "https"
            }
        };
        Moto {
            endpoint: format!("{scheme}://127.0.0.1:{port}"),
            _process: Mutex::new(child),
        }
    }
}

fn wait_for_http(port: u16) {
    for _ in 0..300 {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Write;
            let mut stream = stream;
            let _ = stream.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: localhost\r\n\r\n");
            let mut line = String::new();
            if BufReader::new(&stream).read_line(&mut line).is_ok() && line.starts_with("HTTP/") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("moto did not start on port {port}");
}

/// The HTTPS moto writes its CA before it listens: wait for both.
fn wait_for_tls(port: u16, ca: &std::path::Path) {
    for _ in 0..300 {
        if ca.exists() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("moto did not start over TLS on port {port}");
}

/// SDK configuration for one endpoint, built as the receiver builds its own.
pub fn sdk(endpoint: &str) -> SdkConfig {
    gu1_webhook::config::sdk_config(
        Region::new("us-east-1"),
        Credentials::new("test", "test", None, None, "tests"),
        Some(endpoint.to_owned()),
    )
}
