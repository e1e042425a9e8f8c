//! Expressions. Every expression becomes Rust code of type `Option<T>`: `None`
//! stands for overflow, division by zero or an absent field, so generated code
//! reports an error instead of panicking.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::Gen;
use super::names::{ident, local};
use crate::ir::{
    BinOp, BuiltinVariant, ErrorField, Expr, ExprKind, FieldRange, FieldRef, Pattern, RequestField,
    Struct, SubField, Ty, TypeId, TypeKind, UnOp, ValueTy,
};

/// Where an expression is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ctx {
    /// Decoding (or walking): fields are view values; sizes come from positions.
    View,
    /// Encoding: plain fields are references into `self`; sizes come from counting.
    Owned,
    /// Building a reply: only `request` and `error` are in scope.
    Reply,
}

/// What an expression can see.
pub(super) struct Scope<'a> {
    /// The evaluation context.
    pub ctx: Ctx,
    /// The struct whose fields are in scope.
    pub s: Option<(TypeId, &'a Struct)>,
    /// Per field: the local holds a reference rather than a value.
    pub refs: Vec<bool>,
}

impl<'a> Scope<'a> {
    /// A scope over a struct's fields.
    pub fn of(ctx: Ctx, id: TypeId, s: &'a Struct, refs: Vec<bool>) -> Self {
        Scope {
            ctx,
            s: Some((id, s)),
            refs,
        }
    }

    /// A scope with no fields (replies, list elements).
    pub fn empty(ctx: Ctx) -> Self {
        Scope {
            ctx,
            s: None,
            refs: vec![],
        }
    }
}

