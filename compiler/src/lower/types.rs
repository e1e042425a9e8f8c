//! Enums, bit groups, structs and field types.

use pest::iterators::Pair;

use super::exprs::ExprCx;
use super::{Lowerer, ParsedFile, inner};
use crate::diag::{Diagnostic, Span};
use crate::ir::{Arm, Endian, IntTy, Len, Pattern, Prefix, Ty, Type, TypeKind, Union};
use crate::syntax::{Rule, span_of};

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

pub(super) fn whole_bytes(i: &IntTy) -> bool {
    matches!(i.bits, 8 | 16 | 32 | 64)
}

impl Lowerer {
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
                if matches!(n.name.as_str(), "bytes" | "str") {
                    // `1 => bytes(u8)` reads as an arm named `bytes` holding a `u8`.
                    self.diags.push(
                        Diagnostic::error("E0100", "a length-prefixed arm needs a name")
                            .primary(
                                span_of(&aps[1], f.file),
                                "read as an arm named `bytes` or `str`",
                            )
                            .help(format!("name the arm: `Data({})`", aps[1].as_str().trim())),
                    );
                } else {
                    self.check_camel(&n, "union arm");
                }
                let ty = self.lower_ty(f, &nps[1], &format!("{base}{}", n.name), cx);
                (Some(n), ty)
            } else {
                (None, self.lower_ty(f, &aps[1], base, cx))
            };
            let arm_span = span_of(a, f.file);
            let name = name.unwrap_or_else(|| self.arm_name(&patterns, &ty, arm_span));
            self.check_arm(&arms, &patterns, &name, arm_span, &mut seen);
            arms.push(Arm {
                patterns,
                name,
                ty,
                span: arm_span,
            });
        }
        if arms.is_empty() {
            self.diags.push(
                Diagnostic::error("E0307", "invalid union")
                    .primary(span_of(t, f.file), "a `match` type needs at least one arm")
                    .help("add `_ => ()` for a tag with nothing after it"),
            );
        }
        Ty::Union(Union { tag, arms })
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
