//! Layout analysis: which fields encode computes, what has a fixed size, and how
//! `frame_len` finds the end of a frame from a bounded prefix.

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::ir::visit::{const_int, fields_read, len_expr};
use crate::ir::{
    BinOp, Expr, ExprKind, Field, FieldRange, FieldValue, Len, Schema, Struct, Ty, Type, TypeId,
    TypeKind,
};

/// What the back ends need to know about a schema's layout beyond the IR.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Per type id: the struct's layout (`None` for non-structs).
    pub structs: Vec<Option<StructLayout>>,
    /// How `frame_len` finds the frame's length (set when the schema has a frame).
    pub frame: Option<FramePlan>,
}

impl Layout {
    /// The layout of a struct.
    pub fn of(&self, id: TypeId) -> &StructLayout {
        self.structs[id.index()]
            .as_ref()
            .expect("layout exists for every struct")
    }
}

/// Per-field facts for one struct.
#[derive(Debug, Clone, Default)]
pub struct StructLayout {
    /// One entry per field, in order.
    pub fields: Vec<FieldLayout>,
}

/// Facts about one field.
#[derive(Debug, Clone, Default)]
pub struct FieldLayout {
    /// How encode computes the field, if the owned type omits it.
    pub derive: Option<Derive>,
}

/// How encode computes a field.
#[derive(Debug, Clone)]
pub enum Derive {
    /// From the length of a later field: `value = measure(user) + add`.
    Implicit {
        /// The field whose length this is.
        user: usize,
        /// What is measured.
        measure: Measure,
        /// Added to the measure (from `bytes[f + c]`, `add` is `-c`).
        add: i128,
    },
    /// From an explicit `= expression`.
    Explicit(Expr),
}

/// What an implicit length measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Byte length of bytes or text.
    ByteLen,
    /// Element count of a list.
    Count,
    /// Encoded size in bytes.
    Size,
}

/// How a frame's total length is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramePlan {
    /// A field holds the size of the frame from field `from` (or the start) to the end:
    /// `total = offset(from) + value - add`.
    SizeField {
        /// The size field.
        field: usize,
        /// First field covered; `None` for `sizeof(self)`.
        from: Option<usize>,
        /// The constant added to the size in the derivation.
        add: i128,
    },
    /// Every field's size is known once earlier fields are read.
    Walk,
}

/// Runs the layout analysis, reporting what the back ends cannot support.
pub fn check_layout(schema: &Schema) -> Result<Layout, Diagnostics> {
    let mut diags = Diagnostics::new();
    // Everything below walks nested types, which must be finite.
    check_recursion(schema, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    check_nesting(schema, &mut diags);
    let mut layout = Layout {
        structs: vec![None; schema.types.len()],
        frame: None,
    };
    for id in schema.type_ids() {
        if let TypeKind::Struct(s) = &schema.ty(id).kind {
            layout.structs[id.index()] = Some(layout_struct(schema, s, &mut diags));
        }
    }
    if let Some(frame) = schema.frame {
        let s = schema.as_struct(frame).expect("the frame is a struct");
        layout.frame = frame_plan(schema, s, &mut diags);
    }
    super::replies::check_reply_targets(schema, &layout, &mut diags);
    super::nested::check_nested_reads(schema, &layout, &mut diags);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(layout)
    }
}

/// Deepest chain of structs inside structs: rustc's own recursion limit (128) stops
/// short of what the language would otherwise accept.
const MAX_STRUCT_NESTING: usize = 64;

