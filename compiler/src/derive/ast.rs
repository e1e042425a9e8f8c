//! The derive input as a typed model: items, fields and variants with their
//! `#[mproto(...)]` attributes read and checked, every error collected.

use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit_mut::VisitMut;
use syn::{Data, DeriveInput, Fields, GenericParam, Type};

use super::attr::{self, Entry};
use super::ctxt::Ctxt;

/// One derived item.
pub struct Item {
    /// Its name.
    pub ident: Ident,
    /// Doc lines.
    pub docs: Vec<String>,
    /// True when it has a lifetime parameter.
    pub lifetime: bool,
    /// What it is.
    pub kind: ItemKind,
}

/// The kinds of derived item.
pub enum ItemKind {
    /// A struct, possibly the frame.
    Struct(StructItem),
    /// A struct with `#[mproto(bits = uN)]`: a bit group.
    Bits(BitsItem),
    /// A fieldless enum with wire values.
    Enum(EnumItem),
    /// An enum whose variants carry data: a tagged union, chosen by `#[mproto(match = …)]`.
    Union(Vec<Variant>),
}

/// A struct's members and container attributes.
pub struct StructItem {
    /// Default byte order of its fields.
    pub big_endian: bool,
    /// Present on the frame.
    pub frame: Option<Frame>,
    /// Members in order.
    pub fields: Vec<Field>,
}

/// Protocol, metadata and replies of the frame.
pub struct Frame {
    /// `protocol = "name"`.
    pub protocol: (String, Span),
    /// `codec = "name"`.
    pub codec: Option<String>,
    /// `max_frame = N` in bytes.
    pub max_frame: Option<u64>,
    /// Metadata entries: key (`request_id`, or `property "k"`), expression.
    pub metadata: Vec<(String, TokenStream)>,
    /// `error_reply(req, err) = { … }`: parameters and assignments.
    pub error_reply: Option<(TokenStream, TokenStream)>,
    /// `heartbeat_reply(req) = { … }`.
    pub heartbeat_reply: Option<(TokenStream, TokenStream)>,
}

/// A bit group's width and members.
pub struct BitsItem {
    /// `u8`…`u64`.
    pub repr: (String, Span),
    /// Byte order of the container.
    pub big_endian: bool,
    /// Members, most significant first.
    pub members: Vec<Field>,
}

/// A fieldless enum.
pub struct EnumItem {
    /// Wire width: `u3`, `u8`, `u16`…
    pub repr: (String, Span),
    /// Byte order.
    pub big_endian: bool,
    /// Variants with values.
    pub variants: Vec<(Ident, i128, Vec<String>)>,
    /// The variant that keeps unknown values.
    pub unknown: Option<Ident>,
}

/// A variant of a union enum.
pub struct Variant {
    /// Its name.
    pub ident: Ident,
    /// `tag = …` patterns.
    pub tag: TokenStream,
    /// Its payload, if it has one.
    pub field: Option<Field>,
}

/// A struct member, bit member or variant payload.
pub struct Field {
    /// Its name (`None` for a variant payload).
    pub ident: Option<Ident>,
    /// Doc lines.
    pub docs: Vec<String>,
    /// The Rust type as written (after `Option` for conditional fields).
    pub ty: Type,
    /// The Rust type's shape.
    pub shape: Shape,
    /// Attributes.
    pub attrs: FieldAttrs,
}

/// What a Rust type is, as far as the wire is concerned.
#[derive(Clone)]
pub enum Shape {
    /// `u8`…`i64`.
    Int(String),
    /// `f32`, `f64`.
    Float(String),
    /// `bool`.
    Bool,
    /// `&[u8]`, `Vec<u8>`, `Bytes`, `Cow<[u8]>`.
    Bytes,
    /// `[u8; N]`.
    FixedBytes(TokenStream),
    /// `&str`, `String`, `ByteString`, `Cow<str>`.
    Text,
    /// `Vec<T>`.
    List(Box<(Type, Shape)>),
    /// `Vec<(K, V)>`.
    KvList(Box<(Type, Shape)>, Box<(Type, Shape)>),
    /// `()`.
    Unit,
    /// Another derived item: path prefix as written and its name.
    Named(String, Ident),
    /// Something the derive cannot map.
    Unsupported,
}

