//! Names of generated items, and small token helpers.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{Docs, Endian, IntTy, Schema, Struct};

/// `UpperCamelCase` from a snake or lower case name.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// The name of a protocol's codec type: `awesomerpc` → `AwesomerpcCodec`.
pub fn codec_type_name(protocol: &str) -> String {
    format!("{}Codec", camel(protocol))
}

/// An identifier.
pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// The local variable holding field `i` of a struct while decoding or encoding.
pub fn local(s: &Struct, i: usize) -> Ident {
    match &s.fields[i].name {
        Some(n) => format_ident!("f_{}", n.name),
        None => format_ident!("f_{}", i),
    }
}

/// The field's name as written, or `_`.
pub fn field_name(s: &Struct, i: usize) -> &str {
    s.fields[i].name.as_ref().map_or("", |n| n.name.as_str())
}

/// Doc attributes from schema doc lines.
pub fn docs(docs: &Docs) -> TokenStream {
    let lines = docs.iter().map(|l| {
        let l = if l.starts_with(' ') {
            l.clone()
        } else {
            format!(" {l}")
        };
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
}

/// Doc attributes from schema docs, or a fallback line when there are none.
pub fn docs_or(d: &Docs, fallback: &str) -> TokenStream {
    if d.is_empty() {
        let l = format!(" {fallback}");
        quote!(#[doc = #l])
    } else {
        docs(d)
    }
}

/// The Rust integer type for an integer of `bits` bits.
pub fn int_rust(bits: u8, signed: bool) -> Ident {
    let width = match bits {
        0..=8 => 8,
        9..=16 => 16,
        17..=32 => 32,
        _ => 64,
    };
    ident(&format!("{}{}", if signed { "i" } else { "u" }, width))
}

/// The Rust type of a whole-byte integer field.
pub fn int_ty(i: &IntTy) -> Ident {
    int_rust(i.bits, i.signed)
}

/// The byte order of a field, given the protocol default.
pub fn endian_of(schema: &Schema, e: Option<Endian>) -> Endian {
    e.unwrap_or_else(|| schema.protocol.as_ref().map_or(Endian::Big, |p| p.endian))
}

/// The reader or walker method for an integer or float: `u16_be`, `u8`.
pub fn read_method(prefix: char, bits: u8, endian: Endian) -> Ident {
    if bits == 8 {
        return ident(&format!("{prefix}8"));
    }
    let suffix = match endian {
        Endian::Big => "be",
        Endian::Little => "le",
    };
    ident(&format!("{prefix}{bits}_{suffix}"))
}

/// `to_be_bytes` or `to_le_bytes`.
pub fn to_bytes_method(endian: Endian) -> Ident {
    match endian {
        Endian::Big => ident("to_be_bytes"),
        Endian::Little => ident("to_le_bytes"),
    }
}

/// An unsuffixed integer literal.
pub fn lit(v: i128) -> TokenStream {
    if v < 0 {
        let l = Literal::i128_unsuffixed(-v);
        quote!(-#l)
    } else {
        let l = Literal::i128_unsuffixed(v);
        quote!(#l)
    }
}

/// A `usize` literal.
pub fn lit_usize(v: u64) -> Literal {
    Literal::u64_unsuffixed(v)
}

/// The largest value of a Rust integer type, as an `i128` literal.
pub fn max_of(bits: u8, signed: bool) -> TokenStream {
    let max: i128 = if signed {
        (1i128 << (bits - 1)) - 1
    } else {
        (1i128 << bits) - 1
    };
    lit(max)
}

/// `v` ready to be a method call's receiver: a negative literal is parenthesized,
/// since `-1i16.to_be_bytes()` negates the bytes instead.
pub fn receiver(v: &TokenStream) -> TokenStream {
    match v.clone().into_iter().next() {
        Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '-' => quote!((#v)),
        _ => v.clone(),
    }
}

/// An integer literal with the suffix of a Rust integer type, such as `41394u16`.
pub fn typed_lit(v: i128, ty: &Ident) -> TokenStream {
    let s = format!("{}{}", v.unsigned_abs(), ty);
    let l: TokenStream = s.parse().unwrap_or_else(|_| quote!(0));
    if v < 0 { quote!(-#l) } else { l }
}
