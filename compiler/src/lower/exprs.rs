//! Expressions: name resolution and typing.

use pest::iterators::Pair;

use super::{Lowerer, inner};
use crate::diag::{Diagnostic, FileId, Span};
use crate::ir::{
    BinOp, BuiltinVariant, Checksum, Expr, ExprKind, Field, FieldRange, FieldRef, Pattern, Schema,
    Ty, Type, TypeKind, UnOp, ValueTy,
};
use crate::syntax::{Rule, parse_int, pratt, span_of, unescape};

/// What an expression can see of one field.
#[derive(Debug, Clone)]
pub(crate) struct FieldInfo {
    /// The field's name (`None` for `_`).
    pub name: Option<String>,
    /// Its wire type.
    pub ty: Type,
    /// Whether it is conditional.
    pub optional: bool,
}

impl FieldInfo {
    /// The info for a lowered field.
    pub fn of(_schema: &Schema, f: &Field) -> Self {
        FieldInfo {
            name: f.name.as_ref().map(|n| n.name.clone()),
            ty: f.ty.clone(),
            optional: f.condition.is_some(),
        }
    }
}

/// The scope of an expression.
#[derive(Clone)]
pub(crate) struct ExprCx<'a> {
    pub file: FileId,
    pub fields: &'a [FieldInfo],
    /// Fields at or after this index are not decoded yet.
    pub visible: usize,
    /// `sizeof`/`len`/checksum arguments may name any field.
    pub any_in_calls: bool,
    /// Reply parameters: (request name, error name).
    pub params: Option<(String, Option<String>)>,
}

impl<'a> ExprCx<'a> {
    /// A scope over the first `visible` of `fields`.
    pub fn fields(file: FileId, fields: &'a [FieldInfo], visible: usize) -> Self {
        ExprCx {
            file,
            fields,
            visible,
            any_in_calls: false,
            params: None,
        }
    }

    /// Lets calls name fields after the current one.
    pub fn with_any_field_in_calls(mut self) -> Self {
        self.any_in_calls = true;
        self
    }
}

/// The value of an integer literal pair (`int` or `signed_int`).
pub(crate) fn int_value(p: &Pair<'_, Rule>) -> Option<i128> {
    parse_int(p.as_str())
}

/// The text of a `string` pair.
pub(crate) fn string_value(p: &Pair<'_, Rule>) -> Option<String> {
    let body = p.clone().into_inner().next()?;
    String::from_utf8(unescape(body.as_str()).ok()?).ok()
}

/// A readable name for a value type, for messages.
pub(crate) fn ty_name(t: &ValueTy) -> String {
    match t {
        ValueTy::Int => "integer".into(),
        ValueTy::Bool => "bool".into(),
        ValueTy::Text => "text".into(),
        ValueTy::Bytes => "bytes".into(),
        ValueTy::Float => "float".into(),
        ValueTy::Enum(_) => "enum".into(),
        ValueTy::Bits(_) => "bit group".into(),
        ValueTy::Struct(_) => "struct".into(),
        ValueTy::Extern(_) => "extern value".into(),
        ValueTy::List(_) => "list".into(),
        ValueTy::KvList => "key/value list".into(),
        ValueTy::MessageType => "MessageType".into(),
        ValueTy::ResponseStatus => "ResponseStatus".into(),
        ValueTy::ErrorKind => "ErrorKind".into(),
        ValueTy::Optional(t) => format!("optional {}", ty_name(t)),
        ValueTy::Unit => "nothing".into(),
    }
}

pub(super) fn strip(t: &ValueTy) -> &ValueTy {
    match t {
        ValueTy::Optional(t) => t,
        t => t,
    }
}