/// A field's `#[mproto(...)]` attributes.
#[derive(Default)]
pub struct FieldAttrs {
    /// `value = expr`.
    pub value: Option<TokenStream>,
    /// `where = rule`.
    pub where_: Option<TokenStream>,
    /// `if = condition`.
    pub if_: Option<TokenStream>,
    /// `endian = "big" | "little"`.
    pub endian: Option<bool>,
    /// `len = expr`.
    pub len: Option<TokenStream>,
    /// `size = expr`.
    pub size: Option<TokenStream>,
    /// `prefix = u16`.
    pub prefix: Option<(String, Span)>,
    /// `size_prefix = u32`.
    pub size_prefix: Option<(String, Span)>,
    /// `elem_prefix`, `key_prefix`, `value_prefix`: length prefixes of list parts.
    pub part_prefix: [Option<(String, Span)>; 2],
    /// `to_end`.
    pub to_end: bool,
    /// `nul`.
    pub nul: bool,
    /// `varint`.
    pub varint: bool,
    /// `zigzag`.
    pub zigzag: bool,
    /// `bits = N`.
    pub bits: Option<u64>,
    /// `pad = N`.
    pub pad: Option<u64>,
    /// `align = N`.
    pub align: Option<u64>,
    /// `with = path::Type`.
    pub with: Option<syn::Path>,
    /// `match = expr`.
    pub match_: Option<TokenStream>,
    /// Mesh shortcuts: `request_id`, `stream_id`, `properties`, `mutate`, `property = "k"`.
    pub mesh: Vec<(String, Span)>,
    /// The span of the whole field, for errors about it.
    pub span: Option<Span>,
}

const FIELD_KEYS: &[&str] = &[
    "value",
    "where",
    "if",
    "endian",
    "len",
    "size",
    "prefix",
    "size_prefix",
    "elem_prefix",
    "key_prefix",
    "value_prefix",
    "to_end",
    "nul",
    "varint",
    "zigzag",
    "bits",
    "pad",
    "align",
    "with",
    "match",
    "request_id",
    "stream_id",
    "properties",
    "mutate",
    "property",
];
const STRUCT_KEYS: &[&str] = &[
    "protocol",
    "codec",
    "endian",
    "max_frame",
    "bits",
    "crate",
    "message_type",
    "request_id",
    "stream_id",
    "response_status",
    "properties",
    "mutate",
    "property",
    "error_reply",
    "heartbeat_reply",
];
const ENUM_KEYS: &[&str] = &["repr", "endian", "crate"];
const VARIANT_KEYS: &[&str] = &["unknown", "tag"];
const PREFIXES: &[&str] = &["u8", "u16", "u32", "u64", "varint"];
const WIDTHS: &[&str] = &["u8", "u16", "u32", "u64"];
/// Signed enum representations.
const SIGNED: &[&str] = &["i8", "i16", "i32", "i64"];

/// Reads a derive input. `krate` receives `crate = "path"` when given.
pub fn read_item(cx: &Ctxt, input: &DeriveInput, krate: &mut Option<syn::Path>) -> Option<Item> {
    let lifetime = check_generics(cx, input);
    let docs = docs_of(&input.attrs);
    let entries = attr::entries(cx, &input.attrs);
    for e in entries.iter().filter(|e| e.key == "crate") {
        if let Some(s) = attr::string_of(cx, e, "\"::mproto\"") {
            match syn::parse_str::<syn::Path>(&s) {
                Ok(p) => *krate = Some(p),
                Err(_) => cx.error_at(e.value.clone(), "expected a path such as \"::mproto\""),
            }
        }
    }
    let entries: Vec<Entry> = entries.into_iter().filter(|e| e.key != "crate").collect();
    let kind = match &input.data {
        Data::Struct(s) => read_struct(cx, input, &entries, &s.fields),
        Data::Enum(e) => read_enum(cx, input, &entries, e),
        Data::Union(u) => {
            cx.error_at(
                u.union_token,
                "#[derive(Codec)] works on structs and enums, not unions",
            );
            None
        }
    }?;
    Some(Item {
        ident: input.ident.clone(),
        docs,
        lifetime,
        kind,
    })
}

