//! Replies: assignments to the frame, with values coerced to the fields they fill.

use super::exprs::{ExprCx, FieldInfo, ty_name};
use super::{Lowerer, ParsedFile, inner};
use crate::diag::Diagnostic;
use crate::ir::{
    Assign, BitTy, Coercion, Expr, ExprKind, FieldRef, FieldValue, Reply, ReplyKind, SubField, Ty,
    Type, TypeId, TypeKind, ValueTy,
};
use crate::syntax::{Rule, span_of};
use pest::iterators::Pair;

impl Lowerer {
    pub(super) fn lower_reply(&mut self, f: &ParsedFile<'_>, def: &Pair<'_, Rule>) {
        if !self.not_in_import(f, def, "a reply") {
            return;
        }
        let parts = inner(def);
        let span = span_of(def, f.file);
        let kind_name = parts[0].as_str();
        let mut params: Vec<crate::ir::Ident> = parts[1..]
            .iter()
            .take_while(|p| p.as_rule() == Rule::ident)
            .map(|p| Self::ident(p, f.file))
            .collect();
        // The last name before the block is the frame the reply builds.
        params.pop();
        let target_pair = &parts[params.len() + 1];
        let kind = match (kind_name, params.len()) {
            ("error", 2) => ReplyKind::Error,
            ("heartbeat", 1) => ReplyKind::Heartbeat,
            ("error", _) | ("heartbeat", _) => {
                let want = if kind_name == "error" {
                    "`reply error(req, err)`"
                } else {
                    "`reply heartbeat(req)`"
                };
                self.diags.push(
                    Diagnostic::error("E0504", format!("wrong parameters for a {kind_name} reply"))
                        .primary(span_of(&parts[0], f.file), format!("expected {want}")),
                );
                return;
            }
            _ => {
                self.unknown(
                    "reply",
                    kind_name,
                    span_of(&parts[0], f.file),
                    &["error", "heartbeat"],
                );
                return;
            }
        };
        let Some(target) = self.frame_named(f, target_pair, "E0504") else {
            return;
        };
        let existing = if kind == ReplyKind::Error {
            &self.schema.error_reply
        } else {
            &self.schema.heartbeat_reply
        };
        if let Some(prev) = existing {
            let ps = prev.span;
            self.diags.push(
                Diagnostic::error("E0504", format!("a second `{kind_name}` reply"))
                    .primary(span, "second")
                    .secondary(ps, "first"),
            );
            return;
        }
        let infos = self.frame_infos(target);
        let mut cx = ExprCx::fields(f.file, &[], 0);
        cx.params = Some((
            params[0].name.clone(),
            params.get(1).map(|p| p.name.clone()),
        ));
        let mut assigns = Vec::new();
        for a in &parts[params.len() + 2..] {
            if let Some(assign) = self.lower_assign(f, a, target, &infos, &cx) {
                assigns.push(assign);
            }
        }
        let reply = Reply {
            kind,
            req: params[0].clone(),
            err: params.get(1).cloned(),
            target,
            assigns,
            span,
        };
        match kind {
            ReplyKind::Error => self.schema.error_reply = Some(reply),
            ReplyKind::Heartbeat => self.schema.heartbeat_reply = Some(reply),
        }
    }

    pub(super) fn lower_assign(
        &mut self,
        f: &ParsedFile<'_>,
        a: &Pair<'_, Rule>,
        target: TypeId,
        infos: &[FieldInfo],
        cx: &ExprCx<'_>,
    ) -> Option<Assign> {
        let ps = inner(a);
        let span = span_of(a, f.file);
        let path = inner(&ps[0]);
        let fcx = ExprCx::fields(f.file, infos, infos.len());
        let (r, _) = self.field_ref(&path, &fcx, true)?;
        let s = self.schema.as_struct(target)?.clone();
        // A nested path (`inner.len`) may end at a computed field too.
        let field = crate::ir::visit::path_end(&self.schema, target, &r)
            .and_then(|(id, i)| self.schema.as_struct(id)?.fields.get(i))
            .cloned();
        if let Some(field) = field.filter(|g| !matches!(g.value, FieldValue::Plain)) {
            let what = if matches!(field.value, FieldValue::Const(_)) {
                "a constant"
            } else {
                "derived"
            };
            self.diags.push(
                Diagnostic::error(
                    "E0406",
                    format!(
                        "`{}` is {what} and cannot be assigned",
                        ps[0].as_str().trim_end()
                    ),
                )
                .primary(span_of(&ps[0], f.file), "assigned here")
                .secondary(field.span, "its value is fixed by the schema")
                .help("remove this line; encode writes the value the schema gives"),
            );
            return None;
        }
        let slot = self.slot_of(&s, &r)?;
        let value = self.lower_value(f, &ps[1], &slot, cx);
        Some(Assign {
            target: r,
            value,
            span,
        })
    }

