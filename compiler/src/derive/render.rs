//! The model written out as `.mproto` text for the compiler's one front end, with
//! a map from each piece of text back to the Rust tokens it came from, so the
//! compiler's diagnostics point at the user's attributes and fields.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::ir::{RustItem, RustTy};
use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;

use super::ast::{
    BitsItem, EnumItem, Field, Frame, Item, ItemKind, Shape, StructItem, Variant, rust_text,
};
use super::ctxt::Ctxt;

/// One derived item and where it sits relative to the item being expanded.
pub struct Placed {
    /// Module path prefix (`""`, `"proto::"`).
    pub prefix: String,
    /// The item.
    pub item: Item,
}

/// Schema text, its span map, and the Rust binding of each item by name.
pub struct Rendered {
    /// `.mproto` text.
    pub text: String,
    /// Byte ranges of `text` and the Rust tokens they came from (first and last).
    pub spans: Vec<(usize, usize, Span, Span)>,
    /// Rust bindings by type name.
    pub rust: HashMap<String, RustItem>,
    /// The user's tokens for each `with` path, by the path's text.
    pub externs: HashMap<String, TokenStream>,
}

impl Rendered {
    /// The Rust tokens (first and last) for a byte range of the text: the
    /// innermost piece holding the whole range, else the innermost holding its start.
    pub fn span_at(&self, start: usize, end: usize) -> Option<(Span, Span)> {
        let innermost = |holds: &dyn Fn(usize, usize) -> bool| {
            self.spans
                .iter()
                .filter(|(a, b, _, _)| holds(*a, *b))
                .min_by_key(|(a, b, _, _)| b - a)
                .map(|(_, _, first, last)| (*first, *last))
        };
        innermost(&|a, b| a <= start && end <= b && start < b.max(a + 1))
            .or_else(|| innermost(&|a, b| a <= start && start < b.max(a + 1)))
    }
}

/// Writes every item; `items[0]` is the one being derived.
pub fn render(cx: &Ctxt, items: &[Placed]) -> Rendered {
    let mut w = Writer {
        cx,
        out: Rendered {
            text: String::new(),
            spans: Vec::new(),
            rust: HashMap::new(),
            externs: HashMap::new(),
        },
        unions: items
            .iter()
            .filter_map(|p| match &p.item.kind {
                ItemKind::Union(v) => Some((p.item.ident.to_string(), v)),
                _ => None,
            })
            .collect(),
        externs: Vec::new(),
        exprs: RefCell::new(Vec::new()),
    };
    for (i, p) in items.iter().enumerate() {
        w.item(p, i == 0);
    }
    let externs = std::mem::take(&mut w.externs);
    for (name, path, tokens) in externs {
        w.raw(&format!("extern {name} = \"{path}\"\n"));
        w.out.externs.insert(path, tokens);
    }
    w.out
}

struct Writer<'c, 'i> {
    cx: &'c Ctxt,
    out: Rendered,
    unions: HashMap<String, &'i Vec<Variant>>,
    /// `with` codecs: schema name, path text and the user's tokens.
    externs: Vec<(String, String, TokenStream)>,
    /// Attribute expressions written into the current field's type, in order.
    exprs: RefCell<Vec<TokenStream>>,
}

