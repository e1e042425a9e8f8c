//! Re-encoding a frame with a mutation straight from its view: fields are copied
//! from the frame, the mutated key/value list is streamed with the changes applied,
//! and the lengths that depend on it are recomputed. No owned value is built.

use proc_macro2::TokenStream;
use quote::quote;

use super::Gen;
use super::names::{endian_of, field_name, ident, int_ty, lit_usize, max_of, to_bytes_method};
use crate::check::{Derive, Measure};
use crate::ir::visit::{const_int, fixed_bytes};
use crate::ir::{ExprKind, FieldRef, FieldValue, Len, Prefix, Struct, Ty, Type, TypeId};

/// The longest head before a request id that the patch writes as one array (one local
/// per byte, like a chunk read).
const MAX_PATCH_HEAD: u64 = 64;

impl Gen<'_> {
    /// The body of `encode_mutated` for frames simple enough to rewrite from the view.
    /// With `deferred`, the body decodes the frame itself, checking the list in the pass
    /// that looks for replaced keys (see [`Gen::deferred_list`]).
    pub(super) fn emit_view_rewrite(
        &self,
        id: TypeId,
        s: &Struct,
        deferred: bool,
    ) -> Option<TokenStream> {
        let md = self.schema.metadata.as_ref()?;
        let (mutated, _) = md.mutate.as_ref()?;
        let id_field = match md.request_id.as_ref().map(|e| &e.kind) {
            Some(ExprKind::Field(FieldRef { field, sub }))
                if sub.is_empty() && s.fields[*field].condition.is_none() =>
            {
                matches!(s.fields[*field].ty.kind, Ty::Int(_)).then_some(*field)?
            }
            _ => return None,
        };
        let Ty::KvList { key, value, len } = &s.fields[mutated.field].ty.kind else {
            return None;
        };
        if !mutated.sub.is_empty() || s.fields[mutated.field].condition.is_some() {
            return None;
        }
        let layout = self.layout.of(id);
        let mut writes = Vec::new();
        for (i, f) in s.fields.iter().enumerate() {
            let w = if i == mutated.field {
                self.rewrite_list(s, i, len)?
            } else if i == id_field {
                let Ty::Int(it) = &f.ty.kind else { return None };
                let (t, max) = (int_ty(it), max_of(it.bits, it.signed));
                let m = to_bytes_method(endian_of(self.schema, it.endian));
                let n = ident(field_name(s, i));
                quote! {
                    let id = match mutation.request_id {
                        ::core::option::Option::Some(id) => __mp::eval::fit::<#t>(i128::from(id), #max)?,
                        ::core::option::Option::None => view.#n,
                    };
                    out.write_slice(&id.#m());
                }
            } else {
                match (&f.value, &layout.fields[i].derive) {
                    (_, Some(Derive::Implicit { user, measure, add })) => {
                        self.rewrite_length(s, i, *user, *measure, *add, mutated.field)?
                    }
                    (FieldValue::Derived(_), _) => return None,
                    (FieldValue::Const(_), _) => self.rewrite_const(s, i)?,
                    _ => self.rewrite_copy(s, i)?,
                }
            };
            writes.push(w);
        }
        let pair = self.pair_writer(key, value)?;
        let fname = field_name(s, mutated.field);
        let list = ident(fname);
        let check = if deferred {
            let view_ty = self.view_name(id);
            quote! {
                /// The checking decode, and whether a change replaces an entry: for
                /// frames the one-pass check below does not take (and to report errors).
                #[cold]
                fn checked<'f>(frame: &'f __mp::Bytes, mutation: &__mp::Mutation) -> ::core::result::Result<(#view_ty<'f>, bool), __mp::DecodeError> {
                    let view = #view_ty::decode(frame)?;
                    let append = !mutation.replaces_any(view.#list.iter());
                    ::core::result::Result::Ok((view, append))
                }
                // One pass over the list both checks it and looks for replaced keys.
                let one_pass = #view_ty::decode_deferred(frame).ok().and_then(|mut view| {
                    let mut replaces = false;
                    view.#list = view.#list.validated_with(|(k, _)| replaces |= mutation.replaces_key(k))?;
                    ::core::option::Option::Some((view, !replaces))
                });
                let (view, append) = match one_pass {
                    ::core::option::Option::Some(checked) => checked,
                    ::core::option::Option::None => checked(frame, mutation)?,
                };
            }
        } else {
            quote!(let append = !mutation.replaces_any(view.#list.iter());)
        };
        if !copies_verbatim(key) || !copies_verbatim(value) {
            return Some(quote! {
                #pair
                // The list is decoded once; both the size pass and the write pass read `pairs`.
                let pairs = mutation.rewritten(view.#list.iter());
                let mut size = __mp::Counter(0);
                for (k, v) in &pairs {
                    write_pair(&mut size, k, v).map_err(|e| e.in_field(#fname))?;
                }
                let (size, count) = (size.0, pairs.len());
                let _ = (size, count);
                #(#writes)*
                ::core::result::Result::Ok(())
            });
        }
        Some(quote! {
            #pair
            // When no change replaces an entry, the list's bytes are copied as they are
            // and only the appended pairs are encoded; otherwise the list is decoded
            // once, and both the size pass and the write pass read the rewritten pairs.
            #check
            let rebuilt = if append {
                __mp::SmallVec::new()
            } else {
                mutation.rewritten(view.#list.iter())
            };
            let (size, count) = if append {
                let mut size = __mp::Counter(view.#list.as_bytes().len());
                let mut count = view.#list.len();
                for (k, v) in mutation.appended() {
                    write_pair(&mut size, k, v).map_err(|e| e.in_field(#fname))?;
                    count += 1;
                }
                (size.0, count)
            } else {
                let mut size = __mp::Counter(0);
                for (k, v) in &rebuilt {
                    write_pair(&mut size, k, v).map_err(|e| e.in_field(#fname))?;
                }
                (size.0, rebuilt.len())
            };
            let _ = (size, count);
            #(#writes)*
            ::core::result::Result::Ok(())
        })
    }

    /// The frame's mutated list, when `encode_mutated` can check it in the same pass
    /// that looks for replaced keys instead of checking it while decoding and walking
    /// it again: a top-level, unconditional `str => str` list measured in bytes whose
    /// strings have the text fast path (`Element::split_text`), in a frame that is
    /// rewritten from its view. Returns the list's field index.
    pub(super) fn deferred_list(&self, id: TypeId, s: &Struct) -> Option<usize> {
        if self.schema.frame != Some(id) {
            return None;
        }
        let md = self.schema.metadata.as_ref()?;
        let (mutated, _) = md.mutate.as_ref()?;
        let f = s.fields.get(mutated.field)?;
        if !mutated.sub.is_empty() || f.condition.is_some() {
            return None;
        }
        let Ty::KvList {
            key,
            value,
            len: Len::Size(_) | Len::SizePrefix(_),
        } = &f.ty.kind
        else {
            return None;
        };
        self.split_text_part(key)?;
        self.split_text_part(value)?;
        self.emit_view_rewrite(id, s, false)?;
        Some(mutated.field)
    }

    /// Rewriting only the request id patches its bytes in place when nothing else is
    /// computed from its value; the proxy does this for every request it multiplexes.
    /// Returns the patch and whether it reads the decoded view (for the sizes of the
    /// variable-size fields before the id); either way it runs after decoding.
    pub(super) fn id_patch(&self, s: &Struct) -> Option<(TokenStream, bool)> {
        let md = self.schema.metadata.as_ref()?;
        let Some(ExprKind::Field(FieldRef { field, sub })) =
            md.request_id.as_ref().map(|e| &e.kind)
        else {
            return None;
        };
        let f = &s.fields[*field];
        let Ty::Int(it) = &f.ty.kind else { return None };
        if !sub.is_empty() || f.condition.is_some() {
            return None;
        }
        let depends = s.fields.iter().any(|g| match &g.value {
            FieldValue::Derived(e) => value_depends_on(e, *field),
            _ => false,
        });
        if depends {
            return None;
        }
        let mut fixed = 0u64;
        let mut sizes = Vec::new();
        for g in &s.fields[..*field] {
            match crate::check::layout::fixed_size(self.schema, &g.ty)
                .filter(|_| g.condition.is_none())
            {
                Some(n) => fixed += n,
                None => sizes.push(self.view_size(g)?),
            }
        }
        let needs_view = !sizes.is_empty();
        if !needs_view && fixed <= MAX_PATCH_HEAD {
            return Some((self.fixed_id_patch(it, fixed), false));
        }
        let mut terms: Vec<TokenStream> = Vec::new();
        if fixed > 0 || sizes.is_empty() {
            let fixed = proc_macro2::Literal::u64_unsuffixed(fixed);
            terms.push(quote!(#fixed));
        }
        terms.extend(sizes);
        let n = usize::from(it.bits / 8);
        let (t, max) = (int_ty(it), max_of(it.bits, it.signed));
        let m = to_bytes_method(endian_of(self.schema, it.endian));
        let patch = quote! {
            if let (true, ::core::option::Option::Some(id)) = (mutation.properties.is_empty(), mutation.request_id) {
                let off: usize = #(#terms)+*;
                if let (::core::option::Option::Some(head), ::core::option::Option::Some(rest)) = (frame.get(..off), frame.get(off + #n..)) {
                    let id = __mp::eval::fit::<#t>(i128::from(id), #max)?;
                    out.write_slice(head);
                    out.write_slice(&id.#m());
                    __mp::write_part(out, frame, rest);
                    return ::core::result::Result::Ok(());
                }
            }
        };
        Some((patch, needs_view))
    }

    /// The request-id patch for an id at a constant offset: the bytes before it and the
    /// new id are written as one array, as a hand-written re-encoder writes its header.
    fn fixed_id_patch(&self, it: &crate::ir::IntTy, off: u64) -> TokenStream {
        let n = usize::from(it.bits / 8);
        let (t, max) = (int_ty(it), max_of(it.bits, it.signed));
        let m = to_bytes_method(endian_of(self.schema, it.endian));
        // Summed here: `0 + 4` would be clippy's `identity_op` for an id at offset 0.
        let after = lit_usize(off + n as u64);
        let width = lit_usize(n as u64);
        // One split gives the bytes up to the id's end and everything after them: one
        // bounds check where taking the head and the rest apart cost two. The head is
        // copied whole, then the id written over its end: naming each byte instead let
        // LLVM load and store the head a byte at a time.
        quote! {
            if let (true, ::core::option::Option::Some(id), ::core::option::Option::Some((head, rest))) = (
                mutation.properties.is_empty(),
                mutation.request_id,
                frame.split_first_chunk::<#after>(),
            ) {
                let mut head = *head;
                if let ::core::option::Option::Some(slot) = head.last_chunk_mut::<#width>() {
                    *slot = __mp::eval::fit::<#t>(i128::from(id), #max)?.#m();
                }
                out.write_slice(&head);
                __mp::write_part(out, frame, rest);
                return ::core::result::Result::Ok(());
            }
        }
    }

    /// A field's encoded size, from the decoded view.
    fn view_size(&self, f: &crate::ir::Field) -> Option<TokenStream> {
        if let Some(n) =
            crate::check::layout::fixed_size(self.schema, &f.ty).filter(|_| f.condition.is_none())
        {
            let n = proc_macro2::Literal::u64_unsuffixed(n);
            return Some(quote!(#n));
        }
        // A variable-size constant is not in the view; such a frame is re-encoded whole.
        if matches!(f.value, crate::ir::FieldValue::Const(_)) {
            return None;
        }
        let name = ident(&f.name.as_ref()?.name);
        let one = |v: TokenStream| -> Option<TokenStream> {
            let prefix = |p: &Prefix, len: TokenStream| match p {
                Prefix::Varint => quote!(__mp::varint_len(#len as u64)),
                Prefix::Int(i) => {
                    let n = usize::from(i.bits / 8);
                    quote!(#n)
                }
            };
            Some(match &f.ty.kind {
                Ty::Varint => quote!(__mp::varint_len(#v)),
                Ty::Zigzag => quote!(__mp::varint_len(__mp::zigzag(#v))),
                Ty::Bytes { len, .. } => match len {
                    Len::SizePrefix(p) => {
                        let p = prefix(p, quote!(#v.len()));
                        quote!((#p + #v.len()))
                    }
                    Len::Nul => quote!((#v.len() + 1)),
                    Len::Size(_) | Len::Count(_) => quote!(#v.len()),
                    _ => return None,
                },
                Ty::List { len, .. } | Ty::KvList { len, .. } => match len {
                    Len::CountPrefix(p) => {
                        let p = prefix(p, quote!(#v.len()));
                        quote!((#p + #v.as_bytes().len()))
                    }
                    Len::SizePrefix(p) => {
                        let p = prefix(p, quote!(#v.as_bytes().len()));
                        quote!((#p + #v.as_bytes().len()))
                    }
                    Len::Size(_) | Len::Count(_) => quote!(#v.as_bytes().len()),
                    _ => return None,
                },
                _ => return None,
            })
        };
        if f.condition.is_some() {
            let inner = one(quote!(v))?;
            Some(quote!(view.#name.map_or(0, |v| #inner)))
        } else {
            one(quote!(view.#name))
        }
    }

    /// `fn write_pair(out, key, value)` for a `str => str` list.
    pub(super) fn pair_writer(&self, key: &Type, value: &Type) -> Option<TokenStream> {
        let k = self.text_writer(key, quote!(k))?;
        let v = self.text_writer(value, quote!(v))?;
        Some(quote! {
            fn write_pair<__S: __mp::Sink + ?::core::marker::Sized>(out: &mut __S, k: &str, v: &str) -> ::core::result::Result<(), __mp::EncodeError> {
                #k
                #v
                ::core::result::Result::Ok(())
            }
        })
    }

    pub(super) fn text_writer(&self, ty: &Type, v: TokenStream) -> Option<TokenStream> {
        let Ty::Bytes { len, .. } = &ty.kind else {
            return None;
        };
        match len {
            Len::SizePrefix(p) => {
                let prefix = self.prefix_of(p, quote!(#v.len()));
                Some(quote!(#prefix out.write_slice(#v.as_bytes());))
            }
            Len::Nul => Some(quote! {
                if #v.as_bytes().contains(&0) {
                    return ::core::result::Result::Err(__mp::EncodeError::new(__mp::EncodeErrorKind::InteriorNul));
                }
                out.write_slice(#v.as_bytes());
                out.write_slice(&[0]);
            }),
            _ => None,
        }
    }

    /// Writes a length or count prefix of `n`.
    pub(super) fn prefix_of(&self, p: &Prefix, n: TokenStream) -> TokenStream {
        match p {
            Prefix::Varint => quote!(__mp::put_varint(out, #n as u64);),
            Prefix::Int(i) => {
                let (t, max) = (int_ty(i), max_of(i.bits, i.signed));
                let m = to_bytes_method(endian_of(self.schema, i.endian));
                quote!(out.write_slice(&__mp::eval::fit::<#t>(#n as i128, #max)?.#m());)
            }
        }
    }

    pub(super) fn rewrite_list(&self, s: &Struct, i: usize, len: &Len) -> Option<TokenStream> {
        let prefix = match len {
            Len::CountPrefix(p) => self.prefix_of(p, quote!(count)),
            Len::SizePrefix(p) => self.prefix_of(p, quote!(size)),
            Len::Count(_) | Len::Size(_) | Len::ToEnd => quote!(),
            Len::Nul => return None,
        };
        let fname = field_name(s, i);
        let Ty::KvList { key, value, .. } = &s.fields[i].ty.kind else {
            return None;
        };
        if !copies_verbatim(key) || !copies_verbatim(value) {
            return Some(quote! {
                #prefix
                for (k, v) in &pairs {
                    write_pair(out, k, v).map_err(|e| e.in_field(#fname))?;
                }
            });
        }
        let list = ident(fname);
        Some(quote! {
            #prefix
            if append {
                __mp::write_part(out, frame, view.#list.as_bytes());
                for (k, v) in mutation.appended() {
                    write_pair(out, k, v).map_err(|e| e.in_field(#fname))?;
                }
            } else {
                for (k, v) in &rebuilt {
                    write_pair(out, k, v).map_err(|e| e.in_field(#fname))?;
                }
            }
        })
    }

    /// An implicit length, measured on the mutated list or on the view.
    pub(super) fn rewrite_length(
        &self,
        s: &Struct,
        i: usize,
        user: usize,
        measure: Measure,
        add: i128,
        mutated: usize,
    ) -> Option<TokenStream> {
        let Ty::Int(it) = &s.fields[i].ty.kind else {
            return None;
        };
        let u = ident(field_name(s, user));
        let measured = match (user == mutated, measure) {
            (true, Measure::Size) => quote!(size),
            (true, _) => quote!(count),
            (false, Measure::Size) => quote!(view.#u.as_bytes().len()),
            (false, _) => quote!(view.#u.len()),
        };
        let measured = if s.fields[user].condition.is_some() && user != mutated {
            let inner = match measure {
                Measure::Size => quote!(v.as_bytes().len()),
                _ => quote!(v.len()),
            };
            quote!(view.#u.map_or(0, |v| #inner))
        } else {
            measured
        };
        let (t, max) = (int_ty(it), max_of(it.bits, it.signed));
        let m = to_bytes_method(endian_of(self.schema, it.endian));
        let value = if add == 0 {
            quote!(#measured as i128)
        } else {
            let add = proc_macro2::Literal::i128_suffixed(add);
            quote!(#measured as i128 + #add)
        };
        Some(quote! {
            let n = __mp::eval::fit::<#t>(#value, #max)?;
            out.write_slice(&n.#m());
        })
    }

    pub(super) fn rewrite_const(&self, s: &Struct, i: usize) -> Option<TokenStream> {
        let f = &s.fields[i];
        let FieldValue::Const(c) = &f.value else {
            return None;
        };
        match (&f.ty.kind, &c.kind) {
            (Ty::Int(it), _) => {
                let v =
                    super::names::receiver(&super::names::typed_lit(const_int(c)?, &int_ty(it)));
                let m = to_bytes_method(endian_of(self.schema, it.endian));
                Some(quote!(out.write_slice(&#v.#m());))
            }
            (_, ExprKind::ByteStr(b)) => {
                let b = proc_macro2::Literal::byte_string(b);
                Some(quote!(out.write_slice(#b);))
            }
            _ => None,
        }
    }

    /// A field copied from the view.
    pub(super) fn rewrite_copy(&self, s: &Struct, i: usize) -> Option<TokenStream> {
        let f = &s.fields[i];
        let n = f.name.as_ref().map(|n| ident(&n.name));
        let write = |v: TokenStream| self.copy_ty(&f.ty, v);
        match (&f.ty.kind, n) {
            (Ty::Pad(k), _) => {
                let k = lit_usize(*k);
                Some(quote!(out.write_slice(&[0u8; #k]);))
            }
            (Ty::Align(_), _) => None,
            (_, None) => None,
            (_, Some(n)) if f.condition.is_some() => {
                let w = write(quote!(v))?;
                Some(quote!(if let ::core::option::Option::Some(v) = view.#n { #w }))
            }
            (_, Some(n)) => write(quote!(view.#n)),
        }
    }

    pub(super) fn copy_ty(&self, ty: &Type, v: TokenStream) -> Option<TokenStream> {
        if let Some(bytes) = self.scalar_bytes(ty, &v, false) {
            return Some(quote!(out.write_slice(&#bytes);));
        }
        Some(match &ty.kind {
            Ty::Varint => quote!(__mp::put_varint(out, #v);),
            Ty::Zigzag => quote!(__mp::put_varint(out, __mp::zigzag(#v));),
            Ty::Bytes { text, len } => {
                let bytes = if *text {
                    quote!(#v.as_bytes())
                } else {
                    quote!(#v)
                };
                match len {
                    Len::SizePrefix(p) => {
                        let prefix = self.prefix_of(p, quote!(#bytes.len()));
                        quote!(#prefix __mp::write_part(out, frame, #bytes);)
                    }
                    Len::Nul => {
                        quote!(__mp::write_part(out, frame, #bytes); out.write_slice(&[0]);)
                    }
                    _ if fixed_bytes(ty).is_some() => {
                        quote!(__mp::write_part(out, frame, &#bytes[..]);)
                    }
                    _ => quote!(__mp::write_part(out, frame, #bytes);),
                }
            }
            Ty::List { len, .. } | Ty::KvList { len, .. } => {
                let prefix = match len {
                    Len::CountPrefix(p) => self.prefix_of(p, quote!(#v.len())),
                    Len::SizePrefix(p) => self.prefix_of(p, quote!(#v.as_bytes().len())),
                    _ => quote!(),
                };
                quote!(#prefix __mp::write_part(out, frame, #v.as_bytes());)
            }
            _ => return None,
        })
    }
}

/// True when a derived value changes with the value of `field` (sizes of fixed-width
/// fields do not).
fn value_depends_on(e: &crate::ir::Expr, field: usize) -> bool {
    let mut hit = false;
    crate::ir::visit::walk(e, &mut |e| match &e.kind {
        ExprKind::Field(r) | ExprKind::LenOf(r) => hit |= r.field == field,
        ExprKind::Checksum(_, crate::ir::FieldRange::SelfStruct) => hit = true,
        ExprKind::Checksum(_, crate::ir::FieldRange::Fields { first, last }) => {
            hit |= (*first..=*last).contains(&field)
        }
        _ => {}
    });
    hit
}

/// True when a list part's bytes, as decoded, are exactly what encoding its value
/// writes: text with an integer length prefix or a NUL terminator (a varint prefix
/// may have been written longer than needed, so it is re-encoded instead).
fn copies_verbatim(ty: &Type) -> bool {
    matches!(
        &ty.kind,
        Ty::Bytes {
            len: Len::SizePrefix(Prefix::Int(_)) | Len::Nul,
            ..
        }
    )
}
