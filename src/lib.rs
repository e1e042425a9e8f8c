//! mproto: describe a binary protocol once, in a `.mproto` schema or with
//! `#[derive(Codec)]`, and get a zero-copy Rust codec plus the manifests that put
//! the protocol into a service mesh.
//!
//! This crate is the facade: it re-exports the runtime that generated codecs use.
//! The compiler lives in `mproto-compiler` and the command-line tool is the
//! `mproto` binary of this package.

pub use mproto_runtime::*;

/// `#[derive(Codec)]`: a zero-copy codec from a Rust struct or enum (see `docs/derive.md`).
pub use mproto_macros::Codec;

#[doc(hidden)]
pub use mproto_macros::__derive_continue;

/// Includes the Rust module generated for a schema by `mproto_compiler::Config` in `build.rs`.
///
/// `mproto::include_schema!("awesomerpc")` expands to the contents of
/// `$OUT_DIR/awesomerpc.rs`.
#[macro_export]
macro_rules! include_schema {
    ($name:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $name, ".rs"));
    };
}
