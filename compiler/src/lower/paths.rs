//! Names inside expressions: field paths, enum variants, and a reply's request
//! and error parameters.

use super::exprs::{ExprCx, MakeBuiltin, builtin_ty, string_value, unit, value_ty};
use super::{Lowerer, inner};
use crate::diag::{Diagnostic, Span};
use crate::ir::{
    BuiltinVariant, ERROR_KINDS, ErrorField, Expr, ExprKind, FieldRef, MESSAGE_TYPES, Pattern,
    RESPONSE_STATUSES, RequestField, SubField, Ty, Type, TypeKind, ValueTy,
};
use crate::syntax::{Rule, span_of};
use pest::iterators::Pair;

impl Lowerer {
    pub(super) fn forward_ref(&mut self, name: &str, span: Span) {
        self.diags.push(
            Diagnostic::error("E0203", format!("`{name}` is used before it is decoded"))
                .primary(span, "this field comes later")
                .note("fields are decoded in order, so a field can only depend on earlier ones")
                .help("move the field earlier, or compute this one with `sizeof`/`len`"),
        );
    }

    /// `a.b.c`, `Enum::Variant`, `req.request_id`, `err.kind`.
    pub(super) fn path(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Expr {
        let span = span_of(p, cx.file);
        let text = p.as_str().trim_end().to_string();
        if text.contains("::") {
            return self.variant_expr(p, cx);
        }
        let parts: Vec<Pair<'_, Rule>> = inner(p);
        let first = parts[0].as_str();
        if let Some((req, err)) = &cx.params {
            if first == req {
                return self.request_field(&parts, cx, span, text);
            }
            if Some(first) == err.as_deref() {
                return self.error_field(&parts, cx, span, text);
            }
        }
        match self.field_ref(&parts, cx, false) {
            // Only a `match` field, a `()` or padding has no value type.
            Some((_, ty)) if *super::exprs::strip(&ty) == ValueTy::Unit => {
                self.diags.push(
                    Diagnostic::error("E0301", format!("`{text}` has no value to compute with"))
                        .primary(span, "a `match` field, `()` or padding")
                        .help("compute with the union's tag or with fields inside its arms"),
                );
                unit(span, text)
            }
            Some((r, ty)) => Expr {
                kind: ExprKind::Field(r),
                ty,
                span,
                text,
            },
            None => unit(span, text),
        }
    }

    /// Resolves `field.member…` to a field path and its value type.
    pub(crate) fn field_ref(
        &mut self,
        parts: &[Pair<'_, Rule>],
        cx: &ExprCx<'_>,
        any: bool,
    ) -> Option<(FieldRef, ValueTy)> {
        let first = &parts[0];
        let name = first.as_str();
        let Some(index) = cx
            .fields
            .iter()
            .position(|f| f.name.as_deref() == Some(name))
        else {
            if cx.params.is_none() && self.struct_names.iter().any(|n| n == name) {
                self.forward_ref(name, span_of(first, cx.file));
                return None;
            }
            let cands: Vec<&str> = cx.fields.iter().filter_map(|f| f.name.as_deref()).collect();
            self.unknown("field", name, span_of(first, cx.file), &cands);
            return None;
        };
        if index >= cx.visible && !any {
            self.forward_ref(name, span_of(first, cx.file));
            return None;
        }
        let info = &cx.fields[index];
        let mut sub = Vec::new();
        let mut ty = value_ty(&self.schema, &info.ty);
        let mut cur = info.ty.clone();
        for step in &parts[1..] {
            let sname = step.as_str();
            let Ty::Named(id) = &cur.kind else {
                self.diags.push(
                    Diagnostic::error("E0301", format!("`{}` has no members", parts[0].as_str()))
                        .primary(span_of(step, cx.file), "not a bit group or struct"),
                );
                return None;
            };
            match &self.schema.ty(*id).kind {
                TypeKind::Bits(b) => {
                    let Some(i) = b
                        .fields
                        .iter()
                        .position(|m| m.name.as_ref().is_some_and(|n| n.name == sname))
                    else {
                        let cands: Vec<&str> = b
                            .fields
                            .iter()
                            .filter_map(|m| m.name.as_ref().map(|n| n.name.as_str()))
                            .collect();
                        let cands: Vec<String> = cands.iter().map(|s| s.to_string()).collect();
                        let cands: Vec<&str> = cands.iter().map(String::as_str).collect();
                        self.unknown("member", sname, span_of(step, cx.file), &cands);
                        return None;
                    };
                    ty = match b.fields[i].ty {
                        crate::ir::BitTy::Bool => ValueTy::Bool,
                        crate::ir::BitTy::Uint(_) => ValueTy::Int,
                        crate::ir::BitTy::Enum(e) => ValueTy::Enum(e),
                    };
                    sub.push(SubField::Bit(i));
                    cur = Type {
                        kind: Ty::Unit,
                        span: cur.span,
                    };
                }
                TypeKind::Struct(s) => {
                    let Some(i) = s.field_named(sname) else {
                        let cands: Vec<String> = s
                            .fields
                            .iter()
                            .filter_map(|f| f.name.as_ref().map(|n| n.name.clone()))
                            .collect();
                        let cands: Vec<&str> = cands.iter().map(String::as_str).collect();
                        self.unknown("field", sname, span_of(step, cx.file), &cands);
                        return None;
                    };
                    cur = s.fields[i].ty.clone();
                    ty = value_ty(&self.schema, &cur);
                    sub.push(SubField::Field(i));
                }
                _ => {
                    self.diags.push(
                        Diagnostic::error(
                            "E0301",
                            format!("`{}` has no members", parts[0].as_str()),
                        )
                        .primary(span_of(step, cx.file), "not a bit group or struct"),
                    );
                    return None;
                }
            }
        }
        if info.optional {
            ty = ValueTy::Optional(Box::new(ty));
        }
        Some((FieldRef { field: index, sub }, ty))
    }

    pub(super) fn variant_expr(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Expr {
        let span = span_of(p, cx.file);
        let parts = inner(p);
        let (ty_name_s, var) = (parts[0].as_str(), parts.get(1).map_or("", |v| v.as_str()));
        let text = p.as_str().trim_end().to_string();
        match self.resolve_variant(ty_name_s, var, span) {
            Some(Pattern::Variant(id, i)) => Expr {
                kind: ExprKind::Variant(id, i),
                ty: ValueTy::Enum(id),
                span,
                text,
            },
            Some(Pattern::Builtin(b)) => Expr {
                kind: ExprKind::Builtin(b),
                ty: builtin_ty(b),
                span,
                text,
            },
            _ => unit(span, text),
        }
    }

    /// `Enum::Variant` as a pattern (user or built-in enum).
    pub(crate) fn resolve_variant(&mut self, ty: &str, var: &str, span: Span) -> Option<Pattern> {
        let builtin: Option<(&[&'static str], MakeBuiltin)> = match ty {
            "MessageType" => Some((&MESSAGE_TYPES, BuiltinVariant::MessageType)),
            "ResponseStatus" => Some((&RESPONSE_STATUSES, BuiltinVariant::ResponseStatus)),
            "ErrorKind" => Some((&ERROR_KINDS, BuiltinVariant::ErrorKind)),
            _ => None,
        };
        if let Some((names, make)) = builtin {
            return match names.iter().find(|n| **n == var) {
                Some(n) => Some(Pattern::Builtin(make(n))),
                None => {
                    self.unknown(&format!("variant of `{ty}`"), var, span, names);
                    None
                }
            };
        }
        let Some(id) = self.names.get(ty).copied() else {
            let mut cands: Vec<String> = self
                .schema
                .types
                .iter()
                .filter(|t| matches!(t.kind, TypeKind::Enum(_)))
                .map(|t| t.name.name.clone())
                .collect();
            cands.extend(["MessageType", "ResponseStatus", "ErrorKind"].map(String::from));
            let cands: Vec<&str> = cands.iter().map(String::as_str).collect();
            self.unknown("enum", ty, span, &cands);
            return None;
        };
        let TypeKind::Enum(e) = &self.schema.ty(id).kind else {
            self.diags.push(
                Diagnostic::error("E0301", format!("`{ty}` is not an enum"))
                    .primary(span, "expected an enum"),
            );
            return None;
        };
        match e.variants.iter().position(|v| v.name.name == var) {
            Some(i) => Some(Pattern::Variant(id, i)),
            None => {
                let cands: Vec<String> = e.variants.iter().map(|v| v.name.name.clone()).collect();
                let cands: Vec<&str> = cands.iter().map(String::as_str).collect();
                self.unknown(&format!("variant of `{ty}`"), var, span, &cands);
                None
            }
        }
    }

    pub(super) fn request_field(
        &mut self,
        parts: &[Pair<'_, Rule>],
        cx: &ExprCx<'_>,
        span: Span,
        text: String,
    ) -> Expr {
        let field = parts.get(1).map_or("", |p| p.as_str());
        let (f, ty) = match field {
            "request_id" => (RequestField::RequestId, ValueTy::Int),
            "stream_id" => (RequestField::StreamId, ValueTy::Int),
            "message_type" => (RequestField::MessageType, ValueTy::MessageType),
            _ => {
                let s = parts.get(1).map_or(span, |p| span_of(p, cx.file));
                self.unknown(
                    "request field",
                    field,
                    s,
                    &["request_id", "stream_id", "message_type"],
                );
                return unit(span, text);
            }
        };
        Expr {
            kind: ExprKind::Request(f),
            ty,
            span,
            text,
        }
    }

    pub(super) fn error_field(
        &mut self,
        parts: &[Pair<'_, Rule>],
        cx: &ExprCx<'_>,
        span: Span,
        text: String,
    ) -> Expr {
        let field = parts.get(1).map_or("", |p| p.as_str());
        let (f, ty) = match field {
            "message" => (ErrorField::Message, ValueTy::Text),
            "kind" => (ErrorField::Kind, ValueTy::ErrorKind),
            _ => {
                let s = parts.get(1).map_or(span, |p| span_of(p, cx.file));
                self.unknown("error field", field, s, &["message", "kind"]);
                return unit(span, text);
            }
        };
        Expr {
            kind: ExprKind::Error(f),
            ty,
            span,
            text,
        }
    }

    pub(super) fn index(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Expr {
        let span = span_of(p, cx.file);
        let text = p.as_str().trim_end().to_string();
        let parts = inner(p);
        let is_req = cx
            .params
            .as_ref()
            .is_some_and(|(r, _)| r == parts[0].as_str());
        if !is_req {
            self.diags.push(
                Diagnostic::error("E0301", "only a reply's request can be indexed")
                    .primary(span, "`name[\"key\"]` reads a request property")
                    .help("in a reply, write `req[\"key\"]`"),
            );
            return unit(span, text);
        }
        let key = string_value(&parts[1]).unwrap_or_default();
        Expr {
            kind: ExprKind::Request(RequestField::Property(key)),
            ty: ValueTy::Text,
            span,
            text,
        }
    }
}
