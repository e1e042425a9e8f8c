//! Runs of fixed-size fields read as one chunk: one bounds check for the run instead
//! of one checked read (and one `Result`) per field, then every field decoded from the
//! chunk's bytes at a constant offset, as a hand-written parser does.
//!
//! A run is only the fast path. When the buffer is too short for the whole chunk, the
//! generated code starts over with the field-by-field reads, so what a short buffer
//! reports (which field is cut short, how many bytes are needed, a bad constant seen
//! before the end) stays exactly what it was.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::Gen;
use super::names::{endian_of, int_ty, lit_usize};
use crate::check::layout::fixed_size;
use crate::ir::{Endian, Field, IntTy, Struct, Ty, TypeKind};

/// Runs longer than this are split: the chunk is destructured into one local per byte.
const MAX_RUN: u64 = 64;

/// Consecutive fields `first..end` of a struct, read as one chunk of `size` bytes.
#[derive(Debug, Clone)]
pub(super) struct Run {
    /// The first field of the run.
    pub first: usize,
    /// One past the last field of the run.
    pub end: usize,
    /// The run's size in bytes.
    pub size: u64,
    /// The offset of each field of the run from the run's start.
    pub offsets: Vec<u64>,
}

impl Run {
    /// The offset of field `i` (which lies in the run) from the run's start.
    pub fn offset(&self, i: usize) -> u64 {
        self.offsets.get(i - self.first).copied().unwrap_or(0)
    }

    /// The size of field `i` (which lies in the run) in bytes.
    pub fn size_of(&self, i: usize) -> u64 {
        let next = if i + 1 < self.end {
            self.offset(i + 1)
        } else {
            self.size
        };
        next - self.offset(i)
    }
}

impl Gen<'_> {
    /// The size of a field that can be decoded from a chunk's bytes: unconditional,
    /// fixed-size, and an integer, float, bool, padding, enum or bit group (and, when
    /// walking, where bytes are only skipped, a fixed-size byte array).
    fn chunk_size(&self, f: &Field, walking: bool) -> Option<u64> {
        if f.condition.is_some() {
            return None;
        }
        let ok = match &f.ty.kind {
            Ty::Int(_) | Ty::Float { .. } | Ty::Bool | Ty::Pad(_) => true,
            Ty::Named(id) => matches!(
                self.schema.ty(*id).kind,
                TypeKind::Enum(_) | TypeKind::Bits(_)
            ),
            Ty::Bytes { .. } => walking && crate::ir::visit::fixed_bytes(&f.ty).is_some(),
            _ => false,
        };
        if !ok {
            return None;
        }
        fixed_size(self.schema, &f.ty).filter(|&n| n > 0)
    }

    /// The runs of at least two fields in `s`, in field order.
    pub(super) fn runs(&self, s: &Struct, walking: bool) -> Vec<Run> {
        let mut runs = Vec::new();
        let mut cur: Option<Run> = None;
        for (i, f) in s.fields.iter().enumerate() {
            let size = self.chunk_size(f, walking);
            match (&mut cur, size) {
                (Some(run), Some(n)) if run.size + n <= MAX_RUN => {
                    run.offsets.push(run.size);
                    run.size += n;
                    run.end = i + 1;
                }
                _ => {
                    if let Some(run) = cur.take().filter(|r| r.end - r.first >= 2) {
                        runs.push(run);
                    }
                    cur = size.filter(|&n| n <= MAX_RUN).map(|n| Run {
                        first: i,
                        end: i + 1,
                        size: n,
                        offsets: vec![0],
                    });
                }
            }
        }
        if let Some(run) = cur.filter(|r| r.end - r.first >= 2) {
            runs.push(run);
        }
        runs
    }

    /// The pattern that destructures a run's chunk: `[b0, _, b2, ...]`, naming only
    /// the bytes in `used`.
    pub(super) fn chunk_pattern(run: &Run, used: &[bool]) -> TokenStream {
        let bytes = (0..run.size as usize).map(|k| {
            if used.get(k).copied().unwrap_or(false) {
                let b = byte(k as u64);
                quote!(#b)
            } else {
                quote!(_)
            }
        });
        quote!([#(#bytes),*])
    }

    /// Marks the bytes `at..at + n` of a run as used.
    pub(super) fn use_bytes(used: &mut [bool], at: u64, n: u64) {
        for slot in used.iter_mut().skip(at as usize).take(n as usize) {
            *slot = true;
        }
    }

    /// An integer of type `i` from the chunk's bytes at offset `at`.
    pub(super) fn int_from_chunk(&self, i: &IntTy, at: u64) -> TokenStream {
        let t = int_ty(i);
        let n = u64::from(i.bits / 8);
        let bytes = (at..at + n).map(byte);
        let from = match endian_of(self.schema, i.endian) {
            Endian::Big => quote!(from_be_bytes),
            Endian::Little => quote!(from_le_bytes),
        };
        quote!(#t::#from([#(#bytes),*]))
    }

    /// A float of `bits` bits from the chunk's bytes at offset `at`.
    pub(super) fn float_from_chunk(
        &self,
        bits: u8,
        endian: Option<Endian>,
        at: u64,
    ) -> TokenStream {
        let t = format_ident!("f{}", bits);
        let bytes = (at..at + u64::from(bits / 8)).map(byte);
        let from = match endian_of(self.schema, endian) {
            Endian::Big => quote!(from_be_bytes),
            Endian::Little => quote!(from_le_bytes),
        };
        quote!(#t::#from([#(#bytes),*]))
    }

    /// A run's size as a `usize` literal, for `chunk::<N>()`.
    pub(super) fn run_len(run: &Run) -> proc_macro2::Literal {
        lit_usize(run.size)
    }
}

/// The local holding byte `k` of a chunk.
pub(super) fn byte(k: u64) -> Ident {
    format_ident!("b{}", k)
}
