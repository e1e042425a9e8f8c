//! Codecs generated from `schemas/`, one per language feature group, for tests.

use mproto_runtime::{DecodeError, FrameLen};

/// Every layout feature in one frame (`schemas/features.mproto`).
pub mod features {
    include!(concat!(env!("OUT_DIR"), "/features.rs"));
}

/// The README tutorial's schema (`schemas/ping.mproto`).
pub mod ping {
    include!(concat!(env!("OUT_DIR"), "/ping.rs"));
}

/// Edge cases of constants and frames without metadata (`schemas/edges.mproto`).
pub mod edges {
    include!(concat!(env!("OUT_DIR"), "/edges.rs"));
}

/// Metadata read from constant fields (`schemas/constants.mproto`).
pub mod constants {
    include!(concat!(env!("OUT_DIR"), "/constants.rs"));
}

/// A negative magic number before the request id (`schemas/negative.mproto`).
pub mod negative {
    include!(concat!(env!("OUT_DIR"), "/negative.rs"));
}

/// Framing that decodes a struct, a string and a list to decide what follows
/// (`schemas/walked.mproto`).
pub mod walked {
    include!(concat!(env!("OUT_DIR"), "/walked.rs"));
}

/// Reply values that fill fixed-size bytes and leave lengths to encode (`schemas/replies.mproto`).
pub mod replies {
    include!(concat!(env!("OUT_DIR"), "/replies.rs"));
}

/// Checks the framing property every codec must have: `frame_len` finds the whole
/// `frame`, and on every prefix of it asks for more, never past the frame's end.
pub fn frames_whole_and_waits_on_prefixes(
    frame_len: impl Fn(&[u8]) -> Result<FrameLen, DecodeError>,
    frame: &[u8],
) -> Result<(), String> {
    if frame_len(frame) != Ok(FrameLen::Complete(frame.len())) {
        return Err(format!("whole frame: {:?}", frame_len(frame)));
    }
    for cut in 0..frame.len() {
        match frame_len(&frame[..cut]) {
            Ok(FrameLen::NeedMore(n)) if n > cut && n <= frame.len() => {}
            other => return Err(format!("prefix {cut}: {other:?}")),
        }
    }
    Ok(())
}
