//! Everything generated for one struct: view, owned type, framing walk and the
//! auxiliary types its fields need (union enums, list element markers).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Gen;
use super::expr::{Ctx, Scope};
use super::names::{docs, endian_of, ident, int_ty, lit_usize};
use super::types::{aux_base, marker_name};
use crate::check::layout::unwalkable;
use crate::ir::{Endian, Len, Prefix, RustTy, Ty, Type, TypeId, TypeKind};

impl Gen<'_> {
    /// All items for a struct.
    pub(super) fn emit_struct(&self, id: TypeId) -> TokenStream {
        let TypeKind::Struct(s) = &self.schema.ty(id).kind else {
            return quote!();
        };
        let sname = &self.schema.ty(id).name.name;
        let mut items = vec![self.emit_view(id, s), self.emit_owned(id, s)];
        if self.struct_walkable(s) {
            items.push(self.emit_walk(id, s));
        }
        for (i, f) in s.fields.iter().enumerate() {
            items.push(self.emit_aux(
                &f.ty,
                &aux_base(sname, f),
                (sname, f.name.as_ref().map_or("_", |n| n.name.as_str())),
                self.rust_field(id, i),
            ));
        }
        quote!(#(#items)*)
    }

    /// Union enums and list markers for a type, recursively. `rust` is the type a
    /// derived struct declares for it, whose parts name element and arm types.
    fn emit_aux(
        &self,
        ty: &Type,
        base: &str,
        (sname, fname): (&str, &str),
        rust: Option<&RustTy>,
    ) -> TokenStream {
        let part = |i: usize| rust.and_then(|r| r.parts.get(i));
        match &ty.kind {
            Ty::List { elem, .. } => {
                let ebase = format!("{base}Elem");
                let marker = self.emit_marker(ty, base, &[(elem, &ebase, part(0))]);
                let nested = self.emit_aux(elem, &ebase, (sname, fname), part(0));
                quote!(#marker #nested)
            }
            Ty::KvList { key, value, .. } => {
                let (kb, vb) = (format!("{base}Key"), format!("{base}Value"));
                let marker =
                    self.emit_marker(ty, base, &[(key, &kb, part(0)), (value, &vb, part(1))]);
                let nk = self.emit_aux(key, &kb, (sname, fname), part(0));
                let nv = self.emit_aux(value, &vb, (sname, fname), part(1));
                quote!(#marker #nk #nv)
            }
            Ty::Union(u) => {
                let vname = format_ident!("{}Ref", base);
                let oname = ident(base);
                let borrows = u.arms.iter().any(|a| self.borrows(&a.ty, 0));
                let g = if borrows { quote!(<'a>) } else { quote!() };
                let mut nested = Vec::new();
                let (mut vvars, mut ovars) = (Vec::new(), Vec::new());
                for (i, a) in u.arms.iter().enumerate() {
                    let n = ident(&a.name.name);
                    let abase = format!("{base}{}", a.name.name);
                    let doc = format!(" The `{}` arm.", a.name.name);
                    if matches!(a.ty.kind, Ty::Unit) {
                        vvars.push(quote!(#[doc = #doc] #n,));
                        ovars.push(quote!(#[doc = #doc] #n,));
                    } else {
                        let vt = self.view_ty(&a.ty, &abase);
                        let ot = self.owned_ty_as(&a.ty, &abase, part(i));
                        vvars.push(quote!(#[doc = #doc] #n(#vt),));
                        ovars.push(quote!(#[doc = #doc] #n(#ot),));
                    }
                    nested.push(self.emit_aux(&a.ty, &abase, (sname, fname), part(i)));
                }
                let vdoc =
                    format!(" The `{fname}` field of `{sname}`, decoded: one variant per arm.");
                let odoc = format!(" The `{fname}` field of `{sname}`: one variant per arm.");
                // A derived struct's union is the user's own enum.
                let owned = if rust.is_some() {
                    quote!()
                } else {
                    quote! {
                        #[doc = #odoc]
                        #[derive(Debug, Clone, PartialEq)]
                        pub enum #oname { #(#ovars)* }
                    }
                };
                quote! {
                    #[doc = #vdoc]
                    #[derive(Debug, Clone, Copy, PartialEq)]
                    pub enum #vname #g { #(#vvars)* }

                    #owned

                    #(#nested)*
                }
            }
            _ => quote!(),
        }
    }

    /// The marker type that decodes, encodes and walks one list element.
    fn emit_marker(
        &self,
        list: &Type,
        base: &str,
        parts: &[(&Type, &String, Option<&RustTy>)],
    ) -> TokenStream {
        let m = marker_name(base, list);
        let sc = Scope::empty(Ctx::View);
        let osc = Scope::empty(Ctx::Owned);
        let frame_used = parts.iter().any(|(t, _, _)| self.needs_frame(t));
        let frame_arg = if frame_used {
            quote!(frame)
        } else {
            quote!(_frame)
        };
        let (item_v, item_o, read, write, owned) = if let [(t, b, r)] = parts {
            let read = self.read_ty(t, b, &sc);
            let write = self.write_ty(t, quote!(item), true, b, &quote!(out), &osc);
            let owned = self.to_owned_value(t, quote!(item), b, *r);
            (
                self.view_ty(t, b),
                self.owned_ty_as(t, b, *r),
                read,
                write,
                owned,
            )
        } else {
            let [(k, kb, kr), (v, vb, vr)] = parts else {
                return quote!();
            };
            let (rk, rv) = (self.read_ty(k, kb, &sc), self.read_ty(v, vb, &sc));
            let wk = self.write_ty(k, quote!(key), true, kb, &quote!(out), &osc);
            let wv = self.write_ty(v, quote!(value), true, vb, &quote!(out), &osc);
            let ok = self.to_owned_value(k, quote!(item.0), kb, *kr);
            let ov = self.to_owned_value(v, quote!(item.1), vb, *vr);
            let (vk, vv) = (self.view_ty(k, kb), self.view_ty(v, vb));
            let (ok_t, ov_t) = (self.owned_ty_as(k, kb, *kr), self.owned_ty_as(v, vb, *vr));
            (
                quote!((#vk, #vv)),
                quote!((#ok_t, #ov_t)),
                quote!({ let k = #rk; let v = #rv; (k, v) }),
                quote!(let (key, value) = item; #wk #wv),
                quote!((#ok, #ov)),
            )
        };
        // Element types of a derived struct may borrow: name their lifetime where used.
        let uses_lt = |t: &TokenStream| t.to_string().contains("'a");
        let write_lt = if uses_lt(&item_o) {
            quote!('a,)
        } else {
            quote!()
        };
        // When the owned item keeps nothing borrowed, the view's lifetime is elided.
        let (owned_lt, item_arg) = if uses_lt(&item_o) {
            (quote!(<'a>), item_v.clone())
        } else {
            let anon = item_v.to_string().replace("'a", "'_");
            (quote!(), anon.parse().unwrap_or_else(|_| item_v.clone()))
        };
        let text = if parts.iter().any(|(t, _, _)| self.has_text(t)) {
            quote!(
                const TEXT: bool = true;
            )
        } else {
            quote!()
        };
        let split = parts
            .iter()
            .map(|(t, _, _)| self.split_text_part(t))
            .collect::<Option<Vec<_>>>()
            .filter(|_| !text.is_empty())
            .map(|splits| {
                let names = [quote!(k), quote!(v)];
                let names = &names[..splits.len()];
                let item = if let [one] = names {
                    quote!(#one)
                } else {
                    quote!((#(#names),*))
                };
                quote! {
                    #[inline]
                    fn split_text(text: &mut impl __mp::Text<'a>) -> ::core::option::Option<Self::Item> {
                        let mut t = *text;
                        #(let #names = #splits;)*
                        *text = t;
                        ::core::option::Option::Some(#item)
                    }
                }
            });
        let walkable = parts
            .iter()
            .all(|(t, _, _)| unwalkable(self.schema, t).is_none());
        let walk = if walkable {
            let skips = parts.iter().map(|(t, b, _)| self.skip_ty(t, b, &sc));
            quote! {
                #[doc(hidden)]
                pub fn walk(w: &mut __mp::Walk<'_>) -> ::core::result::Result<(), __mp::Stop> {
                    #(#skips)*
                    ::core::result::Result::Ok(())
                }
            }
        } else {
            quote!()
        };
        let doc = docs(&vec![format!(
            "Decodes and encodes the elements of `{base}` lists."
        )]);
        quote! {
            #doc
            #[doc(hidden)]
            #[derive(Debug, Clone, Copy)]
            pub struct #m;

            impl<'a> __mp::Element<'a> for #m {
                type Item = #item_v;
                #text

                #[inline]
                fn decode(r: &mut __mp::Reader<'a>) -> ::core::result::Result<Self::Item, __mp::DecodeError> {
                    let item = #read;
                    ::core::result::Result::Ok(item)
                }

                #split
            }

            impl #m {
                #[doc(hidden)]
                #[inline(always)]
                pub fn write<#write_lt __S: __mp::Sink + ?::core::marker::Sized>(item: &#item_o, out: &mut __S, base: usize) -> ::core::result::Result<(), __mp::EncodeError> {
                    let _ = base;
                    #write
                    ::core::result::Result::Ok(())
                }

                #[doc(hidden)]
                pub fn to_owned #owned_lt (item: #item_arg, #frame_arg: &__mp::Bytes) -> #item_o {
                    #owned
                }

                #walk
            }
        }
    }

    /// The text fast path for one part of a list element (see `Element::split_text`):
    /// a string with an unsigned integer length prefix; `None` for anything else.
    pub(super) fn split_text_part(&self, ty: &Type) -> Option<TokenStream> {
        let Ty::Bytes {
            text: true,
            len: Len::SizePrefix(Prefix::Int(i)),
        } = &ty.kind
        else {
            return None;
        };
        if i.signed {
            return None;
        }
        let n = lit_usize(u64::from(i.bits / 8));
        let t = int_ty(i);
        let from = match endian_of(self.schema, i.endian) {
            Endian::Big => quote!(from_be_bytes),
            Endian::Little => quote!(from_le_bytes),
        };
        let len = if i.bits == 64 {
            quote!(#t::#from(b))
        } else {
            quote!(u64::from(#t::#from(b)))
        };
        Some(quote!(__mp::split_prefixed::<#n>(&mut t, |b| #len)?))
    }
}