/// The value type of a wire type.
pub(crate) fn value_ty(schema: &Schema, ty: &Type) -> ValueTy {
    match &ty.kind {
        Ty::Int(_) | Ty::Varint | Ty::Zigzag => ValueTy::Int,
        Ty::Float { .. } => ValueTy::Float,
        Ty::Bool => ValueTy::Bool,
        Ty::Bytes { text: true, .. } => ValueTy::Text,
        Ty::Bytes { .. } => ValueTy::Bytes,
        Ty::List { elem, .. } => ValueTy::List(Box::new(value_ty(schema, elem))),
        Ty::KvList { .. } => ValueTy::KvList,
        Ty::Named(id) => match &schema.ty(*id).kind {
            TypeKind::Struct(_) => ValueTy::Struct(*id),
            TypeKind::Enum(_) => ValueTy::Enum(*id),
            TypeKind::Bits(_) => ValueTy::Bits(*id),
            TypeKind::Extern(_) => ValueTy::Extern(*id),
        },
        _ => ValueTy::Unit,
    }
}

impl Lowerer {
    pub(crate) fn bad_literal(&mut self, span: Span) {
        self.diags.push(
            Diagnostic::error("E0101", "invalid literal")
                .primary(span, "this literal is too large or malformed")
                .help("integers must fit in 64 bits"),
        );
    }

    pub(super) fn mismatch(&mut self, span: Span, expected: &str, found: &ValueTy) {
        self.diags
            .push(Diagnostic::error("E0301", "mismatched types").primary(
                span,
                format!("expected {expected}, found {}", ty_name(found)),
            ));
    }

    /// An expression that must be a bool.
    pub(crate) fn bool_expr(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>, what: &str) -> Expr {
        let e = self.lower_expr(p, cx);
        if *strip(&e.ty) != ValueTy::Bool && !reported(&e) {
            self.mismatch(e.span, &format!("a bool for {what}"), &e.ty);
        }
        e
    }

    /// An expression that must be an integer.
    pub(crate) fn int_expr(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>, what: &str) -> Expr {
        let e = self.lower_expr(p, cx);
        if *strip(&e.ty) != ValueTy::Int && !reported(&e) {
            self.mismatch(e.span, &format!("an integer for {what}"), &e.ty);
        }
        e
    }

    /// Conditions are evaluated while decoding, so they may only read fields that are there.
    pub(crate) fn check_decidable(&mut self, e: &Expr, what: &str) {
        if let Some(span) = optional_read(e) {
            self.diags.push(
                Diagnostic::error(
                    "E0403",
                    format!("this {what} cannot be decided when decoding"),
                )
                .primary(span, "this field may be absent")
                .help("decide on fields that are always present"),
            );
        }
    }

    /// A union tag must be a scalar that is always present.
    pub(crate) fn check_tag(&mut self, e: &Expr) {
        let ok = matches!(
            e.ty,
            ValueTy::Int | ValueTy::Bool | ValueTy::Enum(_) | ValueTy::Unit
        );
        if !ok && !matches!(e.ty, ValueTy::Optional(_)) {
            self.diags.push(
                Diagnostic::error("E0403", "a union tag must be an integer, bool or enum")
                    .primary(e.span, format!("this is {}", ty_name(&e.ty))),
            );
        }
        self.check_decidable(e, "union tag");
    }

    /// Lowers and types an expression.
    pub(crate) fn lower_expr(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Expr {
        // A flat chain of operators longer than this nests deeper than the limit once
        // built (and building, walking and dropping it recurses): refused unbuilt.
        let e = if p.clone().into_inner().count() > 8 * MAX_EXPR_DEPTH {
            unit(span_of(p, cx.file), p.as_str().trim_end().to_string())
        } else {
            let e = self.lower_expr_unchecked(p, cx);
            if depth(&e) <= MAX_EXPR_DEPTH {
                return e;
            }
            e
        };
        // Every later pass walks expressions recursively; this keeps their stacks bounded.
        if !self.too_deep {
            self.too_deep = true;
            self.diags.push(
                Diagnostic::error("E0100", "expression nested too deep")
                    .primary(
                        e.span,
                        format!("more than {MAX_EXPR_DEPTH} levels of operators, `if` or `match`"),
                    )
                    .help("split it with derived fields, or simplify it"),
            );
        }
        unit(e.span, e.text)
    }

    fn lower_expr_unchecked(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Expr {
        let span = span_of(p, cx.file);
        let text = p.as_str().trim_end().to_string();
        let pairs = inner(p);
        if pairs.len() == 1 {
            return self.primary(&pairs[0], cx);
        }
        let file = cx.file;
        // The Pratt parser's closures all need the lowerer; they run one at a time.
        let cell = std::cell::RefCell::new(&mut *self);
        let result = pratt()
            .map_primary(|x| Ok::<_, ()>(cell.borrow_mut().primary(&x, cx)))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                Ok(cell
                    .borrow_mut()
                    .unary(op.as_rule(), rhs, span_of(&op, file)))
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                Ok(cell.borrow_mut().binary(op.as_rule(), lhs, rhs))
            })
            .parse(p.clone().into_inner());
        match result {
            Ok(e) => Expr { span, text, ..e },
            Err(()) => Expr {
                kind: ExprKind::Int(0),
                ty: ValueTy::Unit,
                span,
                text,
            },
        }
    }

