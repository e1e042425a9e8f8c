//! Walks over expressions and types, for the passes that need to know what refers to what.

use super::{Expr, ExprKind, FieldRange, FieldRef, Len, Ty, Type};

/// Calls `f` on every field path an expression reads, including those inside
/// `sizeof`, `len` and checksum arguments (as single-field refs for ranges).
pub fn field_refs(e: &Expr, f: &mut impl FnMut(&FieldRef)) {
    match &e.kind {
        ExprKind::Field(r) | ExprKind::LenOf(r) => f(r),
        ExprKind::SizeOf(range) | ExprKind::Checksum(_, range) => {
            if let FieldRange::Fields { first, last } = range {
                for field in *first..=*last {
                    f(&FieldRef { field, sub: vec![] });
                }
            }
        }
        ExprKind::Unary(_, a) | ExprKind::Coerce(_, a) => field_refs(a, f),
        ExprKind::Binary(_, a, b) => {
            field_refs(a, f);
            field_refs(b, f);
        }
        ExprKind::If(c, a, b) => {
            field_refs(c, f);
            field_refs(a, f);
            field_refs(b, f);
        }
        ExprKind::Match(s, arms) => {
            field_refs(s, f);
            for (_, v) in arms {
                field_refs(v, f);
            }
        }
        ExprKind::StructLit(_, fields) => fields.iter().for_each(|(_, v)| field_refs(v, f)),
        ExprKind::KvLit(pairs) => pairs.iter().for_each(|(k, v)| {
            field_refs(k, f);
            field_refs(v, f);
        }),
        ExprKind::ListLit(items) => items.iter().for_each(|v| field_refs(v, f)),
        ExprKind::Int(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::ByteStr(_)
        | ExprKind::Variant(..)
        | ExprKind::Builtin(_)
        | ExprKind::Request(_)
        | ExprKind::Error(_) => {}
    }
}

/// Indices of the fields an expression reads directly.
pub fn fields_read(e: &Expr) -> Vec<usize> {
    let mut out = Vec::new();
    field_refs(e, &mut |r| {
        if !out.contains(&r.field) {
            out.push(r.field);
        }
    });
    out
}

/// The length expression of a type, if its length comes from one.
pub fn len_expr(ty: &Type) -> Option<&Expr> {
    match &ty.kind {
        Ty::Bytes { len, .. } | Ty::List { len, .. } | Ty::KvList { len, .. } => match len {
            Len::Count(e) | Len::Size(e) => Some(e),
            _ => None,
        },
        _ => None,
    }
}

/// True when an expression reads no field (a literal or arithmetic on literals).
pub fn is_constant(e: &Expr) -> bool {
    fields_read(e).is_empty()
        && !matches!(
            e.kind,
            ExprKind::SizeOf(_)
                | ExprKind::Checksum(..)
                | ExprKind::Request(_)
                | ExprKind::Error(_)
        )
}

/// Evaluates an expression made only of integer literals and arithmetic.
pub fn const_int(e: &Expr) -> Option<i128> {
    use super::BinOp::*;
    match &e.kind {
        ExprKind::Int(v) => Some(*v),
        ExprKind::Unary(super::UnOp::Neg, a) => const_int(a)?.checked_neg(),
        ExprKind::Binary(op, a, b) => {
            let (a, b) = (const_int(a)?, const_int(b)?);
            match op {
                Add => a.checked_add(b),
                Sub => a.checked_sub(b),
                Mul => a.checked_mul(b),
                Div => a.checked_div(b),
                Rem => a.checked_rem(b),
                BitAnd => Some(a & b),
                BitOr => Some(a | b),
                BitXor => Some(a ^ b),
                Shl => a.checked_shl(u32::try_from(b).ok()?),
                Shr => a.checked_shr(u32::try_from(b).ok()?),
                _ => None,
            }
        }
        _ => None,
    }
}