/// A reply that assigns a struct literal to a bytes field encodes it there, so
/// that field must own its bytes; a borrowed one is reported at its type.
fn check_encoded_targets(cx: &Ctxt, body: &TokenStream, members: &[Field]) {
    let tokens: Vec<TokenTree> = body.clone().into_iter().collect();
    for assign in tokens.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
        let [TokenTree::Ident(target), TokenTree::Punct(eq), value @ ..] = assign else {
            continue;
        };
        let mut literals = Vec::new();
        struct_literals(value.iter().cloned().collect(), &mut literals);
        let field = members.iter().find(|f| f.ident.as_ref() == Some(target));
        if let ('=', Some(f)) = (eq.as_char(), field)
            && !literals.is_empty()
            && matches!(f.shape, Shape::Bytes)
            && matches!(f.ty, Type::Reference(_))
        {
            cx.error_at(&f.ty, format!("a reply encodes a struct into `{target}`, so it cannot borrow: declare it `Bytes`, `Vec<u8>` or `Cow<'a, [u8]>`"));
        }
    }
}

/// The types of the struct literals (`path::Name { … }`) in a reply: a path whose
/// last segment is capitalised, followed by braces, and not a `match`/`if` operand.
pub fn struct_literals(ts: TokenStream, out: &mut Vec<(String, Ident)>) {
    let mut path: Vec<Ident> = Vec::new();
    let (mut joined, mut operand, mut after_keyword) = (false, false, false);
    for tt in ts {
        match tt {
            TokenTree::Ident(i) if i == "match" || i == "if" => {
                path.clear();
                after_keyword = true;
            }
            TokenTree::Ident(i) => {
                if !joined {
                    path.clear();
                    operand = after_keyword;
                }
                path.push(i);
                (joined, after_keyword) = (false, false);
            }
            TokenTree::Punct(p) if p.as_char() == ':' => joined = true,
            TokenTree::Group(g) => {
                if let (Delimiter::Brace, false, Some((name, prefix))) =
                    (g.delimiter(), operand, path.split_last())
                    && name.to_string().starts_with(char::is_uppercase)
                {
                    let prefix: String = prefix.iter().map(|p| format!("{p}::")).collect();
                    out.push((prefix, name.clone()));
                }
                struct_literals(g.stream(), out);
                path.clear();
                (joined, operand, after_keyword) = (false, false, false);
            }
            TokenTree::Punct(_) | TokenTree::Literal(_) => {
                path.clear();
                joined = false;
            }
        }
    }
}

/// At most one lifetime, no type or const parameters.
fn check_generics(cx: &Ctxt, input: &DeriveInput) -> bool {
    let mut lifetimes = 0;
    for p in &input.generics.params {
        match p {
            GenericParam::Lifetime(_) => lifetimes += 1,
            other => cx.error_at(
                other,
                "#[derive(Codec)] supports one lifetime parameter and no type or const parameters",
            ),
        }
    }
    if lifetimes > 1 {
        cx.error_at(
            &input.generics,
            "#[derive(Codec)] supports at most one lifetime parameter",
        );
    }
    check_borrows(cx, input);
    lifetimes == 1
}

/// Borrowed fields borrow from the frame, for the item's own lifetime; any other
/// (`'static`, say) would fail deep in generated code, so it is reported here.
fn check_borrows(cx: &Ctxt, input: &DeriveInput) {
    struct Lifetimes<'c> {
        cx: &'c Ctxt,
        own: Option<Ident>,
        item: String,
    }
    impl VisitMut for Lifetimes<'_> {
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            if self.own.as_ref() == Some(&l.ident) || l.ident == "_" {
                return;
            }
            let fix = match &self.own {
                Some(own) => format!("write `'{own}`"),
                None => format!("declare `{}<'a>` and write `'a`", self.item),
            };
            if self.own.is_some() || l.ident == "static" {
                self.cx.error_at(&*l, format!("a field borrows from the frame it is decoded from, for the type's own lifetime: {fix}"));
            }
        }
    }
    let mut v = Lifetimes {
        cx,
        own: input
            .generics
            .lifetimes()
            .next()
            .map(|l| l.lifetime.ident.clone()),
        item: input.ident.to_string(),
    };
    let fields: Vec<&syn::Field> = match &input.data {
        Data::Struct(s) => s.fields.iter().collect(),
        Data::Enum(e) => e.variants.iter().flat_map(|v| &v.fields).collect(),
        Data::Union(_) => Vec::new(),
    };
    for f in fields {
        v.visit_type_mut(&mut f.ty.clone());
    }
}

