//! `#[derive(Codec)]` for mproto. The derive itself lives in
//! `mproto_compiler::derive`, beside the code generator it feeds; this crate only
//! turns it into a compiler plugin. See `docs/derive.md` for every attribute.

use proc_macro::TokenStream;

/// Derives a zero-copy codec for a struct or enum; see the `mproto` crate's docs.
#[proc_macro_derive(Codec, attributes(mproto))]
pub fn derive_codec(input: TokenStream) -> TokenStream {
    mproto_compiler::derive::expand_derive(input.into()).into()
}

/// Continues a derive once another derived item has handed over its definition.
#[doc(hidden)]
#[proc_macro]
pub fn __derive_continue(input: TokenStream) -> TokenStream {
    mproto_compiler::derive::expand_continue(input.into()).into()
}
