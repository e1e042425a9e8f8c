//! Parsing `.mproto` text with the pest grammar in `grammar.pest`, and reading
//! literals. Syntax errors become diagnostics that say what was expected.

use pest::Parser;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use crate::diag::{Diagnostic, FileId, Span};

/// The generated pest parser.
#[derive(pest_derive::Parser)]
#[grammar = "syntax/grammar.pest"]
pub struct SchemaParser;

/// Parses a whole file into its top-level pairs.
pub fn parse_file(text: &str, file: FileId) -> Result<Pairs<'_, Rule>, Box<Diagnostic>> {
    if let Some(at) = too_deep(text) {
        return Err(Box::new(
            Diagnostic::error("E0100", "nested too deep")
                .primary(
                    Span::new(file, at, at + 1),
                    format!("more than {MAX_NESTING} brackets or prefix operators deep"),
                )
                .help("no schema needs this; the parser would run out of stack"),
        ));
    }
    SchemaParser::parse(Rule::file, text).map_err(|e| Box::new(syntax_error(&e, file)))
}

/// Deepest bracket nesting, and longest run of prefix operators, the parser accepts.
const MAX_NESTING: usize = 64;

/// Where `text` nests brackets, or stacks `-`/`!`, deeper than [`MAX_NESTING`];
/// comments and string literals are skipped.
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut run, mut i) = (0usize, 0usize, 0);
    while let Some(&b) = bytes.get(i) {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            i += rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            continue;
        }
        if rest.starts_with(b"/*") {
            i += rest
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(rest.len(), |p| p + 2);
            continue;
        }
        match b {
            b'"' => {
                // To the closing quote, stepping over escapes.
                let mut j = i + 1;
                while let Some(&c) = bytes.get(j) {
                    j += if c == b'\\' { 2 } else { 1 };
                    if c == b'"' {
                        break;
                    }
                }
                i = j;
                run = 0;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'-' | b'!' => run += 1,
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => run = 0,
        }
        if depth > MAX_NESTING || run > MAX_NESTING {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Turns a pest error into an E0100 diagnostic.
fn syntax_error(e: &pest::error::Error<Rule>, file: FileId) -> Diagnostic {
    let (start, end) = match e.location {
        pest::error::InputLocation::Pos(p) => (p, p),
        pest::error::InputLocation::Span((a, b)) => (a, b),
    };
    let expected = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<&str> = positives.iter().map(|r| rule_word(*r)).collect();
            words.sort_unstable();
            words.dedup();
            words
        }
        pest::error::ErrorVariant::CustomError { .. } => vec![],
    };
    let message = match expected.as_slice() {
        [] => "syntax error".to_string(),
        [one] => format!("expected {one}"),
        many => format!("expected one of: {}", many.join(", ")),
    };
    Diagnostic::error("E0100", "syntax error")
        .primary(Span::new(file, start, end.max(start + 1)), message)
}

/// A word for what a rule matches, for "expected …" messages.
fn rule_word(r: Rule) -> &'static str {
    use Rule::*;
    match r {
        EOI => "end of file",
        item | import | protocol | enum_def | bits_def | struct_def | extern_def | metadata_def
        | reply_def => {
            "an item (`protocol`, `enum`, `bits`, `struct`, `frame`, `extern`, `metadata`, `reply`, `import`)"
        }
        setting | codec_setting | endian_setting | max_frame_setting => {
            "a protocol setting (`codec`, `endian`, `max_frame`)"
        }
        endian => "`big` or `little`",
        size_unit => "a size unit (`KiB`, `MiB`, `GiB`)",
        enum_entry | enum_variant | enum_unknown => "an enum variant (`Name = value`)",
        bit_member => "a bit member (`name: u3`)",
        member | field | pad | align => "a field (`name: type`)",
        member_name | ident => "a name",
        underscore => "`_`",
        field_value => "`=`",
        field_where => "`where`",
        field_if => "`if`",
        md_entry | md_property | md_assign => "a metadata entry",
        assign | dotted => "an assignment (`field = value`)",
        ty | bits_inline | match_ty | list_ty | bytes_ty | unit_ty | bytes_kw => "a type",
        ty_arm | named_arm => "a union arm (`pattern => type`)",
        list_len | size_len | to_end | nul | prefix | bracket_len | paren_len => {
            "a length (`n`, `u16`, `size n`, `..`)"
        }
        patterns | pattern | variant_path => "a pattern",
        expr | expr_ns | primary | primary_ns | paren | if_expr | match_expr | call
        | struct_lit | kv_lit | list_lit | unit_lit | index | path | literal => "an expression",
        expr_arm => "a match arm (`pattern => value`)",
        lit_field => "a field (`name: value`)",
        kv_pair => "`key => value`",
        range | self_kw => "a field or `self`",
        func => "a function",
        prefix_op | neg | not => "an operator",
        or | and | eq | ne | le | ge | shl | shr | lt | gt | bor | bxor | band | add | sub
        | mul | div | rem => "an operator",
        boolean => "`true` or `false`",
        signed_int | int => "an integer",
        string | string_body => "a string",
        byte_string => "a byte string",
        struct_kw => "`struct` or `frame`",
        bits_body => "`{`",
        kw_align | kw_bits | kw_if | kw_match | kw_pad | kw_property | kw_size | kw_where => {
            "a keyword"
        }
        file | WHITESPACE | COMMENT | sep | infix | ident_char => "more input",
    }
}

