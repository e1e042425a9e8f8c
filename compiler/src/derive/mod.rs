//! The `#[derive(Codec)]` front end: a Rust item and its `#[mproto(...)]`
//! attributes, read into a typed model (every error collected with its span),
//! written as schema text and compiled by the same checks and code generator as a
//! `.mproto` file. `mproto-macros` only forwards its token streams here, so the
//! expansion can be tested (and snapshotted) without a compiler plugin.

mod ast;
mod attr;
mod ctxt;
mod expand;
mod render;

use proc_macro2::TokenStream;

/// Expands `#[derive(Codec)]` on `input` (the item's tokens).
pub fn expand_derive(input: TokenStream) -> TokenStream {
    match syn::parse2::<syn::DeriveInput>(input) {
        Ok(input) => expand::derive(input),
        Err(e) => e.to_compile_error(),
    }
}

/// Continues an expansion once another derived item has handed over its definition.
pub fn expand_continue(input: TokenStream) -> TokenStream {
    expand::resume(input)
}

/// Expands a derive whose nested types are all given: `items[0]` is derived, the
/// rest are the derived types it names (each with the module prefix it is named
/// by). What the derive produces after asking every nested type for its tokens.
pub fn expand_with(items: &[(&str, TokenStream)]) -> TokenStream {
    expand::with_definitions(items)
}
