//! Enums and bit groups.

use super::exprs::int_value;
use super::types::{parse_int_ty, range_of, whole_bytes};
use super::{Lowerer, ParsedFile, inner};
use crate::diag::{Diagnostic, Span};
use crate::ir::{BitField, BitTy, Bits, Enum, IntTy, TypeId, TypeKind, Variant};
use crate::syntax::{Rule, docs_above, span_of};
use pest::iterators::Pair;

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
                    self.check_camel(&name, "variant");
                    unknown = Some(name);
                }
                _ => {
                    let name = Self::ident(&ps[0], f.file);
                    self.check_camel(&name, "variant");
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

    pub(super) fn check_variant(
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
    pub(super) fn repr(
        &mut self,
        p: &Pair<'_, Rule>,
        f: &ParsedFile<'_>,
        bits_group: bool,
    ) -> IntTy {
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
    pub(super) fn lower_bits_body(
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
                self.check_snake(n, "bit member");
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

    pub(super) fn bit_ty(&mut self, f: &ParsedFile<'_>, p: &Pair<'_, Rule>) -> BitTy {
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

    pub(super) fn enum_names(&self) -> Vec<String> {
        self.schema
            .types
            .iter()
            .filter(|t| matches!(t.kind, TypeKind::Enum(_)))
            .map(|t| t.name.name.clone())
            .collect()
    }
}