fn docs_of(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).trim_end().to_string())
        .collect()
}

fn endian_entry(cx: &Ctxt, e: &Entry) -> Option<bool> {
    attr::word_of(cx, e, &["big", "little"]).map(|w| w == "big")
}

fn read_struct(
    cx: &Ctxt,
    input: &DeriveInput,
    entries: &[Entry],
    fields: &Fields,
) -> Option<ItemKind> {
    let Fields::Named(named) = fields else {
        cx.error_at(
            &input.ident,
            "#[derive(Codec)] needs named fields: `struct Name { field: Type }`",
        );
        return None;
    };
    let mut big_endian = true;
    let mut bits = None;
    let mut protocol = None;
    let mut frame = Frame {
        protocol: (String::new(), Span::call_site()),
        codec: None,
        max_frame: None,
        metadata: Vec::new(),
        error_reply: None,
        heartbeat_reply: None,
    };
    let mut mesh_keys = Vec::new();
    for e in entries {
        let key = e.key.to_string();
        match key.as_str() {
            "endian" => big_endian = endian_entry(cx, e).unwrap_or(true),
            "bits" => bits = attr::word_of(cx, e, WIDTHS).map(|w| (w, e.span())),
            "protocol" => protocol = attr::string_of(cx, e, "\"name\"").map(|p| (p, e.span())),
            "codec" => frame.codec = attr::string_of(cx, e, "\"vendor.codec.name\""),
            "max_frame" => frame.max_frame = attr::int_of(cx, e, "4194304"),
            "message_type" | "request_id" | "stream_id" | "response_status" | "properties"
            | "mutate" => {
                mesh_keys.push(e.key.clone());
                if let Some(v) = attr::value_of(cx, e, "field") {
                    frame.metadata.push((key, v));
                }
            }
            "property" => {
                mesh_keys.push(e.key.clone());
                let name = e
                    .args
                    .clone()
                    .and_then(|a| syn::parse2::<syn::LitStr>(a).ok());
                match (name, &e.value) {
                    (Some(n), Some(v)) => frame
                        .metadata
                        .push((format!("property {:?}", n.value()), v.clone())),
                    _ => cx.error_at(
                        &e.key,
                        "write a property as `property(\"key\") = expression`",
                    ),
                }
            }
            "error_reply" | "heartbeat_reply" => {
                mesh_keys.push(e.key.clone());
                let body = e.value.as_ref().and_then(attr::braced);
                match (&e.args, body) {
                    (Some(params), Some(body)) => {
                        let reply = Some((params.clone(), body));
                        if key == "error_reply" {
                            frame.error_reply = reply;
                        } else {
                            frame.heartbeat_reply = reply;
                        }
                    }
                    _ => cx.error_at(
                        &e.key,
                        format!(
                            "write a reply as `{key}(req{}) = {{ field = value, … }}`",
                            if key == "error_reply" { ", err" } else { "" }
                        ),
                    ),
                }
            }
            _ => attr::unknown_key(cx, e, "a struct", STRUCT_KEYS),
        }
    }
    let mut members: Vec<Field> = named
        .named
        .iter()
        .filter_map(|f| read_field(cx, f))
        .collect();
    if let Some(repr) = bits {
        for (k, _) in entries
            .iter()
            .filter_map(|e| Some((e, ())).filter(|_| e.key != "bits" && e.key != "endian"))
        {
            cx.error_at(
                &k.key,
                format!("`{}` does not apply to a bit group (`bits = …`)", k.key),
            );
        }
        return Some(ItemKind::Bits(BitsItem {
            repr,
            big_endian,
            members,
        }));
    }
    let frame = match protocol {
        Some(p) => {
            frame.protocol = p;
            for f in &mut members {
                let Some(name) = &f.ident else { continue };
                for (m, _) in std::mem::take(&mut f.attrs.mesh) {
                    let key = match m.strip_prefix("property=") {
                        Some(k) => format!("property {k:?}"),
                        None => m,
                    };
                    frame.metadata.push((key, name.to_token_stream()));
                }
            }
            for (_, body) in [&frame.error_reply, &frame.heartbeat_reply]
                .into_iter()
                .flatten()
            {
                check_encoded_targets(cx, body, &members);
            }
            Some(frame)
        }
        None => {
            for k in mesh_keys
                .iter()
                .chain(frame.codec.iter().map(|_| &input.ident))
            {
                cx.error_at(k, "mesh attributes belong on the frame, which needs `#[mproto(protocol = \"name\")]`");
            }
            for (key, span) in members.iter().flat_map(|f| &f.attrs.mesh) {
                let key = key.split('=').next().unwrap_or_default();
                cx.syn_error(syn::Error::new(*span, format!("`{key}` is mesh metadata, which belongs on the frame: add `#[mproto(protocol = \"name\")]` to the struct")));
            }
            None
        }
    };
    Some(ItemKind::Struct(StructItem {
        big_endian,
        frame,
        fields: members,
    }))
}

