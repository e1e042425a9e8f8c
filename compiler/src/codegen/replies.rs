//! Error and heartbeat replies: frames built from defaults and assignments.

use super::Gen;
use super::expr::{Ctx, Scope};
use super::names::{field_name, ident, int_rust, int_ty, max_of};
use super::types::aux_base;
use crate::ir::{
    BitTy, Coercion, Expr, ExprKind, FieldRef, Reply, RequestField, Struct, SubField, Ty, Type,
    TypeId, TypeKind,
};
use proc_macro2::TokenStream;
use quote::quote;

impl Gen<'_> {
    /// The type a field path points at.
    pub(super) fn target_of<'a>(&'a self, s: &'a Struct, r: &FieldRef) -> Option<Target<'a>> {
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

    pub(super) fn emit_reply(
        &self,
        id: TypeId,
        reply: Option<&Reply>,
        is_error: bool,
    ) -> TokenStream {
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
        let owned = self.owned_len(id, s);
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
        // A derived frame that borrows may borrow the reply's text from its arguments.
        let (lt, by, ret) = if self.schema.ty(id).rust.as_ref().is_some_and(|r| r.lifetime) {
            (quote!(<'a>), quote!(&'a), self.owned_type(id))
        } else {
            (quote!(), quote!(&), message.clone())
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
                pub fn error_reply #lt (#req: #by __mp::Metadata, #err: #by __mp::ReplyError) -> ::core::result::Result<#ret, __mp::EncodeError> {
                    let #mut_kw message = #init;
                    #(#stmts)*
                    ::core::result::Result::Ok(message)
                }
            }
        } else {
            quote! {
                /// Builds the protocol's answer to a heartbeat `request`.
                pub fn heartbeat_reply #lt (#req: #by __mp::Metadata) -> ::core::result::Result<#ret, __mp::EncodeError> {
                    let #mut_kw message = #init;
                    #(#stmts)*
                    ::core::result::Result::Ok(message)
                }
            }
        }
    }

    /// How many fields the owned type has: for a derived struct every named member
    /// (constants and computed lengths too), else the ones [`Gen::in_owned`] keeps.
    fn owned_len(&self, id: TypeId, s: &Struct) -> usize {
        match &self.schema.ty(id).rust {
            Some(r) => r.fields.iter().flatten().count() + r.units.len(),
            None => (0..s.fields.len())
                .filter(|&i| self.in_owned(id, s, i))
                .count(),
        }
    }

    /// A reply value converted to the target's owned type.
    pub(super) fn reply_value(&self, e: &Expr, target: &Target<'_>) -> TokenStream {
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
    pub(super) fn reply_typed(&self, e: &Expr, ty: &Type, base: &str) -> TokenStream {
        match (&e.kind, &ty.kind) {
            (ExprKind::Coerce(Coercion::Present, inner), _) => {
                let v = self.reply_typed(inner, ty, base);
                quote!(::core::option::Option::Some(#v))
            }
            (ExprKind::Coerce(Coercion::ToArm(i), inner), Ty::Union(u)) => {
                let Some(arm) = u.arms.get(*i) else {
                    return quote!(::core::default::Default::default());
                };
                let name = self.union_owned(base);
                let n = ident(&arm.name.name);
                if matches!(arm.ty.kind, Ty::Unit) {
                    return quote!(#name::#n);
                }
                let v = self.reply_typed(inner, &arm.ty, &format!("{base}{}", arm.name.name));
                quote!(#name::#n(#v))
            }
            (ExprKind::Coerce(Coercion::EncodeToBytes, inner), _) => {
                let v = self.reply_struct(inner);
                quote!(__mp::FromEncoded::from_encoded(#v.to_bytes()?))
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
            (ExprKind::ByteStr(b), Ty::Bytes { .. })
                if crate::ir::visit::fixed_bytes(ty).is_some() =>
            {
                let l = proc_macro2::Literal::byte_string(b);
                quote!(*#l)
            }
            _ => self.reply_scalar(e, ty),
        }
    }

    pub(super) fn reply_struct(&self, e: &Expr) -> TokenStream {
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
        let owned = self.owned_len(*id, s);
        let rest = if sets.len() < owned {
            quote!(..#name::default())
        } else {
            quote!()
        };
        quote!(#name { #(#sets)* #rest })
    }

    pub(super) fn reply_scalar(&self, e: &Expr, ty: &Type) -> TokenStream {
        if let (ExprKind::Request(RequestField::Property(k)), Ty::Bytes { text: true, .. }) =
            (&e.kind, &ty.kind)
        {
            let rule = &e.text;
            return quote!(__mp::eval::property(request.get(#k), #rule)?);
        }
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
            // Text retyped as an extern value goes through `ByteString`, which its owned form converts from.
            Ty::Named(id) if matches!(self.schema.ty(*id).kind, TypeKind::Extern(_)) => {
                if matches!(e.ty, crate::ir::ValueTy::Extern(_)) {
                    quote!({ let text: __mp::ByteString = #value; ::core::convert::Into::into(text) })
                } else {
                    quote!(::core::convert::Into::into(#value))
                }
            }
            _ => value,
        }
    }
}

/// What a reply assignment writes to.
pub(super) enum Target<'a> {
    /// A field or nested field of this type (conditional when `optional`).
    Field(&'a Type, String, bool),
    /// A bit-group member.
    Bit(BitTy),
}

pub(super) fn scan_params(e: &Expr, req: &mut bool, err: &mut bool) {
    crate::ir::visit::walk(e, &mut |e| match e.kind {
        ExprKind::Request(_) => *req = true,
        ExprKind::Error(_) => *err = true,
        _ => {}
    });
}
