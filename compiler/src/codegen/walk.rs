//! Framing: `walk` functions that find where a value ends from as few bytes as
//! possible, and the frame's `frame_len`.

use proc_macro2::TokenStream;
use quote::quote;

use super::Gen;
use super::chunk::{Run, byte};
use super::expr::{Ctx, Scope, pos_ident};
use super::names::{endian_of, field_name, lit_usize, local, read_method};
use super::types::{aux_base, marker_name};
use crate::check::FramePlan;
use crate::check::layout::{fixed_size, unwalkable};
use crate::ir::visit::{const_int, field_refs, fixed_bytes, len_expr};
use crate::ir::{Expr, FieldValue, IntTy, Len, Prefix, Struct, Ty, Type, TypeId, TypeKind};

impl Gen<'_> {
    /// True when `frame_len` can skip over a struct without decoding it.
    pub(super) fn struct_walkable(&self, s: &Struct) -> bool {
        s.fields
            .iter()
            .all(|f| unwalkable(self.schema, &f.ty).is_none())
    }

    /// The hidden `walk` function of a struct's view.
    pub(super) fn emit_walk(&self, id: TypeId, s: &Struct) -> TokenStream {
        let name = self.view_name(id);
        let g = self.view_generics(id);
        let ig = if g.is_empty() { quote!() } else { quote!(<'a>) };
        let body = self.walk_fields(id, s, 0, s.fields.len(), &[]);
        let runs = self.runs(s, true);
        if runs.is_empty() {
            return quote! {
                impl #ig #name #g {
                    #[doc(hidden)]
                    #[inline]
                    pub fn walk(w: &mut __mp::Walk<'_>) -> ::core::result::Result<(), __mp::Stop> {
                        #body
                        ::core::result::Result::Ok(())
                    }
                }
            };
        }
        let fast = self.walk_chunked(id, s, &runs);
        quote! {
            impl #ig #name #g {
                #[doc(hidden)]
                #[inline]
                pub fn walk(w: &mut __mp::Walk<'_>) -> ::core::result::Result<(), __mp::Stop> {
                    let w0 = *w;
                    #fast
                    ::core::result::Result::Ok(())
                }

                /// `walk` one field at a time: for buffers too short for a whole chunk,
                /// so that they are answered exactly as far as their bytes go.
                #[doc(hidden)]
                #[inline(never)]
                pub fn walk_each(w: &mut __mp::Walk<'_>) -> ::core::result::Result<(), __mp::Stop> {
                    #body
                    ::core::result::Result::Ok(())
                }
            }
        }
    }

    /// Walk code that reads each run of fixed-size fields as one chunk (see `chunk.rs`),
    /// starting over with `walk_each` from `w0` when the buffer is too short for one.
    fn walk_chunked(&self, id: TypeId, s: &Struct, runs: &[Run]) -> TokenStream {
        let needed = walk_needed(self.schema, s, &[]);
        let mut out = TokenStream::new();
        let mut i = 0;
        while i < s.fields.len() {
            let Some(run) = runs.iter().find(|r| r.first == i) else {
                out.extend(self.walk_fields(id, s, i, i + 1, &[]));
                i += 1;
                continue;
            };
            let mut used = vec![false; run.size as usize];
            let mut steps = TokenStream::new();
            for (j, f) in s.fields.iter().enumerate().take(run.end).skip(run.first) {
                let int_const =
                    matches!(f.value, FieldValue::Const(_)) && matches!(f.ty.kind, Ty::Int(_));
                if !needed[j] && !int_const {
                    continue;
                }
                let at = run.offset(j);
                let size = fixed_size(self.schema, &f.ty).unwrap_or(0);
                Self::use_bytes(&mut used, at, size);
                let l = local(s, j);
                let value = self.walk_chunk_value(&f.ty, at, size);
                let check = self.walk_const_check(f, &l);
                let start = if at == 0 {
                    quote!(run_start)
                } else {
                    let at = proc_macro2::Literal::u64_suffixed(at);
                    quote!(run_start + #at)
                };
                steps.extend(quote! {
                    let start = #start;
                    let #l = #value;
                    let _ = start;
                    #check
                });
            }
            let pat = Self::chunk_pattern(run, &used);
            let n = Self::run_len(run);
            out.extend(quote! {
                let run_start = w.pos();
                let ::core::option::Option::Some(&#pat) = w.chunk::<#n>() else {
                    let mut each = w0;
                    let walked = Self::walk_each(&mut each);
                    *w = each;
                    return walked;
                };
                let _ = run_start;
                #steps
            });
            i = run.end;
        }
        out
    }

    /// A field's value from a chunk's bytes at `at` (`start` is its offset in the frame).
    /// Chunks hold only the scalars below (see `chunk_size`).
    fn walk_chunk_value(&self, ty: &Type, at: u64, size: u64) -> TokenStream {
        let b = byte(at);
        match &ty.kind {
            Ty::Int(i) => self.int_from_chunk(i, at),
            Ty::Float { bits, endian } => self.float_from_chunk(*bits, *endian, at),
            Ty::Bool => quote! {
                match #b {
                    0 => false,
                    1 => true,
                    found => return ::core::result::Result::Err(__mp::Stop::Error(
                        __mp::DecodeError::new(start as usize, __mp::DecodeErrorKind::Bool { found }))),
                }
            },
            Ty::Named(id) => match &self.schema.ty(*id).kind {
                TypeKind::Enum(e) => {
                    let raw = self.int_from_chunk(&e.repr, at);
                    let end = proc_macro2::Literal::u64_suffixed(size);
                    self.enum_from_raw_expr(*id, raw, quote!((start + #end) as usize), true)
                }
                TypeKind::Bits(b) => {
                    let repr = IntTy {
                        signed: false,
                        ..b.repr
                    };
                    let raw = self.int_from_chunk(&repr, at);
                    let n = self.owned_name(*id);
                    let end = proc_macro2::Literal::u64_suffixed(size);
                    let on_err = quote! {
                        |(_, kind)| __mp::Stop::Error(__mp::DecodeError::new((start + #end) as usize, kind))
                    };
                    self.bits_from_raw_expr(b, &n, raw, on_err)
                }
                _ => quote!(()),
            },
            Ty::Bytes { .. } => {
                let bytes = (at..at + size).map(byte);
                quote!([#(#bytes),*])
            }
            _ => quote!(()),
        }
    }

    /// Walk code for fields `first..end`; `keep` lists extra fields whose value is needed.
    fn walk_fields(
        &self,
        id: TypeId,
        s: &Struct,
        first: usize,
        end: usize,
        keep: &[usize],
    ) -> TokenStream {
        let sc = Scope::of(Ctx::View, id, s, vec![false; s.fields.len()]);
        let needed = walk_needed(self.schema, s, keep);
        let sname = &self.schema.ty(id).name.name;
        let mut out = TokenStream::new();
        // A struct without fields skips nothing, but `walk` keeps its signature.
        if s.fields.is_empty() {
            out.extend(quote!(let _ = w;));
        }
        for (i, f) in s.fields.iter().enumerate().take(end).skip(first) {
            let base = aux_base(sname, f);
            let l = local(s, i);
            let int_const =
                matches!(f.value, FieldValue::Const(_)) && matches!(f.ty.kind, Ty::Int(_));
            let step = if needed[i] || int_const {
                let read = self
                    .walk_read(&f.ty)
                    .unwrap_or_else(|| self.walk_decode(&f.ty, &base, &sc));
                let check = self.walk_const_check(f, &l);
                match &f.condition {
                    None => quote!(let start = w.pos(); let #l = #read; let _ = start; #check),
                    Some(c) => {
                        let cond = self.walk_need(c, &sc);
                        quote!(let #l = if #cond { ::core::option::Option::Some(#read) } else { ::core::option::Option::None };)
                    }
                }
            } else {
                let skip = self.skip_ty(&f.ty, &base, &sc);
                match &f.condition {
                    None => skip,
                    Some(c) => {
                        let cond = self.walk_need(c, &sc);
                        quote!(if #cond { #skip })
                    }
                }
            };
            out.extend(step);
        }
        out
    }

    fn walk_need(&self, e: &Expr, sc: &Scope<'_>) -> TokenStream {
        let v = self.expr(e, sc);
        let text = &e.text;
        quote!(__mp::eval::decoded(#v, w.pos() as usize, #text)?)
    }

    /// A field framing needs a value from but cannot read as a scalar (a struct a
    /// condition reads a member of, a list or string whose `len` it reads): skipped like
    /// any other field, then decoded from the bytes skipped, once all of them are here.
    fn walk_decode(&self, ty: &Type, base: &str, sc: &Scope<'_>) -> TokenStream {
        let skip = self.skip_ty(ty, base, sc);
        let read = self.read_ty(ty, base, sc);
        quote!({
            let start = w.pos();
            #skip
            let r = &mut w.reader(start, w.pos())?;
            #read
        })
    }

    /// Reads a scalar that later framing decisions depend on; `None` for a type that is
    /// not one.
    fn walk_read(&self, ty: &Type) -> Option<TokenStream> {
        Some(match &ty.kind {
            Ty::Int(i) => {
                let m = read_method(
                    if i.signed { 'i' } else { 'u' },
                    i.bits,
                    endian_of(self.schema, i.endian),
                );
                quote!(w.#m()?)
            }
            Ty::Float { bits, endian } => {
                let m = read_method('f', *bits, endian_of(self.schema, *endian));
                quote!(w.#m()?)
            }
            Ty::Bool => quote!(w.bool()?),
            Ty::Varint => quote!(w.varint()?),
            Ty::Zigzag => quote!(w.zigzag()?),
            Ty::Named(id) => match &self.schema.ty(*id).kind {
                TypeKind::Enum(e) => {
                    let m = read_method(
                        if e.repr.signed { 'i' } else { 'u' },
                        e.repr.bits,
                        endian_of(self.schema, e.repr.endian),
                    );
                    self.enum_from_raw_expr(*id, quote!(w.#m()?), quote!(w.pos() as usize), true)
                }
                TypeKind::Bits(_) => {
                    let n = self.owned_name(*id);
                    quote!(#n::walk(w)?)
                }
                _ => return None,
            },
            Ty::Bytes { .. } => {
                let n = lit_usize(fixed_bytes(ty)?);
                quote!(w.array::<#n>()?)
            }
            _ => return None,
        })
    }

    fn walk_const_check(&self, f: &crate::ir::Field, l: &proc_macro2::Ident) -> TokenStream {
        let FieldValue::Const(c) = &f.value else {
            return quote!();
        };
        let (Ty::Int(i), Some(v)) = (&f.ty.kind, const_int(c)) else {
            return quote!();
        };
        let lit = super::names::typed_lit(v, &super::names::int_ty(i));
        let expected = proc_macro2::Literal::u64_suffixed(v as i64 as u64);
        let found = if i.signed {
            quote!(#l as u64)
        } else if i.bits == 64 {
            quote!(#l)
        } else {
            quote!(u64::from(#l))
        };
        quote! {
            if #l != #lit {
                return ::core::result::Result::Err(__mp::Stop::Error(__mp::DecodeError::new(start as usize, __mp::DecodeErrorKind::Magic { expected: #expected, found: #found })));
            }
        }
    }

    /// Skips one value of a type.
    pub(super) fn skip_ty(&self, ty: &Type, base: &str, sc: &Scope<'_>) -> TokenStream {
        if let Some(n) = fixed_size(self.schema, ty) {
            let n = lit_usize(n);
            return quote!(w.skip(#n)?;);
        }
        match &ty.kind {
            Ty::Varint | Ty::Zigzag => quote!(w.varint()?;),
            Ty::Bytes { len, .. } => match len {
                Len::Nul => quote!(w.until_nul()?;),
                Len::ToEnd => quote!(),
                _ => {
                    let n = self.walk_len(len, sc);
                    quote!(let n = #n; w.skip_checked(n)?;)
                }
            },
            Ty::List { elem, len } => self.skip_list(len, &[elem], &marker_name(base, ty), sc),
            Ty::KvList { key, value, len } => {
                self.skip_list(len, &[key, value], &marker_name(base, ty), sc)
            }
            Ty::Named(id) => {
                let n = self.view_name(*id);
                quote!(#n::walk(w)?;)
            }
            Ty::Union(u) => {
                let tag = self.expr(&u.tag, sc);
                let tag_text = &u.tag.text;
                let (kept, open) =
                    self.match_arms(&u.tag.ty, u.arms.iter().map(|a| (&a.patterns[..], a)));
                let arms: Vec<TokenStream> = kept
                    .into_iter()
                    .map(|(p, a)| {
                        let skip = self.skip_ty(&a.ty, &format!("{base}{}", a.name.name), sc);
                        quote!(::core::option::Option::Some(#p) => { #skip })
                    })
                    .collect();
                let rest = if !open {
                    quote!()
                } else {
                    quote!(::core::option::Option::Some(other) => return ::core::result::Result::Err(w.error(__mp::DecodeErrorKind::NoArm { found: __mp::render(&other) })),)
                };
                quote! {
                    match #tag {
                        #(#arms)*
                        #rest
                        ::core::option::Option::None => return ::core::result::Result::Err(w.error(__mp::DecodeErrorKind::NoArm { found: #tag_text.into() })),
                    }
                }
            }
            Ty::Align(n) => {
                let n = lit_usize(*n);
                quote!(w.align(#n)?;)
            }
            _ => quote!(),
        }
    }

    fn skip_list(
        &self,
        len: &Len,
        parts: &[&Type],
        marker: &proc_macro2::Ident,
        sc: &Scope<'_>,
    ) -> TokenStream {
        match len {
            Len::Count(_) | Len::CountPrefix(_) => {
                let n = self.walk_len(len, sc);
                let fixed: Option<u64> = parts.iter().map(|t| fixed_size(self.schema, t)).sum();
                match fixed {
                    Some(k) => {
                        let k = proc_macro2::Literal::i128_suffixed(k.into());
                        quote! {
                            let n = __mp::eval::mul(::core::option::Option::Some(#n), ::core::option::Option::Some(#k));
                            w.skip_checked(__mp::eval::decoded(n, w.pos() as usize, "list size")?)?;
                        }
                    }
                    None => quote! {
                        let n = #n;
                        let mut i = 0i128;
                        while i < n {
                            #marker::walk(w)?;
                            i += 1;
                        }
                    },
                }
            }
            Len::Size(_) | Len::SizePrefix(_) => {
                let n = self.walk_len(len, sc);
                quote!(let n = #n; w.skip_checked(n)?;)
            }
            Len::ToEnd | Len::Nul => quote!(),
        }
    }

    /// A length or count as `i128`, with `?`.
    fn walk_len(&self, len: &Len, sc: &Scope<'_>) -> TokenStream {
        match len {
            Len::Count(e) | Len::Size(e) => self.walk_need(e, sc),
            Len::CountPrefix(p) | Len::SizePrefix(p) => match p {
                Prefix::Varint => quote!(i128::from(w.varint()?)),
                Prefix::Int(i) => {
                    let m = read_method(
                        if i.signed { 'i' } else { 'u' },
                        i.bits,
                        endian_of(self.schema, i.endian),
                    );
                    quote!(i128::from(w.#m()?))
                }
            },
            Len::ToEnd | Len::Nul => quote!(0i128),
        }
    }

    /// `frame_len` for the frame.
    pub(super) fn emit_frame_len(&self, id: TypeId, s: &Struct) -> TokenStream {
        let doc = quote! {
            /// Finds the length of the frame at the start of `buf`: `Complete(n)` once
            /// the frame's length is known and `buf` holds it, else `NeedMore(m)`.
        };
        let view = self.view_name(id);
        match &self.layout.frame {
            Some(FramePlan::SizeField { field, from, add }) => {
                let from_pos = match from {
                    None => quote!(0u64),
                    Some(k) => {
                        let p = pos_ident(*k);
                        quote!(#p)
                    }
                };
                let mut body = TokenStream::new();
                for i in 0..=*field {
                    if Some(i) == *from {
                        let p = pos_ident(i);
                        body.extend(quote!(let #p = w.pos();));
                    }
                    body.extend(self.walk_fields(id, s, i, i + 1, &[*field]));
                }
                if *from == Some(*field + 1) {
                    let p = pos_ident(*field + 1);
                    body.extend(quote!(let #p = w.pos();));
                }
                let l = local(s, *field);
                let early = self.early_constants(s, *field + 1);
                let add = proc_macro2::Literal::i128_suffixed(*add);
                let fname = field_name(s, *field);
                quote! {
                    #doc
                    #[inline]
                    pub fn frame_len(buf: &[u8]) -> ::core::result::Result<__mp::FrameLen, __mp::DecodeError> {
                        __mp::conclude(frame_end(buf))
                    }

                    #[inline]
                    fn frame_end(buf: &[u8]) -> ::core::result::Result<__mp::FrameLen, __mp::Stop> {
                        let mut walk = __mp::Walk::new(buf);
                        let w = &mut walk;
                        #body
                        let total = __mp::eval::sub(
                            __mp::eval::add(::core::option::Option::Some(i128::from(#from_pos)), ::core::option::Option::Some(i128::from(#l))),
                            ::core::option::Option::Some(#add),
                        );
                        let total = __mp::eval::decoded(total, 0, #fname)?;
                        match u64::try_from(total) {
                            ::core::result::Result::Ok(end) if end >= w.pos() => {
                                #early
                                ::core::result::Result::Ok(__mp::finish_at(buf, end))
                            }
                            _ => ::core::result::Result::Err(__mp::Stop::Error(__mp::DecodeError::new(0, __mp::DecodeErrorKind::BadLength { found: total }).in_field(#fname))),
                        }
                    }
                }
            }
            _ => quote! {
                #doc
                #[inline]
                pub fn frame_len(buf: &[u8]) -> ::core::result::Result<__mp::FrameLen, __mp::DecodeError> {
                    let mut w = __mp::Walk::new(buf);
                    let walked = #view::walk(&mut w);
                    __mp::conclude(walked.map(|()| w.end()))
                }
            },
        }
    }
}

impl Gen<'_> {
    /// Checks the constants among the fixed-size fields after the size field, as far
    /// as the buffer and the frame go, so garbage is refused before a whole frame is
    /// buffered. A constant past the frame's end (a frame too short for its fields) is
    /// left to decoding: reading it would read the next frame, and the answer would
    /// then depend on what follows the frame.
    fn early_constants(&self, s: &Struct, from: usize) -> TokenStream {
        let mut out = TokenStream::new();
        let mut any = false;
        // Skips only matter before a constant they lead to; trailing ones are dropped.
        let mut pending = TokenStream::new();
        for f in &s.fields[from.min(s.fields.len())..] {
            let Some(n) = fixed_size(self.schema, &f.ty).filter(|_| f.condition.is_none()) else {
                break;
            };
            let (FieldValue::Const(c), Ty::Int(i)) = (&f.value, &f.ty.kind) else {
                let n = lit_usize(n);
                pending.extend(quote!(w.skip(#n)?;));
                continue;
            };
            let Some(v) = const_int(c) else { break };
            any = true;
            out.extend(std::mem::take(&mut pending));
            let m = read_method(
                if i.signed { 'i' } else { 'u' },
                i.bits,
                endian_of(self.schema, i.endian),
            );
            let lit = super::names::typed_lit(v, &super::names::int_ty(i));
            let expected = proc_macro2::Literal::u64_suffixed(v as i64 as u64);
            let found = if i.signed {
                quote!(found as u64)
            } else if i.bits == 64 {
                quote!(found)
            } else {
                quote!(u64::from(found))
            };
            let fname = field_name(
                s,
                s.fields
                    .iter()
                    .position(|g| std::ptr::eq(g, f))
                    .unwrap_or(0),
            );
            out.extend(quote! {
                let at = w.pos();
                match w.#m() {
                    ::core::result::Result::Ok(found) if found != #lit => {
                        return ::core::result::Result::Err(__mp::Stop::Error(__mp::DecodeError::new(at as usize, __mp::DecodeErrorKind::Magic { expected: #expected, found: #found }).in_field(#fname)));
                    }
                    ::core::result::Result::Ok(_) => {}
                    ::core::result::Result::Err(_) => return ::core::result::Result::Ok(__mp::finish_at(buf, end)),
                }
            });
        }
        if any {
            quote! {
                let mut in_frame = w.within(end);
                let w = &mut in_frame;
                #out
            }
        } else {
            quote!()
        }
    }
}

/// Fields whose values framing needs: lengths, conditions and union tags read them.
fn walk_needed(schema: &crate::ir::Schema, s: &Struct, keep: &[usize]) -> Vec<bool> {
    let mut need = vec![false; s.fields.len()];
    for &k in keep {
        need[k] = true;
    }
    let mut mark = |e: &Expr| field_refs(e, &mut |r| need[r.field] = true);
    for f in &s.fields {
        if let Some(c) = &f.condition {
            mark(c);
        }
        mark_walked(schema, &f.ty, &mut mark);
    }
    need
}

/// Marks what walking `ty` reads: its length, and a union's tag and its arms' lengths.
/// A fixed-size type is skipped in one step and reads nothing.
fn mark_walked(schema: &crate::ir::Schema, ty: &Type, mark: &mut impl FnMut(&Expr)) {
    if fixed_size(schema, ty).is_some() {
        return;
    }
    if let Some(e) = len_expr(ty) {
        mark(e);
    }
    if let Ty::Union(u) = &ty.kind {
        mark(&u.tag);
        for a in &u.arms {
            mark_walked(schema, &a.ty, mark);
        }
    }
}