impl<'i> Writer<'_, 'i> {
    fn raw(&mut self, s: &str) {
        self.out.text.push_str(s);
    }

    fn spanned(&mut self, s: &str, span: Span) {
        self.spanned2(s, (span, span));
    }

    /// Writes `s` for the Rust tokens from `first` to `last`.
    fn spanned2(&mut self, s: &str, (first, last): (Span, Span)) {
        let start = self.out.text.len();
        self.out.text.push_str(s);
        self.out
            .spans
            .push((start, self.out.text.len(), first, last));
    }

    /// Maps the attribute expressions queued while writing a type (`len`, `size`,
    /// `match`, tags) to their text inside `start..end`, token by token, so a
    /// diagnostic about one points at the attribute rather than at the field's type.
    fn map_exprs(&mut self, start: usize, end: usize) {
        let mut cursor = start;
        for ts in std::mem::take(&mut *self.exprs.borrow_mut()) {
            let mut leaves = Vec::new();
            leaf_tokens(ts, &mut leaves);
            let mut whole: Option<(usize, Span, Span)> = None;
            for (text, span) in leaves {
                let Some(at) = self.out.text[cursor..end].find(&text) else {
                    continue;
                };
                let a = cursor + at;
                cursor = a + text.len();
                self.out.spans.push((a, cursor, span, span));
                let (s0, f, _) = whole.unwrap_or((a, span, span));
                whole = Some((s0, f, span));
            }
            if let Some((s0, first, last)) = whole {
                self.out.spans.push((s0, cursor, first, last));
            }
        }
    }

    /// Writes tokens as a person would (`sizeof(self) - 4`, `flags.kind`), keeping
    /// joint punctuation (`::`, `==`, `=>`) together; the text reappears in the
    /// generated code's error messages and docs.
    fn tokens(&mut self, ts: TokenStream) {
        let start = self.out.text.len();
        let mut glue = true;
        for tt in ts.clone() {
            match tt {
                TokenTree::Group(g) => {
                    let (open, close) = match g.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::Brace => ("{ ", " }"),
                        Delimiter::None => ("", ""),
                    };
                    self.gap(glue, open);
                    self.spanned(open, g.span_open());
                    self.tokens(g.stream());
                    self.spanned(close, g.span_close());
                    glue = false;
                }
                TokenTree::Punct(p) => {
                    let c = p.as_char().to_string();
                    // A unary operator sticks to its operand: `-1`, `!done`.
                    let unary = matches!(p.as_char(), '-' | '!') && self.after_operator();
                    self.gap(glue || c == "." || c == ",", &c);
                    self.spanned(&c, p.span());
                    glue = p.spacing() == proc_macro2::Spacing::Joint || c == "." || unary;
                }
                TokenTree::Ident(i) => {
                    let t = i.to_string();
                    self.gap(glue, &t);
                    self.spanned(&t, i.span());
                    glue = false;
                }
                TokenTree::Literal(l) => {
                    let t = l.to_string();
                    self.gap(glue, &t);
                    self.spanned(&t, l.span());
                    glue = false;
                }
            }
        }
        let mut tokens = ts.into_iter();
        if let Some(first) = tokens.next() {
            let last = tokens.last().map_or(first.span(), |l| l.span());
            let end = self.out.text.len();
            self.out.spans.push((start, end, first.span(), last));
        }
    }

    /// A space before `next` unless it is glued to what came before.
    fn gap(&mut self, glue: bool, next: &str) {
        let last = self.out.text.chars().last().unwrap_or(' ');
        let tight = glue
            || last.is_whitespace()
            || matches!(last, '(' | '[')
            || next.starts_with([')', ']'])
            || (next.starts_with(['(', '[']) && (last.is_alphanumeric() || last == '_'));
        if !tight {
            self.raw(" ");
        }
    }

    /// True when the text so far ends where an operand is expected.
    fn after_operator(&self) -> bool {
        let t = self.out.text.trim_end();
        match t.chars().last() {
            None => true,
            Some(c) => !(c.is_alphanumeric() || matches!(c, '_' | ')' | ']' | '"' | '}')),
        }
    }

    fn docs(&mut self, docs: &[String], indent: &str) {
        for d in docs {
            self.raw(&format!("{indent}/// {d}\n"));
        }
    }

    fn item(&mut self, p: &'i Placed, emit: bool) {
        let item = &p.item;
        let name = item.ident.to_string();
        let mut rust = RustItem {
            prefix: p.prefix.clone(),
            lifetime: item.lifetime,
            emit,
            ..Default::default()
        };
        match &item.kind {
            ItemKind::Struct(s) => {
                if let (Some(f), true) = (&s.frame, emit) {
                    self.protocol(f, s);
                }
                self.docs(&item.docs, "");
                let kw = if s.frame.is_some() && emit {
                    "frame"
                } else {
                    "struct"
                };
                self.raw(&format!("{kw} "));
                self.spanned(&name, item.ident.span());
                self.raw(" {\n");
                for f in &s.fields {
                    rust.fields.push(self.member(f, s.big_endian));
                    if let (true, Some(n)) =
                        (f.attrs.pad.is_some() || f.attrs.align.is_some(), &f.ident)
                    {
                        rust.units.push(n.to_string());
                    }
                }
                self.raw("}\n");
                if let (Some(f), true) = (&s.frame, emit) {
                    self.mesh(f, &name);
                }
            }
            ItemKind::Bits(b) => self.bits(item, b),
            ItemKind::Enum(e) => self.enumeration(item, e),
            ItemKind::Union(_) => return,
        }
        self.out.rust.insert(name, rust);
    }

    fn protocol(&mut self, f: &Frame, s: &StructItem) {
        self.raw("protocol ");
        self.spanned(&f.protocol.0, f.protocol.1);
        let codec = f
            .codec
            .clone()
            .unwrap_or_else(|| format!("mproto.{}", f.protocol.0));
        let endian = if s.big_endian { "big" } else { "little" };
        self.raw(&format!(" {{\n    codec {codec:?}\n    endian {endian}\n"));
        if let Some(m) = f.max_frame {
            self.raw(&format!("    max_frame {m}\n"));
        }
        self.raw("}\n");
    }

    fn mesh(&mut self, f: &Frame, name: &str) {
        if !f.metadata.is_empty() {
            self.raw(&format!("metadata {name} {{\n"));
            for (key, value) in &f.metadata {
                self.raw(&format!("    {key} = "));
                self.tokens(value.clone());
                self.raw("\n");
            }
            self.raw("}\n");
        }
        for (kind, reply) in [("error", &f.error_reply), ("heartbeat", &f.heartbeat_reply)] {
            let Some((params, body)) = reply else {
                continue;
            };
            self.raw(&format!("reply {kind}("));
            self.tokens(params.clone());
            self.raw(&format!(") -> {name} {{\n    "));
            self.tokens(body.clone());
            self.raw("\n}\n");
        }
    }

    /// One struct member; returns its Rust type for the binding.
    fn member(&mut self, f: &Field, big_endian: bool) -> Option<RustTy> {
        let a = &f.attrs;
        let span = a.span.unwrap_or_else(Span::call_site);
        self.docs(&f.docs, "    ");
        if let Some(n) = a.pad.or(a.align) {
            if !matches!(f.shape, Shape::Unit) {
                self.cx.error_at(
                    &f.ty,
                    "padding is declared on a field of type `()`: `#[mproto(pad = 2)] _pad: ()`",
                );
            }
            let kw = if a.pad.is_some() { "pad" } else { "align" };
            self.raw("    ");
            self.spanned(&format!("{kw} {n}"), span);
            self.raw("\n");
            return None;
        }
        let Some(ident) = &f.ident else { return None };
        self.raw("    ");
        self.spanned(&ident.to_string(), ident.span());
        self.raw(": ");
        let (ty, rust) = self.field_type(f, big_endian);
        let start = self.out.text.len();
        self.spanned2(&ty, type_span(f));
        let end = self.out.text.len();
        self.map_exprs(start, end);
        for (kw, v) in [("=", &a.value), ("where", &a.where_), ("if", &a.if_)] {
            if let Some(v) = v {
                self.raw(&format!(" {kw} "));
                self.tokens(v.clone());
            }
        }
        self.raw("\n");
        Some(rust)
    }

    /// The `.mproto` type of a field and its Rust type.
    fn field_type(&mut self, f: &Field, big_endian: bool) -> (String, RustTy) {
        let a = &f.attrs;
        let be = a.endian.unwrap_or(big_endian);
        let text = rust_text(&f.ty);
        let leaf = |s: String| {
            (
                s,
                RustTy {
                    text: text.clone(),
                    parts: Vec::new(),
                },
            )
        };
        if let Some(path) = &a.with {
            return leaf(self.extern_name(path));
        }
        match &f.shape {
            Shape::Int(n) if a.varint => {
                leaf(self.expect(n == "u64", f, "a `varint` field has type `u64`: change the type, or drop `varint` for a fixed-width integer", "varint"))
            }
            Shape::Int(n) if a.zigzag => {
                leaf(self.expect(n == "i64", f, "a `zigzag` field has type `i64`: change the type, or drop `zigzag` for a fixed-width integer", "zigzag"))
            }
            Shape::Int(n) | Shape::Float(n) => leaf(int_name(n, be)),
            Shape::Bool => leaf("bool".into()),
            Shape::Bytes | Shape::Text => {
                let kw = if matches!(f.shape, Shape::Text) {
                    "str"
                } else {
                    "bytes"
                };
                leaf(format!("{kw}{}", self.bytes_len(f, be)))
            }
            Shape::FixedBytes(n) => leaf(format!("bytes[{n}]")),
            Shape::List(elem) => {
                let (et, er) = self.part(f, &elem.0, &elem.1, 0, be);
                let len = self.list_len(f, be);
                (
                    format!("[{et}; {len}]"),
                    RustTy {
                        text,
                        parts: vec![er],
                    },
                )
            }
            Shape::KvList(k, v) => {
                let (kt, kr) = self.part(f, &k.0, &k.1, 0, be);
                let (vt, vr) = self.part(f, &v.0, &v.1, 1, be);
                let len = self.list_len(f, be);
                (
                    format!("[{kt} => {vt}; {len}]"),
                    RustTy {
                        text,
                        parts: vec![kr, vr],
                    },
                )
            }
            Shape::Named(_, name) => match self.unions.get(&name.to_string()).copied() {
                Some(variants) => self.union(f, variants, text, be),
                None => {
                    if let Some(m) = &a.match_ {
                        self.cx.error_at(m, format!("`match` selects a variant of a tagged union, and `{name}` is not one (an enum whose variants carry data)"));
                    }
                    leaf(name.to_string())
                }
            },
            Shape::Unit => {
                self.cx.error_at(
                    &f.ty,
                    "a `()` field is padding: add `#[mproto(pad = N)]` or `#[mproto(align = N)]`",
                );
                leaf("u8".into())
            }
            Shape::Unsupported => {
                self.cx.error_at(&f.ty, UNSUPPORTED);
                leaf("u8".into())
            }
        }
    }

    /// The schema name of a `with` codec: its last segment, numbered if two paths share it.
    fn extern_name(&mut self, path: &syn::Path) -> String {
        let full = path.to_token_stream().to_string().replace(' ', "");
        if let Some((name, _, _)) = self.externs.iter().find(|(_, p, _)| *p == full) {
            return name.clone();
        }
        let last = path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let taken = self
            .externs
            .iter()
            .filter(|(_, p, _)| p.rsplit("::").next() == Some(last.as_str()))
            .count();
        let name = match taken {
            0 => last,
            n => format!("{last}{}", n + 1),
        };
        self.externs
            .push((name.clone(), full, path.to_token_stream()));
        name
    }

    /// An attribute expression as text, queued for [`Writer::map_exprs`].
    fn expr_text(&self, ts: &TokenStream) -> String {
        self.exprs.borrow_mut().push(ts.clone());
        ts.to_string()
    }

    fn expect(&self, ok: bool, f: &Field, message: &str, word: &str) -> String {
        if !ok {
            self.cx.error_at(&f.ty, message);
        }
        word.to_string()
    }

    /// `[len]`, `(prefix)`, `[..]` or `[nul]` for bytes and text.
    fn bytes_len(&self, f: &Field, be: bool) -> String {
        let a = &f.attrs;
        let mut options = Vec::new();
        if let Some(l) = &a.len {
            options.push((format!("[{}]", self.expr_text(l)), "len"));
        }
        if let Some((p, _)) = &a.prefix {
            options.push((format!("({})", prefix_name(p, be)), "prefix"));
        }
        if a.to_end {
            options.push(("[..]".into(), "to_end"));
        }
        if a.nul {
            options.push(("[nul]".into(), "nul"));
        }
        if a.size.is_some() || a.size_prefix.is_some() {
            self.cx.error_at(&f.ty, "`size`/`size_prefix` measure lists; bytes and text take `len`, `prefix`, `to_end` or `nul`");
        }
        self.one_of(
            f,
            options,
            "bytes and text need a length: add `#[mproto(len = field)]`, `#[mproto(prefix = u16)]`, `#[mproto(to_end)]` or `#[mproto(nul)]`",
        )
    }

    /// The length part of a list: `n`, `size n`, `u16`, `size u16`, `..`.
    fn list_len(&self, f: &Field, be: bool) -> String {
        let a = &f.attrs;
        let mut options = Vec::new();
        if let Some(l) = &a.len {
            options.push((self.expr_text(l), "len"));
        }
        if let Some(s) = &a.size {
            options.push((format!("size {}", self.expr_text(s)), "size"));
        }
        if let Some((p, _)) = &a.prefix {
            options.push((prefix_name(p, be), "prefix"));
        }
        if let Some((p, _)) = &a.size_prefix {
            options.push((format!("size {}", prefix_name(p, be)), "size_prefix"));
        }
        if a.to_end {
            options.push(("..".into(), "to_end"));
        }
        if a.nul {
            self.cx
                .error_at(&f.ty, "`nul` ends bytes and text, not lists");
        }
        self.one_of(f, options, "a list needs a length: add `#[mproto(len = count_field)]`, `#[mproto(size = bytes_field)]`, `#[mproto(prefix = u16)]`, `#[mproto(size_prefix = u32)]` or `#[mproto(to_end)]`")
    }

    /// The one length given, as schema text; `options` pairs it with its attribute.
    fn one_of(&self, f: &Field, mut options: Vec<(String, &str)>, missing: &str) -> String {
        match options.len() {
            1 => options.remove(0).0,
            0 => {
                self.cx.error_at(&f.ty, missing);
                "[..]".into()
            }
            _ => {
                let given: Vec<String> = options.iter().map(|(_, k)| format!("`{k}`")).collect();
                self.cx.error_at(
                    &f.ty,
                    format!(
                        "give the length once: this field has {}; keep one of them",
                        given.join(" and ")
                    ),
                );
                options.remove(0).0
            }
        }
    }

    /// An element, key or value type of a list.
    fn part(
        &mut self,
        f: &Field,
        ty: &syn::Type,
        shape: &Shape,
        i: usize,
        be: bool,
    ) -> (String, RustTy) {
        let text = rust_text(ty);
        let wire = match shape {
            Shape::Int(n) | Shape::Float(n) => int_name(n, be),
            Shape::Bool => "bool".into(),
            Shape::FixedBytes(n) => format!("bytes[{n}]"),
            Shape::Bytes | Shape::Text => {
                let kw = if matches!(shape, Shape::Text) {
                    "str"
                } else {
                    "bytes"
                };
                match &f.attrs.part_prefix[i] {
                    Some((p, _)) => format!("{kw}({})", prefix_name(p, be)),
                    None => {
                        let key = match (&f.shape, i) {
                            (Shape::KvList(..), 0) => "key_prefix",
                            (Shape::KvList(..), _) => "value_prefix",
                            _ => "elem_prefix",
                        };
                        self.cx.error_at(ty, format!("text and bytes inside a list need a length prefix: `#[mproto({key} = u16)]`"));
                        format!("{kw}(u8)")
                    }
                }
            }
            Shape::Named(_, name) => name.to_string(),
            _ => {
                self.cx.error_at(ty, UNSUPPORTED);
                "u8".into()
            }
        };
        (
            wire,
            RustTy {
                text,
                parts: Vec::new(),
            },
        )
    }

    /// A union field: `match tag { pattern => Variant(type), … }`.
    fn union(
        &mut self,
        f: &Field,
        variants: &[Variant],
        text: String,
        be: bool,
    ) -> (String, RustTy) {
        let Some(scrutinee) = &f.attrs.match_ else {
            self.cx.error_at(&f.ty, "a tagged-union field needs the field that selects its variant: `#[mproto(match = kind)]`");
            return (
                "u8".into(),
                RustTy {
                    text,
                    parts: Vec::new(),
                },
            );
        };
        let mut s = format!("match {} {{ ", self.expr_text(scrutinee));
        let mut parts = Vec::new();
        for v in variants {
            let tag = self.expr_text(&v.tag);
            let (t, r) = match &v.field {
                Some(vf) => self.field_type(vf, be),
                None => (
                    "()".into(),
                    RustTy {
                        text: "()".into(),
                        parts: Vec::new(),
                    },
                ),
            };
            s.push_str(&format!("{tag} => {}({t}), ", v.ident));
            parts.push(r);
        }
        s.push('}');
        (s, RustTy { text, parts })
    }

    fn bits(&mut self, item: &Item, b: &BitsItem) {
        self.docs(&item.docs, "");
        self.raw("bits ");
        self.spanned(&item.ident.to_string(), item.ident.span());
        self.raw(": ");
        self.spanned(&int_name(&b.repr.0, b.big_endian), b.repr.1);
        self.raw(" {\n");
        for m in &b.members {
            let Some(ident) = &m.ident else { continue };
            self.docs(&m.docs, "    ");
            self.raw("    ");
            self.spanned(&ident.to_string(), ident.span());
            self.raw(": ");
            let ty = match (&m.shape, m.attrs.bits) {
                (Shape::Bool, None) => "bool".to_string(),
                (Shape::Int(_), Some(n)) => format!("u{n}"),
                (Shape::Named(_, name), None) => name.to_string(),
                (Shape::Int(_), None) => {
                    self.cx
                        .error_at(&m.ty, "a bit member needs its width: `#[mproto(bits = 3)]`");
                    "u1".into()
                }
                _ => {
                    self.cx.error_at(&m.ty, "a bit member is `bool`, an unsigned integer with `#[mproto(bits = N)]`, or a derived enum");
                    "u1".into()
                }
            };
            self.spanned2(&ty, type_span(m));
            if let Some(v) = &m.attrs.value {
                self.raw(" = ");
                self.tokens(v.clone());
            }
            self.raw(",\n");
        }
        self.raw("}\n");
    }

    fn enumeration(&mut self, item: &Item, e: &EnumItem) {
        self.docs(&item.docs, "");
        self.raw("enum ");
        self.spanned(&item.ident.to_string(), item.ident.span());
        self.raw(": ");
        self.spanned(&int_name(&e.repr.0, e.big_endian), e.repr.1);
        self.raw(" {\n");
        for (v, value, docs) in &e.variants {
            self.docs(docs, "    ");
            self.raw("    ");
            self.spanned(&v.to_string(), v.span());
            self.raw(&format!(" = {value},\n"));
        }
        if let Some(u) = &e.unknown {
            self.raw("    _ => ");
            self.spanned(&u.to_string(), u.span());
            self.raw(",\n");
        }
        self.raw("}\n");
    }
}

