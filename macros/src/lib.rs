//! `#[derive(Codec)]` for mproto: a front end from Rust items onto the compiler's IR.
//!
//! The derive itself arrives with its own milestone; this crate exists so the
//! workspace layout and the facade's dependency on it are settled.
