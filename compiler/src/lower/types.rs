//! Enums, bit groups, structs and field types.

use pest::iterators::Pair;

use super::exprs::{ExprCx, FieldInfo, int_value};
use super::{Lowerer, ParsedFile, inner};
use crate::diag::{Diagnostic, Span};
use crate::ir::{
    Arm, BitField, BitTy, Bits, Endian, Enum, ExprKind, Field, FieldValue, IntTy, Len, Pattern,
    Prefix, Struct, Ty, Type, TypeId, TypeKind, Union, ValueTy, Variant,
};
use crate::syntax::{Rule, docs_above, span_of};

/// A parsed integer type name: `u16le`, `i8`, `u3`.
pub(crate) fn parse_int_ty(name: &str) -> Option<IntTy> {
    let (signed, rest) = match name.as_bytes().first()? {
        b'u' => (false, &name[1..]),
        b'i' => (true, &name[1..]),
        _ => return None,
    };
    let (digits, endian) = if let Some(d) = rest.strip_suffix("le") {
        (d, Some(Endian::Little))
    } else if let Some(d) = rest.strip_suffix("be") {
        (d, Some(Endian::Big))
    } else {
        (rest, None)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.starts_with('0') {
        return None;
    }
    let bits: u8 = digits.parse().ok()?;
    (1..=64).contains(&bits).then_some(IntTy {
        bits,
        signed,
        endian,
    })
}

fn whole_bytes(i: &IntTy) -> bool {
    matches!(i.bits, 8 | 16 | 32 | 64)
}

impl Lowerer {
    pub(super) fn lower_enum(
        &mut self,
        f: &ParsedFile<'_>,
        def: &Pair<'_, Rule>,
        id: Option<TypeId>,
    ) {
        let Some(id) = id else { return };
        let parts = inner(def);
        let repr = self.repr(&parts[1], f, false);
        let mut variants: Vec<Variant> = Vec::new();
        let mut unknown = None;
        for entry in &parts[2..] {
            let Some(e) = inner(entry).into_iter().next() else {
                continue;
            };
            let docs = docs_above(f.text, entry.as_span().start());
            let ps = inner(&e);
            if unknown.is_some() {
                self.diags.push(
                    Diagnostic::error("E0302", "the `_ =>` entry must be the enum's last")
                        .primary(span_of(&e, f.file), "after the catch-all")
                        .help("move `_ => Name` to the end"),
                );
            }
            match e.as_rule() {
                Rule::enum_unknown => {
                    let name = Self::ident(&ps[1], f.file);
                    self.check_name(&name, "variant");
                    unknown = Some(name);
                }
                _ => {
                    let name = Self::ident(&ps[0], f.file);
                    self.check_name(&name, "variant");
                    let Some(value) = int_value(&ps[1]) else {
                        self.bad_literal(span_of(&ps[1], f.file));
                        continue;
                    };
                    self.check_variant(&variants, &name, value, repr, span_of(&ps[1], f.file));
                    variants.push(Variant {
                        name,
                        value,
                        doc: docs,
                    });
                }
            }
        }
        if let Some(u) = &unknown
            && let Some(v) = variants.iter().find(|v| v.name.name == u.name)
        {
            let span = v.name.span;
            self.diags.push(
                Diagnostic::error(
                    "E0202",
                    format!("the variant `{}` is defined twice", u.name),
                )
                .primary(u.span, "used again for unknown values")
                .secondary(span, "first defined here"),
            );
        }
        self.schema.types[id.index()].kind = TypeKind::Enum(Enum {
            repr,
            variants,
            unknown,
        });
    }

    fn check_variant(
        &mut self,
        prev: &[Variant],
        name: &crate::ir::Ident,
        value: i128,
        repr: IntTy,
        span: Span,
    ) {
        if let Some(p) = prev.iter().find(|p| p.name.name == name.name) {
            let ps = p.name.span;
            self.diags.push(
                Diagnostic::error(
                    "E0202",
                    format!("the variant `{}` is defined twice", name.name),
                )
                .primary(name.span, "defined again here")
                .secondary(ps, "first defined here"),
            );
        }
        let (min, max) = range_of(repr);
        if value < min || value > max {
            let ty = format!("{}{}", if repr.signed { "i" } else { "u" }, repr.bits);
            self.diags.push(
                Diagnostic::error(
                    "E0302",
                    format!("the value {value} does not fit the enum's `{ty}`"),
                )
                .primary(span, format!("`{ty}` holds {min} to {max}"))
                .help("widen the enum's representation or change the value"),
            );
        } else if let Some(p) = prev.iter().find(|p| p.value == value) {
            let ps = p.name.span;
            self.diags.push(
                Diagnostic::error(
                    "E0302",
                    format!("the value {value} is used by two variants"),
                )
                .primary(span, "used again here")
                .secondary(ps, format!("already the value of `{}`", p.name.name)),
            );
        }
    }

    /// Reads an enum or bits representation: `u3`, `u16le`.
    fn repr(&mut self, p: &Pair<'_, Rule>, f: &ParsedFile<'_>, bits_group: bool) -> IntTy {
        let fallback = IntTy {
            bits: 8,
            signed: false,
            endian: None,
        };
        match parse_int_ty(p.as_str()) {
            Some(i) if bits_group && (!whole_bytes(&i) || i.signed) => {
                self.diags.push(
                    Diagnostic::error(
                        "E0304",
                        format!("a bit group cannot be packed into `{}`", p.as_str()),
                    )
                    .primary(span_of(p, f.file), "expected `u8`, `u16`, `u32` or `u64`"),
                );
                fallback
            }
            Some(i) if i.endian.is_some() && !whole_bytes(&i) => {
                self.diags.push(
                    Diagnostic::error("E0304", "only whole-byte integers have a byte order")
                        .primary(span_of(p, f.file), "drop the `le`/`be` suffix"),
                );
                i
            }
            Some(i) => i,
            None => {
                self.diags.push(
                    Diagnostic::error("E0304", format!("`{}` is not an integer type", p.as_str()))
                        .primary(span_of(p, f.file), "expected `u1`…`u64` or `i8`…`i64`"),
                );
                fallback
            }
        }
    }

    pub(super) fn lower_named_bits(
        &mut self,
        f: &ParsedFile<'_>,
        def: &Pair<'_, Rule>,
        id: Option<TypeId>,
    ) {
        let Some(id) = id else { return };
        let parts = inner(def);
        let bits = self.lower_bits_body(f, &parts[1], &parts[2]);
        self.schema.types[id.index()].kind = TypeKind::Bits(bits);
    }

    /// A bit group from its container type and `{ … }` body.
    fn lower_bits_body(
        &mut self,
        f: &ParsedFile<'_>,
        repr: &Pair<'_, Rule>,
        body: &Pair<'_, Rule>,
    ) -> Bits {
        let repr_ty = self.repr(repr, f, true);
        let mut fields: Vec<BitField> = Vec::new();
        let mut total: u32 = 0;
        for m in inner(body) {
            let ps = inner(&m);
            let name = match ps[0].as_rule() {
                Rule::member_name if ps[0].as_str() != "_" => Some(Self::ident(&ps[0], f.file)),
                _ => None,
            };
            if let Some(n) = &name {
                self.check_name(n, "bit member");
                if let Some(prev) = fields
                    .iter()
                    .filter_map(|b| b.name.as_ref())
                    .find(|p| p.name == n.name)
                {
                    let ps2 = prev.span;
                    self.diags.push(
                        Diagnostic::error(
                            "E0202",
                            format!("the member `{}` is defined twice", n.name),
                        )
                        .primary(n.span, "defined again here")
                        .secondary(ps2, "first defined here"),
                    );
                }
            }
            let ty = self.bit_ty(f, &ps[1]);
            let width = ty.bits(&self.schema);
            total += u32::from(width);
            let value = ps.get(2).and_then(|v| match v.as_rule() {
                Rule::boolean => Some(i128::from(v.as_str() == "true")),
                _ => int_value(v),
            });
            if let (Some(v), Some(p)) = (value, ps.get(2)) {
                let max = if width >= 64 {
                    i128::from(u64::MAX)
                } else {
                    (1i128 << width) - 1
                };
                if v < 0 || v > max {
                    self.diags.push(
                        Diagnostic::error(
                            "E0305",
                            format!("the constant {v} does not fit in {width} bits"),
                        )
                        .primary(span_of(p, f.file), format!("at most {max}")),
                    );
                }
            }
            let doc = docs_above(f.text, m.as_span().start());
            fields.push(BitField {
                name,
                ty,
                value,
                doc,
                span: span_of(&m, f.file),
            });
        }
        if total != u32::from(repr_ty.bits) {
            self.diags.push(
                Diagnostic::error(
                    "E0303",
                    format!(
                        "the members take {total} bits, but the group is {} bits wide",
                        repr_ty.bits
                    ),
                )
                .primary(span_of(body, f.file), format!("{total} bits here"))
                .secondary(span_of(repr, f.file), format!("{} bits", repr_ty.bits))
                .help("add a reserved member such as `_: u3`, or change a width"),
            );
        }
        Bits {
            repr: repr_ty,
            fields,
        }
    }

    fn bit_ty(&mut self, f: &ParsedFile<'_>, p: &Pair<'_, Rule>) -> BitTy {
        let name = p.as_str();
        if name == "bool" {
            return BitTy::Bool;
        }
        if let Some(i) = parse_int_ty(name)
            && !i.signed
            && i.endian.is_none()
        {
            return BitTy::Uint(i.bits);
        }
        match self.names.get(name).copied() {
            Some(id) if matches!(self.schema.ty(id).kind, TypeKind::Enum(_)) => BitTy::Enum(id),
            Some(_) => {
                self.diags.push(
                    Diagnostic::error("E0304", format!("`{name}` cannot be a bit member"))
                        .primary(span_of(p, f.file), "expected `uN`, `bool` or an enum"),
                );
                BitTy::Uint(1)
            }
            None => {
                let cands = self.enum_names();
                let cands: Vec<&str> = cands
                    .iter()
                    .map(String::as_str)
                    .chain(["bool", "u1", "u8"])
                    .collect();
                self.unknown("type", name, span_of(p, f.file), &cands);
                BitTy::Uint(1)
            }
        }
    }

    fn enum_names(&self) -> Vec<String> {
        self.schema
            .types
            .iter()
            .filter(|t| matches!(t.kind, TypeKind::Enum(_)))
            .map(|t| t.name.name.clone())
            .collect()
    }

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
        let mut values = Vec::new();
        for m in &parts[2..] {
            if let Some(field) = self.lower_member(f, m, &sname, id, &fields) {
                values.push((fields.len(), m.clone()));
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
                fields[i].value = self.field_value(f, &e, &fields, i);
            }
        }
        self.struct_names.clear();
        self.schema.types[id.index()].kind = TypeKind::Struct(Struct { fields, is_frame });
    }

    fn declare_frame(&mut self, f: &ParsedFile<'_>, name: &Pair<'_, Rule>, id: TypeId) {
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

    fn lower_member(
        &mut self,
        f: &ParsedFile<'_>,
        m: &Pair<'_, Rule>,
        sname: &str,
        sid: TypeId,
        prev: &[Field],
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
            _ => self.lower_field(f, &body, sname, sid, prev, doc, span),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn lower_field(
        &mut self,
        f: &ParsedFile<'_>,
        p: &Pair<'_, Rule>,
        sname: &str,
        sid: TypeId,
        prev: &[Field],
        doc: Vec<String>,
        span: Span,
    ) -> Option<Field> {
        let ps = inner(p);
        let name = (ps[0].as_str() != "_").then(|| Self::ident(&ps[0], f.file));
        if let Some(n) = &name {
            self.check_name(n, "field");
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
        let infos = self.field_infos(prev);
        let cx = ExprCx::fields(f.file, &infos, prev.len());
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
                    let mut me = self.field_infos(prev);
                    me.push(FieldInfo::of(&self.schema, &field));
                    let cx = ExprCx::fields(f.file, &me, prev.len() + 1);
                    field.constraint = Some(self.bool_expr(&e, &cx, "a `where` rule"));
                }
                Rule::field_if => {
                    let c = self.bool_expr(&e, &cx, "an `if` condition");
                    self.check_decidable(&c, "condition");
                    field.condition = Some(c);
                }
                _ => {}
            }
        }
        let _ = sid;
        Some(field)
    }

    /// What expressions need to know about the fields decoded so far.
    pub(crate) fn field_infos(&self, fields: &[Field]) -> Vec<FieldInfo> {
        fields
            .iter()
            .map(|x| FieldInfo::of(&self.schema, x))
            .collect()
    }

    fn field_value(
        &mut self,
        f: &ParsedFile<'_>,
        e: &Pair<'_, Rule>,
        all: &[Field],
        index: usize,
    ) -> FieldValue {
        let infos = self.field_infos(all);
        let cx = ExprCx::fields(f.file, &infos, index).with_any_field_in_calls();
        let field = &all[index];
        let expr = self.lower_expr(e, &cx);
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

    fn check_const_fits(&mut self, field: &Field, e: &crate::ir::Expr) {
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

    /// A field type.
    pub(crate) fn lower_ty(
        &mut self,
        f: &ParsedFile<'_>,
        p: &Pair<'_, Rule>,
        base: &str,
        cx: &ExprCx<'_>,
    ) -> Type {
        let span = span_of(p, f.file);
        let Some(t) = inner(p).into_iter().next() else {
            return Type {
                kind: Ty::Unit,
                span,
            };
        };
        let kind = match t.as_rule() {
            Rule::ident => self.named_ty(f, &t),
            Rule::unit_ty => Ty::Unit,
            Rule::bytes_ty => self.bytes_ty(f, &t, cx),
            Rule::list_ty => self.list_ty(f, &t, base, cx),
            Rule::bits_inline => {
                let ps = inner(&t);
                let bits = self.lower_bits_body(f, &ps[0], &ps[1]);
                let name = crate::ir::Ident {
                    name: base.to_string(),
                    span,
                };
                let id = self.add_type(name, vec![], TypeKind::Bits(bits));
                Ty::Named(id)
            }
            Rule::match_ty => self.union_ty(f, &t, base, cx),
            _ => Ty::Unit,
        };
        Type { kind, span }
    }

    fn named_ty(&mut self, f: &ParsedFile<'_>, t: &Pair<'_, Rule>) -> Ty {
        let name = t.as_str();
        match name {
            "bool" => return Ty::Bool,
            "varint" => return Ty::Varint,
            "zigzag" => return Ty::Zigzag,
            "bytes" | "str" => {
                self.diags.push(
                    Diagnostic::error("E0304", format!("`{name}` needs a length"))
                        .primary(span_of(t, f.file), "length missing")
                        .help(format!(
                            "write `{name}[n]`, `{name}(u16)`, `{name}[..]` or `{name}[nul]`"
                        )),
                );
                return Ty::Unit;
            }
            _ => {}
        }
        if let Some(rest) = name.strip_prefix('f') {
            let (digits, endian) = split_endian(rest);
            if digits == "32" || digits == "64" {
                return Ty::Float {
                    bits: digits.parse().unwrap_or(32),
                    endian,
                };
            }
        }
        if let Some(i) = parse_int_ty(name) {
            if whole_bytes(&i) {
                return Ty::Int(i);
            }
            self.diags.push(
                Diagnostic::error("E0304", format!("`{name}` is not a field type"))
                    .primary(span_of(t, f.file), "fields are whole bytes")
                    .help("put narrow integers in a bit group: `flags: bits u8 { … }`"),
            );
            return Ty::Unit;
        }
        match self.names.get(name).copied() {
            Some(id) => {
                if let TypeKind::Enum(e) = &self.schema.ty(id).kind
                    && !whole_bytes(&e.repr)
                {
                    self.diags.push(
                            Diagnostic::error("E0304", format!("the enum `{name}` is {} bits wide and cannot be a field on its own", e.repr.bits))
                                .primary(span_of(t, f.file), "not a whole number of bytes")
                                .help("use it inside a bit group, or give it an 8, 16, 32 or 64-bit representation"),
                        );
                }
                Ty::Named(id)
            }
            None => {
                let owned: Vec<String> = self.names.keys().cloned().collect();
                let mut cands: Vec<&str> = owned.iter().map(String::as_str).collect();
                cands.extend([
                    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool", "varint",
                    "zigzag", "f32", "f64",
                ]);
                self.unknown("type", name, span_of(t, f.file), &cands);
                Ty::Unit
            }
        }
    }

    fn bytes_ty(&mut self, f: &ParsedFile<'_>, t: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Ty {
        let ps = inner(t);
        let text = ps[0].as_str() == "str";
        let len = match ps.get(1) {
            Some(l) if l.as_rule() == Rule::paren_len => {
                Len::SizePrefix(self.prefix(f, &inner(l)[0]))
            }
            Some(l) => match inner(l).into_iter().next() {
                Some(x) if x.as_rule() == Rule::to_end => Len::ToEnd,
                Some(x) if x.as_rule() == Rule::nul => Len::Nul,
                Some(x) => Len::Size(self.int_expr(&x, cx, "a length")),
                None => Len::ToEnd,
            },
            None => Len::ToEnd,
        };
        Ty::Bytes { text, len }
    }

    fn prefix(&mut self, f: &ParsedFile<'_>, p: &Pair<'_, Rule>) -> Prefix {
        if p.as_str() == "varint" {
            return Prefix::Varint;
        }
        match parse_int_ty(p.as_str()) {
            Some(i) if whole_bytes(&i) && !i.signed => Prefix::Int(i),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        "E0304",
                        format!("`{}` cannot be a length prefix", p.as_str()),
                    )
                    .primary(span_of(p, f.file), "expected `u8`…`u64` or `varint`"),
                );
                Prefix::Varint
            }
        }
    }

    fn list_ty(
        &mut self,
        f: &ParsedFile<'_>,
        t: &Pair<'_, Rule>,
        base: &str,
        cx: &ExprCx<'_>,
    ) -> Ty {
        let ps = inner(t);
        let elem_cx = ExprCx::fields(f.file, &[], 0);
        let (value, len_pair) = if ps.len() == 3 {
            (Some(&ps[1]), &ps[2])
        } else {
            (None, &ps[1])
        };
        let len = self.list_len(f, len_pair, cx);
        match value {
            Some(v) => {
                let key = self.lower_ty(f, &ps[0], &format!("{base}Key"), &elem_cx);
                let value = self.lower_ty(f, v, &format!("{base}Value"), &elem_cx);
                Ty::KvList {
                    key: Box::new(key),
                    value: Box::new(value),
                    len,
                }
            }
            None => {
                let elem = self.lower_ty(f, &ps[0], &format!("{base}Elem"), &elem_cx);
                Ty::List {
                    elem: Box::new(elem),
                    len,
                }
            }
        }
    }

    fn list_len(&mut self, f: &ParsedFile<'_>, p: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Len {
        let Some(x) = inner(p).into_iter().next() else {
            return Len::ToEnd;
        };
        match x.as_rule() {
            Rule::to_end => Len::ToEnd,
            Rule::prefix => Len::CountPrefix(self.prefix(f, &x)),
            Rule::size_len => {
                let Some(y) = inner(&x).into_iter().next() else {
                    return Len::ToEnd;
                };
                if y.as_rule() == Rule::prefix {
                    Len::SizePrefix(self.prefix(f, &y))
                } else {
                    Len::Size(self.int_expr(&y, cx, "a size"))
                }
            }
            _ => Len::Count(self.int_expr(&x, cx, "a count")),
        }
    }

    fn union_ty(
        &mut self,
        f: &ParsedFile<'_>,
        t: &Pair<'_, Rule>,
        base: &str,
        cx: &ExprCx<'_>,
    ) -> Ty {
        let ps = inner(t);
        let tag = self.lower_expr(&ps[0], cx);
        self.check_tag(&tag);
        let mut arms: Vec<Arm> = Vec::new();
        let mut seen: Vec<(Pattern, Span)> = Vec::new();
        for a in &ps[1..] {
            let aps = inner(a);
            let patterns = self.patterns(f, &aps[0], &tag.ty);
            let (name, ty) = if aps[1].as_rule() == Rule::named_arm {
                let nps = inner(&aps[1]);
                let n = Self::ident(&nps[0], f.file);
                let ty = self.lower_ty(f, &nps[1], &format!("{base}{}", n.name), cx);
                (Some(n), ty)
            } else {
                (None, self.lower_ty(f, &aps[1], base, cx))
            };
            let arm_span = span_of(a, f.file);
            let name = name.unwrap_or_else(|| self.arm_name(&patterns, &ty, arm_span));
            let ty = if name.name.is_empty() {
                ty
            } else {
                self.rename_inline(ty, base, &name.name)
            };
            self.check_arm(&arms, &patterns, &name, arm_span, &mut seen);
            arms.push(Arm {
                patterns,
                name,
                ty,
                span: arm_span,
            });
        }
        Ty::Union(Union { tag, arms })
    }

    /// Inline types inside an arm get the arm's name in their generated name.
    fn rename_inline(&mut self, ty: Type, _base: &str, _arm: &str) -> Type {
        ty
    }

    fn arm_name(&self, patterns: &[Pattern], ty: &Type, span: Span) -> crate::ir::Ident {
        let name = match (patterns, &ty.kind) {
            ([Pattern::Default], _) => "Other".to_string(),
            ([Pattern::Variant(id, i)], _) => match &self.schema.ty(*id).kind {
                TypeKind::Enum(e) => e
                    .variants
                    .get(*i)
                    .map_or("Arm".into(), |v| v.name.name.clone()),
                _ => "Arm".into(),
            },
            (_, Ty::Named(id)) => self.schema.ty(*id).name.name.clone(),
            ([Pattern::Bool(b)], _) => {
                if *b {
                    "True".into()
                } else {
                    "False".into()
                }
            }
            ([Pattern::Int(v)], _) => format!("V{}", v.unsigned_abs()),
            _ => "Arm".into(),
        };
        crate::ir::Ident { name, span }
    }

    fn check_arm(
        &mut self,
        arms: &[Arm],
        patterns: &[Pattern],
        name: &crate::ir::Ident,
        span: Span,
        seen: &mut Vec<(Pattern, Span)>,
    ) {
        if arms.iter().any(|a| a.patterns.contains(&Pattern::Default)) {
            self.diags.push(
                Diagnostic::error("E0307", "an arm after the default arm is never used")
                    .primary(span, "unreachable arm")
                    .help("move the `_` arm last"),
            );
        }
        if let Some(prev) = arms.iter().find(|a| a.name.name == name.name) {
            let ps = prev.span;
            self.diags.push(
                Diagnostic::error("E0307", format!("two arms are both named `{}`", name.name))
                    .primary(span, "this arm")
                    .secondary(ps, "the other arm")
                    .help("name one explicitly: `Name(Type)`"),
            );
        }
        for p in patterns {
            if let Some((_, ps)) = seen.iter().find(|(q, _)| q == p && *p != Pattern::Default) {
                let ps = *ps;
                self.diags.push(
                    Diagnostic::error("E0307", "a pattern appears in two arms")
                        .primary(span, "repeated here")
                        .secondary(ps, "first here"),
                );
            }
            seen.push((p.clone(), span));
        }
    }

    /// A field's range of values.
    pub(crate) fn _unused(&self) {}
}

fn split_endian(rest: &str) -> (&str, Option<Endian>) {
    if let Some(d) = rest.strip_suffix("le") {
        (d, Some(Endian::Little))
    } else if let Some(d) = rest.strip_suffix("be") {
        (d, Some(Endian::Big))
    } else {
        (rest, None)
    }
}

/// The smallest and largest value of an integer type.
pub(crate) fn range_of(i: IntTy) -> (i128, i128) {
    if i.signed {
        (-(1i128 << (i.bits - 1)), (1i128 << (i.bits - 1)) - 1)
    } else {
        (0, (1i128 << i.bits) - 1)
    }
}
