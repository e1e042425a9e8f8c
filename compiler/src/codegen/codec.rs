//! Frame-level items: constants, `frame_len`, metadata, mutation, replies and
//! the `Codec` implementation the proxy calls.

use proc_macro2::TokenStream;
use quote::quote;

use super::Gen;
use super::expr::{Ctx, Scope};
use super::names::{codec_type_name, docs, field_name, ident, int_rust, int_ty, local, max_of};
use super::types::aux_base;
use crate::check::layout::fixed_size;
use crate::ir::visit::field_refs;
use crate::ir::{
    BitTy, Coercion, Expr, ExprKind, FieldRef, Property, Reply, Struct, SubField, Ty, Type, TypeId,
    TypeKind, ValueTy,
};

/// What a reply assignment writes to.
enum Target<'a> {
    /// A field or nested field of this type (conditional when `optional`).
    Field(&'a Type, String, bool),
    /// A bit-group member.
    Bit(BitTy),
}

impl Gen<'_> {
    /// Constants, framing, metadata, replies and the codec type for the frame.
    pub(super) fn emit_frame(&self) -> TokenStream {
        let (Some(id), Some(proto)) = (self.schema.frame, &self.schema.protocol) else {
            return quote!();
        };
        let Some(s) = self.schema.as_struct(id) else {
            return quote!();
        };
        let name = &proto.name.name;
        let codec = &proto.codec;
        let max = proc_macro2::Literal::usize_unsuffixed(
            usize::try_from(proto.max_frame).unwrap_or(usize::MAX),
        );
        let codec_ty = ident(&codec_type_name(name));
        let message = self.owned_name(id);
        let frame_len = self.emit_frame_len(id, s);
        let metadata = self.emit_metadata(id, s);
        let peek = self.emit_peek(id, s);
        let mutate = self.emit_mutate(id, s);
        let error_reply = self.emit_reply(id, self.schema.error_reply.as_ref(), true);
        let heartbeat_reply = self.emit_reply(id, self.schema.heartbeat_reply.as_ref(), false);
        let mut codec_doc = proto.doc.clone();
        if codec_doc.is_empty() {
            codec_doc.push(format!("The `{name}` codec."));
        }
        let codec_doc = docs(&codec_doc);
        let error_call = if self.schema.error_reply.is_some() {
            quote!(error_reply(request, error)?.encode(out))
        } else {
            quote!({
                let _ = (request, error, out);
                ::core::result::Result::Err(__mp::EncodeError::new(
                    __mp::EncodeErrorKind::Unsupported("error replies"),
                ))
            })
        };
        let heartbeat_call = if self.schema.heartbeat_reply.is_some() {
            quote!(heartbeat_reply(request)?.encode(out))
        } else {
            quote!({
                let _ = (request, out);
                ::core::result::Result::Err(__mp::EncodeError::new(
                    __mp::EncodeErrorKind::Unsupported("heartbeat replies"),
                ))
            })
        };
        quote! {
            /// The protocol's name, as in an `ApplicationProtocol`'s `spec.protocol`.
            pub const PROTOCOL: &str = #name;
            /// The codec's name, as in an `ApplicationProtocol`'s `spec.codec`.
            pub const CODEC_NAME: &str = #codec;
            /// The largest frame accepted, in bytes.
            pub const MAX_FRAME: usize = #max;

            #frame_len
            #metadata
            #peek
            #mutate
            #error_reply
            #heartbeat_reply

            #codec_doc
            #[derive(Debug, Clone, Copy, Default)]
            pub struct #codec_ty;

            impl __mp::Codec for #codec_ty {
                fn protocol(&self) -> &'static str { PROTOCOL }
                fn codec_name(&self) -> &'static str { CODEC_NAME }
                fn max_frame_len(&self) -> usize { MAX_FRAME }
                fn frame_len(&self, buf: &[u8]) -> ::core::result::Result<__mp::FrameLen, __mp::DecodeError> {
                    frame_len(buf)
                }
                fn decode(&self, frame: &__mp::Bytes) -> ::core::result::Result<__mp::Metadata, __mp::DecodeError> {
                    decode_metadata(frame)
                }
                fn peek_request_id(&self, frame: &[u8]) -> ::core::option::Option<u64> {
                    peek_request_id(frame)
                }
                fn encode(&self, frame: &__mp::Bytes, mutation: &__mp::Mutation, out: &mut __mp::Encoded) -> ::core::result::Result<(), __mp::EncodeError> {
                    encode_mutated(frame, mutation, out)
                }
                fn error_reply(&self, request: &__mp::Metadata, error: &__mp::ReplyError, out: &mut __mp::Encoded) -> ::core::result::Result<(), __mp::EncodeError> {
                    #error_call
                }
                fn heartbeat_reply(&self, request: &__mp::Metadata, out: &mut __mp::Encoded) -> ::core::result::Result<(), __mp::EncodeError> {
                    #heartbeat_call
                }
            }

            __mp::__impl_tokio_codec!(#codec_ty, #message);
        }
    }

    /// `let f_x = view.x;` for the view fields an expression list reads.
    fn bind_view_fields(&self, s: &Struct, exprs: &[&Expr], extra: &[usize]) -> TokenStream {
        let mut used = vec![false; s.fields.len()];
        for e in exprs {
            field_refs(e, &mut |r| used[r.field] = true);
        }
        for &i in extra {
            used[i] = true;
        }
        let binds = (0..s.fields.len())
            .filter(|&i| used[i] && Self::in_view(s, i))
            .map(|i| {
                let l = local(s, i);
                let n = ident(field_name(s, i));
                quote!(let #l = view.#n;)
            });
        quote!(#(#binds)*)
    }

    fn emit_metadata(&self, id: TypeId, s: &Struct) -> TokenStream {
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
        let props = md.map_or(vec![], |m| {
            m.properties
                .iter()
                .map(|p| self.property(s, p, &sc))
                .collect()
        });
        let mut_props = if props.is_empty() {
            quote!()
        } else {
            quote!(mut)
        };
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
        quote! {
            /// Decodes a frame's routing metadata; text values share the frame's memory.
            pub fn decode_metadata(frame: &__mp::Bytes) -> ::core::result::Result<__mp::Metadata, __mp::DecodeError> {
                let view = #view::decode(frame)?;
                metadata_of(&view, frame)
            }

            /// The routing metadata of a decoded frame; `frame` is the buffer `view` borrows from.
            pub fn metadata_of(view: &#view #g, #frame_arg: &__mp::Bytes) -> ::core::result::Result<__mp::Metadata, __mp::DecodeError> {
                #binds
                let #mut_props properties = __mp::Properties::new();
                #(#props)*
                ::core::result::Result::Ok(__mp::Metadata {
                    message_type: #message_type,
                    request_id: #request_id,
                    stream_id: #stream_id,
                    response_status: #status,
                    properties,
                })
            }
        }
    }

    fn property(&self, s: &Struct, p: &Property, sc: &Scope<'_>) -> TokenStream {
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
                let each = if kf || vf {
                    let (k, v) = (opt((k, kf)), opt((v, vf)));
                    quote! {
                        for (k, v) in list.iter() {
                            if let (::core::option::Option::Some(k), ::core::option::Option::Some(v)) = (#k, #v) {
                                properties.push(k, v);
                            }
                        }
                    }
                } else {
                    quote! {
                        for (k, v) in list.iter() {
                            properties.push(#k, #v);
                        }
                    }
                };
                if f.condition.is_some() {
                    quote!(if let ::core::option::Option::Some(list) = #l { #each })
                } else {
                    quote!({ let list = #l; #each })
                }
            }
        }
    }

    fn emit_peek(&self, id: TypeId, s: &Struct) -> TokenStream {
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

    /// Reads the id straight from its offset when every field before it has a fixed size.
    /// Where the request id sits when every field before it has a fixed size:
    /// its offset, its field index and its integer type.
    fn fixed_id_slot<'s>(
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

    fn peek_direct(&self, s: &Struct, e: &Expr) -> Option<TokenStream> {
        let (off, _, i) = self.fixed_id_slot(s, e)?;
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
            let bytes = frame.get(#a..)?.first_chunk::<#nn>()?;
            let v = #t::#from(*bytes);
            #conv
        })
    }

    /// Rewriting only the request id patches its bytes in place when it sits at a
    /// fixed offset and nothing else is computed from its value; the proxy does this
    /// for every request it multiplexes, so it should cost a copy of the header.
    fn id_patch(&self, s: &Struct) -> TokenStream {
        let md = self.schema.metadata.as_ref();
        let Some((off, field, i)) = md
            .and_then(|m| m.request_id.as_ref())
            .and_then(|e| self.fixed_id_slot(s, e))
        else {
            return quote!();
        };
        if s.fields.iter().any(|g| match &g.value {
            crate::ir::FieldValue::Derived(e) => value_depends_on(e, field),
            _ => false,
        }) {
            return quote!();
        }
        let n = usize::from(i.bits / 8);
        let (t, max) = (int_ty(i), max_of(i.bits, i.signed));
        let m = super::names::to_bytes_method(super::names::endian_of(self.schema, i.endian));
        let (a, b) = (
            proc_macro2::Literal::u64_unsuffixed(off),
            proc_macro2::Literal::u64_unsuffixed(off + n as u64),
        );
        quote! {
            if let (true, ::core::option::Option::Some(id), ::core::option::Option::Some(head), true) =
                (mutation.properties.is_empty(), mutation.request_id, frame.get(..#a), frame.len() >= #b)
            {
                let id = __mp::eval::fit::<#t>(i128::from(id), #max)?;
                out.write_slice(head);
                out.write_slice(&id.#m());
                out.write_shared(&frame.slice(#b..));
                return ::core::result::Result::Ok(());
            }
        }
    }

    fn emit_mutate(&self, id: TypeId, s: &Struct) -> TokenStream {
        let view = self.view_name(id);
        let message = self.owned_name(id);
        let id_patch = self.id_patch(s);
        let md = self.schema.metadata.as_ref();
        let set_id = match md
            .and_then(|m| m.request_id.as_ref())
            .and_then(|e| self.id_setter(id, s, e))
        {
            Some(set) => {
                quote!(if let ::core::option::Option::Some(id) = mutation.request_id { #set })
            }
            None => quote! {
                if mutation.request_id.is_some() {
                    return ::core::result::Result::Err(__mp::EncodeError::new(__mp::EncodeErrorKind::Unsupported("rewriting this protocol's request id")));
                }
            },
        };
        let props = match md.and_then(|m| m.mutate.as_ref()) {
            Some((r, _)) if r.sub.is_empty() && self.in_owned(id, s, r.field) => {
                let n = ident(field_name(s, r.field));
                if s.fields[r.field].condition.is_some() {
                    quote!(if let ::core::option::Option::Some(list) = message.#n.as_mut() { mutation.apply_to(list); })
                } else {
                    quote!(mutation.apply_to(&mut message.#n);)
                }
            }
            _ => quote! {
                if !mutation.properties.is_empty() {
                    return ::core::result::Result::Err(__mp::EncodeError::new(__mp::EncodeErrorKind::Unsupported("mutating this protocol's properties")));
                }
            },
        };
        let rest = match self.emit_view_rewrite(id, s) {
            Some(body) => body,
            None => quote! {
                #[allow(unused_mut)]
                let mut message = #message::from_ref(&view, frame);
                #set_id
                #props
                message.encode(out)
            },
        };
        quote! {
            /// Re-encodes `frame` with `mutation` applied; bytes and text are shared, not copied.
            pub fn encode_mutated(frame: &__mp::Bytes, mutation: &__mp::Mutation, out: &mut __mp::Encoded) -> ::core::result::Result<(), __mp::EncodeError> {
                if mutation.is_empty() {
                    out.write_shared(frame);
                    return ::core::result::Result::Ok(());
                }
                #id_patch
                let view = #view::decode(frame)?;
                #rest
            }
        }
    }

    /// Code that stores `id` (a `u64`) where the metadata's request id comes from.
    fn id_setter(&self, id: TypeId, s: &Struct, e: &Expr) -> Option<TokenStream> {
        let ExprKind::Field(r) = &e.kind else {
            return None;
        };
        if !self.in_owned(id, s, r.field) {
            return None;
        }
        let f = &s.fields[r.field];
        let n = ident(field_name(s, r.field));
        let path = self.sub_path(&f.ty, &r.sub);
        let target = self.target_of(s, r)?;
        let value = match target {
            Target::Field(ty, _, _) => match &ty.kind {
                Ty::Int(i) => {
                    let (t, max) = (int_ty(i), max_of(i.bits, i.signed));
                    quote!(__mp::eval::fit::<#t>(i128::from(id), #max)?)
                }
                Ty::Varint => quote!(id),
                _ => return None,
            },
            Target::Bit(BitTy::Uint(w)) => {
                let t = int_rust(w, false);
                let max = super::names::lit((1i128 << w) - 1);
                quote!(__mp::eval::fit::<#t>(i128::from(id), #max)?)
            }
            Target::Bit(_) => return None,
        };
        Some(if f.condition.is_some() && r.sub.is_empty() {
            quote!(if message.#n.is_some() { message.#n = ::core::option::Option::Some(#value); })
        } else {
            quote!(message.#n #path = #value;)
        })
    }

    /// The type a field path points at.
    fn target_of<'a>(&'a self, s: &'a Struct, r: &FieldRef) -> Option<Target<'a>> {
        let f = s.fields.get(r.field)?;
        let mut ty = &f.ty;
        let mut optional = f.condition.is_some();
        let mut base = aux_base(&self.schema.ty(self.schema.frame?).name.name, f);
        for step in &r.sub {
            let Ty::Named(id) = &ty.kind else { return None };
            match (&self.schema.ty(*id).kind, step) {
                (TypeKind::Bits(b), SubField::Bit(i)) => {
                    return Some(Target::Bit(b.fields.get(*i)?.ty));
                }
                (TypeKind::Struct(inner), SubField::Field(i)) => {
                    let g = inner.fields.get(*i)?;
                    base = aux_base(&self.schema.ty(*id).name.name, g);
                    ty = &g.ty;
                    optional = g.condition.is_some();
                }
                _ => return None,
            }
        }
        Some(Target::Field(ty, base, optional))
    }

    fn emit_reply(&self, id: TypeId, reply: Option<&Reply>, is_error: bool) -> TokenStream {
        let Some(reply) = reply else { return quote!() };
        let Some(s) = self.schema.as_struct(id) else {
            return quote!();
        };
        let message = self.owned_name(id);
        let mut uses_req = false;
        let mut uses_err = false;
        let mut stmts = Vec::new();
        let mut whole: Vec<(usize, TokenStream)> = Vec::new();
        for a in &reply.assigns {
            scan_params(&a.value, &mut uses_req, &mut uses_err);
            let Some(target) = self.target_of(s, &a.target) else {
                continue;
            };
            let f = &s.fields[a.target.field];
            let n = ident(field_name(s, a.target.field));
            let value = self.reply_value(&a.value, &target);
            if a.target.sub.is_empty() {
                whole.retain(|(i, _)| *i != a.target.field);
                whole.push((a.target.field, quote!(#n: #value,)));
            } else {
                let path = self.sub_path(&f.ty, &a.target.sub);
                stmts.push(quote!(message.#n #path = #value;));
            }
        }
        let owned = (0..s.fields.len())
            .filter(|&i| self.in_owned(id, s, i))
            .count();
        let inits = whole.iter().map(|(_, t)| t);
        let rest = if whole.len() < owned {
            quote!(..#message::default())
        } else {
            quote!()
        };
        let init = quote!(#message { #(#inits)* #rest });
        let req = if uses_req {
            quote!(request)
        } else {
            quote!(_request)
        };
        let mut_kw = if stmts.is_empty() {
            quote!()
        } else {
            quote!(mut)
        };
        if is_error {
            let err = if uses_err {
                quote!(error)
            } else {
                quote!(_error)
            };
            quote! {
                /// Builds the protocol's error reply to `request`.
                pub fn error_reply(#req: &__mp::Metadata, #err: &__mp::ReplyError) -> ::core::result::Result<#message, __mp::EncodeError> {
                    let #mut_kw message = #init;
                    #(#stmts)*
                    ::core::result::Result::Ok(message)
                }
            }
        } else {
            quote! {
                /// Builds the protocol's answer to a heartbeat `request`.
                pub fn heartbeat_reply(#req: &__mp::Metadata) -> ::core::result::Result<#message, __mp::EncodeError> {
                    let #mut_kw message = #init;
                    #(#stmts)*
                    ::core::result::Result::Ok(message)
                }
            }
        }
    }

    /// A reply value converted to the target's owned type.
    fn reply_value(&self, e: &Expr, target: &Target<'_>) -> TokenStream {
        match target {
            Target::Bit(bt) => {
                let sc = Scope::empty(Ctx::Reply);
                let v = self.expr(e, &sc);
                let rule = &e.text;
                match bt {
                    BitTy::Uint(w) => {
                        let t = int_rust(*w, false);
                        let max = super::names::lit((1i128 << w) - 1);
                        quote!(__mp::eval::fit::<#t>(__mp::eval::encoded(#v, #rule)?, #max)?)
                    }
                    _ => quote!(__mp::eval::encoded(#v, #rule)?),
                }
            }
            Target::Field(ty, base, optional) => {
                let (inner, wrapped) = match &e.kind {
                    ExprKind::Coerce(Coercion::Present, inner) => (inner.as_ref(), true),
                    _ => (e, false),
                };
                let v = self.reply_typed(inner, ty, base);
                if *optional || wrapped {
                    quote!(::core::option::Option::Some(#v))
                } else {
                    v
                }
            }
        }
    }

    /// A reply value of a field type.
    fn reply_typed(&self, e: &Expr, ty: &Type, base: &str) -> TokenStream {
        match (&e.kind, &ty.kind) {
            (ExprKind::Coerce(Coercion::Present, inner), _) => {
                let v = self.reply_typed(inner, ty, base);
                quote!(::core::option::Option::Some(#v))
            }
            (ExprKind::Coerce(Coercion::ToArm(i), inner), Ty::Union(u)) => {
                let Some(arm) = u.arms.get(*i) else {
                    return quote!(::core::default::Default::default());
                };
                let name = ident(base);
                let n = ident(&arm.name.name);
                if matches!(arm.ty.kind, Ty::Unit) {
                    return quote!(#name::#n);
                }
                let v = self.reply_typed(inner, &arm.ty, &format!("{base}{}", arm.name.name));
                quote!(#name::#n(#v))
            }
            (ExprKind::Coerce(Coercion::EncodeToBytes, inner), _) => {
                let v = self.reply_struct(inner);
                quote!(#v.to_bytes()?)
            }
            (ExprKind::StructLit(..), _) => self.reply_struct(e),
            (ExprKind::KvLit(pairs), Ty::KvList { key, value, .. }) => {
                let (kb, vb) = (format!("{base}Key"), format!("{base}Value"));
                let items = pairs.iter().map(|(k, v)| {
                    let k = self.reply_typed(k, key, &kb);
                    let v = self.reply_typed(v, value, &vb);
                    quote!((#k, #v))
                });
                quote!(::std::vec![#(#items),*])
            }
            (ExprKind::ListLit(items), Ty::List { elem, .. }) => {
                let eb = format!("{base}Elem");
                let items = items.iter().map(|v| self.reply_typed(v, elem, &eb));
                quote!(::std::vec![#(#items),*])
            }
            (ExprKind::ByteStr(b), Ty::Bytes { .. }) if Self::fixed_bytes(ty).is_some() => {
                let l = proc_macro2::Literal::byte_string(b);
                quote!(*#l)
            }
            _ => self.reply_scalar(e, ty),
        }
    }

    fn reply_struct(&self, e: &Expr) -> TokenStream {
        let ExprKind::StructLit(id, fields) = &e.kind else {
            return quote!(());
        };
        let Some(s) = self.schema.as_struct(*id) else {
            return quote!(());
        };
        let name = self.owned_name(*id);
        let sname = &self.schema.ty(*id).name.name;
        let sets: Vec<TokenStream> = fields
            .iter()
            .map(|(i, v)| {
                let f = &s.fields[*i];
                let n = ident(field_name(s, *i));
                let t = Target::Field(&f.ty, aux_base(sname, f), f.condition.is_some());
                let v = self.reply_value(v, &t);
                quote!(#n: #v,)
            })
            .collect();
        let owned = (0..s.fields.len())
            .filter(|&i| self.in_owned(*id, s, i))
            .count();
        let rest = if sets.len() < owned {
            quote!(..#name::default())
        } else {
            quote!()
        };
        quote!(#name { #(#sets)* #rest })
    }

    fn reply_scalar(&self, e: &Expr, ty: &Type) -> TokenStream {
        let sc = Scope::empty(Ctx::Reply);
        let v = self.expr(e, &sc);
        let rule = &e.text;
        let value = quote!(__mp::eval::encoded(#v, #rule)?);
        match &ty.kind {
            Ty::Int(i) => {
                let (t, max) = (int_ty(i), max_of(i.bits, i.signed));
                quote!(__mp::eval::fit::<#t>(#value, #max)?)
            }
            Ty::Varint => quote!(__mp::eval::fit::<u64>(#value, 18446744073709551615)?),
            Ty::Zigzag => quote!(__mp::eval::fit::<i64>(#value, 9223372036854775807)?),
            Ty::Named(id) if matches!(self.schema.ty(*id).kind, TypeKind::Extern(_)) => {
                quote!(::core::convert::Into::into(#value))
            }
            _ => value,
        }
    }
}

/// A property value from an expression value `v`: `(code, fallible)`, where a
/// fallible conversion gives an `Option` (bytes that are not UTF-8 are skipped).
fn text_value(ty: &ValueTy, v: TokenStream) -> (TokenStream, bool) {
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
fn key_text(ty: &Type, v: TokenStream) -> (TokenStream, bool) {
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
fn type_value(ty: &Type, v: TokenStream) -> (TokenStream, bool) {
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

fn scan_params(e: &Expr, req: &mut bool, err: &mut bool) {
    crate::ir::visit::walk(e, &mut |e| match e.kind {
        ExprKind::Request(_) => *req = true,
        ExprKind::Error(_) => *err = true,
        _ => {}
    });
}

/// True when a derived value changes with the value of `field` (sizes of fixed-width
/// fields do not).
fn value_depends_on(e: &Expr, field: usize) -> bool {
    let mut hit = false;
    crate::ir::visit::walk(e, &mut |e| match &e.kind {
        ExprKind::Field(r) | ExprKind::LenOf(r) => hit |= r.field == field,
        ExprKind::Checksum(_, crate::ir::FieldRange::SelfStruct) => hit = true,
        ExprKind::Checksum(_, crate::ir::FieldRange::Fields { first, last }) => {
            hit |= (*first..=*last).contains(&field)
        }
        _ => {}
    });
    hit
}
