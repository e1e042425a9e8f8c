//! The model written out as `.mproto` text for the compiler's one front end, with
//! a map from each piece of text back to the Rust tokens it came from, so the
//! compiler's diagnostics point at the user's attributes and fields.

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
    /// Byte ranges of `text` and the Rust spans they came from.
    pub spans: Vec<(usize, usize, Span)>,
    /// Rust bindings by type name.
    pub rust: HashMap<String, RustItem>,
}

impl Rendered {
    /// The Rust span for a byte range of the text: the innermost piece containing its start.
    pub fn span_at(&self, start: usize) -> Option<Span> {
        self.spans
            .iter()
            .filter(|(a, b, _)| *a <= start && start < (*b).max(*a + 1))
            .min_by_key(|(a, b, _)| b - a)
            .map(|(_, _, s)| *s)
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
        },
        unions: items
            .iter()
            .filter_map(|p| match &p.item.kind {
                ItemKind::Union(v) => Some((p.item.ident.to_string(), v)),
                _ => None,
            })
            .collect(),
        externs: Vec::new(),
    };
    for (i, p) in items.iter().enumerate() {
        w.item(p, i == 0);
    }
    let externs = std::mem::take(&mut w.externs);
    for (name, path) in externs {
        w.raw(&format!("extern {name} = \"{path}\"\n"));
    }
    w.out
}

struct Writer<'c, 'i> {
    cx: &'c Ctxt,
    out: Rendered,
    unions: HashMap<String, &'i Vec<Variant>>,
    externs: Vec<(String, String)>,
}

impl<'i> Writer<'_, 'i> {
    fn raw(&mut self, s: &str) {
        self.out.text.push_str(s);
    }

    fn spanned(&mut self, s: &str, span: Span) {
        let start = self.out.text.len();
        self.out.text.push_str(s);
        self.out.spans.push((start, self.out.text.len(), span));
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
        if let Some(first) = ts.into_iter().next() {
            let end = self.out.text.len();
            self.out.spans.push((start, end, first.span()));
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
        self.spanned(&ty, type_span(f));
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
            let name = path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            let full = path.to_token_stream().to_string().replace(' ', "");
            if !self.externs.iter().any(|(n, _)| *n == name) {
                self.externs.push((name.clone(), full));
            }
            return leaf(name);
        }
        match &f.shape {
            Shape::Int(n) if a.varint => {
                leaf(self.expect(n == "u64", f, "`varint` fields are `u64`", "varint"))
            }
            Shape::Int(n) if a.zigzag => {
                leaf(self.expect(n == "i64", f, "`zigzag` fields are `i64`", "zigzag"))
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
            options.push(format!("[{}]", token_text(l)));
        }
        if let Some((p, _)) = &a.prefix {
            options.push(format!("({})", prefix_name(p, be)));
        }
        if a.to_end {
            options.push("[..]".into());
        }
        if a.nul {
            options.push("[nul]".into());
        }
        if a.size.is_some() || a.size_prefix.is_some() {
            self.cx.error_at(&f.ty, "`size`/`size_prefix` measure lists; bytes and text take `len`, `prefix`, `to_end` or `nul`");
        }
        self.one_of(
            f,
            options,
            "bytes and text need a length: `len = field`, `prefix = u16`, `to_end` or `nul`",
        )
    }

    /// The length part of a list: `n`, `size n`, `u16`, `size u16`, `..`.
    fn list_len(&self, f: &Field, be: bool) -> String {
        let a = &f.attrs;
        let mut options = Vec::new();
        if let Some(l) = &a.len {
            options.push(token_text(l));
        }
        if let Some(s) = &a.size {
            options.push(format!("size {}", token_text(s)));
        }
        if let Some((p, _)) = &a.prefix {
            options.push(prefix_name(p, be));
        }
        if let Some((p, _)) = &a.size_prefix {
            options.push(format!("size {}", prefix_name(p, be)));
        }
        if a.to_end {
            options.push("..".into());
        }
        if a.nul {
            self.cx
                .error_at(&f.ty, "`nul` ends bytes and text, not lists");
        }
        self.one_of(f, options, "a list needs a length: `len = count_field`, `size = bytes_field`, `prefix = u16`, `size_prefix = u32` or `to_end`")
    }

    fn one_of(&self, f: &Field, mut options: Vec<String>, missing: &str) -> String {
        match options.len() {
            1 => options.remove(0),
            0 => {
                self.cx.error_at(&f.ty, missing);
                "[..]".into()
            }
            _ => {
                self.cx.error_at(
                    &f.ty,
                    format!("give the length once; found {}", options.join(", ")),
                );
                options.remove(0)
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
        let mut s = format!("match {} {{ ", token_text(scrutinee));
        let mut parts = Vec::new();
        for v in variants {
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
            s.push_str(&format!("{} => {}({t}), ", token_text(&v.tag), v.ident));
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
            self.spanned(&ty, type_span(m));
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

fn token_text(ts: &TokenStream) -> String {
    ts.to_string()
}

fn type_span(f: &Field) -> Span {
    use syn::spanned::Spanned;
    f.ty.span()
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
        ItemKind::Struct(s) => s
            .fields
            .iter()
            .for_each(|f| add(&f.shape, f.attrs.with.is_some())),
        ItemKind::Bits(b) => b.members.iter().for_each(|f| add(&f.shape, false)),
        ItemKind::Union(vs) => vs
            .iter()
            .filter_map(|v| v.field.as_ref())
            .for_each(|f| add(&f.shape, f.attrs.with.is_some())),
        ItemKind::Enum(_) => {}
    }
    out
}
