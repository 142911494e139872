//! What a socket can do to `gu1-webhook serve`, tried on the real binary:
//! descriptor exhaustion, broken chunked bodies, slow clients, idle
//! connections. Each test checks the answers, the table and the queue.

use crate::support::binary::{Env, Server};
use crate::support::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest a test waits for something the server must do by itself (close a
/// connection, log a failed accept): a guard against hanging forever, not
/// a measure of speed.
const GUARD: Duration = Duration::from_secs(30);

async fn start(stderr: std::process::Stdio) -> (Stack, Env, Server) {
    let moto = moto();
    let stack = Stack::create(&sdk(&moto.endpoint), false).await;
    let env = Env::for_tests(&stack, &moto.endpoint);
    let server = Server::start(&env, stderr).await;
    (stack, env, server)
}

/// The head of a signed POST to the webhook path, up to the blank line.
fn head(signature: &str, framing: &str) -> String {
    format!(
        "POST /webhooks/gu1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         X-Webhook-Signature: {signature}\r\n{framing}\r\n\r\n"
    )
}

/// One chunk of a chunked body.
fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// Reads one answer: its status and JSON body; `None` if the connection
/// closed first.
async fn read_answer(stream: &mut TcpStream) -> Option<(u16, Value)> {
    let mut buffer = Vec::new();
    let mut byte = [0u8; 1];
    while !buffer.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(GUARD, stream.read(&mut byte)).await {
            Ok(Ok(1)) => buffer.push(byte[0]),
            Ok(_) => return None,
            Err(_) => panic!("no answer and no close"),
        }
    }
    let head = String::from_utf8(buffer).expect("an ASCII head");
    let status = head[9..12].parse().expect("a status");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().expect("a length"))
        })
        .expect("a content-length");
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.expect("the body");
    Some((
        status,
        serde_json::from_slice(&body).expect("a JSON answer"),
    ))
}

/// Waits until the server closes `stream`; what it sent before, if anything.
async fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(GUARD, async {
        let mut buffer = [0u8; 1024];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    });
    read.await.expect("the server closes the connection");
    received
}

async fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect")
}

/// The approved session stored, published once.
async fn assert_published_once(stack: &Stack, session: &str) {
    let item = stack.item(session).await.expect("stored");
    assert_eq!(text(&item, "status"), Some("approved"));
    assert!(item.contains_key("outcomePublishedAt"));
    let bodies = stack.outcome_bodies().await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["sessionId"], session);
    assert_eq!(bodies[0]["status"], "approved");
}

