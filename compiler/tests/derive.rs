//! Snapshots of what `#[derive(Codec)]` expands to, through the library API
//! (`mproto_compiler::derive`), formatted the way the code generator formats files.

use mproto_compiler::derive::{expand_derive, expand_with};
use proc_macro2::TokenStream;
use quote::quote;

fn pretty(ts: TokenStream) -> String {
    match syn::parse2::<syn::File>(ts.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(e) => panic!("expansion is not valid Rust: {e}\n{ts}"),
    }
}

fn kind() -> TokenStream {
    quote! {
        /// What a message is.
        #[repr(u8)]
        #[mproto(repr = u3)]
        pub enum Kind {
            Request = 0,
            Response = 1,
            #[mproto(unknown)]
            Unknown(u8),
        }
    }
}

fn flags() -> TokenStream {
    quote! {
        #[mproto(bits = u8)]
        pub struct Flags {
            pub kind: Kind,
            pub streaming: bool,
            #[mproto(bits = 4, value = 0)]
            pub reserved: u8,
        }
    }
}

fn message() -> TokenStream {
    quote! {
        /// A small frame that borrows its text and body.
        #[mproto(
            protocol = "mini",
            message_type = match flags.kind { Kind::Request => MessageType::Request, _ => MessageType::Response },
            heartbeat_reply(req) = { request_id = req.request_id },
        )]
        pub struct Mini<'a> {
            #[mproto(value = sizeof(self) - 4)]
            pub size: u32,
            #[mproto(value = 0xCAFE)]
            pub magic: u16,
            pub flags: Flags,
            #[mproto(request_id)]
            pub request_id: u32,
            #[mproto(if = flags.streaming, endian = "little")]
            pub stream: Option<u32>,
            pub len: u16,
            #[mproto(len = len, property = "name")]
            pub name: &'a str,
            #[mproto(pad = 1)]
            pub _pad: (),
            #[mproto(to_end)]
            pub body: &'a [u8],
        }
    }
}

#[test]
fn an_enum_gets_its_wire_values() {
    insta::assert_snapshot!(pretty(expand_with(&[("", kind())])));
}

#[test]
fn a_bit_group_packs_its_members() {
    insta::assert_snapshot!(pretty(expand_with(&[("", flags()), ("", kind())])));
}

#[test]
fn a_frame_gets_a_view_an_encoder_and_a_codec() {
    insta::assert_snapshot!(pretty(expand_with(&[
        ("", message()),
        ("", flags()),
        ("", kind())
    ])));
}

/// A struct whose payload is a tagged union and whose name is an extern codec.
fn call() -> TokenStream {
    quote! {
        pub struct Call {
            pub op: u8,
            #[mproto(with = mproto::ext::hessian2::Hessian2Str)]
            pub name: mproto::ByteString,
            #[mproto(match = op)]
            pub args: Args,
        }
    }
}

fn args() -> TokenStream {
    quote! {
        pub enum Args {
            #[mproto(tag = 0)]
            Nothing,
            #[mproto(tag = 1 | 2)]
            Number(u32),
            #[mproto(tag = _)]
            Raw(#[mproto(to_end)] Vec<u8>),
        }
    }
}

#[test]
fn a_tagged_union_and_an_extern_field() {
    insta::assert_snapshot!(pretty(expand_with(&[("", call()), ("", args())])));
}

#[test]
fn compiler_diagnostics_become_errors_at_the_rust_tokens() {
    let unframed = quote! {
        #[mproto(protocol = "p")]
        pub struct P<'a> {
            #[mproto(to_end)]
            pub body: &'a [u8],
        }
    };
    let out = expand_with(&[("", unframed)]).to_string();
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("[E0402]"), "{out}");
    assert!(out.contains("help: add a size field"), "{out}");
}

#[test]
fn the_derive_asks_nested_types_for_their_definitions() {
    let out = expand_derive(message()).to_string();
    assert!(
        out.contains("__mproto_Flags !"),
        "the derive calls the nested type's description macro: {out}"
    );
    assert!(out.contains("macro_rules ! __mproto_Mini"), "{out}");
    assert!(out.contains("__derive_continue"), "{out}");
}

#[test]
fn a_type_without_nested_types_expands_at_once() {
    let out = expand_derive(kind()).to_string();
    assert!(out.contains("pub const fn from_raw"), "{out}");
}