const UNSUPPORTED: &str = "this type has no wire form; use an integer, `bool`, `f32`/`f64`, bytes (`&[u8]`, `Vec<u8>`, `Bytes`, `[u8; N]`), text (`&str`, `String`, `ByteString`), `Vec<T>`, `Vec<(K, V)>`, `Option<T>` with `if`, a derived type, or `with = path`";

/// `u16be`, `u16le`; single bytes and sub-byte widths take no suffix.
fn int_name(n: &str, be: bool) -> String {
    let bits: u32 = n[1..].parse().unwrap_or(8);
    if bits > 8 && bits.is_multiple_of(8) {
        format!("{n}{}", if be { "be" } else { "le" })
    } else {
        n.to_string()
    }
}

fn prefix_name(p: &str, be: bool) -> String {
    if p == "varint" {
        p.to_string()
    } else {
        int_name(p, be)
    }
}

/// The first and last tokens of a field's type.
fn type_span(f: &Field) -> (Span, Span) {
    let mut tokens = f.ty.to_token_stream().into_iter();
    let first = tokens.next().map_or_else(Span::call_site, |t| t.span());
    (first, tokens.last().map_or(first, |t| t.span()))
}

/// Every token of `ts` as text, with its span; groups as their delimiters and contents.
fn leaf_tokens(ts: TokenStream, out: &mut Vec<(String, Span)>) {
    for tt in ts {
        match tt {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    out.push((open.into(), g.span_open()));
                }
                leaf_tokens(g.stream(), out);
                if !close.is_empty() {
                    out.push((close.into(), g.span_close()));
                }
            }
            other => out.push((other.to_string(), other.span())),
        }
    }
}