/// Reports structs nested more than [`MAX_STRUCT_NESTING`] deep, computing each
/// struct's depth without recursion (a chain can be as long as the schema).
fn check_nesting(schema: &Schema, diags: &mut Diagnostics) {
    let inner: Vec<Vec<TypeId>> = schema
        .type_ids()
        .map(|id| match &schema.ty(id).kind {
            TypeKind::Struct(s) => {
                let mut out = Vec::new();
                for f in &s.fields {
                    structs_in(schema, &f.ty, &mut out);
                }
                out
            }
            _ => Vec::new(),
        })
        .collect();
    // Depths only grow, one level per round; a chain past the limit shows within it.
    let mut depth = vec![1usize; inner.len()];
    for _ in 0..=MAX_STRUCT_NESTING {
        let mut changed = false;
        for (i, uses) in inner.iter().enumerate() {
            let d = 1 + uses.iter().map(|u| depth[u.index()]).max().unwrap_or(0);
            if d > depth[i] {
                depth[i] = d;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for id in schema.type_ids() {
        if depth[id.index()] > MAX_STRUCT_NESTING {
            let ty = schema.ty(id);
            diags.push(
                Diagnostic::error("E0304", "structs nested too deep")
                    .primary(
                        ty.name.span,
                        format!("more than {MAX_STRUCT_NESTING} structs deep"),
                    )
                    .help("flatten some of the nesting: Rust's compiler stops following nested types at 128 levels"),
            );
            return;
        }
    }
}

/// The struct types `ty` holds directly (through lists and unions, not inside them).
fn structs_in(schema: &Schema, ty: &Type, out: &mut Vec<TypeId>) {
    if let Ty::Named(id) = &ty.kind
        && matches!(schema.ty(*id).kind, TypeKind::Struct(_))
    {
        out.push(*id);
    }
    for inner in crate::ir::visit::inner_types(ty) {
        structs_in(schema, inner, out);
    }
}

/// A struct that contains itself (through lists or unions) would let a frame nest
/// as deep as it is long, and the decoder's stack with it; such schemas are rejected.
fn check_recursion(schema: &Schema, diags: &mut Diagnostics) {
    for id in schema.type_ids() {
        let TypeKind::Struct(s) = &schema.ty(id).kind else {
            continue;
        };
        let mut seen = vec![false; schema.types.len()];
        if let Some(f) = s
            .fields
            .iter()
            .find(|f| reaches(schema, &f.ty, id, &mut seen))
        {
            let name = &schema.ty(id).name.name;
            diags.push(
                Diagnostic::error("E0304", format!("`{name}` contains itself"))
                    .primary(f.ty.span, format!("this field leads back to `{name}`"))
                    .note("recursive layouts would let a frame nest as deep as it is long")
                    .help("flatten the recursion, or carry the nested part as bytes"),
            );
        }
    }
}

fn reaches(schema: &Schema, ty: &Type, target: TypeId, seen: &mut Vec<bool>) -> bool {
    match &ty.kind {
        Ty::List { elem, .. } => reaches(schema, elem, target, seen),
        Ty::KvList { key, value, .. } => {
            reaches(schema, key, target, seen) || reaches(schema, value, target, seen)
        }
        Ty::Union(u) => u.arms.iter().any(|a| reaches(schema, &a.ty, target, seen)),
        Ty::Named(id) if *id == target => true,
        Ty::Named(id) => {
            if std::mem::replace(&mut seen[id.index()], true) {
                return false;
            }
            match &schema.ty(*id).kind {
                TypeKind::Struct(s) => s
                    .fields
                    .iter()
                    .any(|f| reaches(schema, &f.ty, target, seen)),
                _ => false,
            }
        }
        _ => false,
    }
}

fn layout_struct(schema: &Schema, s: &Struct, diags: &mut Diagnostics) -> StructLayout {
    let mut fields = vec![FieldLayout::default(); s.fields.len()];
    for (i, f) in s.fields.iter().enumerate() {
        if let FieldValue::Derived(e) = &f.value {
            fields[i].derive = Some(Derive::Explicit(e.clone()));
            check_self_reference(s, i, e, diags);
        }
    }
    for (j, f) in s.fields.iter().enumerate() {
        derive_from_use(s, j, f, &mut fields, diags);
        check_type_position(schema, &f.ty, diags);
        check_size(schema, &f.ty, diags);
        if j + 1 < s.fields.len() && reads_to_end(schema, &f.ty) {
            diags.push(
                Diagnostic::error(
                    "E0404",
                    "a field that reads to the end of its region is followed by other fields",
                )
                .primary(f.ty.span, "this reads every remaining byte")
                .secondary(s.fields[j + 1].span, "so this field would never get any")
                .help("give it a length (`bytes[len]`, `bytes(u32)`) or move it last"),
            );
        }
    }
    StructLayout { fields }
}

/// Finds length fields that a later field's `bytes[f]`, `[T; f]` or `[T; size f ± c]` derives.
fn derive_from_use(
    s: &Struct,
    user: usize,
    f: &Field,
    fields: &mut [FieldLayout],
    diags: &mut Diagnostics,
) {
    let Some(expr) = len_expr(&f.ty) else { return };
    let measure = measure_of(&f.ty);
    if let Some((target, add)) = solvable(expr) {
        let field = &s.fields[target];
        if !matches!(field.value, FieldValue::Plain) {
            return;
        }
        if field.condition.is_some() {
            diags.push(
                Diagnostic::error(
                    "E0401",
                    "a length field that may be absent cannot be computed on encode",
                )
                .primary(expr.span, "this length reads a conditional field")
                .secondary(field.span, "present only when its condition holds")
                .help("make the length field unconditional"),
            );
            return;
        }
        match &fields[target].derive {
            None => {
                fields[target].derive = Some(Derive::Implicit { user, measure, add });
            }
            Some(Derive::Implicit {
                measure: m, add: a, ..
            }) if *m == measure && *a == add => {}
            Some(_) => diags.push(
                Diagnostic::error("E0401", "a length field measures two different things")
                    .primary(expr.span, "this use needs a different value")
                    .secondary(field.span, "the length field")
                    .help("use a separate length field for each, or give it an explicit `= …`"),
            ),
        }
        return;
    }
    for target in fields_read(expr) {
        let field = &s.fields[target];
        if matches!(field.value, FieldValue::Plain) && fields[target].derive.is_none() {
            let name = field.name.as_ref().map_or("_", |n| n.name.as_str());
            diags.push(
                Diagnostic::error(
                    "E0401",
                    format!("length field `{name}` cannot be computed on encode"),
                )
                .primary(expr.span, "encode cannot solve this expression for the field")
                .secondary(field.span, "the length field")
                .help(format!(
                    "write the length as `{name}`, `{name} + N` or `{name} - N`, or derive `{name}` explicitly with `= …`"
                )),
            );
        }
    }
}

fn measure_of(ty: &Type) -> Measure {
    match &ty.kind {
        Ty::Bytes { .. } => Measure::ByteLen,
        Ty::List {
            len: Len::Count(_), ..
        }
        | Ty::KvList {
            len: Len::Count(_), ..
        } => Measure::Count,
        _ => Measure::Size,
    }
}

/// Recognises `f`, `f + c`, `c + f` and `f - c`, returning `(f, add)` with
/// `f = length + add`.
pub fn solvable(e: &Expr) -> Option<(usize, i128)> {
    let plain = |e: &Expr| match &e.kind {
        ExprKind::Field(r) if r.sub.is_empty() => Some(r.field),
        _ => None,
    };
    if let Some(f) = plain(e) {
        return Some((f, 0));
    }
    match &e.kind {
        ExprKind::Binary(BinOp::Add, a, b) => match (plain(a), plain(b)) {
            (Some(f), None) => Some((f, const_int(b)?.checked_neg()?)),
            (None, Some(f)) => Some((f, const_int(a)?.checked_neg()?)),
            _ => None,
        },
        ExprKind::Binary(BinOp::Sub, a, b) => Some((plain(a)?, const_int(b)?)),
        _ => None,
    }
}

fn check_self_reference(s: &Struct, i: usize, e: &Expr, diags: &mut Diagnostics) {
    let covers = |range: &FieldRange| match range {
        FieldRange::SelfStruct => true,
        FieldRange::Fields { first, last } => (*first..=*last).contains(&i),
    };
    let mut bad = None;
    crate::ir::visit::ranges(e, &mut |range, checksum| {
        // A field in a `sizeof(a..b)` whose length is this field: measuring it would
        // need this value. (`sizeof(self)` is computed from the other fields' sizes.)
        let fields = match range {
            FieldRange::SelfStruct => 0..0,
            FieldRange::Fields { first, last } => *first..(*last + 1).min(s.fields.len()),
        };
        if s.fields.get(fields).unwrap_or_default().iter().any(|g| {
            g.condition
                .as_ref()
                .is_some_and(|c| fields_read(c).contains(&i))
                || lengths_read(&g.ty, i)
        }) {
            bad = Some((
                "it measures a field whose length it is",
                "leave it underived: a length field is computed from what it measures",
            ));
        }
        if !covers(range) {
            return;
        }
        let field = &s.fields[i];
        let help = "cover only the fields before or after it";
        if checksum {
            bad = Some(("a checksum cannot cover itself", help));
        } else if matches!(field.ty.kind, Ty::Varint | Ty::Zigzag) {
            bad = Some(("a varint cannot hold a size that includes itself", help));
        }
    });
    if let Some((message, help)) = bad {
        diags.push(
            Diagnostic::error("E0405", "a derived field depends on itself")
                .primary(e.span, message)
                .secondary(s.fields[i].span, "the derived field")
                .help(help),
        );
    }
}

/// True when a length inside `ty` (its own, or one in a list element or union arm)
/// reads field `i`.
fn lengths_read(ty: &Type, i: usize) -> bool {
    len_expr(ty).is_some_and(|l| fields_read(l).contains(&i))
        || crate::ir::visit::inner_types(ty)
            .into_iter()
            .any(|t| lengths_read(t, i))
}

/// The most bytes any type may take: the protocol's `max_frame`, or 4 GiB in a schema
/// without one, and never more than 1 TiB, so that sums of sizes cannot overflow.
fn size_limit(schema: &Schema) -> u64 {
    schema
        .protocol
        .as_ref()
        .map_or(1 << 32, |p| p.max_frame)
        .min(1 << 40)
}

/// A type that takes more bytes than any frame can hold (a huge `pad`, `bytes[N]` or
/// list count) can never be decoded, and its size would overflow where it is summed.
fn check_size(schema: &Schema, ty: &Type, diags: &mut Diagnostics) {
    let limit = size_limit(schema);
    let least = min_size(schema, ty);
    if least > limit {
        diags.push(
            Diagnostic::error("E0304", "type too large for any frame")
                .primary(
                    ty.span,
                    format!(
                        "takes at least {least} bytes, more than the largest frame ({limit} bytes)"
                    ),
                )
                .help("a frame's size is bounded by the protocol's `max_frame`"),
        );
        return;
    }
    for inner in crate::ir::visit::inner_types(ty) {
        check_size(schema, inner, diags);
    }
}

/// Element types of lists decode on their own, so they must delimit themselves.
fn check_type_position(schema: &Schema, ty: &Type, diags: &mut Diagnostics) {
    let elems: Vec<&Type> = match &ty.kind {
        Ty::List { elem, .. } => vec![elem],
        Ty::KvList { key, value, .. } => vec![key, value],
        Ty::Union(u) => {
            u.arms
                .iter()
                .for_each(|a| check_type_position(schema, &a.ty, diags));
            return;
        }
        _ => return,
    };
    for elem in elems {
        let problem = if len_expr(elem).is_some_and(|e| !fields_read(e).is_empty()) {
            Some("a list element's length cannot come from the enclosing struct's fields")
        } else if reads_to_end(schema, elem) {
            Some("a list element cannot read to the end of the list")
        } else if min_size(schema, elem) == 0 {
            Some("a list element must take at least one byte")
        } else {
            None
        };
        if let Some(message) = problem {
            diags.push(
                Diagnostic::error("E0304", "invalid list element type")
                    .primary(elem.span, message)
                    .help("use a length prefix (`bytes(u8)`, `str(u16)`) or a fixed size"),
            );
        }
        check_type_position(schema, elem, diags);
    }
}

/// True when a type consumes whatever is left of its region.
pub fn reads_to_end(schema: &Schema, ty: &Type) -> bool {
    match &ty.kind {
        Ty::Bytes { len, .. } | Ty::List { len, .. } | Ty::KvList { len, .. } => {
            matches!(len, Len::ToEnd)
        }
        Ty::Named(id) => match &schema.ty(*id).kind {
            TypeKind::Struct(s) => s.fields.last().is_some_and(|f| reads_to_end(schema, &f.ty)),
            _ => false,
        },
        Ty::Union(u) => u.arms.iter().any(|a| reads_to_end(schema, &a.ty)),
        _ => false,
    }
}

/// The encoded size of a type when it does not depend on the value.
pub fn fixed_size(schema: &Schema, ty: &Type) -> Option<u64> {
    match &ty.kind {
        Ty::Int(i) => Some(u64::from(i.bits / 8)),
        Ty::Float { bits, .. } => Some(u64::from(bits / 8)),
        Ty::Bool => Some(1),
        Ty::Pad(n) => Some(*n),
        Ty::Unit => Some(0),
        Ty::Bytes {
            len: Len::Size(e), ..
        } => u64::try_from(const_int(e)?).ok(),
        Ty::List {
            elem,
            len: Len::Count(e),
        } => fixed_size(schema, elem)?.checked_mul(u64::try_from(const_int(e)?).ok()?),
        Ty::Named(id) => match &schema.ty(*id).kind {
            TypeKind::Enum(e) => Some(u64::from(e.repr.bits / 8)),
            TypeKind::Bits(b) => Some(u64::from(b.repr.bits / 8)),
            TypeKind::Struct(s) => schema.memo.fixed(*id, || {
                s.fields.iter().try_fold(0u64, |acc, f| {
                    if f.condition.is_some() {
                        return None;
                    }
                    acc.checked_add(fixed_size(schema, &f.ty)?)
                })
            }),
            TypeKind::Extern(_) => None,
        },
        Ty::Union(u) => {
            let first = fixed_size(schema, &u.arms.first()?.ty)?;
            u.arms
                .iter()
                .all(|a| fixed_size(schema, &a.ty) == Some(first))
                .then_some(first)
        }
        _ => None,
    }
}

/// The fewest bytes a type can take.
pub fn min_size(schema: &Schema, ty: &Type) -> u64 {
    match &ty.kind {
        Ty::Varint | Ty::Zigzag => 1,
        Ty::Bytes { len, .. } | Ty::List { len, .. } | Ty::KvList { len, .. } => match len {
            Len::CountPrefix(p) | Len::SizePrefix(p) => prefix_min(p),
            Len::Nul => 1,
            // Saturating, where `fixed_size` gives up on overflow: a list too large for
            // any frame must not look empty (see `check_size`).
            Len::Count(e) => match &ty.kind {
                Ty::List { elem, .. } => const_int(e)
                    .and_then(|n| u64::try_from(n).ok())
                    .map_or(0, |n| n.saturating_mul(min_size(schema, elem))),
                _ => fixed_size(schema, ty).unwrap_or(0),
            },
            _ => fixed_size(schema, ty).unwrap_or(0),
        },
        Ty::Named(id) => match &schema.ty(*id).kind {
            TypeKind::Struct(s) => schema.memo.min(*id, || {
                s.fields
                    .iter()
                    .filter(|f| f.condition.is_none())
                    .fold(0u64, |sum, f| sum.saturating_add(min_size(schema, &f.ty)))
            }),
            TypeKind::Extern(_) => 1,
            _ => fixed_size(schema, ty).unwrap_or(0),
        },
        Ty::Union(u) => u
            .arms
            .iter()
            .map(|a| min_size(schema, &a.ty))
            .min()
            .unwrap_or(0),
        _ => fixed_size(schema, ty).unwrap_or(0),
    }
}

fn prefix_min(p: &crate::ir::Prefix) -> u64 {
    match p {
        crate::ir::Prefix::Int(i) => u64::from(i.bits / 8),
        crate::ir::Prefix::Varint => 1,
    }
}

/// Why a type cannot be walked, or `None` when `frame_len` can skip over it.
pub fn unwalkable(schema: &Schema, ty: &Type) -> Option<(Span, &'static str)> {
    match &ty.kind {
        Ty::Bytes {
            len: Len::ToEnd, ..
        }
        | Ty::List {
            len: Len::ToEnd, ..
        }
        | Ty::KvList {
            len: Len::ToEnd, ..
        } => Some((
            ty.span,
            "this reads to the end of the frame, which nothing before it gives",
        )),
        Ty::List {
            elem,
            len: Len::Count(_) | Len::CountPrefix(_),
        } => {
            if fixed_size(schema, elem).is_some() {
                None
            } else {
                unwalkable(schema, elem)
            }
        }
        Ty::KvList {
            key,
            value,
            len: Len::Count(_) | Len::CountPrefix(_),
        } => unwalkable(schema, key).or_else(|| unwalkable(schema, value)),
        Ty::Named(id) => match &schema.ty(*id).kind {
            TypeKind::Struct(s) => schema.memo.unwalkable(*id, || {
                s.fields.iter().find_map(|f| unwalkable(schema, &f.ty))
            }),
            TypeKind::Extern(_) => Some((
                ty.span,
                "an extern type's length is only known by decoding it",
            )),
            _ => None,
        },
        Ty::Union(u) => u.arms.iter().find_map(|a| unwalkable(schema, &a.ty)),
        _ => None,
    }
}

fn frame_plan(schema: &Schema, s: &Struct, diags: &mut Diagnostics) -> Option<FramePlan> {
    if let Some(plan) = size_field_plan(schema, s) {
        return Some(plan);
    }
    match s.fields.iter().find_map(|f| unwalkable(schema, &f.ty)) {
        None => Some(FramePlan::Walk),
        Some((span, why)) => {
            diags.push(
                Diagnostic::error(
                    "E0402",
                    "the frame's total length cannot be found from a bounded prefix",
                )
                .primary(span, why)
                .note("a proxy must know where a frame ends before it has all of it")
                .help("add a size field before it, such as `size: u32 = sizeof(self) - 4`, or give this field a length"),
            );
            None
        }
    }
}

/// A field `= sizeof(self) ± c` or `= sizeof(a..last) ± c` whose own position is walkable.
fn size_field_plan(schema: &Schema, s: &Struct) -> Option<FramePlan> {
    let last = s.fields.len().checked_sub(1)?;
    s.fields.iter().enumerate().find_map(|(i, f)| {
        let FieldValue::Derived(e) = &f.value else {
            return None;
        };
        if !matches!(f.ty.kind, Ty::Int(_)) || f.condition.is_some() {
            return None;
        }
        let (range, add) = size_plus_const(e)?;
        let from = match range {
            FieldRange::SelfStruct => None,
            FieldRange::Fields { first, last: l } if l == last && first <= i + 1 => Some(first),
            _ => return None,
        };
        let prefix_walkable = s.fields[..=i]
            .iter()
            .all(|f| unwalkable(schema, &f.ty).is_none());
        prefix_walkable.then_some(FramePlan::SizeField {
            field: i,
            from,
            add,
        })
    })
}

fn size_plus_const(e: &Expr) -> Option<(FieldRange, i128)> {
    match &e.kind {
        ExprKind::SizeOf(r) => Some((*r, 0)),
        ExprKind::Binary(BinOp::Add, a, b) => match (&a.kind, &b.kind) {
            (ExprKind::SizeOf(r), _) => Some((*r, const_int(b)?)),
            (_, ExprKind::SizeOf(r)) => Some((*r, const_int(a)?)),
            _ => None,
        },
        ExprKind::Binary(BinOp::Sub, a, b) => match &a.kind {
            ExprKind::SizeOf(r) => Some((*r, const_int(b)?.checked_neg()?)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceMap;

    fn layout_of(text: &str) -> Result<(Schema, Layout), Vec<&'static str>> {
        let mut sources = SourceMap::new();
        let schema = crate::load_schema_str("t.mproto", text, &mut sources)
            .map_err(|d| d.iter().map(|d| d.code).collect::<Vec<_>>())?;
        let layout =
            check_layout(&schema).map_err(|d| d.iter().map(|d| d.code).collect::<Vec<_>>())?;
        Ok((schema, layout))
    }

    #[test]
    fn lengths_named_alone_or_offset_are_derived() {
        let (s, l) = layout_of(
            "protocol p {}\nframe M {\n a: u8\n b: u16\n x: bytes[a]\n y: [u8; size b - 2]\n}\n",
        )
        .unwrap();
        let f = l.of(s.frame.unwrap());
        assert!(matches!(
            f.fields[0].derive,
            Some(Derive::Implicit {
                user: 2,
                measure: Measure::ByteLen,
                add: 0
            })
        ));
        assert!(matches!(
            f.fields[1].derive,
            Some(Derive::Implicit {
                user: 3,
                measure: Measure::Size,
                add: 2
            })
        ));
        assert_eq!(l.frame, Some(FramePlan::Walk));
    }

    #[test]
    fn a_size_field_frames_what_cannot_be_walked() {
        let (_, l) = layout_of(
            "protocol p {}\nframe M {\n size: u32 = sizeof(self) - 4\n body: bytes[..]\n}\n",
        )
        .unwrap();
        assert_eq!(
            l.frame,
            Some(FramePlan::SizeField {
                field: 0,
                from: None,
                add: -4
            })
        );
        let (_, l) = layout_of("protocol p {}\nframe M {\n k: u8\n len: u16 = sizeof(body..tail)\n body: str[nul]\n tail: bytes[..]\n}\n").unwrap();
        assert_eq!(
            l.frame,
            Some(FramePlan::SizeField {
                field: 1,
                from: Some(2),
                add: 0
            })
        );
        assert_eq!(
            layout_of("protocol p {}\nframe M {\n body: bytes[..]\n}\n").unwrap_err(),
            vec!["E0402"]
        );
    }

    /// Each struct uses the next twice: 2^64 paths to the last one. Every struct is
    /// sized and walked once (before, this never finished), and the frame, at least
    /// 2^64 bytes, is refused as larger than any frame.
    #[test]
    fn doubling_structs_are_sized_once() {
        let mut text = String::from("protocol p {}\nframe F { s: S0 }\n");
        for i in 0..64 {
            text.push_str(&format!("struct S{i} {{ x: S{0}, y: S{0} }}\n", i + 1));
        }
        text.push_str("struct S64 { b: bytes(u8) }\n");
        let codes = layout_of(&text).map(|_| ()).unwrap_err();
        assert!(
            !codes.is_empty() && codes.iter().all(|c| *c == "E0304"),
            "{codes:?}"
        );
    }

    #[test]
    fn structs_nest_at_most_64_deep() {
        let chain = |n: usize| {
            let mut text = String::new();
            for i in 0..n {
                text.push_str(&format!("struct S{i} {{ x: [S{0}; u8] }}\n", i + 1));
            }
            text + &format!("struct S{n} {{ y: u8 }}\n")
        };
        assert!(layout_of(&chain(63)).is_ok());
        assert_eq!(layout_of(&chain(64)).map(|_| ()), Err(vec!["E0304"]));
    }

    #[test]
    fn fixed_sizes() {
        let (s, _) = layout_of(
            "protocol p {}\nstruct P { x: u16, y: bytes[3], z: [u32; 2] }\nframe M { p: P }\n",
        )
        .unwrap();
        let id = s.type_named("P").unwrap();
        let ty = Type {
            kind: Ty::Named(id),
            span: crate::diag::Span::new(crate::diag::FileId(0), 0, 0),
        };
        assert_eq!(fixed_size(&s, &ty), Some(2 + 3 + 8));
    }
}
