//! Lowering: parsed items to the IR, resolving names and typing expressions,
//! with every error collected as a diagnostic.

mod enums;
mod exprs;
mod mesh;
mod paths;
mod replies;
mod structs;
mod types;

pub(crate) use exprs::string_value as string_of;

use std::collections::HashMap;

use pest::iterators::Pair;

use crate::diag::{Diagnostic, Diagnostics, FileId, Span};
use crate::ir::{Extern, Ident, Schema, TypeDef, TypeId, TypeKind};
use crate::syntax::{Rule, span_of};

/// One parsed file, ready to lower.
pub struct ParsedFile<'t> {
    /// Its id in the source map.
    pub file: FileId,
    /// Its text, for doc comments.
    pub text: &'t str,
    /// Its top-level items.
    pub items: Vec<Pair<'t, Rule>>,
    /// True for the file the user asked for (not an import).
    pub root: bool,
}

/// Lowers parsed files (imports first, the root last) into one schema.
pub fn lower_files(files: &[ParsedFile<'_>]) -> Result<Schema, Diagnostics> {
    let mut l = Lowerer::default();
    if let Some(root) = files.iter().find(|f| f.root) {
        l.schema.doc = crate::syntax::inner_docs(root.text);
    }
    for f in files {
        for item in &f.items {
            l.declare(f, item);
        }
    }
    for pass in [
        Pass::Enums,
        Pass::Bits,
        Pass::Structs,
        Pass::Protocol,
        Pass::Mesh,
    ] {
        for f in files {
            for item in &f.items {
                l.lower_item(f, item, pass);
            }
        }
    }
    l.check_frame();
    if l.diags.has_errors() {
        Err(l.diags)
    } else {
        Ok(l.schema)
    }
}

/// Items are lowered in passes so that every name is known before it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Enums,
    Bits,
    Structs,
    Protocol,
    Mesh,
}

/// State of a lowering run.
#[derive(Default)]
pub(crate) struct Lowerer {
    pub(crate) schema: Schema,
    pub(crate) diags: Diagnostics,
    pub(crate) names: HashMap<String, TypeId>,
    /// Which declared types came from which item (by the item's span start).
    declared: HashMap<(FileId, usize), TypeId>,
    /// Names of the fields of the struct being lowered, to tell a forward reference
    /// from an unknown name.
    pub(crate) struct_names: Vec<String>,
    /// An expression nested too deep was reported (once per run).
    pub(crate) too_deep: bool,
}

/// The inner pairs of a pair, without keyword tokens.
pub(crate) fn inner<'t>(p: &Pair<'t, Rule>) -> Vec<Pair<'t, Rule>> {
    p.clone()
        .into_inner()
        .filter(|c| {
            !matches!(
                c.as_rule(),
                Rule::kw_align
                    | Rule::kw_bits
                    | Rule::kw_if
                    | Rule::kw_match
                    | Rule::kw_pad
                    | Rule::kw_property
                    | Rule::kw_size
                    | Rule::kw_where
            )
        })
        .collect()
}

