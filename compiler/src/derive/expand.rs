//! The derive's two entry points. `derive` reads the item; if it names other
//! derived types it asks each of them for its definition (every derived item
//! leaves a `__mproto_<Name>` macro that hands its tokens to a callback), and
//! `resume` collects the answers. With every definition in hand the items are
//! written as schema text and go through the compiler: the same checks and the
//! same code generator as a `.mproto` file.

use std::collections::HashSet;

use crate::codegen::{Options, emit_derived};
use crate::diag::{Diagnostic, SourceMap};
use proc_macro2::{Delimiter, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::DeriveInput;

use super::ast::{self, Item};
use super::ctxt::Ctxt;
use super::render::{self, Placed};

/// `#[derive(Codec)]` on `input`.
pub fn derive(input: DeriveInput) -> TokenStream {
    let cx = Ctxt::default();
    let mut krate = None;
    let item = ast::read_item(&cx, &input, &mut krate);
    let krate = krate.unwrap_or_else(|| syn::parse_quote!(::mproto));
    let prologue = prologue(&krate, &input, item.as_ref());
    if let Err(e) = cx.finish() {
        let errors = e.to_compile_error();
        return quote!(#prologue #errors);
    }
    let Some(item) = item else {
        return prologue;
    };
    let state = State {
        krate,
        main: input,
        done: Vec::new(),
        pending: Vec::new(),
    };
    let out = state.advance(&item, String::new());
    quote!(#prologue #out)
}

/// What a derive emits whatever else happens: the describe macro other derives
/// call, the `Derived` marker, and the checks that named types are derived.
fn prologue(krate: &syn::Path, input: &DeriveInput, item: Option<&Item>) -> TokenStream {
    let describe = describe(input);
    let marker = derived_impl(krate, input);
    let checks = item.map(|i| nested_checks(krate, i));
    quote!(#describe #marker #checks)
}

/// Continues a derive with the definition of the first pending type.
pub fn resume(input: TokenStream) -> TokenStream {
    let mut groups = input.into_iter().filter_map(|tt| match tt {
        TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(g.stream()),
        _ => None,
    });
    let parts: Vec<TokenStream> = groups.by_ref().take(5).collect();
    let [krate, main, done, pending, new] = parts.as_slice() else {
        return quote!(::core::compile_error!("mproto: malformed derive continuation"););
    };
    let (Ok(krate), Ok(main), Ok(new)) = (
        syn::parse2::<syn::Path>(krate.clone()),
        syn::parse2::<DeriveInput>(main.clone()),
        syn::parse2::<DeriveInput>(new.clone()),
    ) else {
        return quote!(::core::compile_error!("mproto: malformed derive continuation"););
    };
    let mut state = State {
        krate,
        main,
        done: pairs(done.clone())
            .into_iter()
            .filter_map(|(p, i)| Some((p.to_string().replace(' ', ""), syn::parse2(i).ok()?)))
            .collect(),
        pending: braces(pending.clone()),
    };
    let Some(current) = state.pending.first().cloned() else {
        return TokenStream::new();
    };
    state.pending.remove(0);
    let prefix = path_prefix(&current);
    let cx = Ctxt::default();
    let Some(item) = ast::read_item(&cx, &new, &mut None) else {
        // The type's own derive reports its errors; one report is enough.
        return TokenStream::new();
    };
    if cx.finish().is_err() {
        return TokenStream::new();
    }
    state.done.push((prefix.clone(), new));
    state.advance(&item, prefix)
}

/// Where a derive stands: the item, the definitions collected and the ones still to ask for.
struct State {
    krate: syn::Path,
    main: DeriveInput,
    done: Vec<(String, DeriveInput)>,
    /// Paths to the `__mproto_<Name>` macros still to call.
    pending: Vec<TokenStream>,
}

impl State {
    /// Queues the types `item` names (relative to `prefix`), then asks for the next
    /// one or, when every definition is known, generates the code.
    fn advance(mut self, item: &Item, prefix: String) -> TokenStream {
        let mut known: HashSet<String> =
            self.done.iter().map(|(_, d)| d.ident.to_string()).collect();
        known.insert(self.main.ident.to_string());
        for p in &self.pending {
            known.insert(last_ident(p));
        }
        for (p, name) in render::nested(item) {
            if known.insert(name.to_string()) {
                let full = join_prefix(&prefix, &p);
                let mac = Ident::new(&format!("__mproto_{name}"), name.span());
                let path: TokenStream = full.parse().unwrap_or_default();
                self.pending.push(quote!(#path #mac));
            }
        }
        match self.pending.first() {
            Some(next) => self.ask(next.clone()),
            None => self.generate(),
        }
    }

    /// `next! { {krate::__derive_continue} {state…} }`.
    fn ask(&self, next: TokenStream) -> TokenStream {
        let krate = &self.krate;
        let main = &self.main;
        let done = self.done.iter().map(|(p, d)| {
            let p: TokenStream = p.parse().unwrap_or_default();
            quote!({#p} {#d})
        });
        let pending = self.pending.iter().map(|p| quote!({#p}));
        quote! {
            #next! {
                {#krate::__derive_continue}
                {#krate} {#main} {#(#done)*} {#(#pending)*}
            }
        }
    }

    /// Renders, compiles and generates; compiler diagnostics become spanned errors.
    fn generate(&self) -> TokenStream {
        let cx = Ctxt::default();
        let mut placed = Vec::new();
        for (prefix, input) in std::iter::once((String::new(), &self.main))
            .chain(self.done.iter().map(|(p, d)| (p.clone(), d)))
        {
            if let Some(item) = ast::read_item(&cx, input, &mut None) {
                placed.push(Placed { prefix, item });
            }
        }
        let rendered = render::render(&cx, &placed);
        if !cx.is_ok() {
            return errors(cx);
        }
        let mut sources = SourceMap::new();
        let name = format!("{}.mproto", self.main.ident);
        let mut compiled = match crate::compile_str(&name, &rendered.text, &mut sources) {
            Ok(c) => c,
            Err(diags) => {
                for d in diags.into_sorted() {
                    report(&cx, &rendered, &d, &self.main);
                }
                return errors(cx);
            }
        };
        for def in &mut compiled.schema.types {
            def.rust = rendered.rust.get(&def.name.name).cloned();
        }
        let krate = &self.krate;
        let options = Options {
            runtime: quote!(#krate).to_string(),
            source_name: name,
        };
        emit_derived(
            &compiled.schema,
            &compiled.layout,
            &options,
            rendered.externs.clone(),
        )
    }
}

/// A compiler diagnostic as an error at the Rust tokens its primary span came from.
fn report(cx: &Ctxt, rendered: &render::Rendered, d: &Diagnostic, main: &DeriveInput) {
    let primary = d.labels.iter().find(|l| l.primary).or(d.labels.first());
    let (first, last) = primary
        .and_then(|l| rendered.span_at(l.span.start as usize, l.span.end as usize))
        .unwrap_or_else(|| (main.ident.span(), main.ident.span()));
    let mut message = format!("{} [{}]", d.message, d.code);
    if let Some(l) = primary.filter(|l| !l.message.is_empty()) {
        message.push_str(&format!("\n  {}", l.message));
    }
    for n in &d.notes {
        message.push_str(&format!("\n  = note: {n}"));
    }
    if let Some(h) = &d.help {
        message.push_str(&format!("\n  = help: {h}"));
    }
    // Two tokens carrying the first and last spans: on stable, the only way for
    // an error to cover several Rust tokens.
    let (first, last) = (Ident::new("first", first), Ident::new("last", last));
    let range = quote!(#first #last);
    cx.error_at(range, message);
}

/// The collected errors as `compile_error!`s.
fn errors(cx: Ctxt) -> TokenStream {
    cx.finish()
        .err()
        .map(|e| e.to_compile_error())
        .unwrap_or_default()
}

/// Marks the item as derived; without type parameters, which are reported elsewhere.
fn derived_impl(krate: &syn::Path, input: &DeriveInput) -> Option<TokenStream> {
    if input.generics.type_params().next().is_some()
        || input.generics.const_params().next().is_some()
    {
        return None;
    }
    let (generics, args, _) = input.generics.split_for_impl();
    let name = &input.ident;
    Some(quote!(impl #generics #krate::__private::Derived for #name #args {}))
}

/// Asks, at each type the item names, that the type is derived: without this a
/// missing derive shows only as an unknown `__mproto_<Name>` macro.
fn nested_checks(krate: &syn::Path, item: &Item) -> TokenStream {
    let named = render::nested(item);
    if named.is_empty() {
        return TokenStream::new();
    }
    let checks = named.into_iter().map(|(prefix, name)| {
        let prefix: TokenStream = prefix.parse().unwrap_or_default();
        let span = Span::call_site().located_at(name.span());
        let ty = crate::codegen::respan(&quote!(#prefix #name), span);
        quote_spanned!(span=> let _ = derived::<#ty>;)
    });
    quote! {
        const _: () = {
            fn derived<T: ?::core::marker::Sized + #krate::__private::Derived>() {}
            #(#checks)*
        };
    }
}

/// The `__mproto_<Name>` macro that hands this item's tokens to a callback, so
/// derives of other items can read its definition.
fn describe(input: &DeriveInput) -> TokenStream {
    let name = format_ident!("__mproto_{}", input.ident);
    let span = input.ident.span();
    quote_spanned! {span=>
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #name {
            ({$($cb:tt)*} $($st:tt)*) => { $($cb)*! { $($st)* {#input} } };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #name;
    }
}

fn braces(ts: TokenStream) -> Vec<TokenStream> {
    ts.into_iter()
        .filter_map(|tt| match tt {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(g.stream()),
            _ => None,
        })
        .collect()
}

fn pairs(ts: TokenStream) -> Vec<(TokenStream, TokenStream)> {
    let b = braces(ts);
    b.chunks(2)
        .filter_map(|c| match c {
            [a, b] => Some((a.clone(), b.clone())),
            _ => None,
        })
        .collect()
}

/// `a::b::` from the path `a::b::__mproto_Name`.
fn path_prefix(path: &TokenStream) -> String {
    let s = path.to_string().replace(' ', "");
    match s.rfind("::") {
        Some(i) => s[..i + 2].to_string(),
        None => String::new(),
    }
}

fn last_ident(path: &TokenStream) -> String {
    let s = path.to_string().replace(' ', "");
    let last = s.rsplit("::").next().unwrap_or_default();
    last.strip_prefix("__mproto_").unwrap_or(last).to_string()
}

/// The prefix of a type named `inner` from an item reached through `outer`.
fn join_prefix(outer: &str, inner: &str) -> String {
    if inner.starts_with("::") || inner.starts_with("crate::") {
        inner.to_string()
    } else {
        format!("{outer}{inner}")
    }
}

/// Expansion with every nested definition given (for tests and snapshots).
pub fn with_definitions(items: &[(&str, TokenStream)]) -> TokenStream {
    let parsed: Result<Vec<(String, DeriveInput)>, syn::Error> = items
        .iter()
        .map(|(p, t)| Ok((p.to_string(), syn::parse2(t.clone())?)))
        .collect();
    let mut parsed = match parsed {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => return TokenStream::new(),
        Err(e) => return e.to_compile_error(),
    };
    let (_, main) = parsed.remove(0);
    let cx = Ctxt::default();
    let mut krate = None;
    let item = ast::read_item(&cx, &main, &mut krate);
    if let Err(e) = cx.finish() {
        return e.to_compile_error();
    }
    let krate = krate.unwrap_or_else(|| syn::parse_quote!(::mproto));
    let prologue = prologue(&krate, &main, item.as_ref());
    let state = State {
        krate,
        main,
        done: parsed,
        pending: Vec::new(),
    };
    let generated = state.generate();
    quote!(#prologue #generated)
}
