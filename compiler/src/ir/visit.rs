//! Walks over expressions and types, for the passes that need to know what refers to what.

use super::{
    BuiltinVariant, ERROR_KINDS, Expr, ExprKind, FieldRange, FieldRef, FieldValue, Len,
    MESSAGE_TYPES, Pattern, RESPONSE_STATUSES, Schema, Struct, SubField, Ty, Type, TypeId,
    TypeKind, ValueTy,
};

/// The direct sub-expressions of an expression.
pub fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Unary(_, a) | ExprKind::Coerce(_, a) => vec![a],
        ExprKind::Binary(_, a, b) => vec![a, b],
        ExprKind::If(c, a, b) => vec![c, a, b],
        ExprKind::Match(s, arms) => std::iter::once(s.as_ref())
            .chain(arms.iter().map(|(_, v)| v))
            .collect(),
        ExprKind::StructLit(_, fields) => fields.iter().map(|(_, v)| v).collect(),
        ExprKind::KvLit(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
        ExprKind::ListLit(items) => items.iter().collect(),
        _ => vec![],
    }
}

/// Calls `f` on an expression and every expression inside it, outermost first.
pub fn walk(e: &Expr, f: &mut impl FnMut(&Expr)) {
    f(e);
    for c in children(e) {
        walk(c, f);
    }
}

/// Calls `f` on every field path an expression reads, including those inside
/// `sizeof`, `len` and checksum arguments (as single-field refs for ranges).
pub fn field_refs(e: &Expr, f: &mut impl FnMut(&FieldRef)) {
    walk(e, &mut |e| match &e.kind {
        ExprKind::Field(r) | ExprKind::LenOf(r) => f(r),
        ExprKind::SizeOf(FieldRange::Fields { first, last })
        | ExprKind::Checksum(_, FieldRange::Fields { first, last }) => {
            for field in *first..=*last {
                f(&FieldRef { field, sub: vec![] });
            }
        }
        _ => {}
    });
}

/// Calls `f` on the range of every `sizeof` and checksum, with `true` for checksums.
pub fn ranges(e: &Expr, f: &mut impl FnMut(&FieldRange, bool)) {
    walk(e, &mut |e| match &e.kind {
        ExprKind::SizeOf(r) => f(r, false),
        ExprKind::Checksum(_, r) => f(r, true),
        _ => {}
    });
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

/// The struct and field index of each field a path from struct `start` passes
/// through, unless it ends in a bit member.
pub fn path_fields(schema: &Schema, start: TypeId, r: &FieldRef) -> Option<Vec<(TypeId, usize)>> {
    let mut at = vec![(start, r.field)];
    for step in &r.sub {
        let SubField::Field(next) = step else {
            return None;
        };
        let (id, i) = *at.last()?;
        let Ty::Named(inner) = schema.as_struct(id)?.fields.get(i)?.ty.kind else {
            return None;
        };
        at.push((inner, *next));
    }
    Some(at)
}

/// The struct and field index a path from struct `start` ends at, unless it ends
/// in a bit member.
pub fn path_end(schema: &Schema, start: TypeId, r: &FieldRef) -> Option<(TypeId, usize)> {
    path_fields(schema, start, r)?.last().copied()
}

/// The types a type holds: a list's element, a key/value list's key and value, a
/// union's arms.
pub fn inner_types(ty: &Type) -> Vec<&Type> {
    match &ty.kind {
        Ty::List { elem, .. } => vec![elem],
        Ty::KvList { key, value, .. } => vec![key, value],
        Ty::Union(u) => u.arms.iter().map(|a| &a.ty).collect(),
        _ => vec![],
    }
}

/// The expressions a struct's fields evaluate: derived values, `where` rules,
/// conditions, and the lengths and union tags inside their types.
pub fn struct_exprs(s: &Struct) -> Vec<&Expr> {
    let mut out = Vec::new();
    for f in &s.fields {
        if let FieldValue::Derived(e) = &f.value {
            out.push(e);
        }
        out.extend(f.constraint.iter().chain(&f.condition));
        type_exprs(&f.ty, &mut out);
    }
    out
}

/// The lengths and union tags inside a type.
fn type_exprs<'a>(ty: &'a Type, out: &mut Vec<&'a Expr>) {
    out.extend(len_expr(ty));
    if let Ty::Union(u) = &ty.kind {
        out.push(&u.tag);
    }
    for inner in inner_types(ty) {
        type_exprs(inner, out);
    }
}

/// The length N of a `bytes[N]` type with a constant N, whose owned value is an array.
pub fn fixed_bytes(ty: &Type) -> Option<u64> {
    match &ty.kind {
        Ty::Bytes {
            text: false,
            len: Len::Size(e),
        } => u64::try_from(const_int(e)?).ok(),
        _ => None,
    }
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

/// True when `pats` match every value of `ty` (a bool, a closed enum or a built-in enum).
pub fn covers(schema: &Schema, ty: &ValueTy, pats: &[&Pattern]) -> bool {
    let has = |p: Pattern| pats.contains(&&p);
    match ty {
        ValueTy::Optional(t) => covers(schema, t, pats),
        ValueTy::Bool => has(Pattern::Bool(true)) && has(Pattern::Bool(false)),
        ValueTy::Enum(id) => match &schema.ty(*id).kind {
            TypeKind::Enum(e) => {
                e.unknown.is_none() && (0..e.variants.len()).all(|i| has(Pattern::Variant(*id, i)))
            }
            _ => false,
        },
        ValueTy::MessageType => MESSAGE_TYPES
            .iter()
            .all(|n| has(Pattern::Builtin(BuiltinVariant::MessageType(n)))),
        ValueTy::ResponseStatus => RESPONSE_STATUSES
            .iter()
            .all(|n| has(Pattern::Builtin(BuiltinVariant::ResponseStatus(n)))),
        ValueTy::ErrorKind => ERROR_KINDS
            .iter()
            .all(|n| has(Pattern::Builtin(BuiltinVariant::ErrorKind(n)))),
        _ => false,
    }
}
