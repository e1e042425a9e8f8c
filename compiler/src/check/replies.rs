//! Replies build frames through the encoder, which computes lengths itself: a
//! reply may not set a field that a later field's length derives.

use super::layout::{Derive, Layout};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::ir::visit::{path_fields, walk};
use crate::ir::{Assign, ExprKind, Schema, TypeId};

/// Reports reply assignments and struct literals that set an implicit length field.
pub(super) fn check_reply_targets(schema: &Schema, layout: &Layout, diags: &mut Diagnostics) {
    let replies = [&schema.error_reply, &schema.heartbeat_reply];
    for reply in replies.into_iter().flatten() {
        for a in &reply.assigns {
            check_assign(schema, layout, reply.target, a, diags);
        }
    }
}

/// Checks one `path = value` line: the field it assigns, then every struct literal in the value.
fn check_assign(
    schema: &Schema,
    layout: &Layout,
    target: TypeId,
    a: &Assign,
    diags: &mut Diagnostics,
) {
    if let Some(path) = path_fields(schema, target, &a.target)
        && let Some(&(id, field)) = path.last()
        && let Some(d) = derived_length(schema, layout, id, field, assigned(schema, &path, a))
    {
        diags.push(d);
    }
    walk(&a.value, &mut |e| {
        if let ExprKind::StructLit(id, fields) = &e.kind {
            for (field, v) in fields {
                if let Some(d) =
                    derived_length(schema, layout, *id, *field, Setter::Literal(v.span))
                {
                    diags.push(d);
                }
            }
        }
    });
}

/// The setter of a `path = value` line: its span and the path to the struct it ends in.
fn assigned(schema: &Schema, path: &[(TypeId, usize)], a: &Assign) -> Setter {
    let prefix: String = path[..path.len().saturating_sub(1)]
        .iter()
        .filter_map(|&(id, i)| schema.as_struct(id)?.fields.get(i)?.name.as_ref())
        .map(|n| format!("{}.", n.name))
        .collect();
    Setter::Assigned(a.span, prefix)
}

/// How a reply sets a field, and where.
enum Setter {
    /// `path = value`, spanning the line, with the path's parents (`inner.`).
    Assigned(Span, String),
    /// `Name { field: value }`, spanning the value.
    Literal(Span),
}

/// E0406 if field `field` of struct `id` is a length that encode derives from a later field.
fn derived_length(
    schema: &Schema,
    layout: &Layout,
    id: TypeId,
    field: usize,
    how: Setter,
) -> Option<Diagnostic> {
    let fields = &layout.structs.get(id.index())?.as_ref()?.fields;
    let Some(Derive::Implicit { user, .. }) = fields.get(field)?.derive else {
        return None;
    };
    let s = schema.as_struct(id)?;
    let name_of = |i: usize| s.fields[i].name.as_ref().map_or("_", |n| n.name.as_str());
    let (name, user_name) = (name_of(field), name_of(user));
    let (verb, span, help) = match &how {
        Setter::Assigned(span, prefix) => (
            "assigned",
            *span,
            format!("assign `{prefix}{user_name}` instead; `{name}` follows from it"),
        ),
        Setter::Literal(span) => (
            "set",
            *span,
            format!("leave `{name}` out and set `{user_name}`; `{name}` follows from it"),
        ),
    };
    Some(
        Diagnostic::error(
            "E0406",
            format!("`{name}` is computed on encode and cannot be {verb}"),
        )
        .primary(span, format!("{verb} here"))
        .secondary(
            s.fields[user].span,
            format!("`{name}` is the length of `{user_name}`"),
        )
        .help(help),
    )
}

#[cfg(test)]
mod tests {
    use crate::diag::SourceMap;

    /// The codes reported for a reply body on a frame whose `inner` (or `arm`, or
    /// `items`) holds an `Inner` with an implicit length `n`.
    fn reply_codes(body: &str) -> Vec<&'static str> {
        reply_diagnostics(body).iter().map(|d| d.code).collect()
    }

    /// The diagnostics for such a reply body, none if it compiles.
    fn reply_diagnostics(body: &str) -> Vec<crate::diag::Diagnostic> {
        let text = format!(
            "protocol p {{}}\nstruct Inner {{\n n: u8\n body: bytes[n]\n}}\nframe M {{\n k: u8\n inner: Inner\n arm: match k {{ 1 => Inner, _ => () }}\n items: [Inner; u8]\n}}\nreply heartbeat(req) -> M {{\n {body}\n}}\n"
        );
        let mut sources = SourceMap::new();
        match crate::compile_str("m.mproto", &text, &mut sources) {
            Ok(_) => vec![],
            Err(d) => d.into_sorted(),
        }
    }

    #[test]
    fn a_literal_may_leave_its_length_to_encode() {
        assert!(reply_codes(r#"inner = Inner { body: b"abc" }"#).is_empty());
        assert!(reply_codes(r#"inner.body = b"abc""#).is_empty());
    }

    #[test]
    fn a_length_set_anywhere_in_a_reply_is_refused() {
        for body in [
            r#"inner = Inner { n: 3, body: b"abc" }"#,
            r#"arm = Inner { n: 3 }"#,
            r#"items = [Inner { body: b"a" }, Inner { n: 1 }]"#,
            "inner.n = 3",
        ] {
            assert_eq!(reply_codes(body), ["E0406"], "{body}");
        }
    }

    #[test]
    fn a_nested_length_points_at_the_nested_field_it_measures() {
        let d = reply_diagnostics("inner.n = 3");
        assert_eq!(
            d[0].help.as_deref(),
            Some("assign `inner.body` instead; `n` follows from it")
        );
    }
}