impl Lowerer {
    /// An identifier from an `ident` pair.
    pub(crate) fn ident(p: &Pair<'_, Rule>, file: FileId) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: span_of(p, file),
        }
    }

    /// Registers a named type so later items can refer to it.
    fn declare(&mut self, f: &ParsedFile<'_>, item: &Pair<'_, Rule>) {
        let Some(def) = inner(item).into_iter().next() else {
            return;
        };
        let kind = def.as_rule();
        if !matches!(
            kind,
            Rule::enum_def | Rule::bits_def | Rule::struct_def | Rule::extern_def
        ) {
            return;
        }
        let parts = inner(&def);
        let name_pair = match kind {
            Rule::struct_def => parts.get(1),
            _ => parts.first(),
        };
        let Some(name_pair) = name_pair else { return };
        let name = Self::ident(name_pair, f.file);
        // An extern's too: a union arm of that type is named after it.
        self.check_camel(&name, "type");
        let docs = crate::syntax::docs_above(f.text, def.as_span().start());
        let id = self.add_type(
            name,
            docs,
            TypeKind::Extern(Extern {
                rust_path: String::new(),
            }),
        );
        self.declared.insert((f.file, def.as_span().start()), id);
    }

    /// Adds a type, reporting a duplicate name.
    pub(crate) fn add_type(&mut self, name: Ident, doc: Vec<String>, kind: TypeKind) -> TypeId {
        let id = TypeId(self.schema.types.len() as u32);
        if let Some(prev) = self.names.get(&name.name) {
            let prev_span = self.schema.ty(*prev).name.span;
            self.diags.push(
                Diagnostic::error(
                    "E0202",
                    format!("the name `{}` is defined twice", name.name),
                )
                .primary(name.span, "defined again here")
                .secondary(prev_span, "first defined here")
                .help("rename one of them"),
            );
        } else {
            self.names.insert(name.name.clone(), id);
        }
        self.schema.types.push(TypeDef {
            name,
            doc,
            kind,
            rust: None,
        });
        id
    }

    fn lower_item(&mut self, f: &ParsedFile<'_>, item: &Pair<'_, Rule>, pass: Pass) {
        let Some(def) = inner(item).into_iter().next() else {
            return;
        };
        let id = self.declared.get(&(f.file, def.as_span().start())).copied();
        match (def.as_rule(), pass) {
            (Rule::enum_def, Pass::Enums) => self.lower_enum(f, &def, id),
            (Rule::extern_def, Pass::Enums) => self.lower_extern(f, &def, id),
            (Rule::bits_def, Pass::Bits) => self.lower_named_bits(f, &def, id),
            (Rule::struct_def, Pass::Structs) => self.lower_struct(f, &def, id),
            (Rule::protocol, Pass::Protocol) => self.lower_protocol(f, &def),
            (Rule::metadata_def, Pass::Mesh) => self.lower_metadata(f, &def),
            (Rule::reply_def, Pass::Mesh) => self.lower_reply(f, &def),
            _ => {}
        }
    }

    fn lower_extern(&mut self, f: &ParsedFile<'_>, def: &Pair<'_, Rule>, id: Option<TypeId>) {
        let (Some(id), Some(path)) = (id, inner(def).get(1).cloned()) else {
            return;
        };
        let text = exprs::string_value(&path).unwrap_or_default();
        // Each segment an identifier that is not a Rust keyword; a leading `::`, `crate`
        // or `self` roots the path.
        let rest = text.trim().strip_prefix("::").unwrap_or(text.trim());
        let segs: Vec<&str> = rest.split("::").map(str::trim).collect();
        // `super` may repeat at the start (`super::super::x`), after `self` or alone.
        let lead = segs.iter().take_while(|s| **s == "super").count();
        let valid = !rest.is_empty()
            && segs.iter().enumerate().all(|(i, seg)| {
                let rooted = i < lead || (i == 0 && matches!(*seg, "crate" | "self"));
                rooted
                    || (seg.starts_with(|c: char| c.is_alphabetic() || c == '_')
                        && seg.chars().all(|c| c.is_alphanumeric() || c == '_')
                        && *seg != "_"
                        // `gen` is reserved only from edition 2024, and a common module name.
                        && (*seg == "gen" || !is_rust_keyword(seg)))
            });
        if !valid {
            self.diags.push(
                Diagnostic::error("E0101", format!("`{text}` is not a Rust path")).primary(
                    span_of(&path, f.file),
                    "expected a path such as \"my_crate::codecs::MyType\"",
                ),
            );
        }
        self.schema.types[id.index()].kind = TypeKind::Extern(Extern { rust_path: text });
    }

    /// Names must not be keywords of the language or of Rust, since they become Rust names.
    pub(crate) fn check_name(&mut self, name: &Ident, what: &str) {
        if name.name.starts_with("__") {
            self.diags.push(
                Diagnostic::error(
                    "E0206",
                    format!(
                        "`{}` starts with `__`, which generated code keeps for its own names",
                        name.name
                    ),
                )
                .primary(name.span, "reserved name")
                .help(format!(
                    "choose another name, such as `{}`",
                    name.name.trim_start_matches('_')
                )),
            );
            return;
        }
        if KEYWORDS.contains(&name.name.as_str()) || RUST_KEYWORDS.contains(&name.name.as_str()) {
            self.diags.push(
                Diagnostic::error(
                    "E0206",
                    format!("`{}` is a keyword and cannot name a {what}", name.name),
                )
                .primary(name.span, "keyword used as a name")
                .help(format!("choose another name, such as `{}_`", name.name)),
            );
        }
    }

    /// [`Self::check_name`], then `UpperCamelCase`: type, variant and arm names become
    /// Rust type and variant names, which rustc warns about otherwise.
    pub(crate) fn check_camel(&mut self, name: &Ident, what: &str) {
        self.check_case(
            name,
            what,
            "UpperCamelCase",
            is_upper_camel,
            crate::codegen::camel,
        );
    }

    /// [`Self::check_name`], then `snake_case`: field and bit member names become Rust
    /// field and variable names, which rustc warns about otherwise.
    pub(crate) fn check_snake(&mut self, name: &Ident, what: &str) {
        self.check_case(name, what, "snake_case", is_snake, snake);
    }

    /// An E0206 error naming `case` and showing the name as `fix` spells it, unless
    /// `ok` accepts the name.
    fn check_case(
        &mut self,
        name: &Ident,
        what: &str,
        case: &str,
        ok: fn(&str) -> bool,
        fix: fn(&str) -> String,
    ) {
        let before = self.diags.error_count();
        self.check_name(name, what);
        // One error per name: a keyword's respelling would not help.
        if self.diags.error_count() > before || ok(&name.name) {
            return;
        }
        self.diags.push(
            Diagnostic::error(
                "E0206",
                format!("{what} name `{}` is not `{case}`", name.name),
            )
            .primary(
                name.span,
                "Rust would warn about this name or the names made from it",
            )
            .help(format!("write it `{}`", fix(&name.name))),
        );
    }

    /// An E0201 "unknown name" diagnostic with a suggestion.
    pub(crate) fn unknown(&mut self, what: &str, name: &str, span: Span, candidates: &[&str]) {
        let mut d = Diagnostic::error("E0201", format!("unknown {what} `{name}`"))
            .primary(span, format!("no {what} named `{name}`"));
        if let Some(best) = did_you_mean(name, candidates) {
            d = d.help(format!("did you mean `{best}`?"));
        }
        self.diags.push(d);
    }

    fn check_frame(&mut self) {
        if let (Some(p), None) = (&self.schema.protocol, self.schema.frame) {
            let span = p.span;
            self.diags.push(
                Diagnostic::error("E0502", "the protocol has no frame")
                    .primary(span, "this protocol needs a `frame`")
                    .help("declare the message layout with `frame Name { … }`"),
            );
        }
    }
}

