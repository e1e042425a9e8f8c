//! Checks that need the whole lowered schema: how lengths are derived and how a
//! frame's length is found.

pub mod layout;
pub mod names;
mod nested;
mod replies;

pub use layout::{Derive, FieldLayout, FramePlan, Layout, Measure, StructLayout, check_layout};
