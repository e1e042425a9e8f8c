//! Compile-fail tests of `#[derive(Codec)]`: each file in `tests/derive_errors/`
//! makes one mistake, and its `.stderr` shows the error a user gets. Every error
//! points at the attribute, field or type at fault (never at generated code) and
//! says what is valid there.
//!
//! Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test --test derive_errors`, then read every changed
//! `.stderr`.

#[test]
fn derive_errors() {
    trybuild::TestCases::new().compile_fail("tests/derive_errors/*.rs");
}