/// Operator precedence for expressions, lowest first.
pub fn pratt() -> PrattParser<Rule> {
    PrattParser::new()
        .op(Op::infix(Rule::or, Assoc::Left))
        .op(Op::infix(Rule::and, Assoc::Left))
        .op(Op::infix(Rule::eq, Assoc::Left)
            | Op::infix(Rule::ne, Assoc::Left)
            | Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left))
        .op(Op::infix(Rule::bor, Assoc::Left))
        .op(Op::infix(Rule::bxor, Assoc::Left))
        .op(Op::infix(Rule::band, Assoc::Left))
        .op(Op::infix(Rule::shl, Assoc::Left) | Op::infix(Rule::shr, Assoc::Left))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left)
            | Op::infix(Rule::div, Assoc::Left)
            | Op::infix(Rule::rem, Assoc::Left))
        .op(Op::prefix(Rule::neg) | Op::prefix(Rule::not))
}

/// The span of a pair in a file, without the whitespace the grammar lets a rule end with.
pub fn span_of(p: &Pair<'_, Rule>, file: FileId) -> Span {
    let s = p.as_span();
    let len = p.as_str().trim_end().len();
    Span::new(
        file,
        s.start(),
        s.start() + len.max(1).min(s.end() - s.start()),
    )
}

/// Reads an integer literal (`42`, `0x2A`, `0b1010`, `-3`, with `_`).
pub fn parse_int(text: &str) -> Option<i128> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    let v = if let Some(hex) = clean.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = clean.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else {
        clean.parse::<i128>().ok()?
    };
    if v > i128::from(u64::MAX) {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// Reads the body of a string literal, resolving escapes; `Err` names a bad escape.
pub fn unescape(body: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('\\') => out.push(b'\\'),
            Some('"') => out.push(b'"'),
            Some('0') => out.push(0),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let b = u8::from_str_radix(&hex, 16).map_err(|_| format!("`\\x{hex}`"))?;
                out.push(b);
            }
            Some(other) => return Err(format!("`\\{other}`")),
            None => return Err("`\\` at the end".into()),
        }
    }
    Ok(out)
}

/// The `///` lines right above byte offset `at`, without their markers.
pub fn docs_above(text: &str, at: usize) -> Vec<String> {
    let before = text.get(..at).unwrap_or_default();
    let (above, start_of_line) = before.rsplit_once('\n').unwrap_or(("", before));
    // An item written after others on its line (`{ A = 1, B = 2 }`) has no docs of its
    // own: the lines above document what the line starts with.
    if !start_of_line.trim().is_empty() {
        return Vec::new();
    }
    let mut lines: Vec<String> = Vec::new();
    for line in above.lines().rev() {
        let t = line.trim();
        match t.strip_prefix("///") {
            Some(rest) if !rest.starts_with('/') => lines.push(strip_one_space(rest)),
            _ => break,
        }
    }
    lines.reverse();
    lines
}

/// The `//!` lines at the top of a file.
pub fn inner_docs(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.starts_with("//!") || l.is_empty())
        .filter_map(|l| l.strip_prefix("//!").map(strip_one_space))
        .collect()
}

fn strip_one_space(s: &str) -> String {
    s.strip_prefix(' ').unwrap_or(s).trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shipped_schemas() {
        for name in ["awesomerpc", "thrift", "dubbo"] {
            let path = format!("{}/../schemas/{name}.mproto", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(path).unwrap();
            if let Err(e) = parse_file(&text, FileId(0)) {
                panic!("{name}: {:?}", e);
            }
        }
    }

    #[test]
    fn literals() {
        assert_eq!(parse_int("0xA1_B2"), Some(0xA1B2));
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_int("0b101"), Some(5));
        assert_eq!(parse_int("99999999999999999999999"), None);
        assert_eq!(unescape(r"a\n\x41\0"), Ok(b"a\nA\0".to_vec()));
        assert!(unescape(r"\q").is_err());
    }

    #[test]
    fn doc_comments_are_read_from_the_lines_above() {
        let text =
            "//! Top.\n//! More.\n\n/// One.\n/// Two.\nstruct A {\n    /// Field.\n    x: u8\n}";
        assert_eq!(inner_docs(text), vec!["Top.", "More."]);
        let at = text.find("struct").unwrap();
        assert_eq!(docs_above(text, at), vec!["One.", "Two."]);
        let at = text.find("x: u8").unwrap();
        assert_eq!(docs_above(text, at), vec!["Field."]);
        let text = "/// Sides.\nenum Side: u8 { Left = 0, Right = 1 }";
        assert_eq!(docs_above(text, text.find("enum").unwrap()), vec!["Sides."]);
        assert!(docs_above(text, text.find("Left").unwrap()).is_empty());
        assert!(docs_above(text, text.find("Right").unwrap()).is_empty());
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        let e = parse_file("frame M { a: u8 = }", FileId(0)).unwrap_err();
        assert_eq!(e.code, "E0100");
        assert!(e.labels[0].message.contains("expression"), "{:?}", e.labels);
    }
}