    /// What an assignment path points at.
    pub(super) fn slot_of(&self, s: &crate::ir::Struct, r: &FieldRef) -> Option<Slot> {
        let f = s.fields.get(r.field)?;
        let mut ty = f.ty.clone();
        let mut optional = f.condition.is_some();
        for step in &r.sub {
            let Ty::Named(id) = &ty.kind else { return None };
            match (&self.schema.ty(*id).kind, step) {
                (TypeKind::Bits(b), SubField::Bit(i)) => {
                    return Some(Slot::Bit(b.fields.get(*i)?.ty));
                }
                (TypeKind::Struct(inner), SubField::Field(i)) => {
                    let g = inner.fields.get(*i)?;
                    optional = g.condition.is_some();
                    ty = g.ty.clone();
                }
                _ => return None,
            }
        }
        Some(Slot::Field(ty, optional))
    }

    /// A reply value, coerced to the slot it is assigned to.
    pub(super) fn lower_value(
        &mut self,
        f: &ParsedFile<'_>,
        p: &Pair<'_, Rule>,
        slot: &Slot,
        cx: &ExprCx<'_>,
    ) -> Expr {
        match slot {
            Slot::Bit(bt) => {
                let e = self.lower_expr(p, cx);
                let want = match bt {
                    BitTy::Bool => ValueTy::Bool,
                    BitTy::Uint(_) => ValueTy::Int,
                    BitTy::Enum(id) => ValueTy::Enum(*id),
                };
                self.expect(&e, &want);
                e
            }
            Slot::Field(ty, optional) => {
                let e = self.value_for(f, p, ty, cx);
                if *optional {
                    wrap(Coercion::Present, e)
                } else {
                    e
                }
            }
        }
    }

    /// A value of a wire type: literals take the type's shape, other values are coerced.
    pub(super) fn value_for(
        &mut self,
        f: &ParsedFile<'_>,
        p: &Pair<'_, Rule>,
        ty: &Type,
        cx: &ExprCx<'_>,
    ) -> Expr {
        let x = unwrap_primary(p);
        let span = span_of(p, f.file);
        let text = p.as_str().trim_end().to_string();
        match (x.as_rule(), &ty.kind) {
            (Rule::kv_lit, Ty::KvList { key, value, .. }) => {
                let pairs = inner(&x)
                    .iter()
                    .map(|kv| {
                        let ps = inner(kv);
                        (
                            self.value_for(f, &ps[0], key, cx),
                            self.value_for(f, &ps[1], value, cx),
                        )
                    })
                    .collect();
                Expr {
                    kind: ExprKind::KvLit(pairs),
                    ty: ValueTy::KvList,
                    span,
                    text,
                }
            }
            (Rule::list_lit, Ty::List { elem, .. }) => {
                let items = inner(&x)
                    .iter()
                    .map(|v| self.value_for(f, v, elem, cx))
                    .collect();
                let vt = super::exprs::value_ty(&self.schema, elem);
                Expr {
                    kind: ExprKind::ListLit(items),
                    ty: ValueTy::List(Box::new(vt)),
                    span,
                    text,
                }
            }
            (Rule::struct_lit, _) => {
                let lit = self.struct_lit(f, &x, cx);
                self.coerce(lit, ty)
            }
            _ => {
                let e = self.lower_expr(p, cx);
                self.coerce(e, ty)
            }
        }
    }

