//! `#[mproto(...)]` attributes: entries of the form `key`, `key = tokens`,
//! `key(args)` or `key(args) = tokens`, read into a typed model per position
//! (container, field, variant). Unknown keys name the valid ones.

use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Token};

use super::ctxt::Ctxt;

/// One `key …` entry of an `#[mproto(...)]` attribute.
#[derive(Clone)]
pub struct Entry {
    /// The key.
    pub key: Ident,
    /// What follows the key in parentheses.
    pub args: Option<TokenStream>,
    /// What follows `=`, up to the next top-level comma.
    pub value: Option<TokenStream>,
}

impl Entry {
    /// The span of the whole entry's key.
    pub fn span(&self) -> Span {
        self.key.span()
    }
}

/// Every entry of every `#[mproto(...)]` attribute in `attrs`.
pub fn entries(cx: &Ctxt, attrs: &[Attribute]) -> Vec<Entry> {
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("mproto")) {
        let parsed = a
            .meta
            .require_list()
            .and_then(|list| parse_entries.parse2(list.tokens.clone()));
        match parsed {
            Ok(mut es) => out.append(&mut es),
            Err(e) => cx.syn_error(e),
        }
    }
    out
}

fn parse_entries(input: ParseStream<'_>) -> syn::Result<Vec<Entry>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let key = Ident::parse_any(input)?;
        let args = if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            Some(content.parse::<TokenStream>()?)
        } else {
            None
        };
        let value = if input.peek(Token![=]) && !input.peek(Token![==]) && !input.peek(Token![=>]) {
            input.parse::<Token![=]>()?;
            let v = until_comma(input)?;
            if v.is_empty() {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{key} =` needs a value"),
                ));
            }
            Some(v)
        } else {
            None
        };
        out.push(Entry { key, args, value });
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(out)
}

/// Tokens up to a comma outside any group.
fn until_comma(input: ParseStream<'_>) -> syn::Result<TokenStream> {
    let mut out = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        out.extend([input.parse::<TokenTree>()?]);
    }
    Ok(out)
}

/// What a position accepts, for "unknown key" errors.
pub fn unknown_key(cx: &Ctxt, e: &Entry, position: &str, valid: &[&str]) {
    let name = e.key.to_string();
    let best = valid
        .iter()
        .map(|c| (strsim::jaro_winkler(&name, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c);
    let hint = match best {
        Some(b) => format!("; did you mean `{b}`?"),
        None => String::new(),
    };
    cx.error_at(
        &e.key,
        format!(
            "unknown mproto attribute `{name}` on {position}{hint}\n  valid here: {}",
            valid.join(", ")
        ),
    );
}

/// The value of `key = value`, or an error saying it needs one.
pub fn value_of(cx: &Ctxt, e: &Entry, what: &str) -> Option<TokenStream> {
    if e.args.is_some()
        && !matches!(
            e.key.to_string().as_str(),
            "property" | "error_reply" | "heartbeat_reply"
        )
    {
        cx.error_at(
            &e.key,
            format!(
                "`{}` takes no parentheses; write `{} = {what}`",
                e.key, e.key
            ),
        );
        return None;
    }
    match &e.value {
        Some(v) => Some(v.clone()),
        None => {
            cx.error_at(
                &e.key,
                format!("`{}` needs a value: `{} = {what}`", e.key, e.key),
            );
            None
        }
    }
}

/// Checks that a flag (`key` alone) has no value.
pub fn flag(cx: &Ctxt, e: &Entry) -> bool {
    if e.value.is_some() || e.args.is_some() {
        cx.error_at(
            &e.key,
            format!(
                "`{}` is a flag and takes no value: write `#[mproto({})]`",
                e.key, e.key
            ),
        );
        return false;
    }
    true
}

/// A string literal value (`key = "text"`).
pub fn string_of(cx: &Ctxt, e: &Entry, what: &str) -> Option<String> {
    let v = value_of(cx, e, what)?;
    match syn::parse2::<syn::LitStr>(v.clone()) {
        Ok(s) => Some(s.value()),
        Err(_) => {
            cx.error_at(v, format!("expected a string: `{} = {what}`", e.key));
            None
        }
    }
}

/// An integer literal value (`key = 4`).
pub fn int_of(cx: &Ctxt, e: &Entry, what: &str) -> Option<u64> {
    let v = value_of(cx, e, what)?;
    match syn::parse2::<syn::LitInt>(v.clone()).and_then(|l| l.base10_parse::<u64>()) {
        Ok(n) => Some(n),
        Err(_) => {
            cx.error_at(v, format!("expected an integer: `{} = {what}`", e.key));
            None
        }
    }
}

/// A bare word value (`key = u16`), checked against `valid`.
pub fn word_of(cx: &Ctxt, e: &Entry, valid: &[&str]) -> Option<String> {
    let v = value_of(cx, e, valid.first().copied().unwrap_or("…"))?;
    let word = match syn::parse2::<syn::LitStr>(v.clone()) {
        Ok(s) => s.value(),
        Err(_) => v.to_string(),
    };
    if valid.contains(&word.as_str()) {
        Some(word)
    } else {
        cx.error_at(
            v,
            format!(
                "`{word}` is not valid for `{}`; expected one of: {}",
                e.key,
                valid.join(", ")
            ),
        );
        None
    }
}

/// True for a brace group `{ … }` value.
pub fn braced(v: &TokenStream) -> Option<TokenStream> {
    let mut it = v.clone().into_iter();
    match (it.next(), it.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Brace => Some(g.stream()),
        _ => None,
    }
}
