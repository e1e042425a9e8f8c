//! Structs and their fields: names, values, constraints and conditions.

use super::exprs::{ExprCx, FieldInfo, int_value};
use super::types::range_of;
use super::{Lowerer, ParsedFile, inner};
use crate::diag::{Diagnostic, Span};
use crate::ir::{ExprKind, Field, FieldValue, Len, Struct, Ty, Type, TypeId, TypeKind, ValueTy};
use crate::syntax::{Rule, docs_above, span_of};
use pest::iterators::Pair;

impl Lowerer {
    pub(super) fn lower_struct(
        &mut self,
        f: &ParsedFile<'_>,
        def: &Pair<'_, Rule>,
        id: Option<TypeId>,
    ) {
        let Some(id) = id else { return };
        let parts = inner(def);
        let is_frame = parts[0].as_str() == "frame";
        if is_frame {
            self.declare_frame(f, &parts[1], id);
        }
        let sname = parts[1].as_str().to_string();
        self.struct_names = parts[2..]
            .iter()
            .filter_map(|m| inner(m).into_iter().next())
            .filter(|b| b.as_rule() == Rule::field)
            .filter_map(|b| inner(&b).into_iter().next().map(|n| n.as_str().to_string()))
            .collect();
        let mut fields: Vec<Field> = Vec::new();
        // What expressions know about the fields so far, kept alongside them: rebuilt for
        // every field, it made lowering quadratic in the field count.
        let mut infos: Vec<FieldInfo> = Vec::new();
        let mut values = Vec::new();
        for m in &parts[2..] {
            if let Some(field) = self.lower_member(f, m, &sname, id, &fields, &mut infos) {
                values.push((fields.len(), m.clone()));
                infos.push(FieldInfo::of(&self.schema, &field));
                fields.push(field);
            }
        }
        // `= …` may measure later fields (`sizeof(body)`), so values are lowered last.
        for (i, m) in values {
            let value = inner(&m)
                .into_iter()
                .next()
                .filter(|b| b.as_rule() == Rule::field)
                .and_then(|b| {
                    inner(&b)
                        .into_iter()
                        .find(|p| p.as_rule() == Rule::field_value)
                })
                .and_then(|v| inner(&v).into_iter().next());
            if let Some(e) = value {
                fields[i].value = self.field_value(f, &e, &fields, &infos, i);
            }
        }
        self.struct_names.clear();
        self.schema.types[id.index()].kind = TypeKind::Struct(Struct { fields, is_frame });
    }

    pub(super) fn declare_frame(&mut self, f: &ParsedFile<'_>, name: &Pair<'_, Rule>, id: TypeId) {
        let span = span_of(name, f.file);
        if !f.root {
            self.diags.push(
                Diagnostic::error("E0205", "an imported file cannot declare a frame")
                    .primary(span, "declared in an imported file")
                    .help("declare the frame in the schema that imports this file"),
            );
        } else if let Some(prev) = self.schema.frame {
            let ps = self.schema.ty(prev).name.span;
            self.diags.push(
                Diagnostic::error("E0205", "a schema has only one frame")
                    .primary(span, "second frame")
                    .secondary(ps, "first frame"),
            );
        } else {
            self.schema.frame = Some(id);
        }
    }

