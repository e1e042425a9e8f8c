//! `encode_mutated`: the fast paths, and the general path through the owned type.

use super::Gen;
use super::names::{field_name, ident, int_rust, int_ty, max_of};
use super::replies::Target;
use crate::ir::{BitTy, Expr, ExprKind, Struct, Ty, TypeId};
use proc_macro2::TokenStream;
use quote::quote;

impl Gen<'_> {
    /// Rewriting only the request id patches its bytes in place when it sits at a
    /// fixed offset and nothing else is computed from its value; the proxy does this
    /// for every request it multiplexes, so it should cost a copy of the header.
    pub(super) fn id_patch(&self, s: &Struct) -> TokenStream {
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

    pub(super) fn emit_mutate(&self, id: TypeId, s: &Struct) -> TokenStream {
        let view = self.view_name(id);
        let message = self.owned_name(id);
        let id_patch = self.id_patch(s);
        // When the id sits at a fixed offset the patch above already handled it.
        let view_patch = if id_patch.is_empty() {
            self.emit_view_id_patch(s).unwrap_or_default()
        } else {
            quote!()
        };
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
                #view_patch
                #rest
            }
        }
    }

    /// Code that stores `id` (a `u64`) where the metadata's request id comes from.
    pub(super) fn id_setter(&self, id: TypeId, s: &Struct, e: &Expr) -> Option<TokenStream> {
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
}

/// True when a derived value changes with the value of `field` (sizes of fixed-width
/// fields do not).
pub(super) fn value_depends_on(e: &Expr, field: usize) -> bool {
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