    pub(super) fn unary(&mut self, op: Rule, rhs: Expr, op_span: Span) -> Expr {
        let span = op_span.to(rhs.span);
        let (op, want) = if op == Rule::neg {
            (UnOp::Neg, ValueTy::Int)
        } else {
            (UnOp::Not, ValueTy::Bool)
        };
        if *strip(&rhs.ty) != want && rhs.ty != ValueTy::Unit {
            self.mismatch(rhs.span, &ty_name(&want), &rhs.ty);
        }
        let text = String::new();
        Expr {
            kind: ExprKind::Unary(op, Box::new(rhs)),
            ty: want,
            span,
            text,
        }
    }

    pub(super) fn binary(&mut self, op: Rule, a: Expr, b: Expr) -> Expr {
        use BinOp::*;
        let span = a.span.to(b.span);
        let op = match op {
            Rule::or => Or,
            Rule::and => And,
            Rule::eq => Eq,
            Rule::ne => Ne,
            Rule::lt => Lt,
            Rule::le => Le,
            Rule::gt => Gt,
            Rule::ge => Ge,
            Rule::bor => BitOr,
            Rule::bxor => BitXor,
            Rule::band => BitAnd,
            Rule::shl => Shl,
            Rule::shr => Shr,
            Rule::add => Add,
            Rule::sub => Sub,
            Rule::mul => Mul,
            Rule::div => Div,
            _ => Rem,
        };
        let (ta, tb) = (strip(&a.ty).clone(), strip(&b.ty).clone());
        let unknown = ta == ValueTy::Unit || tb == ValueTy::Unit;
        let ty = match op {
            Or | And => {
                if !unknown && (ta != ValueTy::Bool || tb != ValueTy::Bool) {
                    let bad = if ta != ValueTy::Bool { &a } else { &b };
                    let (s, t) = (bad.span, bad.ty.clone());
                    self.mismatch(s, "a bool", &t);
                }
                ValueTy::Bool
            }
            Eq | Ne => {
                if !unknown && ta != tb {
                    self.diags.push(
                        Diagnostic::error("E0301", "mismatched types")
                            .primary(
                                b.span,
                                format!("expected {}, found {}", ty_name(&ta), ty_name(&tb)),
                            )
                            .secondary(a.span, format!("this is {}", ty_name(&ta))),
                    );
                }
                ValueTy::Bool
            }
            Lt | Le | Gt | Ge => {
                self.both_int(&a, &b, unknown);
                ValueTy::Bool
            }
            _ => {
                self.both_int(&a, &b, unknown);
                ValueTy::Int
            }
        };
        Expr {
            kind: ExprKind::Binary(op, Box::new(a), Box::new(b)),
            ty,
            span,
            text: String::new(),
        }
    }

    pub(super) fn both_int(&mut self, a: &Expr, b: &Expr, unknown: bool) {
        if unknown {
            return;
        }
        for e in [a, b] {
            if *strip(&e.ty) != ValueTy::Int {
                let (s, t) = (e.span, e.ty.clone());
                self.mismatch(s, "an integer", &t);
            }
        }
    }

