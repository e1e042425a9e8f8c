//! Expressions that read into a nested struct must read what its owned type holds.

use crate::diag::{Diagnostic, Diagnostics};
use crate::ir::visit::{field_refs, path_fields, struct_exprs};
use crate::ir::{Expr, FieldValue, Schema, TypeId, TypeKind};

use super::Layout;

/// E0406 for an expression that a struct evaluates on encode (a condition, union tag,
/// length, derived value or `where` rule) and that reads a field of a nested struct
/// which that struct's owned type leaves out: a constant, or a value encode computes.
/// The encoder has only the owned value to read it from.
pub(super) fn check_nested_reads(schema: &Schema, layout: &Layout, diags: &mut Diagnostics) {
    for id in schema.type_ids() {
        if let TypeKind::Struct(s) = &schema.ty(id).kind {
            // All of them are evaluated when encoding.
            for e in struct_exprs(s) {
                check_expr(schema, layout, id, e, diags);
            }
        }
    }
}

fn check_expr(schema: &Schema, layout: &Layout, id: TypeId, e: &Expr, diags: &mut Diagnostics) {
    let mut first = None;
    field_refs(e, &mut |r| {
        let Some(steps) = path_fields(schema, id, r) else {
            return;
        };
        // The first step is this struct's own field; the rest are nested ones.
        for &(sid, i) in steps.iter().skip(1) {
            let (Some(s), Some(l)) = (schema.as_struct(sid), layout.structs[sid.index()].as_ref())
            else {
                continue;
            };
            let f = &s.fields[i];
            let left_out = !matches!(f.value, FieldValue::Plain) || l.fields[i].derive.is_some();
            if left_out && first.is_none() {
                first = Some((sid, i));
            }
        }
    });
    let Some((sid, i)) = first else { return };
    let s = schema.as_struct(sid).expect("a path steps through structs");
    let f = &s.fields[i];
    let name = f.name.as_ref().map_or("_", |n| n.name.as_str());
    let what = if matches!(f.value, FieldValue::Const(_)) {
        "a constant"
    } else {
        "computed on encode"
    };
    let owner = &schema.ty(sid).name.name;
    diags.push(
        Diagnostic::error(
            "E0406",
            format!("`{name}` of `{owner}` is {what}, so this cannot read it"),
        )
        .primary(e.span, "read when encoding")
        .secondary(f.span, format!("`{owner}`'s owned type has no `{name}`"))
        .note("encoding reads nested structs from their owned values, which leave out constants and computed fields")
        .help(format!(
            "read a plain field of `{owner}` instead, or decide this inside `{owner}`"
        )),
    );
}