    pub(super) fn struct_lit(
        &mut self,
        f: &ParsedFile<'_>,
        x: &Pair<'_, Rule>,
        cx: &ExprCx<'_>,
    ) -> Expr {
        let span = span_of(x, f.file);
        let text = x.as_str().to_string();
        let ps = inner(x);
        let name = ps[0].as_str();
        let Some(id) = self
            .names
            .get(name)
            .copied()
            .filter(|id| matches!(self.schema.ty(*id).kind, TypeKind::Struct(_)))
        else {
            let cands: Vec<String> = self
                .schema
                .types
                .iter()
                .filter(|t| matches!(t.kind, TypeKind::Struct(_)))
                .map(|t| t.name.name.clone())
                .collect();
            let cands: Vec<&str> = cands.iter().map(String::as_str).collect();
            self.unknown("struct", name, span_of(&ps[0], f.file), &cands);
            return Expr {
                kind: ExprKind::Int(0),
                ty: ValueTy::Unit,
                span,
                text,
            };
        };
        let s = self
            .schema
            .as_struct(id)
            .cloned()
            .unwrap_or(crate::ir::Struct {
                fields: vec![],
                is_frame: false,
            });
        let mut fields = Vec::new();
        for lf in &ps[1..] {
            let lps = inner(lf);
            let fname = lps[0].as_str();
            let Some(i) = s.field_named(fname) else {
                let cands: Vec<String> = s
                    .fields
                    .iter()
                    .filter_map(|g| g.name.as_ref().map(|n| n.name.clone()))
                    .collect();
                let cands: Vec<&str> = cands.iter().map(String::as_str).collect();
                self.unknown("field", fname, span_of(&lps[0], f.file), &cands);
                continue;
            };
            let g = &s.fields[i];
            if fields.iter().any(|(j, _)| *j == i) {
                self.diags.push(
                    Diagnostic::error("E0202", format!("field `{fname}` is set twice"))
                        .primary(span_of(&lps[0], f.file), "set again here")
                        .help("set each field once"),
                );
                continue;
            }
            if !matches!(g.value, FieldValue::Plain) {
                self.diags.push(
                    Diagnostic::error(
                        "E0406",
                        format!("`{fname}` is computed by the schema and cannot be set"),
                    )
                    .primary(span_of(&lps[0], f.file), "set here")
                    .secondary(g.span, "fixed by the schema"),
                );
                continue;
            }
            let v = self.value_for(f, &lps[1], &g.ty, cx);
            let v = if g.condition.is_some() {
                wrap(Coercion::Present, v)
            } else {
                v
            };
            fields.push((i, v));
        }
        Expr {
            kind: ExprKind::StructLit(id, fields),
            ty: ValueTy::Struct(id),
            span,
            text,
        }
    }

    /// Converts a value to a field type, or reports a mismatch.
    pub(super) fn coerce(&mut self, e: Expr, ty: &Type) -> Expr {
        // A field whose type failed to resolve was reported already.
        if matches!(ty.kind, Ty::Unit) {
            return e;
        }
        let vt = e.ty.clone();
        let unit_value =
            matches!(&e.kind, ExprKind::ListLit(v) if v.is_empty()) && vt == ValueTy::Unit;
        if vt == ValueTy::Unit && !unit_value {
            return e;
        }
        if !self.fits_fixed_bytes(&e, ty) {
            return e;
        }
        let target = super::exprs::value_ty(&self.schema, ty);
        let coercion = match (&ty.kind, &vt) {
            // A union's value type says nothing about its arms; pick one below.
            (Ty::Union(u), _) => {
                let same = |a: &crate::ir::Arm| super::exprs::value_ty(&self.schema, &a.ty) == vt;
                // Among `bytes[N]` arms, the one a byte string fills exactly.
                let arm = u
                    .arms
                    .iter()
                    .position(|a| same(a) && fills_fixed_bytes(&e, &a.ty))
                    .or_else(|| u.arms.iter().position(same));
                if let Some(i) = arm
                    && !self.fits_fixed_bytes(&e, &u.arms[i].ty)
                {
                    return e;
                }
                arm.map(Coercion::ToArm)
            }
            (_, t) if *t == target => return e,
            (
                Ty::Bytes { text: true, .. },
                ValueTy::Enum(_)
                | ValueTy::ErrorKind
                | ValueTy::MessageType
                | ValueTy::ResponseStatus,
            ) => Some(Coercion::VariantName),
            (Ty::Bytes { text: true, .. }, ValueTy::Int) => Some(Coercion::Decimal),
            (Ty::Bytes { text: false, .. }, ValueTy::Text) => Some(Coercion::TextToBytes),
            (Ty::Bytes { text: false, .. }, ValueTy::Struct(_)) => Some(Coercion::EncodeToBytes),
            (Ty::Named(id), ValueTy::Text)
                if matches!(self.schema.ty(*id).kind, TypeKind::Extern(_)) =>
            {
                return Expr { ty: target, ..e };
            }
            _ => None,
        };
        match coercion {
            Some(c) => wrap(c, e),
            None => {
                self.diags.push(
                    Diagnostic::error("E0301", "mismatched types")
                        .primary(
                            e.span,
                            format!("expected {}, found {}", ty_name(&target), ty_name(&vt)),
                        )
                        .secondary(ty.span, "the field's type"),
                );
                e
            }
        }
    }