    pub(super) fn primary(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Expr {
        let span = span_of(p, cx.file);
        let text = p.as_str().trim_end().to_string();
        let x = match p.as_rule() {
            Rule::primary | Rule::primary_ns | Rule::literal => match inner(p).into_iter().next() {
                Some(x) => x,
                None => return unit(span, text),
            },
            _ => p.clone(),
        };
        let e = match x.as_rule() {
            Rule::primary | Rule::primary_ns | Rule::literal => return self.primary(&x, cx),
            Rule::paren => return self.lower_expr(&inner(&x)[0], cx),
            Rule::expr | Rule::expr_ns => return self.lower_expr(&x, cx),
            Rule::int => match int_value(&x) {
                Some(v) => ExprKind::Int(v),
                None => {
                    self.bad_literal(span);
                    ExprKind::Int(0)
                }
            },
            Rule::boolean => ExprKind::Bool(x.as_str() == "true"),
            Rule::string => match string_value(&x) {
                Some(s) => ExprKind::Str(s),
                None => {
                    self.bad_string(span);
                    return unit(span, text);
                }
            },
            Rule::byte_string => {
                match x.clone().into_inner().next().map(|b| unescape(b.as_str())) {
                    Some(Ok(b)) => ExprKind::ByteStr(b),
                    _ => {
                        self.bad_string(span);
                        return unit(span, text);
                    }
                }
            }
            Rule::path => return self.path(&x, cx),
            Rule::index => return self.index(&x, cx),
            Rule::call => return self.call(&x, cx),
            Rule::if_expr => return self.if_expr(&x, cx),
            Rule::match_expr => return self.match_expr(&x, cx),
            Rule::unit_lit => {
                return Expr {
                    kind: ExprKind::ListLit(vec![]),
                    ty: ValueTy::Unit,
                    span,
                    text,
                };
            }
            Rule::struct_lit | Rule::kv_lit | Rule::list_lit => {
                self.diags.push(
                    Diagnostic::error(
                        "E0301",
                        "a literal of this kind only appears as a reply value",
                    )
                    .primary(span, "not allowed here"),
                );
                return unit(span, text);
            }
            _ => return unit(span, text),
        };
        let ty = match &e {
            ExprKind::Int(_) => ValueTy::Int,
            ExprKind::Bool(_) => ValueTy::Bool,
            ExprKind::Str(_) => ValueTy::Text,
            _ => ValueTy::Bytes,
        };
        Expr {
            kind: e,
            ty,
            span,
            text,
        }
    }

    pub(super) fn bad_string(&mut self, span: Span) {
        self.diags.push(
            Diagnostic::error("E0101", "invalid escape in a string")
                .primary(span, "unknown escape")
                .help("use \\n, \\r, \\t, \\\\, \\\", \\0 or \\xNN"),
        );
    }

    pub(super) fn call(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Expr {
        let span = span_of(p, cx.file);
        let text = p.as_str().trim_end().to_string();
        let parts = inner(p);
        let func = parts[0].as_str();
        let range_pair = &parts[1];
        let sub = inner(range_pair);
        let mut rcx = cx.clone();
        rcx.any_in_calls = true;
        let range = if sub.first().is_some_and(|s| s.as_rule() == Rule::self_kw) {
            FieldRange::SelfStruct
        } else {
            let ends: Vec<Option<usize>> = sub
                .iter()
                .map(|d| {
                    let dparts = inner(d);
                    self.field_ref(&dparts, &rcx, cx.any_in_calls)
                        .map(|(r, _)| r.field)
                })
                .collect();
            match ends.as_slice() {
                [Some(a)] => FieldRange::Fields {
                    first: *a,
                    last: *a,
                },
                [Some(a), Some(b)] if a <= b => FieldRange::Fields {
                    first: *a,
                    last: *b,
                },
                [Some(_), Some(_)] => {
                    self.diags.push(
                        Diagnostic::error("E0301", "a range must go forwards").primary(
                            span_of(range_pair, cx.file),
                            "the first field comes after the last",
                        ),
                    );
                    return unit(span, text);
                }
                _ => return unit(span, text),
            }
        };
        let kind = match func {
            "sizeof" => ExprKind::SizeOf(range),
            "len" => match range {
                FieldRange::Fields { first, last } if first == last => {
                    let info = &cx.fields[first];
                    if !matches!(
                        info.ty.kind,
                        Ty::Bytes { .. } | Ty::List { .. } | Ty::KvList { .. }
                    ) {
                        self.diags.push(
                            Diagnostic::error("E0301", "`len` needs a list, bytes or text")
                                .primary(span_of(range_pair, cx.file), "this field has no length"),
                        );
                    }
                    ExprKind::LenOf(FieldRef {
                        field: first,
                        sub: vec![],
                    })
                }
                _ => {
                    self.diags.push(
                        Diagnostic::error("E0301", "`len` takes one field")
                            .primary(span_of(range_pair, cx.file), "use `sizeof` for ranges"),
                    );
                    return unit(span, text);
                }
            },
            "crc32" => ExprKind::Checksum(Checksum::Crc32, range),
            "sum8" => ExprKind::Checksum(Checksum::Sum8, range),
            _ => ExprKind::Checksum(Checksum::Xor8, range),
        };
        Expr {
            kind,
            ty: ValueTy::Int,
            span,
            text,
        }
    }

    pub(super) fn if_expr(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Expr {
        let span = span_of(p, cx.file);
        let text = p.as_str().trim_end().to_string();
        let parts = inner(p);
        let c = self.bool_expr(&parts[0], cx, "an `if` condition");
        let a = self.lower_expr(&parts[1], cx);
        let b = if parts[2].as_rule() == Rule::if_expr {
            self.if_expr(&parts[2], cx)
        } else {
            self.lower_expr(&parts[2], cx)
        };
        let ty = self.join(&a, &b);
        Expr {
            kind: ExprKind::If(Box::new(c), Box::new(a), Box::new(b)),
            ty,
            span,
            text,
        }
    }

    pub(super) fn join(&mut self, a: &Expr, b: &Expr) -> ValueTy {
        let (ta, tb) = (strip(&a.ty), strip(&b.ty));
        if ta != tb && *ta != ValueTy::Unit && *tb != ValueTy::Unit {
            self.diags.push(
                Diagnostic::error("E0301", "the branches have different types")
                    .primary(b.span, format!("this is {}", ty_name(tb)))
                    .secondary(a.span, format!("this is {}", ty_name(ta))),
            );
        }
        if *ta == ValueTy::Unit {
            b.ty.clone()
        } else {
            a.ty.clone()
        }
    }

    pub(super) fn match_expr(&mut self, p: &Pair<'_, Rule>, cx: &ExprCx<'_>) -> Expr {
        let span = span_of(p, cx.file);
        let text = p.as_str().trim_end().to_string();
        let parts = inner(p);
        let scrutinee = self.lower_expr(&parts[0], cx);
        let mut arms: Vec<(Vec<Pattern>, Expr)> = Vec::new();
        let mut ty = ValueTy::Unit;
        for arm in &parts[1..] {
            let aps = inner(arm);
            let pats = self.patterns_cx(&aps[0], &scrutinee.ty, cx.file);
            let v = self.lower_expr(&aps[1], cx);
            if ty == ValueTy::Unit {
                ty = v.ty.clone();
            } else if *strip(&v.ty) != *strip(&ty) && v.ty != ValueTy::Unit {
                self.mismatch(v.span, &ty_name(&ty), &v.ty);
            }
            arms.push((pats, v));
        }
        let all: Vec<&Pattern> = arms.iter().flat_map(|(p, _)| p).collect();
        if !all.contains(&&Pattern::Default)
            && !crate::ir::visit::covers(&self.schema, &scrutinee.ty, &all)
        {
            self.diags.push(
                Diagnostic::error("E0403", "this `match` does not cover every value")
                    .primary(span, "some values match no arm")
                    .help("add a `_ => …` arm"),
            );
        }
        Expr {
            kind: ExprKind::Match(Box::new(scrutinee), arms),
            ty,
            span,
            text,
        }
    }

    /// Patterns of a union arm, typed against the tag.
    pub(crate) fn patterns(
        &mut self,
        f: &super::ParsedFile<'_>,
        p: &Pair<'_, Rule>,
        tag: &ValueTy,
    ) -> Vec<Pattern> {
        self.patterns_cx(p, tag, f.file)
    }

    pub(super) fn patterns_cx(
        &mut self,
        p: &Pair<'_, Rule>,
        tag: &ValueTy,
        file: FileId,
    ) -> Vec<Pattern> {
        let mut out = Vec::new();
        for pat in inner(p) {
            let Some(x) = inner(&pat).into_iter().next() else {
                continue;
            };
            let span = span_of(&x, file);
            let (pattern, ty) = match x.as_rule() {
                Rule::underscore => (Pattern::Default, None),
                Rule::boolean => (Pattern::Bool(x.as_str() == "true"), Some(ValueTy::Bool)),
                Rule::signed_int => match int_value(&x) {
                    Some(v) => (Pattern::Int(v), Some(ValueTy::Int)),
                    None => {
                        self.bad_literal(span);
                        continue;
                    }
                },
                _ => {
                    let ps = inner(&x);
                    match self.resolve_variant(
                        ps[0].as_str(),
                        ps.get(1).map_or("", |v| v.as_str()),
                        span,
                    ) {
                        Some(Pattern::Variant(id, i)) => {
                            (Pattern::Variant(id, i), Some(ValueTy::Enum(id)))
                        }
                        Some(Pattern::Builtin(b)) => (Pattern::Builtin(b), Some(builtin_ty(b))),
                        _ => continue,
                    }
                }
            };
            if let Some(t) = ty {
                let want = strip(tag);
                if t != *want && *want != ValueTy::Unit {
                    self.mismatch(span, &format!("a pattern of type {}", ty_name(want)), &t);
                }
            }
            out.push(pattern);
        }
        out
    }
}

/// Builds a built-in variant from its name.
pub(super) type MakeBuiltin = fn(&'static str) -> BuiltinVariant;

/// The type of a built-in variant.
pub(crate) fn builtin_ty(b: BuiltinVariant) -> ValueTy {
    match b {
        BuiltinVariant::MessageType(_) => ValueTy::MessageType,
        BuiltinVariant::ResponseStatus(_) => ValueTy::ResponseStatus,
        BuiltinVariant::ErrorKind(_) => ValueTy::ErrorKind,
    }
}

/// A placeholder for an expression that already produced an error; `Unit` suppresses
/// follow-on type errors.
/// Deepest expression accepted: far beyond any real schema, and shallow enough for
/// every pass that walks expressions recursively.
const MAX_EXPR_DEPTH: usize = 100;

/// How deeply an expression nests, counted without recursion.
fn depth(e: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        deepest = deepest.max(d);
        stack.extend(
            crate::ir::visit::children(e)
                .into_iter()
                .map(|c| (c, d + 1)),
        );
    }
    deepest
}

/// True for the placeholder of an expression whose error was already reported (see
/// [`unit`]), which further checks leave alone; the literal `()` is not one.
fn reported(e: &Expr) -> bool {
    e.ty == ValueTy::Unit && matches!(e.kind, ExprKind::Int(0))
}

pub(super) fn unit(span: Span, text: String) -> Expr {
    Expr {
        kind: ExprKind::Int(0),
        ty: ValueTy::Unit,
        span,
        text,
    }
}

/// The span of a read of a conditional field, if the expression makes one.
pub(super) fn optional_read(e: &Expr) -> Option<Span> {
    if matches!(e.ty, ValueTy::Optional(_)) && matches!(e.kind, ExprKind::Field(_)) {
        return Some(e.span);
    }
    match &e.kind {
        ExprKind::Unary(_, a) | ExprKind::Coerce(_, a) => optional_read(a),
        ExprKind::Binary(_, a, b) => optional_read(a).or_else(|| optional_read(b)),
        ExprKind::If(c, a, b) => optional_read(c)
            .or_else(|| optional_read(a))
            .or_else(|| optional_read(b)),
        ExprKind::Match(s, arms) => {
            optional_read(s).or_else(|| arms.iter().find_map(|(_, v)| optional_read(v)))
        }
        _ => None,
    }
}
