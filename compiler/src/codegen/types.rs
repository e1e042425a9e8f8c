//! Rust types of fields in views and owned values, and their defaults.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Gen;
use super::names::{camel, ident, int_rust, int_ty, lit_usize};
use crate::ir::visit::{const_int, fixed_bytes};
use crate::ir::{
    BinOp, Expr, ExprKind, Field, FieldValue, RustTy, Struct, Ty, Type, TypeId, TypeKind,
};

impl Gen<'_> {
    /// The view type's name for a struct: `MessageRef` (with its module path for a
    /// nested derived type).
    pub(super) fn view_name(&self, id: TypeId) -> TokenStream {
        let def = self.schema.ty(id);
        let name = format_ident!("{}Ref", def.name.name);
        let prefix = self.prefix(id);
        quote!(#prefix #name)
    }

    /// The owned type's name for a named type, as a path usable in expressions.
    pub(super) fn owned_name(&self, id: TypeId) -> TokenStream {
        let name = ident(&self.schema.ty(id).name.name);
        let prefix = self.prefix(id);
        quote!(#prefix #name)
    }

    /// The owned type's name in type position: with `<'a>` for a derived item that borrows.
    pub(super) fn owned_type(&self, id: TypeId) -> TokenStream {
        let name = self.owned_name(id);
        if self.schema.ty(id).rust.as_ref().is_some_and(|r| r.lifetime) {
            quote!(#name<'a>)
        } else {
            name
        }
    }

    /// The module path in front of a derived type's name (`proto::`), empty otherwise.
    fn prefix(&self, id: TypeId) -> TokenStream {
        match &self.schema.ty(id).rust {
            Some(r) if !r.prefix.is_empty() => r.prefix.parse().unwrap_or_default(),
            _ => quote!(),
        }
    }

    /// True when the type's Rust item comes from `#[derive(Codec)]`.
    pub(super) fn derived(&self, id: TypeId) -> bool {
        self.schema.ty(id).rust.is_some()
    }

    /// The Rust type a derived struct declares for member `i`.
    pub(super) fn rust_field(&self, id: TypeId, i: usize) -> Option<&RustTy> {
        self.schema.ty(id).rust.as_ref()?.fields.get(i)?.as_ref()
    }

    /// `<'a>` when a struct's view borrows from the frame.
    pub(super) fn view_generics(&self, id: TypeId) -> TokenStream {
        if self.struct_borrows(id, 0) {
            quote!(<'a>)
        } else {
            quote!()
        }
    }

    fn struct_borrows(&self, id: TypeId, depth: usize) -> bool {
        match &self.schema.ty(id).kind {
            TypeKind::Struct(s) => {
                depth < 64
                    && (0..s.fields.len())
                        .any(|i| Self::in_view(s, i) && self.borrows(&s.fields[i].ty, depth + 1))
            }
            TypeKind::Extern(_) => true,
            _ => false,
        }
    }

    /// True when a type's view holds references into the frame.
    pub(super) fn borrows(&self, ty: &Type, depth: usize) -> bool {
        match &ty.kind {
            Ty::Bytes { .. } | Ty::List { .. } | Ty::KvList { .. } => true,
            Ty::Named(id) => self.struct_borrows(*id, depth),
            Ty::Union(u) => u.arms.iter().any(|a| self.borrows(&a.ty, depth + 1)),
            _ => false,
        }
    }

    /// True when a value of this type holds `str` somewhere.
    pub(super) fn has_text(&self, ty: &Type) -> bool {
        match &ty.kind {
            Ty::Bytes { text, .. } => *text,
            Ty::List { elem, .. } => self.has_text(elem),
            Ty::KvList { key, value, .. } => self.has_text(key) || self.has_text(value),
            Ty::Named(id) => match &self.schema.ty(*id).kind {
                TypeKind::Struct(s) => s.fields.iter().any(|f| self.has_text(&f.ty)),
                _ => false,
            },
            Ty::Union(u) => u.arms.iter().any(|a| self.has_text(&a.ty)),
            _ => false,
        }
    }

    /// The type of a value in a view. `base` names auxiliary types (unions, list markers).
    pub(super) fn view_ty(&self, ty: &Type, base: &str) -> TokenStream {
        match &ty.kind {
            Ty::Int(i) => {
                let t = int_ty(i);
                quote!(#t)
            }
            Ty::Float { bits, .. } => {
                let t = ident(&format!("f{bits}"));
                quote!(#t)
            }
            Ty::Bool => quote!(bool),
            Ty::Varint => quote!(u64),
            Ty::Zigzag => quote!(i64),
            Ty::Bytes { text: true, .. } => quote!(&'a str),
            Ty::Bytes { .. } => match fixed_bytes(ty) {
                Some(n) => {
                    let n = lit_usize(n);
                    quote!(&'a [u8; #n])
                }
                None => quote!(&'a [u8]),
            },
            Ty::List { .. } | Ty::KvList { .. } => {
                let m = marker_name(base, ty);
                quote!(__mp::List<'a, #m>)
            }
            Ty::Named(id) => self.named_view(*id),
            Ty::Union(u) => {
                let name = format_ident!("{}Ref", base);
                if u.arms.iter().any(|a| self.borrows(&a.ty, 0)) {
                    quote!(#name<'a>)
                } else {
                    quote!(#name)
                }
            }
            Ty::Unit | Ty::Pad(_) | Ty::Align(_) => quote!(()),
        }
    }

    fn named_view(&self, id: TypeId) -> TokenStream {
        match &self.schema.ty(id).kind {
            TypeKind::Struct(_) => {
                let name = self.view_name(id);
                let g = self.view_generics(id);
                quote!(#name #g)
            }
            TypeKind::Extern(x) => self.extern_item(x, quote!(Ref<'a>)),
            _ => {
                let name = self.owned_name(id);
                quote!(#name)
            }
        }
    }

    /// The type of a value in an owned struct.
    pub(super) fn owned_ty(&self, ty: &Type, base: &str) -> TokenStream {
        match &ty.kind {
            Ty::Bytes { text: true, .. } => quote!(__mp::ByteString),
            Ty::Bytes { .. } => match fixed_bytes(ty) {
                Some(n) => {
                    let n = lit_usize(n);
                    quote!([u8; #n])
                }
                None => quote!(__mp::Bytes),
            },
            Ty::List { elem, .. } => {
                let e = self.owned_ty(elem, &format!("{base}Elem"));
                quote!(::std::vec::Vec<#e>)
            }
            Ty::KvList { key, value, .. } => {
                let k = self.owned_ty(key, &format!("{base}Key"));
                let v = self.owned_ty(value, &format!("{base}Value"));
                quote!(::std::vec::Vec<(#k, #v)>)
            }
            Ty::Named(id) => match &self.schema.ty(*id).kind {
                TypeKind::Extern(x) => self.extern_item(x, quote!(Owned)),
                _ => self.owned_type(*id),
            },
            Ty::Union(_) => self.union_owned(base),
            _ => self.view_ty(ty, base),
        }
    }

    /// A field's type in the view (with `Option` for conditional fields).
    pub(super) fn field_view_ty(&self, s_name: &str, f: &Field) -> TokenStream {
        let t = self.view_ty(&f.ty, &aux_base(s_name, f));
        if f.condition.is_some() {
            quote!(::core::option::Option<#t>)
        } else {
            t
        }
    }

    /// The owned type of `ty`, or the Rust type a derived item declares for it.
    pub(super) fn owned_ty_as(&self, ty: &Type, base: &str, rust: Option<&RustTy>) -> TokenStream {
        match rust {
            Some(r) => r.text.parse().unwrap_or_else(|_| self.owned_ty(ty, base)),
            None => self.owned_ty(ty, base),
        }
    }

    /// A field's type in the owned struct.
    pub(super) fn field_owned_ty(&self, s_name: &str, f: &Field) -> TokenStream {
        let t = self.owned_ty(&f.ty, &aux_base(s_name, f));
        if f.condition.is_some() {
            quote!(::core::option::Option<#t>)
        } else {
            t
        }
    }

    /// True when field `i` appears in the owned struct.
    pub(super) fn in_owned(&self, id: TypeId, s: &Struct, i: usize) -> bool {
        let f = &s.fields[i];
        f.name.is_some()
            && matches!(f.value, FieldValue::Plain)
            && !matches!(f.ty.kind, Ty::Pad(_) | Ty::Align(_))
            && self.layout.of(id).fields[i].derive.is_none()
    }

    /// True when field `i` appears in the view.
    pub(super) fn in_view(s: &Struct, i: usize) -> bool {
        let f = &s.fields[i];
        f.name.is_some()
            && !matches!(f.value, FieldValue::Const(_))
            && !matches!(f.ty.kind, Ty::Pad(_) | Ty::Align(_))
    }

    /// The default value of an owned field.
    pub(super) fn default_field(&self, f: &Field, base: &str) -> TokenStream {
        if f.condition.is_some() {
            return quote!(::core::option::Option::None);
        }
        // The value a `where f == N` asks for, when the field can hold it (when it
        // cannot, no value satisfies the rule and encoding reports that).
        if let (Ty::Int(i), Some(v)) = (&f.ty.kind, constraint_literal(f))
            && fits(v, i)
        {
            return super::names::typed_lit(v, &int_ty(i));
        }
        self.default_ty(&f.ty, base)
    }

    /// The default value of an owned type.
    pub(super) fn default_ty(&self, ty: &Type, base: &str) -> TokenStream {
        match &ty.kind {
            Ty::Bytes { .. } if fixed_bytes(ty).is_some() => {
                let n = lit_usize(fixed_bytes(ty).unwrap_or(0));
                quote!([0u8; #n])
            }
            Ty::Union(u) => {
                let name = self.union_owned(base);
                match u.arms.first() {
                    Some(arm) => {
                        let v = ident(&arm.name.name);
                        if matches!(arm.ty.kind, Ty::Unit) {
                            quote!(#name::#v)
                        } else {
                            let inner =
                                self.default_ty(&arm.ty, &format!("{base}{}", arm.name.name));
                            quote!(#name::#v(#inner))
                        }
                    }
                    None => quote!(::core::default::Default::default()),
                }
            }
            _ => quote!(::core::default::Default::default()),
        }
    }

    /// The Rust type of a bit-group member.
    pub(super) fn bit_member_ty(&self, ty: crate::ir::BitTy) -> TokenStream {
        match ty {
            crate::ir::BitTy::Uint(n) => {
                let t = int_rust(n, false);
                quote!(#t)
            }
            crate::ir::BitTy::Bool => quote!(bool),
            crate::ir::BitTy::Enum(id) => {
                let t = self.owned_name(id);
                quote!(#t)
            }
        }
    }
}

/// How a generated type gets `Default`: `, Default` for its derive list when every
/// field takes its own default, otherwise an `impl` with the given field initialisers.
pub(super) fn default_parts(
    name: &TokenStream,
    derivable: bool,
    inits: impl Iterator<Item = TokenStream>,
) -> (TokenStream, TokenStream) {
    if derivable {
        return (quote!(, Default), quote!());
    }
    let inits: Vec<TokenStream> = inits.collect();
    // `name` may carry the lifetime of a derived item: `Message<'a>`.
    let generics = if name.to_string().contains("'a") {
        quote!(<'a>)
    } else {
        quote!()
    };
    let default = quote! {
        impl #generics ::core::default::Default for #name {
            fn default() -> Self {
                Self { #(#inits)* }
            }
        }
    };
    (quote!(), default)
}

/// The prefix for auxiliary types of a field: `MessageBody`.
pub(super) fn aux_base(s_name: &str, f: &Field) -> String {
    let field = f.name.as_ref().map_or("Field", |n| n.name.as_str());
    format!("{s_name}{}", camel(field))
}

/// The marker type that decodes a list's elements: `MessageTagsElem`, `MessageHeadersEntry`.
pub(super) fn marker_name(base: &str, ty: &Type) -> proc_macro2::Ident {
    match ty.kind {
        Ty::KvList { .. } => format_ident!("{}Entry", base),
        _ => format_ident!("{}Elem", base),
    }
}

/// `v` from a `where f == v` constraint, which gives the field its default.
/// True when `v` is a value of the integer type `i`.
fn fits(v: i128, i: &crate::ir::IntTy) -> bool {
    let bits = u32::from(i.bits);
    if i.signed {
        (-(1i128 << (bits - 1))..(1i128 << (bits - 1))).contains(&v)
    } else {
        (0..(1i128 << bits)).contains(&v)
    }
}

pub(super) fn constraint_literal(f: &Field) -> Option<i128> {
    let c = f.constraint.as_ref()?;
    let ExprKind::Binary(BinOp::Eq, a, b) = &c.kind else {
        return None;
    };
    let is_self = |e: &Expr| matches!(&e.kind, ExprKind::Field(r) if r.sub.is_empty());
    match (is_self(a), is_self(b)) {
        (true, false) => const_int(b),
        (false, true) => const_int(a),
        _ => None,
    }
}