    /// Whether a value can fill a `bytes[N]` field (or any other type), reporting it if not.
    ///
    /// The owned field is a `[u8; N]`, so only a value whose length is known here, a
    /// byte string, can fill it; text, a struct's encoding or a request property
    /// could have any length.
    fn fits_fixed_bytes(&mut self, e: &Expr, ty: &Type) -> bool {
        let Some(n) = crate::ir::visit::fixed_bytes(ty).filter(|_| !fills_fixed_bytes(e, ty))
        else {
            return true;
        };
        self.diags.push(fixed_bytes_mismatch(e, ty, n));
        false
    }

    pub(super) fn expect(&mut self, e: &Expr, want: &ValueTy) {
        if e.ty != *want && e.ty != ValueTy::Unit {
            self.diags
                .push(Diagnostic::error("E0301", "mismatched types").primary(
                    e.span,
                    format!("expected {}, found {}", ty_name(want), ty_name(&e.ty)),
                ));
        }
    }
}

/// Where a reply assignment writes.
pub(super) enum Slot {
    /// A field (or nested field) of this type; conditional when `true`.
    Field(Type, bool),
    /// A bit-group member.
    Bit(BitTy),
}

/// Whether a value fills a type exactly if it is `bytes[N]`: a byte string of N bytes.
fn fills_fixed_bytes(e: &Expr, ty: &Type) -> bool {
    crate::ir::visit::fixed_bytes(ty)
        .is_none_or(|n| matches!(&e.kind, ExprKind::ByteStr(b) if b.len() as u64 == n))
}

/// E0301 for a value that cannot fill the `bytes[n]` field of type `ty`.
fn fixed_bytes_mismatch(e: &Expr, ty: &Type, n: u64) -> Diagnostic {
    let d = Diagnostic::error("E0301", "mismatched types")
        .secondary(ty.span, format!("the field is `bytes[{n}]`"));
    if let ExprKind::ByteStr(b) = &e.kind {
        return d
            .primary(
                e.span,
                format!(
                    "expected exactly {n} bytes, found a byte string of {} bytes",
                    b.len()
                ),
            )
            .help(format!(
                "write exactly {n} bytes; pad a shorter value with `\\0`"
            ));
    }
    let found = if e.ty == ValueTy::Bytes {
        "bytes whose length is only known when encoding".to_string()
    } else {
        ty_name(&e.ty)
    };
    d.primary(e.span, format!("expected exactly {n} bytes, found {found}"))
        .note("only a byte string's length is known when the schema is checked")
        .help(format!(
            "write a byte string of exactly {n} bytes (`b\"…\"`)"
        ))
}

pub(super) fn wrap(c: Coercion, e: Expr) -> Expr {
    let (ty, span, text) = (e.ty.clone(), e.span, e.text.clone());
    let ty = match c {
        Coercion::Present => ValueTy::Optional(Box::new(ty)),
        Coercion::VariantName | Coercion::Decimal => ValueTy::Text,
        Coercion::TextToBytes | Coercion::EncodeToBytes => ValueTy::Bytes,
        Coercion::ToArm(_) => ValueTy::Unit,
    };
    Expr {
        kind: ExprKind::Coerce(c, Box::new(e)),
        ty,
        span,
        text,
    }
}

/// The single literal inside `expr → primary → literal`, if that is all there is.
pub(super) fn unwrap_primary<'t>(p: &Pair<'t, Rule>) -> Pair<'t, Rule> {
    let mut cur = p.clone();
    loop {
        let kids = inner(&cur);
        match (cur.as_rule(), kids.as_slice()) {
            (Rule::expr | Rule::expr_ns | Rule::primary | Rule::primary_ns, [one]) => {
                cur = one.clone()
            }
            _ => return cur,
        }
    }
}