fn read_enum(
    cx: &Ctxt,
    input: &DeriveInput,
    entries: &[Entry],
    e: &syn::DataEnum,
) -> Option<ItemKind> {
    let mut repr = rust_repr(&input.attrs).map(|r| (r, input.ident.span()));
    let mut big_endian = true;
    for en in entries {
        match en.key.to_string().as_str() {
            "repr" => {
                if let Some(v) = attr::value_of(cx, en, "u8") {
                    let w = v.to_string();
                    let unsigned = w
                        .strip_prefix('u')
                        .and_then(|b| b.parse::<u8>().ok())
                        .is_some_and(|b| (1..=64).contains(&b));
                    if unsigned || SIGNED.contains(&w.as_str()) {
                        repr = Some((w, en.span()));
                    } else {
                        cx.error_at(v, format!("`{w}` is not a wire width; expected `u1`…`u64` (such as `u3` inside a bit group, or `u8`) or `i8`…`i64`"));
                    }
                }
            }
            "endian" => big_endian = endian_entry(cx, en).unwrap_or(true),
            _ => attr::unknown_key(cx, en, "an enum", ENUM_KEYS),
        }
    }
    // Wire values (`= 0`) make it a fieldless enum even if a variant carries data
    // by mistake (a misspelt `unknown`, say); that is reported below.
    let valued = e.variants.iter().any(|v| v.discriminant.is_some());
    let carries_data = !valued
        && e.variants.iter().any(|v| {
            !matches!(v.fields, Fields::Unit)
                && !attr::entries(&Ctxt::default(), &v.attrs)
                    .iter()
                    .any(|a| a.key == "unknown")
        });
    if carries_data {
        return read_union(cx, e).map(ItemKind::Union);
    }
    let Some(repr) = repr else {
        cx.error_at(
            &input.ident,
            "an enum needs its wire width: add `#[mproto(repr = u8)]` (or `#[repr(u8)]`)",
        );
        return None;
    };
    let mut next = 0i128;
    let mut variants = Vec::new();
    let mut unknown = None;
    for v in &e.variants {
        let entries = attr::entries(cx, &v.attrs);
        let mut is_unknown = false;
        for en in &entries {
            match en.key.to_string().as_str() {
                "unknown" => is_unknown = attr::flag(cx, en),
                "tag" => cx.error_at(
                    &en.key,
                    "`tag` is for variants that carry data (tagged unions)",
                ),
                _ => attr::unknown_key(cx, en, "an enum variant", VARIANT_KEYS),
            }
        }
        if is_unknown {
            let ok = matches!(&v.fields, Fields::Unnamed(u) if u.unnamed.len() == 1);
            if !ok {
                cx.error_at(
                    &v.ident,
                    "the unknown-value variant holds the raw value: `Unknown(u8)`",
                );
            }
            if unknown.replace(v.ident.clone()).is_some() {
                cx.error_at(&v.ident, "only one variant can keep unknown values");
            }
            continue;
        }
        if !matches!(v.fields, Fields::Unit) {
            cx.error_at(&v.fields, format!("`{}` carries data, but an enum with wire values is fieldless except for its unknown-value variant: mark that one `#[mproto(unknown)]`, or give every variant `#[mproto(tag = …)]` and no `= value` to make a tagged union", v.ident));
            continue;
        }
        if let Some((_, d)) = &v.discriminant {
            match int_literal(d) {
                Some(n) => next = n,
                None => cx.error_at(d, "a wire value must be an integer literal"),
            }
        }
        variants.push((v.ident.clone(), next, docs_of(&v.attrs)));
        next += 1;
    }
    Some(ItemKind::Enum(EnumItem {
        repr,
        big_endian,
        variants,
        unknown,
    }))
}