/// rustc's `non_camel_case_types` rule (no leading lower case letter, no `__`, no `_`
/// next to a letter), without the leading and trailing `_` it allows: generated names
/// add to these (`Inner_` + `Ref`), which rustc would then warn about.
fn is_upper_camel(name: &str) -> bool {
    let cased = |c: char| c.is_lowercase() || c.is_uppercase();
    let chars: Vec<char> = name.chars().collect();
    !chars.first().is_some_and(|c| c.is_lowercase())
        && !name.contains("__")
        && !chars
            .windows(2)
            .any(|w| (w[1] == '_' && cased(w[0])) || (w[0] == '_' && cased(w[1])))
}

/// rustc's `non_snake_case` rule (no upper case letter, no `__`), allowing trailing
/// `_` (`type_`) but not leading: generated locals prefix field names (`f__b`).
fn is_snake(name: &str) -> bool {
    let name = name.trim_end_matches('_');
    !name.starts_with('_') && !name.contains("__") && !name.chars().any(char::is_uppercase)
}

/// `snake_case` from a camel case name: `BigBit` → `big_bit`, `HTTPCode` → `http_code`.
fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let word_start = prev.is_some_and(|p| {
            p.is_lowercase() || p.is_ascii_digit() || (p.is_uppercase() && next_lower)
        });
        if c.is_uppercase() && word_start && !out.ends_with('_') {
            out.push('_');
        }
        if c != '_' || !(out.is_empty() || out.ends_with('_')) {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The closest candidate to a misspelled name, if one is close enough.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Words of the language that cannot be names.
const KEYWORDS: &[&str] = &[
    "bool", "bytes", "str", "varint", "zigzag", "u8", "u16", "u32", "u64", "i8", "i16", "i32",
    "i64", "f32", "f64", "match", "if", "else", "where", "nul", "self", "true", "false", "import",
    "protocol", "enum", "bits", "struct", "frame", "extern", "metadata", "reply",
];

/// Rust keywords, which generated code cannot use as names.
const RUST_KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "dyn", "fn", "for", "impl", "in", "let", "loop",
    "mod", "move", "mut", "pub", "ref", "return", "Self", "static", "super", "trait", "type",
    "unsafe", "use", "while", "async", "await", "abstract", "become", "box", "do", "final",
    "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// True for every Rust keyword (some are in [`KEYWORDS`] only, being the language's too).
fn is_rust_keyword(s: &str) -> bool {
    RUST_KEYWORDS.contains(&s)
        || matches!(
            s,
            "self"
                | "if"
                | "else"
                | "match"
                | "where"
                | "true"
                | "false"
                | "enum"
                | "struct"
                | "extern"
        )
}

#[cfg(test)]
mod tests {
    use crate::diag::SourceMap;
    use crate::ir::{Coercion, ExprKind, FieldValue, Ty, TypeKind};

    fn shipped(name: &str) -> crate::ir::Schema {
        let path = format!("{}/../schemas/{name}.mproto", env!("CARGO_MANIFEST_DIR"));
        let mut sources = SourceMap::new();
        crate::load_schema(std::path::Path::new(&path), &mut sources)
            .unwrap_or_else(|d| panic!("{}", crate::diag::render_plain(&sources, &d.into_sorted())))
    }

    #[test]
    fn awesomerpc_lowers_inline_bits_conditions_and_replies() {
        let s = shipped("awesomerpc");
        let frame = s.as_struct(s.frame.unwrap()).unwrap();
        let flags = &frame.fields[frame.field_named("flags").unwrap()];
        let Ty::Named(id) = flags.ty.kind else {
            panic!("flags is {:?}", flags.ty.kind)
        };
        assert_eq!(s.ty(id).name.name, "MessageFlags");
        assert!(matches!(s.ty(id).kind, TypeKind::Bits(_)));
        assert!(
            frame.fields[frame.field_named("stream_id").unwrap()]
                .condition
                .is_some()
        );
        assert!(matches!(frame.fields[0].value, FieldValue::Const(_)));
        let reply = s.error_reply.as_ref().unwrap();
        let headers = reply
            .assigns
            .iter()
            .find(|a| a.target.field == frame.field_named("headers").unwrap())
            .unwrap();
        let ExprKind::KvLit(pairs) = &headers.value.kind else {
            panic!("{:?}", headers.value.kind)
        };
        assert!(matches!(
            pairs[1].1.kind,
            ExprKind::Coerce(Coercion::VariantName, _)
        ));
        assert_eq!(s.ty(id).doc, Vec::<String>::new());
        assert_eq!(
            frame.fields[1].doc,
            vec!["Protocol version; only 1 exists.".to_string()]
        );
    }

    #[test]
    fn thrift_encodes_a_struct_literal_into_the_body() {
        let s = shipped("thrift");
        let reply = s.error_reply.as_ref().unwrap();
        let body = reply.assigns.last().unwrap();
        assert!(
            matches!(&body.value.kind, ExprKind::Coerce(Coercion::EncodeToBytes, inner) if matches!(inner.kind, ExprKind::StructLit(..)))
        );
        let frame = s.as_struct(s.frame.unwrap()).unwrap();
        assert!(matches!(frame.fields[0].value, FieldValue::Derived(_)));
    }

    #[test]
    fn dubbo_resolves_its_extern_type() {
        let s = shipped("dubbo");
        let id = s.type_named("Hessian2Str").unwrap();
        match &s.ty(id).kind {
            TypeKind::Extern(x) => {
                assert_eq!(x.rust_path, "mproto_runtime::ext::hessian2::Hessian2Str")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.protocol.as_ref().unwrap().max_frame, 8 << 20);
    }

    #[test]
    fn derived_values_may_measure_later_fields() {
        let text = "protocol p {}\nframe M {\n n: u16 = sizeof(items)\n items: [u8; size n]\n}\n";
        let mut sources = SourceMap::new();
        let s = crate::load_schema_str("m.mproto", text, &mut sources).unwrap();
        let frame = s.as_struct(s.frame.unwrap()).unwrap();
        let FieldValue::Derived(e) = &frame.fields[0].value else {
            panic!()
        };
        assert!(matches!(
            e.kind,
            ExprKind::SizeOf(crate::ir::FieldRange::Fields { first: 1, last: 1 })
        ));
    }

    /// The error codes `load_schema_str` reports for a reply body on a frame with a `bytes[4]` tag.
    fn reply_tag_codes(value: &str) -> Vec<&'static str> {
        let text = format!(
            "protocol p {{}}\nframe M {{\n k: u8\n tag: bytes[4]\n arm: match k {{ 1 => bytes[2], 2 => bytes[4], _ => () }}\n}}\nreply heartbeat(req) -> M {{\n {value}\n}}\n"
        );
        let mut sources = SourceMap::new();
        match crate::load_schema_str("m.mproto", &text, &mut sources) {
            Ok(_) => vec![],
            Err(d) => d.iter().map(|d| d.code).collect(),
        }
    }

    #[test]
    fn a_fixed_bytes_field_takes_only_a_byte_string_of_its_length() {
        assert_eq!(reply_tag_codes(r#"tag = b"abcd""#), Vec::<&str>::new());
        assert_eq!(reply_tag_codes(r#"arm = b"ab""#), Vec::<&str>::new());
        assert_eq!(reply_tag_codes(r#"tag = b"abcde""#), ["E0301"]);
        assert_eq!(reply_tag_codes(r#"tag = "abcd""#), ["E0301"]);
        assert_eq!(reply_tag_codes(r#"arm = b"abc""#), ["E0301"]);
    }

    #[test]
    fn a_byte_string_picks_the_bytes_arm_of_its_length() {
        let text = "protocol p {}\nframe M {\n k: u8\n arm: match k { 1 => bytes[2], 2 => bytes[4], _ => () }\n}\nreply heartbeat(req) -> M {\n arm = b\"abcd\"\n}\n";
        let mut sources = SourceMap::new();
        let s = crate::load_schema_str("m.mproto", text, &mut sources).unwrap();
        let value = &s.heartbeat_reply.as_ref().unwrap().assigns[0].value;
        assert!(
            matches!(value.kind, ExprKind::Coerce(Coercion::ToArm(1), _)),
            "{:?}",
            value.kind
        );
    }

    #[test]
    fn names_rust_would_warn_about_once_generated_names_extend_them() {
        use super::{is_snake, is_upper_camel, snake};
        for ok in ["HttpStatus", "HTTP", "HTTPHead", "V1_0", "B2", "A"] {
            assert!(is_upper_camel(ok), "{ok}");
        }
        for bad in ["http_status", "Inner_", "_Inner", "A__B", "Http_Status"] {
            assert!(!is_upper_camel(bad), "{bad}");
        }
        for ok in ["status_code", "type_", "b2", "x", "_"] {
            assert!(is_snake(ok), "{ok}");
        }
        for bad in ["_b", "a__b", "StatusCode", "bigBit"] {
            assert!(!is_snake(bad), "{bad}");
        }
        assert_eq!(snake("_b"), "b");
        assert_eq!(snake("HTTPCode"), "http_code");
        assert_eq!(crate::codegen::camel("Inner_"), "Inner");
    }
}
