//! `encode_mutated`: the fast paths, and the general path through the owned type.

use super::Gen;
use super::names::{field_name, ident, int_rust, int_ty, max_of};
use super::replies::Target;
use crate::ir::{BitTy, Expr, ExprKind, Struct, Ty, TypeId};
use proc_macro2::TokenStream;
use quote::quote;

impl Gen<'_> {
    pub(super) fn emit_mutate(&self, id: TypeId, s: &Struct) -> TokenStream {
        let view = self.view_name(id);
        let message = self.owned_name(id);
        // The id is patched once the frame has decoded (so a frame that would not
        // decode is refused, as every other re-encode refuses it); the view gives its
        // offset when variable-size fields come before it.
        let (view_patch, patch_reads_view) = match self.id_patch(s) {
            Some((patch, reads)) => (patch, reads),
            None => (quote!(), false),
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
        let mutable_list = matches!(md.and_then(|m| m.mutate.as_ref()),
            Some((r, _)) if r.sub.is_empty() && self.in_owned(id, s, r.field));
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
        let deferred = self.deferred_list(id, s).is_some();
        let rewrite = self.emit_view_rewrite(id, s, deferred);
        // Without a list to mutate, the owned path after an id patch only runs for a
        // mutation it refuses. It decodes the frame again, so that the patch's own decode
        // keeps only what the patch reads: a view kept for the owned path was built in full
        // before the patch (Dubbo re-encode twice as slow as the hand-tuned one).
        let redecode = rewrite.is_none() && !view_patch.is_empty() && !mutable_list;
        let rest = match rewrite {
            Some(body) => body,
            None => {
                let view_again = if redecode {
                    quote!(let view = #view::decode(frame)?;)
                } else {
                    quote!()
                };
                quote! {
                    #view_again
                    #[allow(unused_mut)]
                    let mut message = #message::from_ref(&view, frame);
                    #set_id
                    #props
                    message.encode(out)
                }
            }
        };
        // A deferred rewrite decodes the frame itself; the id patch (which only runs
        // when no property changes) still decodes it first, fully checked.
        let decode = match (deferred, view_patch.is_empty()) {
            (false, _) if redecode && !patch_reads_view => {
                quote!(#view::decode(frame)?; #view_patch)
            }
            (false, _) => quote!(let view = #view::decode(frame)?; #view_patch),
            (true, true) => quote!(),
            (true, false) => {
                let view = if patch_reads_view {
                    quote!(let view = #view::decode(frame)?;)
                } else {
                    quote!(#view::decode(frame)?;)
                };
                quote! {
                    if mutation.properties.is_empty() {
                        #view
                        #view_patch
                    }
                }
            }
        };
        quote! {
            /// Re-encodes `frame` with `mutation` applied; bytes and text are shared, not copied.
            #[inline]
            pub fn encode_mutated(frame: &__mp::Bytes, mutation: &__mp::Mutation, out: &mut __mp::Encoded) -> ::core::result::Result<(), __mp::EncodeError> {
                if mutation.is_empty() {
                    out.write_shared(frame);
                    return ::core::result::Result::Ok(());
                }
                #decode
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