#[tokio::test]
async fn serve_survives_descriptor_exhaustion_and_serves_once_descriptors_free() {
    assert!(
        std::process::Command::new("prlimit")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "prlimit (util-linux) is needed for this test"
    );
    let moto = moto();
    let stack = Stack::create(&sdk(&moto.endpoint), false).await;
    let env = Env::for_tests(&stack, &moto.endpoint);
    let log = std::env::temp_dir().join(unique("gu1-webhook-nofile-log"));
    let stderr = std::fs::File::create(&log).expect("log file");
    let mut server = Server::start_with_nofile(&env, stderr.into(), 64).await;

    // 80 idle connections: more than 64 descriptors can hold.
    let mut idle = Vec::new();
    for _ in 0..80 {
        idle.push(connect(&server).await);
    }
    tokio::time::timeout(GUARD, async {
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("could not accept a connection")
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("serve runs out of descriptors and says so");
    assert!(
        server.is_running(),
        "out of descriptors, serve keeps running"
    );

    // A delivery arriving now waits in the backlog, and is served once the
    // idle connections close.
    let session = unique("s-nofile");
    let client = (*server).clone();
    let body = seed::approved(&session);
    let waiting = tokio::spawn(async move { client.deliver(&body).await });
    drop(idle);
    let answer = waiting.await.expect("delivery");
    assert_eq!((answer.status, answer.result()), (200, "applied"));
    assert_published_once(&stack, &session).await;

    let again = server.deliver(&seed::approved(&session)).await;
    assert_eq!((again.status, again.result()), (200, "duplicate"));
    assert!(server.is_running());
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(log.contains("Too many open files"), "{log}");
}

#[tokio::test]
async fn a_malformed_chunked_body_is_400_and_nothing_is_stored() {
    let (stack, _env, server) = start(std::process::Stdio::null()).await;
    let session = unique("s-chunked");
    let (body, signature) = WebhookClient::signed(&seed::approved(&session));
    let (first, rest) = body.split_at(body.len() / 2);

    let mut broken = head(&signature, "Transfer-Encoding: chunked").into_bytes();
    broken.extend(chunk(first));
    broken.extend_from_slice(b"not-a-size\r\n");
    broken.extend_from_slice(rest);
    broken.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut stream = connect(&server).await;
    stream.write_all(&broken).await.expect("send");
    let answer = read_answer(&mut stream).await.expect("an answer");
    assert_eq!(
        answer,
        (
            400,
            json!({"result": "bad_request", "reason": "body could not be read: malformed or cut short"})
        )
    );
    closed_by_server(&mut stream).await;
    assert_eq!(stack.item_count().await, 0, "nothing stored");
    assert!(stack.messages().await.is_empty(), "nothing sent");

    // The same delivery, chunked properly, is taken.
    let mut good = head(&signature, "Transfer-Encoding: chunked").into_bytes();
    good.extend(chunk(first));
    good.extend(chunk(rest));
    good.extend_from_slice(b"0\r\n\r\n");
    let mut stream = connect(&server).await;
    stream.write_all(&good).await.expect("send");
    let (status, answer) = read_answer(&mut stream).await.expect("an answer");
    assert_eq!((status, &answer["result"]), (200, &json!("applied")));
    assert_published_once(&stack, &session).await;
}

#[tokio::test]
async fn a_chunked_body_over_256_kib_is_still_413() {
    let (stack, _env, server) = start(std::process::Stdio::null()).await;
    let mut request = head("00", "Transfer-Encoding: chunked").into_bytes();
    for _ in 0..4 {
        request.extend(chunk(&[b' '; 64 * 1024]));
    }
    request.extend(chunk(b"{}"));
    request.extend_from_slice(b"0\r\n\r\n");
    let mut stream = connect(&server).await;
    stream.write_all(&request).await.expect("send");
    let (status, answer) = read_answer(&mut stream).await.expect("an answer");
    assert_eq!(
        (status, answer["result"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert_eq!(stack.item_count().await, 0);
}

#[tokio::test]
async fn a_slowloris_is_disconnected_without_an_answer_while_deliveries_are_served() {
    let (stack, _env, server) = start(std::process::Stdio::null()).await;
    let mut slow = connect(&server).await;
    slow.write_all(b"POST /webhooks/gu1 HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("send");
    // One more header line every 200 ms, never the blank line that ends them.
    let trickle = tokio::spawn(async move {
        let mut lines = 0u32;
        let mut received = Vec::new();
        let mut buffer = [0u8; 256];
        let outcome = tokio::time::timeout(GUARD, async {
            loop {
                tokio::select! {
                    read = slow.read(&mut buffer) => match read {
                        Ok(0) | Err(_) => return,
                        Ok(n) => received.extend_from_slice(&buffer[..n]),
                    },
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {
                        if slow.write_all(format!("X-Slow-{lines}: a\r\n").as_bytes()).await.is_err() {
                            return;
                        }
                        lines += 1;
                    }
                }
            }
        })
        .await;
        (outcome.is_ok(), lines, received)
    });

    let session = unique("s-slowloris");
    let answer = server.deliver(&seed::approved(&session)).await;
    assert_eq!((answer.status, answer.result()), (200, "applied"));
    assert_published_once(&stack, &session).await;

    let (disconnected, lines, received) = trickle.await.expect("trickle");
    assert!(disconnected, "the slow client is disconnected");
    assert!(lines > 0, "it was still sending headers");
    assert!(
        received.is_empty(),
        "and gets no answer: {}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn a_body_that_never_completes_is_408_and_nothing_is_stored() {
    let (stack, _env, server) = start(std::process::Stdio::null()).await;
    let session = unique("s-slow-body");
    let (body, signature) = WebhookClient::signed(&seed::approved(&session));
    let mut request = head(&signature, &format!("Content-Length: {}", body.len())).into_bytes();
    request.extend_from_slice(&body[..body.len() / 2]);
    let mut stream = connect(&server).await;
    stream.write_all(&request).await.expect("send");

    let answer = read_answer(&mut stream).await.expect("an answer");
    assert_eq!(
        answer,
        (
            408,
            json!({"result": "request_timeout", "reason": "body not received within 5 s"})
        )
    );
    closed_by_server(&mut stream).await;
    assert_eq!(stack.item_count().await, 0, "nothing stored");
    assert!(stack.messages().await.is_empty(), "nothing sent");
}

#[tokio::test]
async fn idle_connections_are_closed_new_or_kept_alive() {
    let (_stack, _env, server) = start(std::process::Stdio::null()).await;
    let mut silent = connect(&server).await;

    let mut kept_alive = connect(&server).await;
    kept_alive
        .write_all(b"GET /webhooks/gu1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("send");
    let (status, answer) = read_answer(&mut kept_alive).await.expect("an answer");
    assert_eq!(
        (status, &answer["result"]),
        (405, &json!("method_not_allowed"))
    );

    assert!(closed_by_server(&mut kept_alive).await.is_empty());
    assert!(closed_by_server(&mut silent).await.is_empty());
    // The server itself still answers.
    let answer = server.request("GET", "/webhooks/gu1", &[], "").await;
    assert_eq!(answer.status, 405);
}