    pub(super) fn lower_member(
        &mut self,
        f: &ParsedFile<'_>,
        m: &Pair<'_, Rule>,
        sname: &str,
        sid: TypeId,
        prev: &[Field],
        infos: &mut Vec<FieldInfo>,
    ) -> Option<Field> {
        let body = inner(m).into_iter().next()?;
        let span = span_of(m, f.file);
        let doc = docs_above(f.text, m.as_span().start());
        let plain = |ty: Ty, ty_span: Span| Field {
            name: None,
            doc: doc.clone(),
            ty: Type {
                kind: ty,
                span: ty_span,
            },
            value: FieldValue::Plain,
            constraint: None,
            condition: None,
            span,
        };
        match body.as_rule() {
            Rule::pad | Rule::align => {
                let n = inner(&body)
                    .into_iter()
                    .next()
                    .and_then(|p| int_value(&p))
                    .unwrap_or(0);
                let n = u64::try_from(n).unwrap_or(0);
                if body.as_rule() == Rule::align && !n.is_power_of_two() {
                    self.diags.push(
                        Diagnostic::error("E0101", "alignment must be a power of two")
                            .primary(span, format!("{n} is not a power of two")),
                    );
                }
                let ty = if body.as_rule() == Rule::pad {
                    Ty::Pad(n)
                } else {
                    Ty::Align(n)
                };
                Some(plain(ty, span))
            }
            _ => self.lower_field(f, &body, sname, sid, prev, infos, doc, span),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn lower_field(
        &mut self,
        f: &ParsedFile<'_>,
        p: &Pair<'_, Rule>,
        sname: &str,
        _sid: TypeId,
        prev: &[Field],
        infos: &mut Vec<FieldInfo>,
        doc: Vec<String>,
        span: Span,
    ) -> Option<Field> {
        let ps = inner(p);
        let name = (ps[0].as_str() != "_").then(|| Self::ident(&ps[0], f.file));
        if let Some(n) = &name {
            self.check_snake(n, "field");
            if let Some(first) = prev
                .iter()
                .filter_map(|x| x.name.as_ref())
                .find(|x| x.name == n.name)
            {
                let fs = first.span;
                self.diags.push(
                    Diagnostic::error("E0202", format!("the field `{}` is defined twice", n.name))
                        .primary(n.span, "defined again here")
                        .secondary(fs, "first defined here"),
                );
            }
        }
        let cx = ExprCx::fields(f.file, infos, prev.len());
        let fname = name
            .as_ref()
            .map_or("field", |n| n.name.as_str())
            .to_string();
        let ty = self.lower_ty(
            f,
            &ps[1],
            &format!("{sname}{}", crate::codegen::camel(&fname)),
            &cx,
        );
        let mut field = Field {
            name,
            doc,
            ty,
            value: FieldValue::Plain,
            constraint: None,
            condition: None,
            span,
        };
        for part in &ps[2..] {
            let e = inner(part).into_iter().next()?;
            match part.as_rule() {
                Rule::field_value => {}
                Rule::field_where => {
                    // A rule reads the field itself too: its info joins the others while
                    // the rule is lowered (copying them all made lowering quadratic).
                    infos.push(FieldInfo::of(&self.schema, &field));
                    let cx = ExprCx::fields(f.file, infos, prev.len() + 1);
                    field.constraint = Some(self.bool_expr(&e, &cx, "a `where` rule"));
                    infos.pop();
                }
                Rule::field_if => {
                    let cx = ExprCx::fields(f.file, infos, prev.len());
                    let c = self.bool_expr(&e, &cx, "an `if` condition");
                    self.check_decidable(&c, "condition");
                    field.condition = Some(c);
                }
                _ => {}
            }
        }
        Some(field)
    }

    /// What expressions need to know about the fields decoded so far.
    pub(crate) fn field_infos(&self, fields: &[Field]) -> Vec<FieldInfo> {
        fields
            .iter()
            .map(|x| FieldInfo::of(&self.schema, x))
            .collect()
    }

    pub(super) fn field_value(
        &mut self,
        f: &ParsedFile<'_>,
        e: &Pair<'_, Rule>,
        all: &[Field],
        infos: &[FieldInfo],
        index: usize,
    ) -> FieldValue {
        let cx = ExprCx::fields(f.file, infos, index).with_any_field_in_calls();
        let field = &all[index];
        let expr = self.lower_expr(e, &cx);
        if let Some(c) = &field.condition {
            self.diags.push(
                Diagnostic::error(
                    "E0406",
                    "a conditional field cannot have a value of its own",
                )
                .primary(expr.span, "a constant or computed value")
                .secondary(c.span, "the field is present only when this holds")
                .help("move the field into a struct or union arm that is present when it is"),
            );
            return FieldValue::Plain;
        }
        let literal = matches!(
            expr.kind,
            ExprKind::Int(_)
                | ExprKind::Bool(_)
                | ExprKind::ByteStr(_)
                | ExprKind::Str(_)
                | ExprKind::Variant(..)
        ) || (matches!(expr.kind, ExprKind::Unary(crate::ir::UnOp::Neg, _))
            && crate::ir::visit::const_int(&expr).is_some());
        if literal {
            self.check_const_fits(field, &expr);
            let expr = match crate::ir::visit::const_int(&expr) {
                Some(v) if !matches!(expr.kind, ExprKind::Int(_)) => crate::ir::Expr {
                    kind: ExprKind::Int(v),
                    ..expr
                },
                _ => expr,
            };
            return FieldValue::Const(expr);
        }
        if !matches!(field.ty.kind, Ty::Int(_) | Ty::Varint | Ty::Zigzag) || expr.ty != ValueTy::Int
        {
            self.diags.push(
                Diagnostic::error("E0406", "only integer fields can be derived")
                    .primary(
                        expr.span,
                        format!(
                            "a derived value of type {}",
                            super::exprs::ty_name(&expr.ty)
                        ),
                    )
                    .secondary(field.ty.span, "for this field")
                    .help("derive integer fields (lengths, counts, checksums) with `= …`"),
            );
        }
        FieldValue::Derived(expr)
    }

    pub(super) fn check_const_fits(&mut self, field: &Field, e: &crate::ir::Expr) {
        if e.ty == ValueTy::Unit {
            return;
        }
        let problem = match (&field.ty.kind, &e.kind, crate::ir::visit::const_int(e)) {
            (Ty::Int(i), _, Some(v)) => {
                let (min, max) = range_of(*i);
                (v < min || v > max).then(|| {
                    format!(
                        "the constant {v} does not fit `{}{}`",
                        if i.signed { "i" } else { "u" },
                        i.bits
                    )
                })
            }
            (Ty::Varint, _, Some(v)) => (v < 0).then(|| "a varint cannot be negative".to_string()),
            (Ty::Zigzag, _, Some(v)) => (i64::try_from(v).is_err())
                .then(|| format!("the constant {v} does not fit a zigzag (`i64`)")),
            (
                Ty::Bytes {
                    text: false,
                    len: Len::Size(n),
                },
                ExprKind::ByteStr(b),
                _,
            ) => {
                let n = crate::ir::visit::const_int(n);
                (n != Some(b.len() as i128)).then(|| {
                    format!(
                        "the constant is {} bytes, but the field is not `bytes[{}]`",
                        b.len(),
                        b.len()
                    )
                })
            }
            (Ty::Bool, ExprKind::Bool(_), _) => None,
            (Ty::Named(id), ExprKind::Variant(eid, _), _) if id == eid => None,
            (Ty::Bytes { text: true, .. }, ExprKind::Str(_), _) => None,
            _ => Some(format!(
                "a constant of type {} cannot be stored in this field",
                super::exprs::ty_name(&e.ty)
            )),
        };
        if let Some(message) = problem {
            self.diags.push(
                Diagnostic::error("E0305", "the constant does not fit its field")
                    .primary(e.span, message)
                    .secondary(field.ty.span, "the field's type"),
            );
        }
    }
}
