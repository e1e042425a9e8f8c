//! Owned types: what users build and encode, with derived fields computed.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::Gen;
use super::chunk::Run;
use super::expr::{Ctx, Scope};
use super::names::{
    docs, docs_or, endian_of, field_name, ident, int_ty, lit_usize, local, max_of, to_bytes_method,
};
use super::types::{aux_base, default_parts, marker_name};
use crate::check::{Derive, Measure};
use crate::ir::visit::{const_int, field_refs, fixed_bytes};
use crate::ir::{
    Expr, ExprKind, FieldValue, Len, Pattern, Prefix, Struct, Ty, Type, TypeId, TypeKind,
};

impl Gen<'_> {
    /// The owned struct, its `Default`, conversions and encoder. For a derived
    /// struct the user's item is the owned type: it is implemented, not declared, and
    /// holds every named field (constants and derived fields are filled in on decode
    /// and recomputed on encode).
    pub(super) fn emit_owned(&self, id: TypeId, s: &Struct) -> TokenStream {
        let def = self.schema.ty(id);
        let sname = &def.name.name;
        let name = self.owned_name(id);
        let view = self.view_name(id);
        let derived = self.derived(id);
        let members: Vec<usize> = (0..s.fields.len())
            .filter(|&i| {
                if derived {
                    Self::in_struct(s, i)
                } else {
                    self.in_owned(id, s, i)
                }
            })
            .collect();
        let default_values: Vec<TokenStream> = members
            .iter()
            .map(|&i| self.member_default(id, s, i))
            .collect();
        let derivable = !derived && default_values.iter().all(is_plain_default);
        let defaults = members.iter().zip(&default_values).map(|(&i, v)| {
            let n = ident(field_name(s, i));
            quote!(#n: #v,)
        });
        // Fields of type `()` that a derived struct declares for its padding.
        let units: Vec<TokenStream> = def
            .rust
            .iter()
            .flat_map(|r| &r.units)
            .map(|n| {
                let n = ident(n);
                quote!(#n: (),)
            })
            .collect();
        let (derive_default, default_impl) = default_parts(
            &self.owned_type(id),
            derivable,
            defaults.chain(units.iter().cloned()),
        );
        let from_ref = members.iter().map(|&i| {
            let n = ident(field_name(s, i));
            let value = self.member_from_view(id, s, i);
            quote!(#n: #value,)
        });
        // A struct of constants only keeps nothing of its view.
        let unused_view = members.is_empty().then(|| quote!(let _ = view;));
        let body = self.write_body(id, s);
        let lifetime = def.rust.as_ref().is_some_and(|r| r.lifetime);
        let view_g = match (self.view_generics(id).is_empty(), lifetime) {
            (true, _) => quote!(),
            (false, true) => quote!(<'a>),
            (false, false) => quote!(<'_>),
        };
        let frame_used = members.iter().any(|&i| self.needs_frame(&s.fields[i].ty));
        let frame_arg = if frame_used {
            quote!(frame)
        } else {
            quote!(_frame)
        };
        let (impl_g, self_ty, buf_lt) = if lifetime {
            (quote!(<'a>), quote!(#name<'a>), quote!('a))
        } else {
            (quote!(), quote!(#name), quote!())
        };
        let decl = if derived {
            quote!()
        } else {
            let doc = docs_or(&def.doc, &format!("A `{sname}` to encode."));
            let fields = members.iter().map(|&i| {
                let f = &s.fields[i];
                let n = ident(field_name(s, i));
                let t = self.field_owned_ty(sname, f);
                let d = docs(&f.doc);
                quote!(#d pub #n: #t,)
            });
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq #derive_default)]
                pub struct #name { #(#fields)* }
            }
        };
        let decode = if derived {
            quote! {
                /// Decodes a complete value from `buf`; borrowed fields point into it.
                pub fn decode(buf: &#buf_lt [u8]) -> ::core::result::Result<Self, __mp::DecodeError> {
                    ::core::result::Result::Ok(Self::from_ref(&#view::decode(buf)?, &__mp::Bytes::new()))
                }

                /// Decodes a complete value, sharing `frame`'s memory for `Bytes` and `ByteString` fields.
                pub fn decode_shared(frame: &#buf_lt __mp::Bytes) -> ::core::result::Result<Self, __mp::DecodeError> {
                    ::core::result::Result::Ok(Self::from_ref(&#view::decode(frame)?, frame))
                }
            }
        } else {
            quote! {
                /// Decodes a complete value, sharing `frame`'s memory for bytes and text.
                pub fn decode(frame: &__mp::Bytes) -> ::core::result::Result<Self, __mp::DecodeError> {
                    ::core::result::Result::Ok(Self::from_ref(&#view::decode(frame)?, frame))
                }
            }
        };
        quote! {
            #decl

            #default_impl

            impl #impl_g #self_ty {
                /// Encodes into `out`, computing lengths, counts and checksums.
                #[inline(always)]
                pub fn encode<__S: __mp::Sink + ?::core::marker::Sized>(&self, out: &mut __S) -> ::core::result::Result<(), __mp::EncodeError> {
                    let base = out.position();
                    self.write(out, base)
                }

                /// The number of bytes [`Self::encode`] writes.
                pub fn encoded_len(&self) -> ::core::result::Result<usize, __mp::EncodeError> {
                    let mut c = __mp::Counter(0);
                    self.encode(&mut c)?;
                    ::core::result::Result::Ok(c.0)
                }

                /// Encodes into a new buffer.
                pub fn to_bytes(&self) -> ::core::result::Result<__mp::Bytes, __mp::EncodeError> {
                    let mut buf = __mp::BytesMut::with_capacity(self.encoded_len()?);
                    self.encode(&mut buf)?;
                    ::core::result::Result::Ok(buf.freeze())
                }

                #decode

                /// Converts a view of `frame` into an owned value without copying shared bytes or text.
                pub fn from_ref(view: &#view #view_g, #frame_arg: &__mp::Bytes) -> Self {
                    #unused_view
                    Self { #(#from_ref)* #(#units)* }
                }

                #[doc(hidden)]
                #[inline(always)]
                pub fn write<__S: __mp::Sink + ?::core::marker::Sized>(&self, out: &mut __S, base: usize) -> ::core::result::Result<(), __mp::EncodeError> {
                    let mut at = "";
                    self.write_fields(out, base, &mut at).map_err(|e| __mp::eval::in_field_enc(e, at))
                }

                /// The fields of `self`, naming the field being written in `at`.
                /// `encode`, `write`, this and a list element's `write` are always
                /// inlined: a header encoder is a few stores, and a call per message
                /// or per element costs as much.
                #[inline(always)]
                fn write_fields<__S: __mp::Sink + ?::core::marker::Sized>(&self, out: &mut __S, base: usize, at: &mut &'static str) -> ::core::result::Result<(), __mp::EncodeError> {
                    #body
                }
            }
        }
    }

    /// True when member `i` is a field of a derived struct (named, not padding).
    pub(super) fn in_struct(s: &Struct, i: usize) -> bool {
        let f = &s.fields[i];
        f.name.is_some() && !matches!(f.ty.kind, Ty::Pad(_) | Ty::Align(_))
    }

    /// A member's default: a constant's value, or the field's own default (a derived
    /// struct's union field defaults to the first arm of the user's enum).
    fn member_default(&self, id: TypeId, s: &Struct, i: usize) -> TokenStream {
        let f = &s.fields[i];
        let base = aux_base(&self.schema.ty(id).name.name, f);
        match (&f.value, &f.ty.kind, self.rust_field(id, i)) {
            (FieldValue::Const(c), _, _) => self.const_field(f, c),
            (_, Ty::Union(u), Some(r)) if f.condition.is_none() => {
                let path: TokenStream = r.text.parse().unwrap_or_default();
                match u.arms.first() {
                    Some(arm) if matches!(arm.ty.kind, Ty::Unit) => {
                        let v = ident(&arm.name.name);
                        quote!(#path::#v)
                    }
                    Some(arm) => {
                        let v = ident(&arm.name.name);
                        quote!(#path::#v(::core::default::Default::default()))
                    }
                    None => quote!(::core::default::Default::default()),
                }
            }
            _ => self.default_field(f, &base),
        }
    }

    /// A constant written into a struct field (text converts to the field's type).
    fn const_field(&self, f: &crate::ir::Field, c: &Expr) -> TokenStream {
        match &c.kind {
            ExprKind::Str(t) => quote!(__mp::FromWire::from_wire(#t, &__mp::Bytes::new())),
            _ => self.const_value(f, c),
        }
    }

    /// Member `i`'s owned value, from the view `view`.
    fn member_from_view(&self, id: TypeId, s: &Struct, i: usize) -> TokenStream {
        let f = &s.fields[i];
        if let FieldValue::Const(c) = &f.value {
            return self.const_field(f, c);
        }
        let n = ident(field_name(s, i));
        let sname = &self.schema.ty(id).name.name;
        let rust = self.rust_field(id, i);
        if f.condition.is_some() {
            let conv = self.to_owned_value(&f.ty, quote!(v), &aux_base(sname, f), rust);
            if conv.to_string() == "v" {
                quote!(view.#n)
            } else {
                quote!(view.#n.map(|v| #conv))
            }
        } else {
            self.to_owned_value(&f.ty, quote!(view.#n), &aux_base(sname, f), rust)
        }
    }

    /// True when converting a view of this type to owned needs the frame.
    pub(super) fn needs_frame(&self, ty: &Type) -> bool {
        match &ty.kind {
            Ty::Bytes { .. } => fixed_bytes(ty).is_none(),
            Ty::List { .. } | Ty::KvList { .. } => true,
            Ty::Named(id) => matches!(
                self.schema.ty(*id).kind,
                TypeKind::Struct(_) | TypeKind::Extern(_)
            ),
            Ty::Union(u) => u.arms.iter().any(|a| self.needs_frame(&a.ty)),
            _ => false,
        }
    }

    /// Converts a view value `v` into its owned form (`rust`: the type a derived
    /// struct declares for it).
    pub(super) fn to_owned_value(
        &self,
        ty: &Type,
        v: TokenStream,
        base: &str,
        rust: Option<&crate::ir::RustTy>,
    ) -> TokenStream {
        match &ty.kind {
            Ty::Bytes { .. } if fixed_bytes(ty).is_some() => quote!(*#v),
            Ty::Bytes { .. } => quote!(__mp::FromWire::from_wire(#v, frame)),
            Ty::List { .. } | Ty::KvList { .. } => {
                let m = marker_name(base, ty);
                quote!(#v.iter().map(|e| #m::to_owned(e, frame)).collect())
            }
            Ty::Named(id) => match &self.schema.ty(*id).kind {
                TypeKind::Struct(_) => {
                    let n = self.owned_name(*id);
                    quote!(#n::from_ref(&#v, frame))
                }
                TypeKind::Extern(x) => self.extern_item(x, quote!(to_owned(#v, frame))),
                _ => v,
            },
            Ty::Union(u) => {
                let vname = quote::format_ident!("{}Ref", base);
                let oname = match rust.and_then(|r| r.text.parse::<TokenStream>().ok()) {
                    Some(path) => path,
                    None => self.union_owned(base),
                };
                let arms = u.arms.iter().enumerate().map(|(i, a)| {
                    let n = ident(&a.name.name);
                    if matches!(a.ty.kind, Ty::Unit) {
                        quote!(#vname::#n => #oname::#n,)
                    } else {
                        let conv = self.to_owned_value(
                            &a.ty,
                            quote!(x),
                            &format!("{base}{}", a.name.name),
                            rust.and_then(|r| r.parts.get(i)),
                        );
                        quote!(#vname::#n(x) => #oname::#n(#conv),)
                    }
                });
                quote!(match #v { #(#arms)* })
            }
            _ => v,
        }
    }

    fn write_body(&self, id: TypeId, s: &Struct) -> TokenStream {
        let layout = self.layout.of(id);
        let refs: Vec<bool> = (0..s.fields.len())
            .map(|i| self.in_owned(id, s, i))
            .collect();
        let sc = Scope::of(Ctx::Owned, id, s, refs);
        let sname = &self.schema.ty(id).name.name;
        let used = referenced_fields(s);
        let mut stmts = vec![quote!(let _ = base; *at = "";)];
        // A struct without fields writes nothing, but `write_fields` keeps its signature.
        if s.fields.is_empty() {
            stmts.push(quote!(let _ = out;));
        }
        for (i, f) in s.fields.iter().enumerate() {
            let l = local(s, i);
            if self.in_owned(id, s, i) {
                let n = ident(field_name(s, i));
                stmts.push(quote!(let #l = &self.#n;));
            } else if let FieldValue::Const(c) = &f.value {
                if used[i] {
                    let v = self.const_value(f, c);
                    stmts.push(quote!(let #l = #v;));
                }
            } else if layout.fields[i].derive.is_none()
                && !matches!(f.ty.kind, Ty::Pad(_) | Ty::Align(_))
            {
                let v = self.default_field(f, &aux_base(sname, f));
                let t = self.field_owned_ty(sname, f);
                stmts.push(quote!(let #l: #t = #v;));
            }
        }
        stmts.extend(self.derive_values(id, s, &sc));
        let runs = self.runs(s, false);
        let mut i = 0;
        while i < s.fields.len() {
            if let Some(run) = runs.iter().find(|r| r.first == i) {
                stmts.push(self.write_run(s, run, &quote!(out), &sc));
                i = run.end;
                continue;
            }
            let fname = field_name(s, i);
            stmts.push(quote!(*at = #fname;));
            stmts.push(self.write_field(id, s, i, &quote!(out), &sc));
            i += 1;
        }
        quote! {
            #(#stmts)*
            ::core::result::Result::Ok(())
        }
    }

    /// Writes fields `first..end` into `sink` (used for `sizeof` and checksums too).
    pub(super) fn write_range(
        &self,
        id: TypeId,
        s: &Struct,
        first: usize,
        end: usize,
        sink: &TokenStream,
    ) -> TokenStream {
        let refs: Vec<bool> = (0..s.fields.len())
            .map(|i| self.in_owned(id, s, i))
            .collect();
        let sc = Scope::of(Ctx::Owned, id, s, refs);
        let writes = (first..end.min(s.fields.len())).map(|i| {
            let fname = field_name(s, i);
            let w = self.write_field(id, s, i, sink, &sc);
            quote!(*at = #fname; #w)
        });
        quote!(#(#writes)*)
    }

    fn const_value(&self, f: &crate::ir::Field, c: &Expr) -> TokenStream {
        if let Some(v) = self.const_scalar(&f.ty, c) {
            return v;
        }
        match &c.kind {
            ExprKind::ByteStr(b) => {
                let b = proc_macro2::Literal::byte_string(b);
                quote!(*#b)
            }
            ExprKind::Str(t) => quote!(__mp::ByteString::from_static(#t)),
            _ => quote!(()),
        }
    }

    /// A scalar constant's value (an integer, varint, bool or enum variant), the same in
    /// the view and the owned value.
    pub(super) fn const_scalar(&self, ty: &Type, c: &Expr) -> Option<TokenStream> {
        Some(match (&ty.kind, &c.kind) {
            (Ty::Int(i), _) => super::names::typed_lit(const_int(c)?, &int_ty(i)),
            (Ty::Varint, _) => super::names::typed_lit(const_int(c)?, &ident("u64")),
            (Ty::Zigzag, _) => super::names::typed_lit(const_int(c)?, &ident("i64")),
            (_, ExprKind::Variant(id, i)) => self.variant_path(*id, *i),
            (_, ExprKind::Bool(b)) => quote!(#b),
            _ => return None,
        })
    }

    /// Computes derived fields: implicit lengths first, then explicit sizes, then checksums.
    fn derive_values(&self, id: TypeId, s: &Struct, sc: &Scope<'_>) -> Vec<TokenStream> {
        let layout = self.layout.of(id);
        let is_checksum = |i: usize| match &layout.fields[i].derive {
            Some(Derive::Explicit(e)) => matches!(e.kind, ExprKind::Checksum(..)),
            _ => false,
        };
        let mut order: Vec<usize> = (0..s.fields.len())
            .filter(|&i| matches!(layout.fields[i].derive, Some(Derive::Implicit { .. })))
            .collect();
        order.extend((0..s.fields.len()).filter(|&i| {
            matches!(layout.fields[i].derive, Some(Derive::Explicit(_))) && !is_checksum(i)
        }));
        order.extend((0..s.fields.len()).filter(|&i| is_checksum(i)));
        let placeholder = placeholders(s, layout, &order);
        let sname = &self.schema.ty(id).name.name;
        let mut out = Vec::new();
        for &i in &order {
            if placeholder[i] {
                let l = local(s, i);
                let t = self.field_owned_ty(sname, &s.fields[i]);
                out.push(quote!(let mut #l: #t = 0;));
            }
        }
        for &i in &order {
            let f = &s.fields[i];
            let l = local(s, i);
            let fname = field_name(s, i);
            let (t, max) = match &f.ty.kind {
                Ty::Int(it) => {
                    let t = int_ty(it);
                    (quote!(#t), max_of(it.bits, it.signed))
                }
                Ty::Varint => (quote!(u64), max_of(64, false)),
                Ty::Zigzag => (quote!(i64), max_of(64, true)),
                _ => continue,
            };
            let value = match &layout.fields[i].derive {
                Some(Derive::Implicit { user, measure, add }) => {
                    let m = self.measure(s, *user, *measure, sname);
                    if *add == 0 {
                        quote!((#m as i128))
                    } else {
                        let add = proc_macro2::Literal::i128_suffixed(*add);
                        quote!((#m as i128) + #add)
                    }
                }
                Some(Derive::Explicit(e)) => {
                    let v = self.expr(e, sc);
                    let rule = &e.text;
                    quote!(__mp::eval::encoded(#v, #rule)?)
                }
                None => continue,
            };
            let assign = quote!({
                let value = #value;
                *at = #fname;
                __mp::eval::fit::<#t>(value, #max)?
            });
            if placeholder[i] {
                out.push(quote!(#l = #assign;));
            } else {
                out.push(quote!(let #l: #t = #assign;));
            }
        }
        out
    }

    /// The length, count or encoded size of field `user`'s value.
    fn measure(&self, s: &Struct, user: usize, measure: Measure, sname: &str) -> TokenStream {
        let f = &s.fields[user];
        let l = local(s, user);
        let uname = field_name(s, user);
        let m = match measure {
            Measure::ByteLen | Measure::Count => quote!(v.len()),
            Measure::Size => {
                let mk = marker_name(&aux_base(sname, f), &f.ty);
                // Errors in the elements belong to the list, not to its length.
                quote!({
                    *at = #uname;
                    let mut c = __mp::Counter(0);
                    for (i, item) in v.iter().enumerate() {
                        #mk::write(item, &mut c, base).map_err(|e| e.at_index(i))?;
                    }
                    c.0
                })
            }
        };
        if f.condition.is_some() {
            quote!(match #l.as_ref() { ::core::option::Option::Some(v) => #m, ::core::option::Option::None => 0 })
        } else {
            quote!({ let v = #l; #m })
        }
    }

    /// Writes a run of fixed-size fields (see `chunk.rs`) with one `write_slice`: each
    /// field's bytes are computed (and checked) in order, then written together, as a
    /// hand-written encoder fills one header array instead of growing its buffer per field.
    fn write_run(&self, s: &Struct, run: &Run, sink: &TokenStream, sc: &Scope<'_>) -> TokenStream {
        let mut stmts = Vec::new();
        let mut bytes = Vec::new();
        for i in run.first..run.end {
            let f = &s.fields[i];
            let fname = field_name(s, i);
            stmts.push(quote!(*at = #fname;));
            // As in `write_field`, a constant is written as declared, unchecked.
            if !matches!(f.value, FieldValue::Const(_)) {
                let l = local(s, i);
                stmts.push(self.constraint_check(f, &quote!(#l), sc));
            }
            let n = run.size_of(i);
            let names: Vec<Ident> = (0..n).map(|k| format_ident!("w{}_{}", i, k)).collect();
            let value = self.field_bytes(s, i, sc);
            stmts.push(quote!(let [#(#names),*] = #value;));
            bytes.extend(names);
        }
        quote! {
            #(#stmts)*
            #sink.write_slice(&[#(#bytes),*]);
        }
    }

    /// The bytes of fixed-size field `i` (one a run may hold), as an array expression.
    fn field_bytes(&self, s: &Struct, i: usize, sc: &Scope<'_>) -> TokenStream {
        let f = &s.fields[i];
        let (v, by_ref) = match &f.value {
            FieldValue::Const(c) => (self.const_value(f, c), false),
            _ => {
                let l = local(s, i);
                (quote!(#l), sc.refs.get(i).copied().unwrap_or(false))
            }
        };
        // A run holds only the types `scalar_bytes` writes (see `chunk_size`).
        self.scalar_bytes(&f.ty, &v, by_ref)
            .unwrap_or_else(|| quote!(compile_error!("not a fixed-size scalar")))
    }

    /// The bytes of a fixed-size scalar (`v`, a reference to it when `by_ref`) as an
    /// array expression; `None` for any other type.
    pub(super) fn scalar_bytes(
        &self,
        ty: &Type,
        v: &TokenStream,
        by_ref: bool,
    ) -> Option<TokenStream> {
        // `val` is the value of a Copy scalar; `recv` the same as a method receiver.
        let (val, recv) = if by_ref {
            (quote!(*#v), quote!((*#v)))
        } else {
            (v.clone(), super::names::receiver(v))
        };
        Some(match &ty.kind {
            Ty::Int(it) => {
                let m = to_bytes_method(endian_of(self.schema, it.endian));
                quote!(#recv.#m())
            }
            Ty::Float { endian, .. } => {
                let m = to_bytes_method(endian_of(self.schema, *endian));
                quote!(#recv.#m())
            }
            Ty::Bool => quote!([u8::from(#val)]),
            Ty::Pad(n) => {
                let n = lit_usize(*n);
                quote!([0u8; #n])
            }
            Ty::Named(id) => match &self.schema.ty(*id).kind {
                TypeKind::Enum(e) => {
                    let m = to_bytes_method(endian_of(self.schema, e.repr.endian));
                    quote!(#v.to_raw().#m())
                }
                TypeKind::Bits(b) => {
                    let m = to_bytes_method(endian_of(self.schema, b.repr.endian));
                    quote!(#v.to_raw()?.#m())
                }
                _ => return None,
            },
            _ => return None,
        })
    }

    /// Rejects a value that breaks the field's `where` constraint (nothing without one).
    fn constraint_check(
        &self,
        f: &crate::ir::Field,
        v: &TokenStream,
        sc: &Scope<'_>,
    ) -> TokenStream {
        let Some(c) = &f.constraint else {
            return quote!();
        };
        let e = self.expr(c, sc);
        let rule = &c.text;
        quote! {
            if #e != ::core::option::Option::Some(true) {
                return ::core::result::Result::Err(__mp::EncodeError::new(__mp::EncodeErrorKind::Constraint { rule: #rule, found: __mp::render(&#v) }));
            }
        }
    }

    /// Writes one field: its constant, or its value with checks.
    fn write_field(
        &self,
        id: TypeId,
        s: &Struct,
        i: usize,
        sink: &TokenStream,
        sc: &Scope<'_>,
    ) -> TokenStream {
        let f = &s.fields[i];
        let sname = &self.schema.ty(id).name.name;
        let base = aux_base(sname, f);
        if let FieldValue::Const(c) = &f.value {
            if let ExprKind::ByteStr(b) = &c.kind {
                let b = proc_macro2::Literal::byte_string(b);
                return quote!(#sink.write_slice(#b););
            }
            let v = self.const_value(f, c);
            return self.write_ty(&f.ty, v, false, &base, sink, sc);
        }
        if matches!(f.ty.kind, Ty::Pad(_) | Ty::Align(_)) {
            return self.write_ty(&f.ty, quote!(()), false, &base, sink, sc);
        }
        let l = local(s, i);
        let by_ref = sc.refs.get(i).copied().unwrap_or(false);
        let v = quote!(#l);
        let mut out = self.constraint_check(f, &v, sc);
        match &f.condition {
            None => out.extend(self.write_ty(&f.ty, v, by_ref, &base, sink, sc)),
            Some(c) => {
                let cond = self.expr(c, sc);
                let rule = &c.text;
                let write = self.write_ty(&f.ty, quote!(x), true, &base, sink, sc);
                out.extend(quote! {
                    match (#cond, #v.as_ref()) {
                        (::core::option::Option::Some(true), ::core::option::Option::Some(x)) => { #write }
                        (::core::option::Option::Some(false), ::core::option::Option::None) => {}
                        (holds, _) => return ::core::result::Result::Err(__mp::EncodeError::new(__mp::EncodeErrorKind::Condition { rule: #rule, holds: holds == ::core::option::Option::Some(true) })),
                    }
                });
            }
        }
        out
    }

    /// Writes a value (`v` is a reference to the owned value) into `sink`.
    pub(super) fn write_ty(
        &self,
        ty: &Type,
        v: TokenStream,
        by_ref: bool,
        base: &str,
        sink: &TokenStream,
        sc: &Scope<'_>,
    ) -> TokenStream {
        let scalar = matches!(
            ty.kind,
            Ty::Int(_)
                | Ty::Float { .. }
                | Ty::Bool
                | Ty::Varint
                | Ty::Zigzag
                | Ty::Named(_)
                | Ty::Pad(_)
                | Ty::Align(_)
                | Ty::Unit
        );
        if !by_ref && !scalar {
            let inner = self.write_ty(ty, quote!(value_ref), true, base, sink, sc);
            return quote!({ let value_ref = &#v; #inner });
        }
        if let Some(bytes) = self.scalar_bytes(ty, &v, by_ref) {
            return quote!(#sink.write_slice(&#bytes););
        }
        let val = if by_ref { quote!(*#v) } else { v.clone() };
        match &ty.kind {
            Ty::Varint => quote!(__mp::put_varint(#sink, #val);),
            Ty::Zigzag => quote!(__mp::put_varint(#sink, __mp::zigzag(#val));),
            Ty::Bytes { text, len } => self.write_bytes(ty, *text, len, v, sink, sc),
            Ty::List { .. } | Ty::KvList { .. } => self.write_list(ty, v, base, sink, sc),
            Ty::Named(id) => match &self.schema.ty(*id).kind {
                TypeKind::Struct(_) => quote!(#v.write(#sink, base)?;),
                TypeKind::Extern(x) => {
                    let encode = self.extern_item(x, quote!(encode_to(#v, #sink)));
                    quote!(#encode?;)
                }
                // Written by `scalar_bytes` above.
                TypeKind::Enum(_) | TypeKind::Bits(_) => quote!(),
            },
            Ty::Union(u) => self.write_union(u, v, base, sink, sc),
            // Written by `scalar_bytes` above.
            Ty::Int(_) | Ty::Float { .. } | Ty::Bool | Ty::Pad(_) => quote!(),
            Ty::Align(n) => {
                let n = lit_usize(*n);
                quote!(for _ in 0..__mp::padding_to(#sink.position().saturating_sub(base), #n) { #sink.write_slice(&[0]); })
            }
            Ty::Unit => quote!(),
        }
    }

    fn write_bytes(
        &self,
        ty: &Type,
        text: bool,
        len: &Len,
        v: TokenStream,
        sink: &TokenStream,
        sc: &Scope<'_>,
    ) -> TokenStream {
        if fixed_bytes(ty).is_some() {
            return quote!(#sink.write_slice(&#v[..]););
        }
        let payload = quote!(__mp::WriteWire::write_to(#v, #sink););
        let bytes = if text {
            quote!(#v.as_bytes())
        } else {
            quote!(#v)
        };
        match len {
            Len::Count(e) | Len::Size(e) => {
                let check = self.len_check(e, quote!(#v.len()), sc);
                quote!(#check #payload)
            }
            Len::CountPrefix(p) | Len::SizePrefix(p) => {
                let prefix = self.write_prefix(p, quote!(#v.len()), sink);
                quote!(#prefix #payload)
            }
            Len::Nul => quote! {
                if #bytes.contains(&0) {
                    return ::core::result::Result::Err(__mp::EncodeError::new(__mp::EncodeErrorKind::InteriorNul));
                }
                #payload
                #sink.write_slice(&[0]);
            },
            Len::ToEnd => payload,
        }
    }

    /// True when `e` is the very length expression its field was derived from, so
    /// the value cannot disagree with it and the check would only cost a second pass.
    fn derived_from(&self, e: &Expr, sc: &Scope<'_>) -> bool {
        let (Some((id, s)), Some((target, _))) = (sc.s, crate::check::layout::solvable(e)) else {
            return false;
        };
        match &self.layout.of(id).fields[target].derive {
            Some(Derive::Implicit { user, .. }) => crate::ir::visit::len_expr(&s.fields[*user].ty)
                .is_some_and(|own| std::ptr::eq(own, e)),
            _ => false,
        }
    }

    /// Fails when a length expression disagrees with the value's actual length.
    fn len_check(&self, e: &Expr, actual: TokenStream, sc: &Scope<'_>) -> TokenStream {
        if (const_int(e).is_some() && sc.s.is_none()) || self.derived_from(e, sc) {
            return quote!();
        }
        let expected = self.expr(e, sc);
        let rule = &e.text;
        quote! {
            let expected = __mp::eval::encoded(#expected, #rule)?;
            let found = #actual;
            if expected != found as i128 {
                return ::core::result::Result::Err(__mp::EncodeError::new(__mp::EncodeErrorKind::CountMismatch {
                    expected: u64::try_from(expected).unwrap_or(0),
                    found: found as u64,
                }));
            }
        }
    }

    fn write_list(
        &self,
        ty: &Type,
        v: TokenStream,
        base: &str,
        sink: &TokenStream,
        sc: &Scope<'_>,
    ) -> TokenStream {
        let m = marker_name(base, ty);
        let (Ty::List { len, .. } | Ty::KvList { len, .. }) = &ty.kind else {
            return quote!();
        };
        let size = quote!({
            let mut c = __mp::Counter(0);
            for item in #v.iter() {
                #m::write(item, &mut c, base)?;
            }
            c.0
        });
        let head = match len {
            Len::Count(e) => self.len_check(e, quote!(#v.len()), sc),
            Len::Size(e) => self.len_check(e, size, sc),
            Len::CountPrefix(p) => self.write_prefix(p, quote!(#v.len()), sink),
            Len::SizePrefix(p) => self.write_prefix(p, size, sink),
            Len::ToEnd | Len::Nul => quote!(),
        };
        quote! {
            #head
            for (i, item) in #v.iter().enumerate() {
                #m::write(item, #sink, base).map_err(|e| e.at_index(i))?;
            }
        }
    }

    fn write_union(
        &self,
        u: &crate::ir::Union,
        v: TokenStream,
        base: &str,
        sink: &TokenStream,
        sc: &Scope<'_>,
    ) -> TokenStream {
        let name = self.union_owned(base);
        let tag = self.expr(&u.tag, sc);
        let tag_text = &u.tag.text;
        let arms = u.arms.iter().enumerate().map(|(i, a)| {
            let n = ident(&a.name.name);
            let bad = if a.patterns.contains(&Pattern::Default) {
                // The default arm takes what no other arm's pattern matches (its own, as
                // in `true | _`, it takes too).
                let others: Vec<Pattern> = (u.arms.iter().enumerate())
                    .filter(|&(j, _)| j != i)
                    .flat_map(|(_, b)| b.patterns.iter().cloned())
                    .filter(|p| *p != Pattern::Default)
                    .collect();
                if others.is_empty() {
                    quote!(tag.is_none())
                } else {
                    let p = self.patterns(&others);
                    quote!(tag.is_none() || matches!(tag, ::core::option::Option::Some(#p)))
                }
            } else {
                let p = self.patterns(&a.patterns);
                quote!(!matches!(tag, ::core::option::Option::Some(#p)))
            };
            let check = quote! {
                if #bad {
                    return ::core::result::Result::Err(__mp::EncodeError::new(__mp::EncodeErrorKind::UnionArm { tag: #tag_text }));
                }
            };
            if matches!(a.ty.kind, Ty::Unit) {
                quote!(#name::#n => { #check })
            } else {
                let w = self.write_ty(&a.ty, quote!(x), true, &format!("{base}{}", a.name.name), sink, sc);
                quote!(#name::#n(x) => { #check #w })
            }
        });
        quote! {
            let tag = #tag;
            match #v { #(#arms)* }
        }
    }
}

impl Gen<'_> {
    /// Writes a length or count prefix, failing if it does not fit.
    fn write_prefix(&self, p: &Prefix, len: TokenStream, sink: &TokenStream) -> TokenStream {
        match p {
            Prefix::Varint => quote!(__mp::put_varint(#sink, #len as u64);),
            Prefix::Int(i) => {
                let t = int_ty(i);
                let max = max_of(i.bits, i.signed);
                let m = to_bytes_method(endian_of(self.schema, i.endian));
                quote! {
                    let n = __mp::eval::fit::<#t>(#len as i128, #max)?;
                    #sink.write_slice(&n.#m());
                }
            }
        }
    }
}

/// True for what a derived `Default` would produce too (clippy asks for the derive):
/// `Default::default()`, `None`, or zeros for an array std gives a `Default` (up to 32).
pub(super) fn is_plain_default(t: &TokenStream) -> bool {
    let t = t.to_string().replace(' ', "");
    let zeros = t
        .strip_prefix("[0u8;")
        .and_then(|n| n.strip_suffix(']'))
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| n <= 32);
    zeros
        || matches!(
            t.as_str(),
            "::core::default::Default::default()" | "::core::option::Option::None"
        )
}

/// Fields whose value an expression of the struct reads.
fn referenced_fields(s: &Struct) -> Vec<bool> {
    let mut used = vec![false; s.fields.len()];
    for e in crate::ir::visit::struct_exprs(s) {
        field_refs(e, &mut |r| used[r.field] = true);
    }
    used
}

/// Derived fields written (by a `sizeof` or checksum pass) before their own value is computed.
fn placeholders(s: &Struct, layout: &crate::check::StructLayout, order: &[usize]) -> Vec<bool> {
    let mut need = vec![false; s.fields.len()];
    let mut done = vec![false; s.fields.len()];
    for &i in order {
        if let Some(Derive::Explicit(e)) = &layout.fields[i].derive {
            let mut covered = Vec::new();
            ranges_of(e, &mut |first, last| covered.extend(first..=last));
            if matches!(e.kind, ExprKind::SizeOf(crate::ir::FieldRange::SelfStruct))
                || contains_self_range(e)
            {
                covered.extend(0..s.fields.len());
            }
            for f in covered {
                if f < s.fields.len() && layout.fields[f].derive.is_some() && !done[f] {
                    need[f] = true;
                }
            }
        }
        done[i] = true;
    }
    need
}

fn contains_self_range(e: &Expr) -> bool {
    let mut hit = false;
    crate::ir::visit::walk(e, &mut |e| {
        if let ExprKind::SizeOf(crate::ir::FieldRange::SelfStruct)
        | ExprKind::Checksum(_, crate::ir::FieldRange::SelfStruct) = e.kind
        {
            hit = true;
        }
    });
    hit
}

fn ranges_of(e: &Expr, f: &mut impl FnMut(usize, usize)) {
    crate::ir::visit::walk(e, &mut |e| {
        if let ExprKind::SizeOf(crate::ir::FieldRange::Fields { first, last })
        | ExprKind::Checksum(_, crate::ir::FieldRange::Fields { first, last }) = e.kind
        {
            f(first, last);
        }
    });
}
