//! Loopback endpoints for dependencies that are not there: a free port,
//! one that is down ([`closed`]), one that accepts and never answers
//! ([`hang`]).

use std::net::TcpListener as StdListener;

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// An endpoint on a loopback port nothing listens on: a dependency that is down.
pub fn closed() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// A listener on a free loopback port that accepts connections and never
/// answers: a dependency that hangs. Stops when dropped.
pub struct Hang {
    pub endpoint: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hang {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn hang() -> Hang {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    Hang { endpoint, task }
}
