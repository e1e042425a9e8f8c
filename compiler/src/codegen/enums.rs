//! Enums and bit groups.

use proc_macro2::TokenStream;
use quote::quote;

use super::Gen;
use super::names::{docs, docs_or, endian_of, ident, int_rust, lit, read_method};
use crate::ir::{BitTy, Bits, Enum, TypeId, TypeKind};

impl Gen<'_> {
    /// An enum with `from_raw`, `to_raw` and `name`.
    pub(super) fn emit_enum(&self, id: TypeId) -> TokenStream {
        let def = self.schema.ty(id);
        let TypeKind::Enum(e) = &def.kind else {
            return quote!();
        };
        let name = self.owned_name(id);
        let raw = int_rust(e.repr.bits, e.repr.signed);
        let doc = docs_or(&def.doc, &format!("The `{}` enum.", def.name.name));
        if let (Some(unknown), false) = (&e.unknown, self.derived(id)) {
            return open_enum(e, &unknown.name, &name, &raw, doc);
        }
        let default_idx = e
            .variants
            .iter()
            .position(|v| v.value == 0)
            .or(if e.variants.is_empty() { None } else { Some(0) });
        let variants = e.variants.iter().enumerate().map(|(i, v)| {
            let n = ident(&v.name.name);
            let d = docs(&v.doc);
            let mark = if Some(i) == default_idx {
                quote!(#[default])
            } else {
                quote!()
            };
            quote!(#d #mark #n,)
        });
        let unknown = e.unknown.as_ref().map(|u| {
            let n = ident(&u.name);
            quote!(#[doc = " A value with no variant of its own, kept as read."] #n(#raw),)
        });
        let to_raw = e.variants.iter().map(|v| {
            let n = ident(&v.name.name);
            let val = lit(v.value);
            quote!(#name::#n => #val,)
        });
        let names = e.variants.iter().map(|v| {
            let n = ident(&v.name.name);
            let s = &v.name.name;
            quote!(#name::#n => #s,)
        });
        let (unknown_raw, unknown_name) = match &e.unknown {
            Some(u) => {
                let n = ident(&u.name);
                let s = &u.name;
                (quote!(#name::#n(raw) => raw,), quote!(#name::#n(_) => #s,))
            }
            None => (quote!(), quote!()),
        };
        let from_raw = self.enum_from_raw(e, &name, &raw);
        let derived = self.derived(id);
        let (derive_default, default_impl) = match default_idx {
            Some(_) if !derived => (quote!(, Default), quote!()),
            _ => {
                let default = self.enum_default(e, &name);
                (
                    quote!(),
                    quote! {
                        impl ::core::default::Default for #name {
                            fn default() -> Self { #default }
                        }
                    },
                )
            }
        };
        let def = self.declare(
            id,
            quote! {
                #doc
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash #derive_default)]
                pub enum #name { #(#variants)* #unknown }
            },
        );
        quote! {
            #def

            impl #name {
                #from_raw

                /// The value on the wire.
                pub const fn to_raw(self) -> #raw {
                    match self { #(#to_raw)* #unknown_raw }
                }

                /// The variant's name, as written in the schema.
                pub const fn name(self) -> &'static str {
                    match self { #(#names)* #unknown_name }
                }
            }

            #default_impl
        }
    }

    fn enum_from_raw(&self, e: &Enum, name: &TokenStream, raw: &proc_macro2::Ident) -> TokenStream {
        let arms = e.variants.iter().map(|v| {
            let n = ident(&v.name.name);
            let val = lit(v.value);
            if e.unknown.is_some() {
                quote!(#val => #name::#n,)
            } else {
                quote!(#val => ::core::option::Option::Some(#name::#n),)
            }
        });
        match &e.unknown {
            Some(u) => {
                let n = ident(&u.name);
                quote! {
                    /// The variant for a value read from the wire.
                    pub const fn from_raw(raw: #raw) -> Self {
                        match raw { #(#arms)* other => #name::#n(other) }
                    }
                }
            }
            None => quote! {
                /// The variant for a value read from the wire, if there is one.
                pub const fn from_raw(raw: #raw) -> ::core::option::Option<Self> {
                    match raw { #(#arms)* _ => ::core::option::Option::None }
                }
            },
        }
    }

    fn enum_default(&self, e: &Enum, name: &TokenStream) -> TokenStream {
        let v = e
            .variants
            .iter()
            .find(|v| v.value == 0)
            .or(e.variants.first());
        match (v, &e.unknown) {
            (Some(v), _) => {
                let n = ident(&v.name.name);
                quote!(#name::#n)
            }
            (None, Some(u)) => {
                let n = ident(&u.name);
                quote!(#name::#n(0))
            }
            (None, None) => quote!(unreachable!()),
        }
    }

    /// Decodes a raw enum value into the variant, as an expression that may `?`.
    pub(super) fn enum_from_raw_expr(
        &self,
        id: TypeId,
        raw: TokenStream,
        offset: TokenStream,
        is_walk: bool,
    ) -> TokenStream {
        let TypeKind::Enum(e) = &self.schema.ty(id).kind else {
            return quote!();
        };
        let name = self.owned_name(id);
        if e.unknown.is_some() {
            return quote!(#name::from_raw(#raw));
        }
        let ename = &self.schema.ty(id).name.name;
        let err = quote!(__mp::DecodeError::new(#offset, __mp::DecodeErrorKind::Enum { name: #ename, found: raw as u64 }));
        let err = if is_walk {
            quote!(__mp::Stop::Error(#err))
        } else {
            err
        };
        quote! {{
            let raw = #raw;
            match #name::from_raw(raw) {
                ::core::option::Option::Some(v) => v,
                ::core::option::Option::None => return ::core::result::Result::Err(#err),
            }
        }}
    }

    /// A bit group with `from_raw`, `to_raw` and `read`.
    pub(super) fn emit_bits(&self, id: TypeId) -> TokenStream {
        let def = self.schema.ty(id);
        let TypeKind::Bits(b) = &def.kind else {
            return quote!();
        };
        let name = self.owned_name(id);
        let raw = int_rust(b.repr.bits, false);
        let doc = docs_or(&def.doc, &format!("The `{}` bit group.", def.name.name));
        let fields = b.fields.iter().filter_map(|m| {
            let n = ident(&m.name.as_ref()?.name);
            let t = self.bit_member_ty(m.ty);
            let d = docs(&m.doc);
            Some(quote!(#d pub #n: #t,))
        });
        let derivable = b
            .fields
            .iter()
            .all(|m| m.name.is_none() || m.value.is_none());
        let defaults = b.fields.iter().filter_map(|m| {
            let n = ident(&m.name.as_ref()?.name);
            let v = match (m.value, m.ty) {
                (Some(v), BitTy::Uint(_)) => lit(v),
                (Some(v), BitTy::Bool) => {
                    if v != 0 {
                        quote!(true)
                    } else {
                        quote!(false)
                    }
                }
                _ => quote!(::core::default::Default::default()),
            };
            Some(quote!(#n: #v,))
        });
        let derived = self.derived(id);
        let (derive_default, default_impl) =
            super::types::default_parts(&name, derivable && !derived, defaults);
        let can_fail = self.bits_can_fail(b);
        let from_raw = self.bits_from_raw(b, &raw, can_fail);
        let pack = self.bits_pack(b, &raw);
        let read_start = can_fail.then(|| quote!(let start = r.pos();));
        let (read_value, walk_value) = if can_fail {
            (
                quote!(
                    Self::from_raw(raw).map_err(|(member, kind)| __mp::eval::in_field(
                        __mp::DecodeError::new(start, kind),
                        member
                    ))
                ),
                quote!(Self::from_raw(raw).map_err(|(_, kind)| w.error(kind))),
            )
        } else {
            let ok = quote!(::core::result::Result::Ok(Self::from_raw(raw)));
            (ok.clone(), ok)
        };
        let endian = endian_of(self.schema, b.repr.endian);
        let read = read_method('u', b.repr.bits, endian);
        let def = self.declare(
            id,
            quote! {
                #doc
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash #derive_default)]
                pub struct #name { #(#fields)* }
            },
        );
        quote! {
            #def

            #default_impl

            impl #name {
                #from_raw

                /// Packs the members into the raw integer, failing if one does not fit its bits.
                #[inline]
                pub fn to_raw(self) -> ::core::result::Result<#raw, __mp::EncodeError> {
                    #pack
                }

                #[doc(hidden)]
                #[inline]
                pub fn read(r: &mut __mp::Reader<'_>) -> ::core::result::Result<Self, __mp::DecodeError> {
                    #read_start
                    let raw = r.#read()?;
                    #read_value
                }

                #[doc(hidden)]
                #[inline]
                pub fn walk(w: &mut __mp::Walk<'_>) -> ::core::result::Result<Self, __mp::Stop> {
                    let raw = w.#read()?;
                    #walk_value
                }

            }
        }
    }

    /// Whether a raw value can hold an invalid member: a fixed value or a closed enum's.
    pub(super) fn bits_can_fail(&self, b: &Bits) -> bool {
        b.fields.iter().any(|m| {
            m.value.is_some()
                || matches!(m.ty, BitTy::Enum(id)
                    if matches!(&self.schema.ty(id).kind, TypeKind::Enum(e) if e.unknown.is_none()))
        })
    }

    /// `from_raw`, which returns the group itself when no raw value can be invalid: an
    /// infallible unpack keeps its result out of a `Result`, and decoding the Dubbo header
    /// measured 8 % faster for it.
    fn bits_from_raw(&self, b: &Bits, raw: &proc_macro2::Ident, can_fail: bool) -> TokenStream {
        let unpack = self.bits_unpack(b, raw, can_fail);
        let (doc, ret) = if can_fail {
            (
                " Unpacks the members from the raw integer, naming the member that is invalid.",
                quote!(::core::result::Result<Self, (&'static str, __mp::DecodeErrorKind)>),
            )
        } else {
            (
                " Unpacks the members from the raw integer; every value is valid.",
                quote!(Self),
            )
        };
        quote! {
            #[doc = #doc]
            #[inline]
            pub fn from_raw(raw: #raw) -> #ret {
                #unpack
            }
        }
    }

    /// A bit group unpacked from `raw`, with `?` and `on_err` when its `from_raw` can fail.
    pub(super) fn bits_from_raw_expr(
        &self,
        b: &Bits,
        name: &TokenStream,
        raw: TokenStream,
        on_err: TokenStream,
    ) -> TokenStream {
        if self.bits_can_fail(b) {
            quote!(#name::from_raw(#raw).map_err(#on_err)?)
        } else {
            quote!(#name::from_raw(#raw))
        }
    }

    /// A type's declaration, or nothing for a derived item: the user wrote it.
    fn declare(&self, id: TypeId, decl: TokenStream) -> TokenStream {
        if self.derived(id) { quote!() } else { decl }
    }

    /// Shift of each member: most significant first.
    fn shifts(&self, b: &Bits) -> Vec<(u8, u8)> {
        let mut left = b.repr.bits;
        b.fields
            .iter()
            .map(|m| {
                let w = m.ty.bits(self.schema);
                left = left.saturating_sub(w);
                (left, w)
            })
            .collect()
    }

    fn bits_unpack(&self, b: &Bits, raw: &proc_macro2::Ident, can_fail: bool) -> TokenStream {
        let container = b.repr.bits;
        let mut stmts = Vec::new();
        let mut inits = Vec::new();
        for (m, (shift, width)) in b.fields.iter().zip(self.shifts(b)) {
            let bits = extract(quote!(raw), shift, width, container, raw);
            let mname = m.name.as_ref().map_or("", |n| n.name.as_str());
            if let Some(v) = m.value {
                let v = lit(v);
                stmts.push(quote! {
                    if #bits != #v {
                        return ::core::result::Result::Err((#mname, __mp::DecodeErrorKind::Magic { expected: #v, found: u64::from(#bits) }));
                    }
                });
            }
            let Some(n) = &m.name else { continue };
            let n = ident(&n.name);
            let value = match m.ty {
                BitTy::Bool => quote!(#bits != 0),
                BitTy::Uint(w) => cast(
                    bits.clone(),
                    &int_rust(container, false),
                    &int_rust(w, false),
                ),
                BitTy::Enum(id) => {
                    let TypeKind::Enum(e) = &self.schema.ty(id).kind else {
                        continue;
                    };
                    let er = int_rust(e.repr.bits, e.repr.signed);
                    let v = cast(bits.clone(), &int_rust(container, false), &er);
                    let ename = self.owned_name(id);
                    if e.unknown.is_some() {
                        quote!(#ename::from_raw(#v))
                    } else {
                        let en = &self.schema.ty(id).name.name;
                        quote! {
                            match #ename::from_raw(#v) {
                                ::core::option::Option::Some(v) => v,
                                ::core::option::Option::None => return ::core::result::Result::Err((#mname, __mp::DecodeErrorKind::Enum { name: #en, found: u64::from(#bits) })),
                            }
                        }
                    }
                }
            };
            inits.push(quote!(#n: #value,));
        }
        // Reserved bits only: nothing to read from `raw`, but `from_raw` keeps its signature.
        let unused = (stmts.is_empty() && inits.is_empty()).then(|| quote!(let _ = raw;));
        let value = quote!(Self { #(#inits)* });
        let value = if can_fail {
            quote!(::core::result::Result::Ok(#value))
        } else {
            value
        };
        quote! {
            #unused
            #(#stmts)*
            #value
        }
    }

    fn bits_pack(&self, b: &Bits, raw: &proc_macro2::Ident) -> TokenStream {
        let container = b.repr.bits;
        let mut parts = Vec::new();
        for (m, (shift, width)) in b.fields.iter().zip(self.shifts(b)) {
            let value = match (&m.name, m.value) {
                (_, Some(0)) => continue,
                (_, Some(v)) => {
                    let shifted = (v as u128) << shift;
                    let l = super::names::typed_lit(shifted as i128, raw);
                    parts.push(quote!(raw |= #l;));
                    continue;
                }
                (None, None) => continue,
                (Some(n), None) => {
                    let n = ident(&n.name);
                    let mname = &m.name.as_ref().map_or(String::new(), |n| n.name.clone());
                    match m.ty {
                        BitTy::Bool => quote!(#raw::from(self.#n)),
                        BitTy::Uint(w) => {
                            let src = int_rust(w, false);
                            let v = quote!(self.#n);
                            parts.push(fit_check(v.clone(), w, &src, mname));
                            widen(v, &src, raw)
                        }
                        BitTy::Enum(id) => {
                            let TypeKind::Enum(e) = &self.schema.ty(id).kind else {
                                continue;
                            };
                            let er = int_rust(e.repr.bits, e.repr.signed);
                            let v = quote!(self.#n.to_raw());
                            parts.push(fit_check(v.clone(), width, &er, mname));
                            if e.repr.signed {
                                quote!(#v as #raw)
                            } else {
                                widen(v, &er, raw)
                            }
                        }
                    }
                }
            };
            let mask = mask_lit(width, container);
            let masked = if width >= container {
                value
            } else {
                let v = paren(value);
                quote!(#v & #mask)
            };
            let shifted = if shift == 0 {
                masked
            } else {
                let s = lit(i128::from(shift));
                let m = paren(masked);
                quote!(#m << #s)
            };
            parts.push(quote!(raw |= #shifted;));
        }
        // Reserved bits only: every bit is zero, and a `mut raw` never written would warn.
        if parts.is_empty() {
            return quote!(::core::result::Result::Ok(0));
        }
        quote! {
            let mut raw: #raw = 0;
            #(#parts)*
            ::core::result::Result::Ok(raw)
        }
    }
}

/// `(raw >> shift) & mask`, leaving out no-op operations; unparenthesised.
fn extract(
    raw: TokenStream,
    shift: u8,
    width: u8,
    container: u8,
    _t: &proc_macro2::Ident,
) -> TokenStream {
    let needs_mask = shift + width < container;
    match (shift, needs_mask) {
        (0, false) => raw,
        (0, true) => {
            let m = mask_lit(width, container);
            quote!(#raw & #m)
        }
        (s, false) => {
            let s = lit(i128::from(s));
            quote!(#raw >> #s)
        }
        (s, true) => {
            let s = lit(i128::from(s));
            let m = mask_lit(width, container);
            quote!((#raw >> #s) & #m)
        }
    }
}

fn mask_lit(width: u8, _container: u8) -> TokenStream {
    let m: u128 = if width >= 64 {
        u64::MAX.into()
    } else {
        (1u128 << width) - 1
    };
    let l = proc_macro2::Literal::u128_unsuffixed(m);
    quote!(#l)
}

/// Parenthesises an expression made of more than one token.
pub(super) fn paren(t: TokenStream) -> TokenStream {
    if t.clone().into_iter().count() > 1 {
        quote!((#t))
    } else {
        t
    }
}

/// `value as to`, or `value` when the types are the same.
fn cast(value: TokenStream, from: &proc_macro2::Ident, to: &proc_macro2::Ident) -> TokenStream {
    if from == to {
        value
    } else {
        let v = paren(value);
        quote!(#v as #to)
    }
}

/// Widens an unsigned value into the container type.
fn widen(value: TokenStream, from: &proc_macro2::Ident, to: &proc_macro2::Ident) -> TokenStream {
    if from == to {
        value
    } else {
        quote!(#to::from(#value))
    }
}

/// Fails encoding if a member's value needs more than `width` bits.
fn fit_check(value: TokenStream, width: u8, ty: &proc_macro2::Ident, member: &str) -> TokenStream {
    let ty_bits: u8 = ty.to_string()[1..].parse().unwrap_or(64);
    if width >= ty_bits {
        return quote!();
    }
    let max = lit((1i128 << width) - 1);
    let signed = ty.to_string().starts_with('i');
    let low = if signed { quote!(|| v < 0) } else { quote!() };
    quote! {
        let v = #value;
        if v > #max #low {
            return ::core::result::Result::Err(__mp::EncodeError::new(__mp::EncodeErrorKind::OutOfRange { value: i128::from(v), max: #max }).in_field(#member));
        }
    }
}

/// An enum that keeps unknown values, as a newtype over its wire value with a constant
/// per variant. Decoding stores the raw value as it is; as a Rust enum with a
/// `Name(raw)` variant, it cost a jump table each way, a fifth of decoding the Dubbo header.
fn open_enum(
    e: &Enum,
    unknown: &str,
    name: &TokenStream,
    raw: &proc_macro2::Ident,
    doc: TokenStream,
) -> TokenStream {
    let consts = e.variants.iter().map(|v| {
        let n = ident(&v.name.name);
        let val = lit(v.value);
        let d = docs_or(&v.doc, &format!("`{}` on the wire.", v.value));
        quote!(#d pub const #n: Self = Self(#val);)
    });
    let known: Vec<TokenStream> = e
        .variants
        .iter()
        .map(|v| {
            let n = ident(&v.name.name);
            quote!(Self::#n)
        })
        .collect();
    let names = e.variants.iter().zip(&known).map(|(v, k)| {
        let s = &v.name.name;
        quote!(#k => #s,)
    });
    // With only the catch-all, a `match` would have one arm, which clippy refuses.
    let (is_known, name_of) = if known.is_empty() {
        (quote!(false), quote!(#unknown))
    } else {
        (
            quote!(matches!(self, #(#known)|*)),
            quote!(match self { #(#names)* _ => #unknown }),
        )
    };
    // The same default as the enum form: the variant valued 0, else the first one.
    let first = e
        .variants
        .iter()
        .find(|v| v.value == 0)
        .or(e.variants.first());
    let (derive_default, default_impl) = match first {
        Some(v) if v.value != 0 => {
            let n = ident(&v.name.name);
            (
                quote!(),
                quote! {
                    impl ::core::default::Default for #name {
                        fn default() -> Self { Self::#n }
                    }
                },
            )
        }
        _ => (quote!(, Default), quote!()),
    };
    let name_doc = format!(
        " The variant's name, as written in the schema, or `{unknown}` for any other value."
    );
    let debug_doc = format!(" The variant's name, or `{unknown}(raw)`.");
    quote! {
        #doc
        #[derive(Clone, Copy, PartialEq, Eq, Hash #derive_default)]
        pub struct #name(#raw);

        #[allow(non_upper_case_globals)]
        impl #name {
            #(#consts)*

            /// The value read from the wire; every value is kept.
            #[inline]
            pub const fn from_raw(raw: #raw) -> Self {
                Self(raw)
            }

            /// The value on the wire.
            #[inline]
            pub const fn to_raw(self) -> #raw {
                self.0
            }

            /// Whether the value has a variant of its own in the schema.
            pub const fn is_known(self) -> bool {
                #is_known
            }

            #[doc = #name_doc]
            pub const fn name(self) -> &'static str {
                #name_of
            }
        }

        #[doc = #debug_doc]
        impl ::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                if self.is_known() {
                    f.write_str(self.name())
                } else {
                    f.debug_tuple(#unknown).field(&self.0).finish()
                }
            }
        }

        #default_impl
    }
}