fn some(t: TokenStream) -> TokenStream {
    quote!(::core::option::Option::Some(#t))
}

impl Gen<'_> {
    /// An expression as Rust code of type `Option<T>`.
    pub(super) fn expr(&self, e: &Expr, sc: &Scope<'_>) -> TokenStream {
        match &e.kind {
            ExprKind::Int(v) => some(Literal::i128_suffixed(*v).into_token_stream_()),
            ExprKind::Bool(b) => some(quote!(#b)),
            ExprKind::Str(s) => match sc.ctx {
                Ctx::Reply => some(quote!(__mp::FromWire::from_wire(#s, &__mp::Bytes::new()))),
                _ => some(quote!(#s)),
            },
            ExprKind::ByteStr(b) => {
                let l = Literal::byte_string(b);
                match sc.ctx {
                    Ctx::Reply => {
                        some(quote!(__mp::FromWire::from_wire(&#l[..], &__mp::Bytes::new())))
                    }
                    _ => some(quote!(&#l[..])),
                }
            }
            ExprKind::Field(r) => self.field_value(r, &e.ty, false, sc),
            ExprKind::LenOf(r) => self.field_value(r, &ValueTy::Int, true, sc),
            ExprKind::Variant(id, i) => some(self.variant_path(*id, *i)),
            ExprKind::Builtin(b) => some(builtin_path(*b)),
            ExprKind::Request(f) => some(request_field(f)),
            ExprKind::Error(ErrorField::Message) => some(quote!(__mp::FromWire::from_wire(
                &*error.message,
                &__mp::Bytes::new()
            ))),
            ExprKind::Error(ErrorField::Kind) => some(quote!(error.kind)),
            ExprKind::Unary(op, a) => {
                let a = self.expr(a, sc);
                match op {
                    UnOp::Not => quote!(__mp::eval::not(#a)),
                    UnOp::Neg => quote!(__mp::eval::neg(#a)),
                }
            }
            ExprKind::Binary(op, a, b) => {
                let f = ident(binop_fn(*op));
                let (a, b) = (self.expr(a, sc), self.expr(b, sc));
                quote!(__mp::eval::#f(#a, #b))
            }
            ExprKind::SizeOf(range) => self.size_of(range, sc),
            ExprKind::Checksum(kind, range) => self.checksum(*kind, range, sc),
            ExprKind::If(c, a, b) => {
                let (c, a, b) = (self.expr(c, sc), self.expr(a, sc), self.expr(b, sc));
                quote! {
                    match #c {
                        ::core::option::Option::Some(true) => #a,
                        ::core::option::Option::Some(false) => #b,
                        ::core::option::Option::None => ::core::option::Option::None,
                    }
                }
            }
            ExprKind::Match(s, arms) => self.match_expr(s, arms, sc),
            ExprKind::Coerce(c, a) => self.coerce_expr(*c, a, sc),
            ExprKind::StructLit(..) | ExprKind::KvLit(_) | ExprKind::ListLit(_) => {
                quote!(::core::option::Option::None)
            }
        }
    }

    fn coerce_expr(&self, c: crate::ir::Coercion, a: &Expr, sc: &Scope<'_>) -> TokenStream {
        use crate::ir::Coercion::*;
        let v = self.expr(a, sc);
        match (c, sc.ctx) {
            (VariantName, Ctx::Reply) => {
                quote!(#v.map(|v| __mp::FromWire::from_wire(v.name(), &__mp::Bytes::new())))
            }
            (VariantName, _) => quote!(#v.map(|v| v.name())),
            (Decimal, _) => quote!(#v.map(|v| __mp::ByteString::from(v.to_string()))),
            (TextToBytes, Ctx::Reply) => quote!(#v.map(|v: __mp::ByteString| {
                let b = v.into_bytes();
                __mp::FromWire::from_wire(&b[..], &b)
            })),
            (TextToBytes, _) => quote!(#v.map(|v| v.into_bytes())),
            _ => v,
        }
    }

    /// `Enum::Variant`.
    pub(super) fn variant_path(&self, id: TypeId, i: usize) -> TokenStream {
        let name = self.owned_name(id);
        match &self.schema.ty(id).kind {
            TypeKind::Enum(e) => match e.variants.get(i) {
                Some(v) => {
                    let v = ident(&v.name.name);
                    quote!(#name::#v)
                }
                None => quote!(#name::default()),
            },
            _ => quote!(#name::default()),
        }
    }

    fn match_expr(&self, s: &Expr, arms: &[(Vec<Pattern>, Expr)], sc: &Scope<'_>) -> TokenStream {
        let scrutinee = self.expr(s, sc);
        let (kept, open) = self.match_arms(&s.ty, arms.iter().map(|(p, v)| (&p[..], v)));
        let arms_code = kept.into_iter().map(|(p, v)| {
            let v = self.expr(v, sc);
            quote!(::core::option::Option::Some(#p) => #v,)
        });
        let rest = if open {
            quote!(::core::option::Option::Some(_) => ::core::option::Option::None,)
        } else {
            quote!()
        };
        quote! {
            match #scrutinee {
                #(#arms_code)*
                #rest
                ::core::option::Option::None => ::core::option::Option::None,
            }
        }
    }

    /// The Rust pattern of each arm of a match on a `ty` value, paired with the arm,
    /// and whether the match needs one more arm for the values no pattern takes. When
    /// the named patterns cover every value, `_` is unreachable (rustc would warn): it
    /// is dropped from its arm, and an arm left with no pattern is left out.
    pub(super) fn match_arms<'p, T>(
        &self,
        ty: &ValueTy,
        arms: impl Iterator<Item = (&'p [Pattern], T)>,
    ) -> (Vec<(TokenStream, T)>, bool) {
        let arms: Vec<(&[Pattern], T)> = arms.collect();
        let named: Vec<&Pattern> = (arms.iter().flat_map(|(p, _)| p.iter()))
            .filter(|p| **p != Pattern::Default)
            .collect();
        let covered = self.exhaustive(ty, &named);
        let has_default = arms.iter().any(|(p, _)| p.contains(&Pattern::Default));
        let kept = (arms.into_iter())
            .filter_map(|(pats, arm)| Some((self.arm_pattern(pats, covered)?, arm)))
            .collect();
        (kept, !has_default && !covered)
    }

    /// An arm's patterns as a Rust pattern: `_` when they include the default arm, or,
    /// when the other arms cover every value, the arm's other patterns (`None` if it
    /// has none).
    fn arm_pattern(&self, pats: &[Pattern], covered: bool) -> Option<TokenStream> {
        if !pats.contains(&Pattern::Default) {
            return Some(self.patterns(pats));
        }
        if !covered {
            return Some(quote!(_));
        }
        let named: Vec<Pattern> = pats
            .iter()
            .filter(|p| **p != Pattern::Default)
            .cloned()
            .collect();
        (!named.is_empty()).then(|| self.patterns(&named))
    }

    /// `A | B` as a Rust pattern.
    pub(super) fn patterns(&self, pats: &[Pattern]) -> TokenStream {
        let ps = pats.iter().map(|p| match p {
            Pattern::Int(v) => {
                let l = Literal::i128_unsuffixed(v.unsigned_abs() as i128);
                if *v < 0 { quote!(-#l) } else { quote!(#l) }
            }
            Pattern::Bool(b) => quote!(#b),
            Pattern::Variant(id, i) => self.variant_path(*id, *i),
            Pattern::Builtin(b) => builtin_path(*b),
            Pattern::Default => quote!(_),
        });
        quote!(#(#ps)|*)
    }

    /// True when the patterns cover every value of the scrutinee's type.
    pub(super) fn exhaustive(&self, ty: &ValueTy, pats: &[&Pattern]) -> bool {
        crate::ir::visit::covers(self.schema, ty, pats)
    }

    /// A field's value: `Some(i128::from(f_len))`, `f_opt.as_ref().map(|v| …)`.
    fn field_value(&self, r: &FieldRef, vty: &ValueTy, len: bool, sc: &Scope<'_>) -> TokenStream {
        let Some((_, s)) = sc.s else {
            return quote!(::core::option::Option::None);
        };
        let Some(field) = s.fields.get(r.field) else {
            return quote!(::core::option::Option::None);
        };
        let l = local(s, r.field);
        let path = self.sub_path(&field.ty, &r.sub);
        let vty = match vty {
            ValueTy::Optional(t) => t.as_ref(),
            t => t,
        };
        let slice = sc.ctx != Ctx::View || self.is_fixed_bytes(&field.ty, &r.sub);
        if field.condition.is_some() {
            let conv = convert(quote!(v), &path, true, vty, len, slice);
            quote!(#l.as_ref().map(|v| #conv))
        } else {
            let is_ref = sc.refs.get(r.field).copied().unwrap_or(false);
            some(convert(quote!(#l), &path, is_ref, vty, len, slice))
        }
    }

    /// True when a path ends at a fixed-size `bytes[N]`, whose view is an array.
    fn is_fixed_bytes(&self, ty: &crate::ir::Type, sub: &[SubField]) -> bool {
        let mut ty = ty;
        for step in sub {
            let (Ty::Named(id), SubField::Field(i)) = (&ty.kind, step) else {
                return false;
            };
            let Some(s) = self.schema.as_struct(*id) else {
                return false;
            };
            ty = &s.fields[*i].ty;
        }
        crate::ir::visit::fixed_bytes(ty).is_some()
    }

    /// `.member.field` for a path into bit groups and nested structs.
    pub(super) fn sub_path(&self, ty: &crate::ir::Type, sub: &[SubField]) -> TokenStream {
        let mut out = TokenStream::new();
        let mut cur = match &ty.kind {
            Ty::Named(id) => Some(*id),
            _ => None,
        };
        for step in sub {
            let Some(id) = cur else { break };
            match (&self.schema.ty(id).kind, step) {
                (TypeKind::Bits(b), SubField::Bit(i)) => {
                    if let Some(n) = b.fields.get(*i).and_then(|m| m.name.as_ref()) {
                        let n = ident(&n.name);
                        out.extend(quote!(.#n));
                    }
                    cur = None;
                }
                (TypeKind::Struct(s), SubField::Field(i)) => {
                    let f = &s.fields[*i];
                    if let Some(n) = &f.name {
                        let n = ident(&n.name);
                        out.extend(quote!(.#n));
                    }
                    cur = match &f.ty.kind {
                        Ty::Named(id) => Some(*id),
                        _ => None,
                    };
                }
                _ => break,
            }
        }
        out
    }

    fn size_of(&self, range: &FieldRange, sc: &Scope<'_>) -> TokenStream {
        let Some((id, s)) = sc.s else {
            return quote!(::core::option::Option::None);
        };
        let (first, last) = match range {
            FieldRange::SelfStruct => (0, s.fields.len()),
            FieldRange::Fields { first, last } => (*first, *last + 1),
        };
        match sc.ctx {
            Ctx::View => {
                let (a, b) = (pos_ident(first), pos_ident(last));
                some(quote!((#b - #a) as i128))
            }
            _ => {
                let writes = self.write_range(id, s, first, last, &quote!(c));
                quote! {{
                    let mut c = __mp::Counter(0);
                    let c = &mut c;
                    #writes
                    ::core::option::Option::Some(c.0 as i128)
                }}
            }
        }
    }

    fn checksum(
        &self,
        kind: crate::ir::Checksum,
        range: &FieldRange,
        sc: &Scope<'_>,
    ) -> TokenStream {
        let Some((id, s)) = sc.s else {
            return quote!(::core::option::Option::None);
        };
        let (first, last) = match range {
            FieldRange::SelfStruct => (0, s.fields.len()),
            FieldRange::Fields { first, last } => (*first, *last + 1),
        };
        let f = ident(match kind {
            crate::ir::Checksum::Crc32 => "crc32",
            crate::ir::Checksum::Sum8 => "sum8",
            crate::ir::Checksum::Xor8 => "xor8",
        });
        match sc.ctx {
            Ctx::View => {
                let (a, b) = (pos_ident(first), pos_ident(last));
                some(quote!(__mp::eval::#f(r.span(#a, #b))))
            }
            _ => {
                let writes = self.write_range(id, s, first, last, &quote!(c));
                quote! {{
                    let mut buf = ::std::vec::Vec::new();
                    let c = &mut buf;
                    #writes
                    ::core::option::Option::Some(__mp::eval::#f(&buf))
                }}
            }
        }
    }
}

/// The local holding the offset where field `i` starts (`i == len` is the end).
pub(super) fn pos_ident(i: usize) -> proc_macro2::Ident {
    quote::format_ident!("p_{}", i)
}

/// Converts a local (or a path inside it) into an expression value.
///
/// `slice` asks for `&x[..]` on text and bytes (owned values, arrays); views of
/// text and bytes are already slices.
fn convert(
    l: TokenStream,
    path: &TokenStream,
    is_ref: bool,
    vty: &ValueTy,
    len: bool,
    slice: bool,
) -> TokenStream {
    let place = if path.is_empty() && is_ref {
        quote!(*#l)
    } else {
        quote!(#l #path)
    };
    if len {
        // Only ever an argument or a closure's body, so no parentheses (they warn).
        return quote!(#l #path.len() as i128);
    }
    match vty {
        ValueTy::Int => quote!(i128::from(#place)),
        ValueTy::Text | ValueTy::Bytes if slice => quote!(&#l #path[..]),
        _ => place,
    }
}

fn binop_fn(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "add",
        BinOp::Sub => "sub",
        BinOp::Mul => "mul",
        BinOp::Div => "div",
        BinOp::Rem => "rem",
        BinOp::BitAnd => "bitand",
        BinOp::BitOr => "bitor",
        BinOp::BitXor => "bitxor",
        BinOp::Shl => "shl",
        BinOp::Shr => "shr",
        BinOp::Eq => "eq",
        BinOp::Ne => "ne",
        BinOp::Lt => "lt",
        BinOp::Le => "le",
        BinOp::Gt => "gt",
        BinOp::Ge => "ge",
        BinOp::And => "and",
        BinOp::Or => "or",
    }
}

/// `__mp::MessageType::Request` and friends.
pub(super) fn builtin_path(b: BuiltinVariant) -> TokenStream {
    let (ty, v) = match b {
        BuiltinVariant::MessageType(v) => ("MessageType", v),
        BuiltinVariant::ResponseStatus(v) => ("ResponseStatus", v),
        BuiltinVariant::ErrorKind(v) => ("ErrorKind", v),
    };
    let (ty, v) = (ident(ty), ident(v));
    quote!(__mp::#ty::#v)
}

fn request_field(f: &RequestField) -> TokenStream {
    match f {
        RequestField::RequestId => quote!(i128::from(request.request_id.unwrap_or(0))),
        RequestField::StreamId => quote!(i128::from(request.stream_id.unwrap_or(0))),
        RequestField::MessageType => quote!(request.message_type),
        RequestField::Property(k) => {
            quote!(request.get(#k).map(__mp::Value::to_text).unwrap_or_default())
        }
    }
}

trait IntoTokens {
    fn into_token_stream_(self) -> TokenStream;
}

impl IntoTokens for Literal {
    fn into_token_stream_(self) -> TokenStream {
        quote!(#self)
    }
}