/// Every other derived type an item names, with the path prefix it is named by.
pub fn nested(item: &Item) -> Vec<(String, Ident)> {
    let mut out = Vec::new();
    let mut add = |shape: &Shape, with: bool| {
        let mut stack = vec![shape.clone()];
        while let Some(s) = stack.pop() {
            match s {
                Shape::Named(p, n) if !with => out.push((p, n)),
                Shape::List(e) => stack.push(e.1),
                Shape::KvList(k, v) => {
                    stack.push(k.1);
                    stack.push(v.1);
                }
                _ => {}
            }
        }
    };
    match &item.kind {
        ItemKind::Struct(s) => {
            s.fields
                .iter()
                .for_each(|f| add(&f.shape, f.attrs.with.is_some()));
            let replies = s
                .frame
                .iter()
                .flat_map(|f| [&f.error_reply, &f.heartbeat_reply]);
            for (_, body) in replies.flatten() {
                super::ast::struct_literals(body.clone(), &mut out);
            }
        }
        ItemKind::Bits(b) => b.members.iter().for_each(|f| add(&f.shape, false)),
        ItemKind::Union(vs) => vs
            .iter()
            .filter_map(|v| v.field.as_ref())
            .for_each(|f| add(&f.shape, f.attrs.with.is_some())),
        ItemKind::Enum(_) => {}
    }
    out
}
