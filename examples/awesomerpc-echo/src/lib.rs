//! An AwesomeRPC echo server and a pipelining client, both framed by the codec generated from
//! `schemas/awesomerpc.mproto` (`mproto_codecs::awesomerpc`) through `tokio_util`'s `Framed`.
//!
//! The server answers each request with a response that carries the request's id, headers and
//! body, plus a `served-by: <name>` header; it answers heartbeats with a heartbeat of the same
//! id and never answers oneway messages. The client sends its requests back to back on one
//! connection (pipelined) and collects the responses, in whatever order they come, by id.

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mproto_codecs::awesomerpc::{AwesomerpcCodec, Kind, Message, MessageFlags, Status};
use mproto_runtime::{ByteString, Bytes};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, FramedRead, FramedWrite};

/// The response header naming the server that answered.
pub const SERVED_BY: &str = "served-by";

// === server ===

/// Accepts connections on `listener` and serves each in its own task, until the listener fails.
pub async fn serve(listener: TcpListener, name: &str) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(stream, name.to_owned()));
    }
}

/// Answers the messages of one connection until it closes or sends an undecodable frame.
pub async fn serve_connection(stream: TcpStream, name: String) {
    let mut framed = Framed::new(stream, AwesomerpcCodec);
    while let Some(Ok(message)) = framed.next().await {
        let Some(reply) = answer(&message, &name) else {
            continue;
        };
        if framed.send(reply).await.is_err() {
            return;
        }
    }
}

/// What the echo server sends back for `message`, if anything.
pub fn answer(message: &Message, name: &str) -> Option<Message> {
    match message.flags.kind {
        Kind::Request => Some(echo_reply(message, name)),
        Kind::Heartbeat => Some(Message {
            flags: MessageFlags {
                kind: Kind::Heartbeat,
                ..Default::default()
            },
            request_id: message.request_id,
            ..Default::default()
        }),
        _ => None,
    }
}

/// The response to `request`: same id, headers and body, plus `served-by: <name>`.
pub fn echo_reply(request: &Message, name: &str) -> Message {
    let mut headers = request.headers.clone();
    headers.push((ByteString::from_static(SERVED_BY), ByteString::from(name)));
    Message {
        flags: MessageFlags {
            kind: Kind::Response,
            ..Default::default()
        },
        status: Status::Ok,
        request_id: request.request_id,
        headers,
        body: request.body.clone(),
        ..Default::default()
    }
}

// === client ===

/// A request with `id`, `headers` and `body`.
pub fn request(id: u64, headers: &[(String, String)], body: impl Into<Bytes>) -> Message {
    Message {
        flags: MessageFlags {
            kind: Kind::Request,
            ..Default::default()
        },
        request_id: id,
        headers: headers
            .iter()
            .map(|(k, v)| (ByteString::from(k.as_str()), ByteString::from(v.as_str())))
            .collect(),
        body: body.into(),
        ..Default::default()
    }
}

/// A heartbeat with `id`.
pub fn heartbeat(id: u64) -> Message {
    Message {
        flags: MessageFlags {
            kind: Kind::Heartbeat,
            ..Default::default()
        },
        request_id: id,
        ..Default::default()
    }
}

/// The value of the first header named `key`.
pub fn header<'m>(message: &'m Message, key: &str) -> Option<&'m str> {
    message
        .headers
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| &**v)
}

/// Sends every message of `messages` on one connection to `addr` without waiting between
/// them, and returns one answer per message, in arrival order. Messages must have distinct
/// request ids and expect an answer (requests, heartbeats). Fails when the connection closes
/// early, a frame does not decode, an answer has an unknown id, or `timeout` passes.
pub async fn call_pipelined(
    addr: SocketAddr,
    messages: Vec<Message>,
    timeout: Duration,
) -> io::Result<Vec<Message>> {
    tokio::time::timeout(timeout, exchange(addr, messages))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer in time"))?
}

async fn exchange(addr: SocketAddr, messages: Vec<Message>) -> io::Result<Vec<Message>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (rd, wr) = stream.into_split();
    let mut pending: HashSet<u64> = messages.iter().map(|m| m.request_id).collect();
    let count = messages.len();
    let mut writer = FramedWrite::new(wr, AwesomerpcCodec);
    let mut reader = FramedRead::new(rd, AwesomerpcCodec);
    // Write and read at once, so neither side's buffers can fill up and stall the other.
    let write = async move {
        for message in messages {
            writer.feed(message).await.map_err(io::Error::other)?;
        }
        SinkExt::<Message>::flush(&mut writer)
            .await
            .map_err(io::Error::other)?;
        Ok::<_, io::Error>(writer)
    };
    let read = async {
        let mut answers = Vec::with_capacity(count);
        while answers.len() < count {
            let message = reader
                .next()
                .await
                .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"))?
                .map_err(io::Error::other)?;
            if !pending.remove(&message.request_id) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("answer with unexpected request id {}", message.request_id),
                ));
            }
            answers.push(message);
        }
        Ok(answers)
    };
    // The writer is kept until every answer arrived: closing it early would half-close.
    let (writer, answers) = tokio::try_join!(write, read)?;
    drop(writer);
    Ok(answers)
}

/// One line describing `message`: kind, status, request id and headers.
pub fn describe(message: &Message) -> String {
    let headers: Vec<String> = message
        .headers
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "id={} kind={:?} status={:?} headers=[{}] body={}B",
        message.request_id,
        message.flags.kind,
        message.status,
        headers.join(", "),
        message.body.len()
    )
}

/// Parses `key=value`.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected key=value, got `{text}`"))
}