fn read_union(cx: &Ctxt, e: &syn::DataEnum) -> Option<Vec<Variant>> {
    let mut out = Vec::new();
    for v in &e.variants {
        let mut tag = None;
        for en in attr::entries(cx, &v.attrs) {
            match en.key.to_string().as_str() {
                "tag" => tag = attr::value_of(cx, &en, "1"),
                "unknown" => cx.error_at(
                    &en.key,
                    "`unknown` is for fieldless enums; a union's catch-all is `tag = _`",
                ),
                _ => attr::unknown_key(cx, &en, "a union variant", VARIANT_KEYS),
            }
        }
        let Some(tag) = tag else {
            cx.error_at(&v.ident, "each variant of a tagged union needs `#[mproto(tag = …)]` (a value, `A | B`, or `_`)");
            continue;
        };
        let field = match &v.fields {
            Fields::Unit => None,
            Fields::Unnamed(u) if u.unnamed.len() == 1 => {
                u.unnamed.first().and_then(|f| read_field(cx, f))
            }
            other => {
                cx.error_at(other, "a union variant carries one value: `Name(Type)`");
                None
            }
        };
        out.push(Variant {
            ident: v.ident.clone(),
            tag,
            field,
        });
    }
    Some(out)
}

fn rust_repr(attrs: &[syn::Attribute]) -> Option<String> {
    let a = attrs.iter().find(|a| a.path().is_ident("repr"))?;
    let id: Ident = a.parse_args().ok()?;
    let s = id.to_string();
    (WIDTHS.contains(&s.as_str()) || SIGNED.contains(&s.as_str())).then_some(s)
}

fn int_literal(e: &syn::Expr) -> Option<i128> {
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => int_literal(expr).map(|v| -v),
        _ => None,
    }
}

fn read_field(cx: &Ctxt, f: &syn::Field) -> Option<Field> {
    let mut a = FieldAttrs {
        span: Some(f.ident.as_ref().map_or_else(|| f.ty.span(), |i| i.span())),
        ..Default::default()
    };
    for e in attr::entries(cx, &f.attrs) {
        let key = e.key.to_string();
        match key.as_str() {
            "value" => a.value = attr::value_of(cx, &e, "expression"),
            "where" => a.where_ = attr::value_of(cx, &e, "rule"),
            "if" => a.if_ = attr::value_of(cx, &e, "condition"),
            "endian" => a.endian = endian_entry(cx, &e),
            "len" => a.len = attr::value_of(cx, &e, "expression"),
            "size" => a.size = attr::value_of(cx, &e, "expression"),
            "prefix" => a.prefix = attr::word_of(cx, &e, PREFIXES).map(|w| (w, e.span())),
            "size_prefix" => a.size_prefix = attr::word_of(cx, &e, PREFIXES).map(|w| (w, e.span())),
            "elem_prefix" | "key_prefix" => {
                a.part_prefix[0] = attr::word_of(cx, &e, PREFIXES).map(|w| (w, e.span()))
            }
            "value_prefix" => {
                a.part_prefix[1] = attr::word_of(cx, &e, PREFIXES).map(|w| (w, e.span()))
            }
            "to_end" => a.to_end = attr::flag(cx, &e),
            "nul" => a.nul = attr::flag(cx, &e),
            "varint" => a.varint = attr::flag(cx, &e),
            "zigzag" => a.zigzag = attr::flag(cx, &e),
            "bits" => a.bits = attr::int_of(cx, &e, "3"),
            "pad" => a.pad = attr::int_of(cx, &e, "2"),
            "align" => a.align = attr::int_of(cx, &e, "4"),
            "with" => {
                if let Some(v) = attr::value_of(cx, &e, "path::to::Type") {
                    match syn::parse2::<syn::Path>(v.clone()) {
                        Ok(p) => a.with = Some(p),
                        Err(_) => cx.error_at(
                            v,
                            "expected the path of a type implementing `mproto::Extern`",
                        ),
                    }
                }
            }
            "match" => a.match_ = attr::value_of(cx, &e, "tag_field"),
            "request_id" | "stream_id" | "properties" | "mutate" => {
                if attr::flag(cx, &e) {
                    a.mesh.push((key, e.span()));
                }
            }
            "property" => {
                if let Some(k) = attr::string_of(cx, &e, "\"key\"") {
                    a.mesh.push((format!("property={k}"), e.span()));
                }
            }
            _ => attr::unknown_key(cx, &e, "a field", FIELD_KEYS),
        }
    }
    let mut ty = f.ty.clone();
    if a.if_.is_some() {
        match option_inner(&f.ty) {
            Some(inner) => ty = inner.clone(),
            None => {
                let ty =
                    f.ty.to_token_stream()
                        .to_string()
                        .replace(" < ", "<")
                        .replace(" >", ">");
                cx.error_at(
                    &f.ty,
                    format!("a conditional field (`if = …`) has type `Option<T>`: write `Option<{ty}>`, or drop `if`"),
                )
            }
        }
    } else if option_inner(&f.ty).is_some() {
        cx.error_at(
            &f.ty,
            "an `Option` field needs a condition: `#[mproto(if = flag_field)]`",
        );
    }
    let shape = shape_of(&ty);
    Some(Field {
        ident: f.ident.clone(),
        docs: docs_of(&f.attrs),
        ty,
        shape,
        attrs: a,
    })
}

