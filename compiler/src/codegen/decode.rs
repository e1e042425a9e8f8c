//! Views: structs that borrow from the frame, and the code that decodes them.

use proc_macro2::TokenStream;
use quote::quote;

use super::Gen;
use super::chunk::{Run, byte};
use super::expr::{Ctx, Scope, pos_ident};
use super::names::{
    docs, docs_or, endian_of, field_name, ident, int_ty, lit_usize, local, read_method,
};
use super::types::{aux_base, marker_name};
use crate::check::layout::fixed_size;
use crate::ir::visit::{const_int, fixed_bytes};
use crate::ir::{
    Expr, ExprKind, Field, FieldRange, FieldValue, IntTy, Len, Prefix, Struct, Ty, Type, TypeId,
    TypeKind,
};

impl Gen<'_> {
    /// The view struct and its decoder.
    pub(super) fn emit_view(&self, id: TypeId, s: &Struct) -> TokenStream {
        let def = self.schema.ty(id);
        let name = self.view_name(id);
        let generics = self.view_generics(id);
        let sname = &def.name.name;
        let doc = docs_or(
            &def.doc,
            &format!("A decoded `{sname}`, borrowing from the frame."),
        );
        let fields = (0..s.fields.len())
            .filter(|&i| Self::in_view(s, i))
            .map(|i| {
                let f = &s.fields[i];
                let n = ident(field_name(s, i));
                let t = self.field_view_ty(sname, f);
                let d = docs(&self.field_docs(id, s, i));
                quote!(#d pub #n: #t,)
            });
        let (impl_g, buf_lt, reader_lt) = if generics.is_empty() {
            (quote!(), quote!(), quote!('_))
        } else {
            (quote!(<'a>), quote!('a), quote!('a))
        };
        let runs = self.runs(s, false);
        let whole = self.ends_whole(id, s);
        let ending = if whole { Ending::Either } else { Ending::Open };
        let body = self.read_body(id, s, &runs, None, ending);
        let each = if runs.is_empty() {
            quote!()
        } else {
            let slow = self.read_body(id, s, &[], None, Ending::Open);
            quote! {
                /// `read_fields` one field at a time: for windows too short for a whole
                /// chunk (always an error), so that the error names the field cut short.
                #[doc(hidden)]
                #[inline]
                pub fn read_each(r: &mut __mp::Reader<#reader_lt>, at: &mut &'static str) -> ::core::result::Result<Self, __mp::DecodeError> {
                    #slow
                }

                /// The error `read_each` from `r` finds, with the field path applied, for a
                /// window too short for a chunk. It takes the reader by value, so that the
                /// fast path's reader never has its address taken, and returns only an
                /// error, so that the fast path does not merge with it.
                #[cold]
                fn read_each_error(mut r: __mp::Reader<#reader_lt>) -> __mp::DecodeError {
                    let mut at = "";
                    match Self::read_each(&mut r, &mut at) {
                        ::core::result::Result::Err(e) => __mp::eval::in_field(e, at),
                        // Not reached (the fields of the chunk need more bytes than
                        // there are), but an error still, never a panic.
                        ::core::result::Result::Ok(_) => {
                            let available = r.remaining() as u64;
                            r.error(__mp::DecodeErrorKind::Truncated { needed: available + 1, available })
                        }
                    }
                }
            }
        };
        let p0 = if runs.is_empty() {
            quote!()
        } else {
            quote!(let p0 = r.pos();)
        };
        let deferred = match self.deferred_list(id, s) {
            Some(i) => {
                let ending = if whole { Ending::Whole } else { Ending::Open };
                let body = self.read_body(id, s, &runs, Some(i), ending);
                let list = field_name(s, i);
                let doc = format!(
                    " `decode` with `{list}` taken unchecked and empty (`List::deferred`), for \
                     `encode_mutated`, which checks it with `List::validated_with` in the pass \
                     that looks for replaced keys. Errors carry no field path: on any error, \
                     or when that check fails, the caller starts over with `decode`."
                );
                quote! {
                    #[doc = #doc]
                    #[doc(hidden)]
                    #[inline(always)]
                    pub fn decode_deferred(buf: &#buf_lt [u8]) -> ::core::result::Result<Self, __mp::DecodeError> {
                        let mut r = __mp::Reader::new(buf);
                        let mut at = "";
                        let v = Self::read_fields_deferred(&mut r, &mut at)?;
                        r.finish()?;
                        ::core::result::Result::Ok(v)
                    }

                    /// `read_fields` for `decode_deferred`.
                    #[inline(always)]
                    fn read_fields_deferred(r: &mut __mp::Reader<#reader_lt>, at: &mut &'static str) -> ::core::result::Result<Self, __mp::DecodeError> {
                        #p0
                        #body
                    }
                }
            }
            None => quote!(),
        };
        let decode_doc = format!(" Decodes a complete `{sname}` from `buf`, borrowing from it.");
        let (decode_read, param, open, whole_doc) = if whole {
            (
                quote! {
                    let mut at = "";
                    let v = Self::read_fields::<true>(&mut r, &mut at)
                        .map_err(|e| __mp::eval::in_field(e, at))?;
                },
                quote!(<const WHOLE: bool>),
                quote!(::<false>),
                quote! {
                    /// With `WHOLE` (`decode`), the window ends where this struct does.
                },
            )
        } else {
            (
                quote!(let v = Self::read(&mut r)?;),
                quote!(),
                quote!(),
                quote!(),
            )
        };
        quote! {
            #doc
            #[derive(Debug, Clone, Copy, PartialEq)]
            pub struct #name #generics { #(#fields)* }

            impl #impl_g #name #generics {
                #[doc = #decode_doc]
                #[inline(always)]
                pub fn decode(buf: &#buf_lt [u8]) -> ::core::result::Result<Self, __mp::DecodeError> {
                    let mut r = __mp::Reader::new(buf);
                    #decode_read
                    r.finish()?;
                    ::core::result::Result::Ok(v)
                }

                #[doc(hidden)]
                #[inline(always)]
                pub fn read(r: &mut __mp::Reader<#reader_lt>) -> ::core::result::Result<Self, __mp::DecodeError> {
                    let mut at = "";
                    Self::read_fields #open (r, &mut at).map_err(|e| __mp::eval::in_field(e, at))
                }

                /// The fields of a `Self` at `r`, naming the field being read in `at`.
                /// `decode`, `read` and this are always inlined: a view returned from an
                /// out-of-line call is copied back in pieces its stores do not match, a
                /// store-forwarding stall that cost more than the decode itself.
                #whole_doc
                #[inline(always)]
                fn read_fields #param (r: &mut __mp::Reader<#reader_lt>, at: &mut &'static str) -> ::core::result::Result<Self, __mp::DecodeError> {
                    #p0
                    #body
                }

                #each
                #deferred
            }
        }
    }

    /// A field's doc lines; derived fields say where their value comes from.
    fn field_docs(&self, id: TypeId, s: &Struct, i: usize) -> Vec<String> {
        let f = &s.fields[i];
        if !f.doc.is_empty() {
            return f.doc.clone();
        }
        match &self.layout.of(id).fields[i].derive {
            Some(crate::check::Derive::Implicit { user, measure, .. }) => {
                let what = match measure {
                    crate::check::Measure::ByteLen => "byte length",
                    crate::check::Measure::Count => "element count",
                    crate::check::Measure::Size => "encoded size",
                };
                vec![format!(
                    "The {what} of `{}`; computed on encode.",
                    field_name(s, *user)
                )]
            }
            Some(crate::check::Derive::Explicit(e)) => {
                vec![format!("`{}`; computed on encode.", e.text)]
            }
            None => vec![],
        }
    }

    /// The body of `read_fields`. With `runs`, each run of fixed-size fields is read
    /// as one chunk (see `chunk.rs`), starting over with `read_each` from the struct's
    /// first byte (`p0`) when the window is too short for one; with `defer`, the list
    /// field of that index is taken unchecked (`List::deferred`), for `decode_deferred`.
    fn read_body(
        &self,
        id: TypeId,
        s: &Struct,
        runs: &[Run],
        defer: Option<usize>,
        ending: Ending,
    ) -> TokenStream {
        let sc = Scope::of(Ctx::View, id, s, vec![false; s.fields.len()]);
        let positions = needed_positions(s);
        let sname = &self.schema.ty(id).name.name;
        let mut stmts = vec![quote!(*at = "";)];
        // A struct without fields reads nothing, but `read_fields` keeps its signature.
        if s.fields.is_empty() {
            stmts.push(quote!(let _ = r;));
        }
        let mut i = 0;
        while i < s.fields.len() {
            if let Some(run) = runs.iter().find(|r| r.first == i) {
                stmts.push(self.read_run(s, run, &positions, &sc));
                i = run.end;
                continue;
            }
            let f = &s.fields[i];
            let fname = field_name(s, i);
            stmts.push(quote!(*at = #fname;));
            let p = pos_ident(i);
            if positions[i] {
                stmts.push(quote!(let #p = r.pos();));
            }
            let l = local(s, i);
            let read = match &f.ty.kind {
                Ty::KvList { len, .. } | Ty::List { len, .. } if defer == Some(i) => {
                    let n = self.read_len(len, &sc);
                    let m = marker_name(&aux_base(sname, f), &f.ty);
                    quote!({ let n = #n; __mp::List::<#m>::deferred(r.window(n)?) })
                }
                Ty::Bytes { len, .. } if i + 1 == s.fields.len() && ending != Ending::Open => {
                    let n = self.read_len(len, &sc);
                    // `finish` reports trailing bytes outside any field; so does this.
                    let whole = quote! {
                        match r.bytes_to_end(n) {
                            ::core::result::Result::Ok(b) => b,
                            ::core::result::Result::Err(e) => {
                                if let __mp::DecodeErrorKind::Trailing { .. } = e.kind() {
                                    *at = "";
                                }
                                return ::core::result::Result::Err(e);
                            }
                        }
                    };
                    let take = match ending {
                        Ending::Whole => whole,
                        _ => quote!(if WHOLE { #whole } else { r.bytes(n)? }),
                    };
                    quote!({ let n = #n; #take })
                }
                _ => self.read_field(f, &aux_base(sname, f), &sc),
            };
            match f.ty.kind {
                Ty::Pad(_) | Ty::Align(_) => stmts.push(quote!(#read;)),
                _ => stmts.push(quote!(let #l = #read;)),
            }
            stmts.push(self.decode_checks(s, i, &sc));
            i += 1;
        }
        let end = pos_ident(s.fields.len());
        if positions[s.fields.len()] {
            stmts.push(quote!(let #end = r.pos();));
        }
        for (i, f) in s.fields.iter().enumerate() {
            if let FieldValue::Derived(e) = &f.value {
                stmts.push(self.derived_check(s, i, e, &sc));
            }
        }
        let inits = (0..s.fields.len())
            .filter(|&i| Self::in_view(s, i))
            .map(|i| {
                let n = ident(field_name(s, i));
                let l = local(s, i);
                quote!(#n: #l,)
            });
        quote! {
            #(#stmts)*
            ::core::result::Result::Ok(Self { #(#inits)* })
        }
    }

    /// True when a complete frame of this struct ends with its last field, bytes of a
    /// given length, and nothing is checked after it: `decode` then reads that field with
    /// `bytes_to_end`, one comparison where `bytes` and `finish` take two, with the same
    /// errors. Other structs, and `read` (a frame inside another struct), keep `bytes`.
    fn ends_whole(&self, id: TypeId, s: &Struct) -> bool {
        let Some(last) = s.fields.last() else {
            return false;
        };
        let given = matches!(
            &last.ty.kind,
            Ty::Bytes { text: false, len } if !matches!(len, Len::ToEnd | Len::Nul)
        );
        self.schema.frame == Some(id)
            && given
            && last.condition.is_none()
            && last.constraint.is_none()
            && matches!(last.value, FieldValue::Plain)
            && fixed_bytes(&last.ty).is_none()
            && !s
                .fields
                .iter()
                .any(|f| matches!(f.value, FieldValue::Derived(_)))
    }

    /// A run of fixed-size fields read as one chunk, each field decoded from its bytes
    /// and checked as `read_each` checks it, at the same offsets.
    fn read_run(&self, s: &Struct, run: &Run, positions: &[bool], sc: &Scope<'_>) -> TokenStream {
        let mut used = vec![false; run.size as usize];
        let mut steps = TokenStream::new();
        for (j, f) in s.fields.iter().enumerate().take(run.end).skip(run.first) {
            let fname = field_name(s, j);
            let at = run.offset(j);
            let size = fixed_size(self.schema, &f.ty).unwrap_or(0);
            let pos = if at == 0 {
                quote!(p_run)
            } else {
                let off = lit_usize(at);
                quote!(p_run + #off)
            };
            steps.extend(quote!(*at = #fname;));
            if positions[j] {
                let p = pos_ident(j);
                steps.extend(quote!(let #p = #pos;));
            }
            if !matches!(f.ty.kind, Ty::Pad(_)) {
                Self::use_bytes(&mut used, at, size);
                let l = local(s, j);
                let value = self.chunk_value(&f.ty, at, pos);
                steps.extend(quote!(let #l = #value;));
            }
            steps.extend(self.decode_checks(s, j, sc));
        }
        let pat = Self::chunk_pattern(run, &used);
        let n = Self::run_len(run);
        quote! {
            let p_run = r.pos();
            let ::core::option::Option::Some(&#pat) = r.chunk::<#n>() else {
                *at = "";
                return ::core::result::Result::Err(Self::read_each_error(r.rewound(p0)));
            };
            let _ = p_run;
            #steps
        }
    }

    /// A field's value from a chunk's bytes at `at`; `pos` is its offset in the frame.
    fn chunk_value(&self, ty: &Type, at: u64, pos: TokenStream) -> TokenStream {
        let b = byte(at);
        match &ty.kind {
            Ty::Int(i) => self.int_from_chunk(i, at),
            Ty::Float { bits, endian } => self.float_from_chunk(*bits, *endian, at),
            Ty::Bool => quote! {
                match #b {
                    0 => false,
                    1 => true,
                    found => return ::core::result::Result::Err(
                        __mp::DecodeError::new(#pos, __mp::DecodeErrorKind::Bool { found })),
                }
            },
            Ty::Named(id) => match &self.schema.ty(*id).kind {
                TypeKind::Enum(e) => {
                    let raw = self.int_from_chunk(&e.repr, at);
                    self.enum_from_raw_expr(*id, raw, pos, false)
                }
                TypeKind::Bits(b) => {
                    let repr = IntTy {
                        signed: false,
                        ..b.repr
                    };
                    let raw = self.int_from_chunk(&repr, at);
                    let n = self.owned_name(*id);
                    let on_err = quote! {
                        |(member, kind)| __mp::eval::in_field(__mp::DecodeError::new(#pos, kind), member)
                    };
                    self.bits_from_raw_expr(b, &n, raw, on_err)
                }
                _ => quote!(()),
            },
            _ => quote!(()),
        }
    }

    /// Code for a field's value, with `?`; `Option` for conditional fields.
    fn read_field(&self, f: &Field, base: &str, sc: &Scope<'_>) -> TokenStream {
        let read = self.read_ty(&f.ty, base, sc);
        match &f.condition {
            None => read,
            Some(c) => {
                let cond = self.need(c, sc);
                quote! {
                    if #cond {
                        ::core::option::Option::Some(#read)
                    } else {
                        ::core::option::Option::None
                    }
                }
            }
        }
    }

    /// The value of an expression while decoding, failing if it has none.
    pub(super) fn need(&self, e: &Expr, sc: &Scope<'_>) -> TokenStream {
        let v = self.expr(e, sc);
        let text = &e.text;
        quote!(__mp::eval::decoded(#v, r.pos(), #text)?)
    }

    /// Code that reads one value of a type, with `?`.
    pub(super) fn read_ty(&self, ty: &Type, base: &str, sc: &Scope<'_>) -> TokenStream {
        match &ty.kind {
            Ty::Int(i) => self.read_int(i),
            Ty::Float { bits, endian } => {
                let m = read_method('f', *bits, endian_of(self.schema, *endian));
                quote!(r.#m()?)
            }
            Ty::Bool => quote!(r.bool()?),
            Ty::Varint => quote!(r.varint()?),
            Ty::Zigzag => quote!(r.zigzag()?),
            Ty::Bytes { text, len } => self.read_bytes(ty, *text, len, sc),
            Ty::List { len, .. } | Ty::KvList { len, .. } => {
                let m = marker_name(base, ty);
                match len {
                    Len::Count(_) | Len::CountPrefix(_) => {
                        let n = self.read_len(len, sc);
                        quote!({ let n = #n; __mp::List::<#m>::decode_count(r, n)? })
                    }
                    Len::Size(_) | Len::SizePrefix(_) => {
                        let n = self.read_len(len, sc);
                        quote!({ let n = #n; __mp::List::<#m>::decode_all(r.window(n)?)? })
                    }
                    Len::ToEnd | Len::Nul => {
                        quote!(__mp::List::<#m>::decode_all(r.window(r.remaining() as u64)?)?)
                    }
                }
            }
            Ty::Named(id) => self.read_named(*id),
            Ty::Union(u) => {
                let name = quote::format_ident!("{}Ref", base);
                let tag = self.expr(&u.tag, sc);
                let tag_text = &u.tag.text;
                let (kept, open) =
                    self.match_arms(&u.tag.ty, u.arms.iter().map(|a| (&a.patterns[..], a)));
                let arms: Vec<TokenStream> = kept
                    .into_iter()
                    .map(|(p, a)| {
                        let v = ident(&a.name.name);
                        let value = if matches!(a.ty.kind, Ty::Unit) {
                            quote!(#name::#v)
                        } else {
                            let read = self.read_ty(&a.ty, &format!("{base}{}", a.name.name), sc);
                            quote!(#name::#v(#read))
                        };
                        quote!(::core::option::Option::Some(#p) => #value,)
                    })
                    .collect();
                let rest = if !open {
                    quote!()
                } else {
                    quote! {
                        ::core::option::Option::Some(other) => return ::core::result::Result::Err(
                            r.error(__mp::DecodeErrorKind::NoArm { found: __mp::render(&other) })),
                    }
                };
                quote! {
                    match #tag {
                        #(#arms)*
                        #rest
                        ::core::option::Option::None => return ::core::result::Result::Err(
                            r.error(__mp::DecodeErrorKind::NoArm { found: #tag_text.into() })),
                    }
                }
            }
            Ty::Pad(n) => {
                let n = lit_usize(*n);
                quote!(r.skip(#n)?)
            }
            Ty::Align(n) => {
                let n = lit_usize(*n);
                quote!(r.align(#n)?)
            }
            Ty::Unit => quote!(()),
        }
    }

    fn read_int(&self, i: &IntTy) -> TokenStream {
        let m = read_method(
            if i.signed { 'i' } else { 'u' },
            i.bits,
            endian_of(self.schema, i.endian),
        );
        quote!(r.#m()?)
    }

    fn read_named(&self, id: TypeId) -> TokenStream {
        match &self.schema.ty(id).kind {
            TypeKind::Struct(_) => {
                let v = self.view_name(id);
                quote!(#v::read(r)?)
            }
            TypeKind::Bits(_) => {
                let n = self.owned_name(id);
                quote!(#n::read(r)?)
            }
            TypeKind::Enum(e) => {
                let raw = self.read_int(&e.repr);
                let v = self.enum_from_raw_expr(id, raw, quote!(start), false);
                if e.unknown.is_some() {
                    v
                } else {
                    quote!({ let start = r.pos(); #v })
                }
            }
            TypeKind::Extern(x) => {
                let decode = self.extern_item(x, quote!(decode_at(r)));
                quote!(#decode?)
            }
        }
    }

    /// A `u64` length or count, with `?`.
    fn read_len(&self, len: &Len, sc: &Scope<'_>) -> TokenStream {
        match len {
            Len::Count(e) | Len::Size(e) => {
                if let Some(v) = const_int(e) {
                    let v = lit_usize(u64::try_from(v).unwrap_or(0));
                    return quote!(#v);
                }
                if let Some(t) = self.plain_unsigned(e, sc) {
                    return t;
                }
                let v = self.need(e, sc);
                quote!(__mp::eval::count(#v, r.pos())?)
            }
            Len::CountPrefix(p) | Len::SizePrefix(p) => match p {
                Prefix::Varint => quote!(r.varint()?),
                Prefix::Int(i) => {
                    let read = self.read_int(i);
                    if i.signed {
                        quote!(__mp::eval::count(i128::from(#read), r.pos())?)
                    } else if i.bits == 64 {
                        read
                    } else {
                        quote!(u64::from(#read))
                    }
                }
            },
            Len::ToEnd | Len::Nul => quote!((r.remaining() as u64)),
        }
    }

    /// `u64::from(f_len)` when a length is a plain unsigned, unconditional field.
    fn plain_unsigned(&self, e: &Expr, sc: &Scope<'_>) -> Option<TokenStream> {
        let ExprKind::Field(r) = &e.kind else {
            return None;
        };
        let (_, s) = sc.s?;
        let f = s.fields.get(r.field)?;
        if !r.sub.is_empty() || f.condition.is_some() {
            return None;
        }
        let l = local(s, r.field);
        match &f.ty.kind {
            Ty::Int(i) if !i.signed && i.bits == 64 => Some(quote!(#l)),
            Ty::Int(i) if !i.signed => Some(quote!(u64::from(#l))),
            Ty::Varint => Some(quote!(#l)),
            _ => None,
        }
    }

    fn read_bytes(&self, ty: &Type, text: bool, len: &Len, sc: &Scope<'_>) -> TokenStream {
        if let Some(n) = fixed_bytes(ty) {
            let n = lit_usize(n);
            return quote!(r.fixed::<#n>()?);
        }
        let (pre, take) = match len {
            Len::Nul => (quote!(), quote!(r.until_nul()?)),
            Len::ToEnd => (quote!(), quote!(r.rest())),
            _ => {
                let n = self.read_len(len, sc);
                (quote!(let n = #n;), quote!(r.bytes(n)?))
            }
        };
        if text {
            quote!({ #pre let start = r.pos(); let b = #take; r.utf8(start, b)? })
        } else if pre.is_empty() {
            take
        } else {
            quote!({ #pre #take })
        }
    }

    /// Constant and constraint checks right after a field is read.
    fn decode_checks(&self, s: &Struct, i: usize, sc: &Scope<'_>) -> TokenStream {
        let f = &s.fields[i];
        let l = local(s, i);
        let p = pos_ident(i);
        let mut out = TokenStream::new();
        if let FieldValue::Const(c) = &f.value {
            out.extend(self.const_check(f, c, &l, &p));
        }
        if let Some(c) = &f.constraint {
            let v = self.expr(c, sc);
            let rule = &c.text;
            out.extend(quote! {
                if #v != ::core::option::Option::Some(true) {
                    return ::core::result::Result::Err(__mp::DecodeError::new(#p, __mp::DecodeErrorKind::Constraint { rule: #rule, found: __mp::render(&#l) }));
                }
            });
        }
        out
    }

    fn const_check(
        &self,
        f: &Field,
        c: &Expr,
        l: &proc_macro2::Ident,
        p: &proc_macro2::Ident,
    ) -> TokenStream {
        // (Rust type, signed, as wide as `u64`) of an integer constant's field.
        let int = match &f.ty.kind {
            Ty::Int(i) => Some((int_ty(i), i.signed, i.bits == 64)),
            Ty::Varint => Some((super::names::ident("u64"), false, true)),
            Ty::Zigzag => Some((super::names::ident("i64"), true, true)),
            _ => None,
        };
        if let (Some((t, signed, wide)), Some(v)) = (int, const_int(c)) {
            let lit = super::names::typed_lit(v, &t);
            let expected = proc_macro2::Literal::u64_suffixed(v as i64 as u64);
            let found = if signed {
                quote!(#l as u64)
            } else if wide {
                quote!(#l)
            } else {
                quote!(u64::from(#l))
            };
            return quote! {
                if #l != #lit {
                    return ::core::result::Result::Err(__mp::DecodeError::new(#p, __mp::DecodeErrorKind::Magic { expected: #expected, found: #found }));
                }
            };
        }
        let rule = format!("= {}", c.text);
        let expected = match &c.kind {
            ExprKind::Variant(id, i) => self.variant_path(*id, *i),
            // `f != true` is clippy's `bool_comparison`: test the bool itself.
            ExprKind::Bool(b) => {
                let bad = if *b { quote!(!#l) } else { quote!(#l) };
                return quote! {
                    if #bad {
                        return ::core::result::Result::Err(__mp::DecodeError::new(#p, __mp::DecodeErrorKind::Constraint { rule: #rule, found: __mp::render(&#l) }));
                    }
                };
            }
            ExprKind::ByteStr(b) => {
                let b = proc_macro2::Literal::byte_string(b);
                quote!(*#b)
            }
            ExprKind::Str(t) => quote!(#t),
            _ => return quote!(),
        };
        let actual = if matches!(c.kind, ExprKind::ByteStr(_)) {
            quote!(*#l)
        } else {
            quote!(#l)
        };
        quote! {
            if #actual != #expected {
                return ::core::result::Result::Err(__mp::DecodeError::new(#p, __mp::DecodeErrorKind::Constraint { rule: #rule, found: __mp::render(&#l) }));
            }
        }
    }

    fn derived_check(&self, s: &Struct, i: usize, e: &Expr, sc: &Scope<'_>) -> TokenStream {
        let fname = field_name(s, i);
        let l = local(s, i);
        let p = pos_ident(i);
        let v = self.expr(e, sc);
        let rule = &e.text;
        let found = match &s.fields[i].ty.kind {
            Ty::Int(_) | Ty::Varint | Ty::Zigzag => quote!(i128::from(#l)),
            _ => return quote!(),
        };
        quote! {
            *at = #fname;
            let expected = __mp::eval::decoded(#v, #p, #rule)?;
            if #found != expected {
                return ::core::result::Result::Err(__mp::DecodeError::new(#p, __mp::DecodeErrorKind::Mismatch { rule: #rule, expected, found: #found }));
            }
        }
    }
}

/// Which `p_i` offsets a struct's decoder must record: for checks and `sizeof`.
pub(super) fn needed_positions(s: &Struct) -> Vec<bool> {
    let n = s.fields.len();
    let mut need = vec![false; n + 1];
    let mark_range = |range: &FieldRange, need: &mut Vec<bool>| match range {
        FieldRange::SelfStruct => {
            need[0] = true;
            need[n] = true;
        }
        FieldRange::Fields { first, last } => {
            need[*first] = true;
            need[(*last + 1).min(n)] = true;
        }
    };
    for (i, f) in s.fields.iter().enumerate() {
        if !matches!(f.value, FieldValue::Plain) || f.constraint.is_some() {
            need[i] = true;
        }
        let exprs = [
            match &f.value {
                FieldValue::Derived(e) => Some(e),
                _ => None,
            },
            f.constraint.as_ref(),
            f.condition.as_ref(),
            crate::ir::visit::len_expr(&f.ty),
        ];
        for e in exprs.into_iter().flatten() {
            crate::ir::visit::ranges(e, &mut |r, _| mark_range(r, &mut need));
        }
    }
    need
}

/// How a struct's last field meets the end of the reader's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Anything may follow: `bytes`.
    Open,
    /// The window ends there: `bytes_to_end`.
    Whole,
    /// Either, chosen by `read_fields`' `WHOLE` parameter.
    Either,
}
