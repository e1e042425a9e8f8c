//! The benchmark's frames, built byte by byte from the schemas' layouts (no codec involved),
//! with the values they hold and the frames a mutation should produce.

use bytes::{Bytes, BytesMut};

use crate::model::{AwesomeFields, DubboFields, ThriftFields};

/// The two headers the re-encode benchmark adds to AwesomeRPC frames.
pub const AWESOME_ADDED: [(&str, &str); 2] = [("x-canary", "true"), ("x-route", "v2")];
/// The request id the re-encode benchmark writes into Thrift frames.
pub const THRIFT_NEW_SEQ: u32 = 0x0000_7777;
/// The request id the re-encode benchmark writes into Dubbo frames.
pub const DUBBO_NEW_ID: u64 = 0x0000_0000_0000_9999;

/// Copies `bytes` into a buffer the way the proxy's read path does (a split of a larger
/// `BytesMut`), so that slicing the frame only bumps a reference count.
pub fn as_frame(bytes: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(bytes.len() + 64);
    buf.extend_from_slice(bytes);
    buf.split_to(bytes.len()).freeze()
}

/// The AwesomeRPC request: 8 headers and a 1 KiB body.
pub fn awesome_fields() -> AwesomeFields {
    let headers = [
        ("service", "com.example.UserService"),
        ("method", "getUserProfile"),
        ("api-version", "1.4.2"),
        ("caller", "checkout-frontend"),
        ("trace-id", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("span-id", "00f067aa0ba902b7"),
        ("region", "eu-west-1"),
        ("timeout-ms", "250"),
    ];
    AwesomeFields {
        version: 1,
        kind: 0,
        compressed: false,
        streaming: false,
        status: 0,
        request_id: 0x0102_0304_0506_0708,
        stream_id: None,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: (0..1024u32).map(|i| (i * 31 + 7) as u8).collect(),
    }
}

/// A streaming AwesomeRPC response, to cover the conditional stream id in tests.
pub fn awesome_streaming_fields() -> AwesomeFields {
    AwesomeFields {
        kind: 1,
        compressed: true,
        streaming: true,
        status: 3,
        stream_id: Some(0xCAFE_F00D),
        headers: vec![("error".to_owned(), "é timeout".to_owned())],
        body: b"partial".to_vec(),
        ..awesome_fields()
    }
}

/// The AwesomeRPC bytes for `f`, laid out by hand from `schemas/awesomerpc.mproto`.
pub fn awesome_bytes(f: &AwesomeFields) -> Vec<u8> {
    let mut headers = Vec::new();
    for (k, v) in &f.headers {
        headers.push(k.len() as u8);
        headers.extend_from_slice(k.as_bytes());
        headers.extend_from_slice(&(v.len() as u16).to_be_bytes());
        headers.extend_from_slice(v.as_bytes());
    }
    let mut out = vec![0xA1, 0xB2, f.version];
    out.push((f.kind << 5) | (u8::from(f.compressed) << 4) | (u8::from(f.streaming) << 3));
    out.push(f.status);
    out.extend_from_slice(&f.request_id.to_be_bytes());
    if let Some(id) = f.stream_id {
        out.extend_from_slice(&id.to_be_bytes());
    }
    out.extend_from_slice(&(headers.len() as u16).to_be_bytes());
    out.extend_from_slice(&(f.body.len() as u32).to_be_bytes());
    out.extend_from_slice(&headers);
    out.extend_from_slice(&f.body);
    out
}

/// The AwesomeRPC request after the re-encode benchmark's mutation.
pub fn awesome_mutated_fields() -> AwesomeFields {
    let mut f = awesome_fields();
    for (k, v) in AWESOME_ADDED {
        f.headers.push((k.to_owned(), v.to_owned()));
    }
    f
}

/// The Thrift call: `getUserProfile(userId, tenant, includeAvatar)` in the binary protocol.
pub fn thrift_fields() -> ThriftFields {
    let mut body = Vec::new();
    // field 1: string userId
    body.extend_from_slice(&[11, 0, 1]);
    body.extend_from_slice(&9u32.to_be_bytes());
    body.extend_from_slice(b"user-4711");
    // field 2: i64 tenant
    body.extend_from_slice(&[10, 0, 2]);
    body.extend_from_slice(&42i64.to_be_bytes());
    // field 3: bool includeAvatar
    body.extend_from_slice(&[2, 0, 3, 1]);
    // field 4: list<string> fields
    body.extend_from_slice(&[15, 0, 4, 11]);
    body.extend_from_slice(&3u32.to_be_bytes());
    for s in ["name", "email", "avatar"] {
        body.extend_from_slice(&(s.len() as u32).to_be_bytes());
        body.extend_from_slice(s.as_bytes());
    }
    body.push(0); // stop
    ThriftFields {
        kind: 1,
        name: "getUserProfile".to_owned(),
        seq_id: 0x2A2B_2C2D,
        body,
    }
}

/// The framed Thrift bytes for `f`, laid out by hand from `schemas/thrift.mproto`.
pub fn thrift_bytes(f: &ThriftFields) -> Vec<u8> {
    let mut msg = vec![0x80, 0x01, 0x00, f.kind];
    msg.extend_from_slice(&(f.name.len() as u32).to_be_bytes());
    msg.extend_from_slice(f.name.as_bytes());
    msg.extend_from_slice(&f.seq_id.to_be_bytes());
    msg.extend_from_slice(&f.body);
    let mut out = (msg.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&msg);
    out
}

/// The Dubbo two-way Hessian2 request: a 16-byte header and a small invocation body.
pub fn dubbo_fields() -> DubboFields {
    // A Hessian2 invocation: dubbo version, service, service version, method, types, one arg.
    let mut body = Vec::new();
    for s in [
        "2.0.2",
        "com.example.UserService",
        "1.0.0",
        "getUserProfile",
        "Ljava/lang/String;",
        "user-4711",
    ] {
        body.push(s.len() as u8);
        body.extend_from_slice(s.as_bytes());
    }
    body.push(b'H'); // attachments map
    body.push(b'Z');
    DubboFields {
        request: true,
        two_way: true,
        event: false,
        serialization: 2,
        status: 0,
        request_id: 0x1122_3344_5566_7788,
        body,
    }
}

/// The Dubbo bytes for `f`, laid out by hand from `schemas/dubbo.mproto`.
pub fn dubbo_bytes(f: &DubboFields) -> Vec<u8> {
    let flags = (u8::from(f.request) << 7)
        | (u8::from(f.two_way) << 6)
        | (u8::from(f.event) << 5)
        | f.serialization;
    let mut out = vec![0xda, 0xbb, flags, f.status];
    out.extend_from_slice(&f.request_id.to_be_bytes());
    out.extend_from_slice(&(f.body.len() as u32).to_be_bytes());
    out.extend_from_slice(&f.body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_have_the_documented_sizes() {
        let a = awesome_bytes(&awesome_fields());
        let header_bytes: usize = awesome_fields()
            .headers
            .iter()
            .map(|(k, v)| 3 + k.len() + v.len())
            .sum();
        assert_eq!(a.len(), 19 + header_bytes + 1024);
        assert_eq!(u16::from_be_bytes([a[13], a[14]]) as usize, header_bytes);
        assert_eq!(u32::from_be_bytes(a[15..19].try_into().unwrap()), 1024);
        let s = awesome_bytes(&awesome_streaming_fields());
        assert_eq!(
            s[3], 0b0011_1000,
            "kind 1, compressed, streaming, reserved zero"
        );
        let t = thrift_bytes(&thrift_fields());
        assert_eq!(
            u32::from_be_bytes(t[..4].try_into().unwrap()) as usize,
            t.len() - 4
        );
        let d = dubbo_bytes(&dubbo_fields());
        assert_eq!(d[2], 0xC2);
        assert_eq!(d.len(), 16 + dubbo_fields().body.len());
    }
}