use syn::spanned::Spanned;

fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Option" {
        return None;
    }
    generic_args(seg).into_iter().next()
}

fn generic_args(seg: &syn::PathSegment) -> Vec<&Type> {
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The wire shape of a Rust type.
pub fn shape_of(ty: &Type) -> Shape {
    match ty {
        Type::Reference(r) => match &*r.elem {
            Type::Slice(s) if is_u8(&s.elem) => Shape::Bytes,
            Type::Path(p) if p.path.is_ident("str") => Shape::Text,
            _ => Shape::Unsupported,
        },
        Type::Array(a) if is_u8(&a.elem) => Shape::FixedBytes(a.len.to_token_stream()),
        Type::Tuple(t) if t.elems.is_empty() => Shape::Unit,
        Type::Paren(p) => shape_of(&p.elem),
        Type::Path(p) if p.qself.is_none() => {
            let Some(seg) = p.path.segments.last() else {
                return Shape::Unsupported;
            };
            let name = seg.ident.to_string();
            let args = generic_args(seg);
            match (name.as_str(), args.as_slice()) {
                ("u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64", []) => {
                    Shape::Int(name)
                }
                ("f32" | "f64", []) => Shape::Float(name),
                ("bool", []) => Shape::Bool,
                ("Bytes", []) => Shape::Bytes,
                ("String" | "ByteString", []) => Shape::Text,
                ("Vec", [t]) if is_u8(t) => Shape::Bytes,
                ("Cow", [t]) => match t {
                    Type::Slice(s) if is_u8(&s.elem) => Shape::Bytes,
                    Type::Path(p) if p.path.is_ident("str") => Shape::Text,
                    _ => Shape::Unsupported,
                },
                ("Vec", [Type::Tuple(t)]) if t.elems.len() == 2 => {
                    let k = t.elems[0].clone();
                    let v = t.elems[1].clone();
                    Shape::KvList(
                        Box::new((k.clone(), shape_of(&k))),
                        Box::new((v.clone(), shape_of(&v))),
                    )
                }
                ("Vec", [t]) => Shape::List(Box::new(((*t).clone(), shape_of(t)))),
                // Derived types take at most a lifetime: `Header<'a>`.
                (_, [_, ..]) => Shape::Unsupported,
                _ => {
                    let mut prefix = String::new();
                    if p.path.leading_colon.is_some() {
                        prefix.push_str("::");
                    }
                    for s in p.path.segments.iter().take(p.path.segments.len() - 1) {
                        prefix.push_str(&s.ident.to_string());
                        prefix.push_str("::");
                    }
                    Shape::Named(prefix, seg.ident.clone())
                }
            }
        }
        _ => Shape::Unsupported,
    }
}

fn is_u8(t: &Type) -> bool {
    matches!(t, Type::Path(p) if p.path.is_ident("u8"))
}

/// A type's tokens with every lifetime renamed to `'a`, as generated code names it.
pub fn rust_text(ty: &Type) -> String {
    struct Rename;
    impl VisitMut for Rename {
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            if l.ident != "static" {
                l.ident = Ident::new("a", l.ident.span());
            }
        }
    }
    let mut t = ty.clone();
    Rename.visit_type_mut(&mut t);
    t.to_token_stream().to_string()
}
