//! Metadata: what the proxy routes on, read from a decoded frame.

use super::Gen;
use super::expr::{Ctx, Scope};
use super::names::{field_name, ident, int_ty, local};
use crate::check::layout::fixed_size;
use crate::ir::visit::field_refs;
use crate::ir::{Expr, ExprKind, FieldRef, FieldValue, Property, Struct, Ty, TypeId, ValueTy};
use proc_macro2::TokenStream;
use quote::quote;

impl Gen<'_> {
    /// `let f_x = view.x;` for the view fields an expression list reads.
    pub(super) fn bind_view_fields(
        &self,
        s: &Struct,
        exprs: &[&Expr],
        extra: &[usize],
    ) -> TokenStream {
        let mut used = vec![false; s.fields.len()];
        for e in exprs {
            field_refs(e, &mut |r| used[r.field] = true);
        }
        for &i in extra {
            used[i] = true;
        }
        let reads_view = (0..s.fields.len()).any(|i| used[i] && Self::in_view(s, i));
        // Metadata that reads no field of the view (no `metadata` block, or constants only).
        let unused = (!reads_view).then(|| quote!(let _ = view;));
        let binds = (0..s.fields.len()).filter(|&i| used[i]).filter_map(|i| {
            let l = local(s, i);
            if Self::in_view(s, i) {
                let n = ident(field_name(s, i));
                return Some(quote!(let #l = view.#n;));
            }
            // A constant is not in the view: its value is the same in every frame.
            let FieldValue::Const(c) = &s.fields[i].value else {
                return None;
            };
            let v = self.const_in_view(&s.fields[i].ty, c)?;
            Some(quote!(let #l = #v;))
        });
        quote!(#unused #(#binds)*)
    }

    /// A constant field's value as the view would hold it.
    fn const_in_view(&self, ty: &crate::ir::Type, c: &Expr) -> Option<TokenStream> {
        if let Some(v) = self.const_scalar(ty, c) {
            return Some(v);
        }
        Some(match &c.kind {
            ExprKind::Str(t) => quote!(#t),
            ExprKind::ByteStr(b) => {
                let b = proc_macro2::Literal::byte_string(b);
                quote!(&#b[..])
            }
            _ => return None,
        })
    }

    pub(super) fn emit_metadata(&self, id: TypeId, s: &Struct) -> TokenStream {
        let view = self.view_name(id);
        let sc = Scope::of(Ctx::View, id, s, vec![false; s.fields.len()]);
        let md = self.schema.metadata.as_ref();
        let mut exprs: Vec<&Expr> = Vec::new();
        let mut lists = Vec::new();
        if let Some(md) = md {
            exprs.extend(
                [
                    &md.message_type,
                    &md.request_id,
                    &md.stream_id,
                    &md.response_status,
                ]
                .into_iter()
                .flatten(),
            );
            for p in &md.properties {
                match p {
                    Property::Named { value, .. } => exprs.push(value),
                    Property::List { field, .. } => lists.push(field.field),
                }
            }
        }
        let binds = self.bind_view_fields(s, &exprs, &lists);
        let need = |e: &Expr| {
            let v = self.expr(e, &sc);
            let t = &e.text;
            quote!(__mp::eval::decoded(#v, 0, #t)?)
        };
        let message_type = md
            .and_then(|m| m.message_type.as_ref())
            .map_or(quote!(__mp::MessageType::Request), need);
        let id_of = |e: Option<&Expr>| match e {
            Some(e) => {
                let v = self.expr(e, &sc);
                quote!(#v.and_then(|v| u64::try_from(v).ok()))
            }
            None => quote!(::core::option::Option::None),
        };
        let request_id = id_of(md.and_then(|m| m.request_id.as_ref()));
        let stream_id = id_of(md.and_then(|m| m.stream_id.as_ref()));
        let status = match md.and_then(|m| m.response_status.as_ref()) {
            Some(e) => self.expr(e, &sc),
            None => quote!(::core::option::Option::None),
        };
        // The list `encode_mutated` checks in one pass is checked the same way here,
        // while its properties are pushed (see `Gen::deferred_list`).
        let deferred = self.deferred_list(id, s).filter(|&d| {
            md.is_some_and(|m| {
                m.properties
                    .iter()
                    .any(|p| matches!(p, Property::List { field, .. } if field.field == d))
            })
        });
        let pushes = |defer: Option<usize>| {
            let props: Vec<TokenStream> = md.map_or(vec![], |m| {
                m.properties
                    .iter()
                    .map(|p| self.property(s, p, &sc, defer))
                    .collect()
            });
            if props.is_empty() {
                (quote!(), quote!())
            } else {
                (
                    quote!(mut),
                    quote! {{
                        let properties = &mut metadata.properties;
                        #(#props)*
                    }},
                )
            }
        };
        let (mut_props, push) = pushes(None);
        let frame_used = md.is_some_and(|m| {
            m.properties.iter().any(|p| match p {
                Property::List { .. } => true,
                Property::Named { value, .. } => matches!(
                    &value.ty,
                    ValueTy::Text | ValueTy::Bytes
                ) || matches!(&value.ty, ValueTy::Optional(t) if matches!(**t, ValueTy::Text | ValueTy::Bytes)),
            })
        });
        let frame_arg = if frame_used {
            quote!(frame)
        } else {
            quote!(_frame)
        };
        let g = if self.view_generics(id).is_empty() {
            quote!()
        } else {
            quote!(<'_>)
        };
        let build = quote! {
            let #mut_props metadata = __mp::Metadata {
                message_type: #message_type,
                request_id: #request_id,
                stream_id: #stream_id,
                response_status: #status,
                properties: __mp::Properties::new(),
            };
        };
        let decode = match deferred {
            None => quote! {
                /// Decodes a frame's routing metadata; text values share the frame's memory.
                #[inline]
                pub fn decode_metadata(frame: &__mp::Bytes) -> ::core::result::Result<__mp::Metadata, __mp::DecodeError> {
                    let view = #view::decode(frame)?;
                    metadata_of(&view, frame)
                }
            },
            Some(_) => {
                let (_, push_one_pass) = pushes(deferred);
                quote! {
                    /// Decodes a frame's routing metadata; text values share the frame's memory.
                    ///
                    /// The header list is checked in the pass that pushes its properties;
                    /// anything that pass does not take starts over with the checking
                    /// decode, which reports the error.
                    #[inline]
                    pub fn decode_metadata(frame: &__mp::Bytes) -> ::core::result::Result<__mp::Metadata, __mp::DecodeError> {
                        /// The checking decode, for frames the one pass does not take.
                        #[cold]
                        fn checked(frame: &__mp::Bytes) -> ::core::result::Result<__mp::Metadata, __mp::DecodeError> {
                            let view = #view::decode(frame)?;
                            metadata_of(&view, frame)
                        }
                        let one_pass = #view::decode_deferred(frame).and_then(|view| metadata_one_pass(&view, frame));
                        if one_pass.is_ok() {
                            return one_pass;
                        }
                        checked(frame)
                    }

                    /// `metadata_of` for a view from `decode_deferred`: checks its list
                    /// while pushing the list's properties. Its errors are never
                    /// reported (`decode_metadata` starts over).
                    #[inline(always)]
                    fn metadata_one_pass(view: &#view #g, frame: &__mp::Bytes) -> ::core::result::Result<__mp::Metadata, __mp::DecodeError> {
                        #binds
                        #build
                        #push_one_pass
                        ::core::result::Result::Ok(metadata)
                    }
                }
            }
        };
        quote! {
            #decode

            /// The routing metadata of a decoded frame; `frame` is the buffer `view` borrows from.
            #[inline]
            pub fn metadata_of(view: &#view #g, #frame_arg: &__mp::Bytes) -> ::core::result::Result<__mp::Metadata, __mp::DecodeError> {
                #binds
                // The properties are pushed into the metadata in place: moving a built
                // `Properties` (about 1 KiB inline) into it cost a copy per frame.
                #build
                #push
                ::core::result::Result::Ok(metadata)
            }
        }
    }

    /// The code that pushes one property; with `defer`, the list field of that index
    /// (from `decode_deferred`, unchecked) is checked as its properties are pushed.
    pub(super) fn property(
        &self,
        s: &Struct,
        p: &Property,
        sc: &Scope<'_>,
        defer: Option<usize>,
    ) -> TokenStream {
        match p {
            Property::Named { key, value, .. } => {
                let v = self.expr(value, sc);
                let ty = match &value.ty {
                    ValueTy::Optional(t) => t.as_ref(),
                    t => t,
                };
                match text_value(ty, quote!(v)) {
                    (value, false) => quote! {
                        if let ::core::option::Option::Some(v) = #v {
                            properties.push(__mp::ByteString::from_static(#key), #value);
                        }
                    },
                    (value, true) => quote! {
                        if let ::core::option::Option::Some(value) = #v.and_then(|v| #value) {
                            properties.push(__mp::ByteString::from_static(#key), value);
                        }
                    },
                }
            }
            Property::List { field, .. } => {
                let f = &s.fields[field.field];
                let l = local(s, field.field);
                let Ty::KvList { key, value, .. } = &f.ty.kind else {
                    return quote!();
                };
                let opt = |(t, fallible): (TokenStream, bool)| {
                    if fallible {
                        t
                    } else {
                        quote!(::core::option::Option::Some(#t))
                    }
                };
                let (k, kf) = key_text(key, quote!(k));
                let (v, vf) = type_value(value, quote!(v));
                let push = if kf || vf {
                    let (k, v) = (opt((k, kf)), opt((v, vf)));
                    quote! {
                        if let (::core::option::Option::Some(k), ::core::option::Option::Some(v)) = (#k, #v) {
                            properties.push(k, v);
                        }
                    }
                } else {
                    quote!(properties.push(#k, #v);)
                };
                if defer == Some(field.field) {
                    return quote! {
                        #l.validated_with(|(k, v)| { #push }).ok_or_else(__mp::eval::unchecked)?;
                    };
                }
                let each = quote!(for (k, v) in list.iter() { #push });
                if f.condition.is_some() {
                    quote!(if let ::core::option::Option::Some(list) = #l { #each })
                } else {
                    quote!({ let list = #l; #each })
                }
            }
        }
    }

    pub(super) fn emit_peek(&self, id: TypeId, s: &Struct) -> TokenStream {
        let doc = quote!(#[doc = " Reads the request id of a frame that may not decode, when the id can be found."]);
        let rid = self
            .schema
            .metadata
            .as_ref()
            .and_then(|m| m.request_id.as_ref());
        let Some(e) = rid else {
            return quote!(#doc pub fn peek_request_id(_frame: &[u8]) -> ::core::option::Option<u64> { ::core::option::Option::None });
        };
        if let Some(direct) = self.peek_direct(s, e) {
            return quote!(#doc pub fn peek_request_id(frame: &[u8]) -> ::core::option::Option<u64> { #direct });
        }
        let view = self.view_name(id);
        let sc = Scope::of(Ctx::View, id, s, vec![false; s.fields.len()]);
        let binds = self.bind_view_fields(s, &[e], &[]);
        let v = self.expr(e, &sc);
        quote! {
            #doc
            pub fn peek_request_id(frame: &[u8]) -> ::core::option::Option<u64> {
                let view = #view::decode(frame).ok()?;
                #binds
                #v.and_then(|v| u64::try_from(v).ok())
            }
        }
    }

    /// Where the request id sits when every field before it has a fixed size:
    /// its offset, its field index and its integer type.
    pub(super) fn fixed_id_slot<'s>(
        &self,
        s: &'s Struct,
        e: &Expr,
    ) -> Option<(u64, usize, &'s crate::ir::IntTy)> {
        let ExprKind::Field(FieldRef { field, sub }) = &e.kind else {
            return None;
        };
        let f = &s.fields[*field];
        let Ty::Int(i) = &f.ty.kind else { return None };
        if !sub.is_empty() || f.condition.is_some() {
            return None;
        }
        let mut off = 0u64;
        for g in &s.fields[..*field] {
            if g.condition.is_some() {
                return None;
            }
            off += fixed_size(self.schema, &g.ty)?;
        }
        Some((off, *field, i))
    }

    /// Checks the integer constants before field `upto`, all at fixed offsets, so
    /// that bytes of another protocol are not read as a request id.
    fn constant_prefix_checks(&self, s: &Struct, upto: usize) -> TokenStream {
        let mut off = 0u64;
        let mut out = TokenStream::new();
        for f in &s.fields[..upto] {
            let Some(n) = fixed_size(self.schema, &f.ty) else {
                break;
            };
            if let (crate::ir::FieldValue::Const(c), Ty::Int(i)) = (&f.value, &f.ty.kind)
                && let Some(v) = crate::ir::visit::const_int(c)
            {
                let t = int_ty(i);
                let lit = super::names::receiver(&super::names::typed_lit(v, &t));
                let m =
                    super::names::to_bytes_method(super::names::endian_of(self.schema, i.endian));
                let (a, b) = (
                    proc_macro2::Literal::u64_unsuffixed(off),
                    proc_macro2::Literal::u64_unsuffixed(off + n),
                );
                out.extend(quote! {
                    if frame.get(#a..#b)? != #lit.#m() {
                        return ::core::option::Option::None;
                    }
                });
            }
            off += n;
        }
        out
    }

    pub(super) fn peek_direct(&self, s: &Struct, e: &Expr) -> Option<TokenStream> {
        let (off, field, i) = self.fixed_id_slot(s, e)?;
        let magic = self.constant_prefix_checks(s, field);
        let n = u64::from(i.bits / 8);
        let t = int_ty(i);
        let from = match super::names::endian_of(self.schema, i.endian) {
            crate::ir::Endian::Big => quote!(from_be_bytes),
            crate::ir::Endian::Little => quote!(from_le_bytes),
        };
        let (a, nn) = (
            proc_macro2::Literal::u64_unsuffixed(off),
            proc_macro2::Literal::usize_unsuffixed(n as usize),
        );
        let conv = if i.signed {
            quote!(u64::try_from(v).ok())
        } else if i.bits == 64 {
            quote!(Some(v))
        } else {
            quote!(Some(u64::from(v)))
        };
        Some(quote! {
            #magic
            let bytes = frame.get(#a..)?.first_chunk::<#nn>()?;
            let v = #t::#from(*bytes);
            #conv
        })
    }
}

/// A property value from an expression value `v`: `(code, fallible)`, where a
/// fallible conversion gives an `Option` (bytes that are not UTF-8 are skipped).
pub(super) fn text_value(ty: &ValueTy, v: TokenStream) -> (TokenStream, bool) {
    match ty {
        ValueTy::Int => (quote!(__mp::Value::Int(#v)), false),
        ValueTy::Text => (quote!(__mp::Value::Text(__mp::share_str(frame, #v))), false),
        ValueTy::Bytes => (
            quote!(::core::str::from_utf8(#v).ok().map(|t| __mp::Value::Text(__mp::share_str(frame, t)))),
            true,
        ),
        ValueTy::Bool => (
            quote!(__mp::Value::Text(__mp::ByteString::from_static(if #v { "true" } else { "false" }))),
            false,
        ),
        _ => (
            quote!(__mp::Value::Text(__mp::ByteString::from_static(#v.name()))),
            false,
        ),
    }
}

/// A key/value list key as text: `(code, fallible)`.
pub(super) fn key_text(ty: &crate::ir::Type, v: TokenStream) -> (TokenStream, bool) {
    match &ty.kind {
        Ty::Bytes { text: true, .. } => (quote!(__mp::share_str(frame, #v)), false),
        Ty::Bytes { .. } => (
            quote!(::core::str::from_utf8(&#v[..]).ok().map(|t| __mp::share_str(frame, t))),
            true,
        ),
        Ty::Int(_) | Ty::Varint | Ty::Zigzag => {
            (quote!(__mp::ByteString::from(#v.to_string())), false)
        }
        _ => (
            quote!(::core::option::Option::None::<__mp::ByteString>),
            true,
        ),
    }
}

/// A key/value list value as a property `Value`: `(code, fallible)`.
pub(super) fn type_value(ty: &crate::ir::Type, v: TokenStream) -> (TokenStream, bool) {
    match &ty.kind {
        Ty::Bytes { text: true, .. } => text_value(&ValueTy::Text, v),
        Ty::Bytes { .. } => (
            quote!(::core::str::from_utf8(&#v[..]).ok().map(|t| __mp::Value::Text(__mp::share_str(frame, t)))),
            true,
        ),
        Ty::Int(_) | Ty::Varint | Ty::Zigzag => (quote!(__mp::Value::Int(i128::from(#v))), false),
        Ty::Bool => text_value(&ValueTy::Bool, v),
        Ty::Named(_) => (
            quote!(__mp::Value::Text(__mp::ByteString::from_static(#v.name()))),
            false,
        ),
        _ => (quote!(::core::option::Option::None::<__mp::Value>), true),
    }
}
