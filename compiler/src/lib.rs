//! The mproto compiler: parses `.mproto` schemas, lowers them to one IR shared with
//! `#[derive(Codec)]`, checks them with rustc-style diagnostics, and generates
//! zero-copy Rust codecs.
//!
//! Data flows one way: `schema text → IR → checked IR → Rust code`.

pub mod check;
pub mod diag;
pub mod ir;
