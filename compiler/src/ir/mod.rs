//! The IR: one model of a protocol that both front ends (the `.mproto` parser and
//! `#[derive(Codec)]`) produce and every back end (Rust code, manifests) reads.
//!
//! Names are resolved to indices, every expression carries its type, and every
//! node keeps the span it came from so later checks can point at it. The layout
//! analysis in [`crate::check::layout`] adds what the back ends need on top.

pub mod visit;

use crate::diag::Span;

/// Index of a type definition in [`Schema::types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

impl TypeId {
    /// The index as a `usize`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A name with the span it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// Doc comment lines (`///` or `//!`), without the markers.
pub type Docs = Vec<String>;

/// A whole schema with its imports merged in.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// `//!` lines at the top of the root file.
    pub doc: Docs,
    /// The `protocol` block, if the schema declares one.
    pub protocol: Option<Protocol>,
    /// Every type: the root file's and the imported ones, in declaration order.
    pub types: Vec<TypeDef>,
    /// The `frame` struct, if any (at most one per schema).
    pub frame: Option<TypeId>,
    /// The `metadata` block.
    pub metadata: Option<Metadata>,
    /// The `reply error` block.
    pub error_reply: Option<Reply>,
    /// The `reply heartbeat` block.
    pub heartbeat_reply: Option<Reply>,
    /// Facts about struct types that the layout analysis derives, each computed once.
    pub memo: StructMemo,
}

/// Facts about each struct type (its fixed size, its minimum size, why it cannot be
/// walked), each computed once. Without it, a struct that uses another twice, which
/// uses another twice, and so on, was recomputed once per path to it: exponential in
/// the nesting depth.
#[derive(Debug, Clone, Default)]
pub struct StructMemo {
    fixed: Memo<Option<u64>>,
    min: Memo<u64>,
    unwalkable: Memo<Option<(Span, &'static str)>>,
}

/// One fact per struct type.
type Memo<T> = std::cell::RefCell<std::collections::HashMap<TypeId, T>>;

/// The fact for `id`, computing it with `compute` the first time.
fn remembered<T: Copy>(memo: &Memo<T>, id: TypeId, compute: impl FnOnce() -> T) -> T {
    if let Some(&known) = memo.borrow().get(&id) {
        return known;
    }
    let fact = compute();
    memo.borrow_mut().insert(id, fact);
    fact
}

impl StructMemo {
    /// The struct's fixed size.
    pub fn fixed(&self, id: TypeId, compute: impl FnOnce() -> Option<u64>) -> Option<u64> {
        remembered(&self.fixed, id, compute)
    }

    /// The struct's minimum size.
    pub fn min(&self, id: TypeId, compute: impl FnOnce() -> u64) -> u64 {
        remembered(&self.min, id, compute)
    }

    /// Why the struct cannot be walked, if it cannot.
    pub fn unwalkable(
        &self,
        id: TypeId,
        compute: impl FnOnce() -> Option<(Span, &'static str)>,
    ) -> Option<(Span, &'static str)> {
        remembered(&self.unwalkable, id, compute)
    }
}

impl Schema {
    /// The definition of a type.
    pub fn ty(&self, id: TypeId) -> &TypeDef {
        &self.types[id.index()]
    }

    /// The struct behind a type id, if it is one.
    pub fn as_struct(&self, id: TypeId) -> Option<&Struct> {
        match &self.ty(id).kind {
            TypeKind::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// Looks a type up by name.
    pub fn type_named(&self, name: &str) -> Option<TypeId> {
        self.types
            .iter()
            .position(|t| t.name.name == name)
            .map(|i| TypeId(i as u32))
    }

    /// All type ids in declaration order.
    pub fn type_ids(&self) -> impl Iterator<Item = TypeId> + use<> {
        (0..self.types.len() as u32).map(TypeId)
    }
}

/// Byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endian {
    /// Most significant byte first (network order).
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

/// The `protocol` block.
#[derive(Debug, Clone)]
pub struct Protocol {
    /// Lowercase letters and digits only: it becomes part of Kubernetes port names.
    pub name: Ident,
    /// The codec name an `ApplicationProtocol` refers to.
    pub codec: String,
    /// Default byte order for multi-byte fields.
    pub endian: Endian,
    /// Largest frame, in bytes.
    pub max_frame: u64,
    /// Doc comment.
    pub doc: Docs,
    /// The whole block.
    pub span: Span,
}

/// Default `max_frame` when the protocol block does not set one: 4 MiB.
pub const DEFAULT_MAX_FRAME: u64 = 4 << 20;

/// A named type.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// The type's name; generated names for inline bits groups are `StructField`.
    pub name: Ident,
    /// Doc comment.
    pub doc: Docs,
    /// What it is.
    pub kind: TypeKind,
    /// The Rust item that declares it, for types from `#[derive(Codec)]`.
    pub rust: Option<RustItem>,
}

/// How a type declared with `#[derive(Codec)]` appears in Rust: the generated code
/// implements the user's item instead of declaring its own.
#[derive(Debug, Clone, Default)]
pub struct RustItem {
    /// Path from the generated code's module to the item's module (`""`, `"proto::"`).
    pub prefix: String,
    /// True when the item has a lifetime parameter (the generated code names it `'a`).
    pub lifetime: bool,
    /// True for the item being derived; nested types get their code from their own derive.
    pub emit: bool,
    /// The Rust type of each struct member (by index); `None` for padding.
    pub fields: Vec<Option<RustTy>>,
    /// Fields of type `()` that stand for padding members.
    pub units: Vec<String>,
}

/// A Rust type as written in a derived item, with the parts generated code needs:
/// the element of `Vec<T>`, the key and value of `Vec<(K, V)>`, the arms of a union.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RustTy {
    /// The type's tokens, with its lifetime renamed to `'a`.
    pub text: String,
    /// Element types, in order.
    pub parts: Vec<RustTy>,
}

/// The kinds of named type.
#[derive(Debug, Clone)]
pub enum TypeKind {
    /// A struct or the frame.
    Struct(Struct),
    /// An enum with explicit values.
    Enum(Enum),
    /// A bit-field group packed into one integer.
    Bits(Bits),
    /// A field encoding implemented in Rust.
    Extern(Extern),
}

/// A sequence of fields decoded in order.
#[derive(Debug, Clone)]
pub struct Struct {
    /// Fields (including `pad`, `align` and `_` members) in wire order.
    pub fields: Vec<Field>,
    /// True for the `frame` struct.
    pub is_frame: bool,
}

impl Struct {
    /// The index of the field with this name.
    pub fn field_named(&self, name: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|f| f.name.as_ref().is_some_and(|n| n.name == name))
    }
}

/// One member of a struct.
#[derive(Debug, Clone)]
pub struct Field {
    /// `None` for `_`, `pad` and `align` members.
    pub name: Option<Ident>,
    /// Doc comment.
    pub doc: Docs,
    /// The wire type.
    pub ty: Type,
    /// Plain, constant, or derived.
    pub value: FieldValue,
    /// `where` constraint: a `Bool` expression that may name this field and earlier ones.
    pub constraint: Option<Expr>,
    /// `if` condition: a `Bool` expression over earlier fields; the field is present when true.
    pub condition: Option<Expr>,
    /// The whole member.
    pub span: Span,
}

/// Where a field's value comes from.
#[derive(Debug, Clone)]
pub enum FieldValue {
    /// Supplied by the user when encoding; the field is in the owned type.
    Plain,
    /// `= literal`: checked on decode, written on encode, absent from both types'
    /// user-facing fields. The expression is a literal (`Int`, `Bool`, `ByteStr`, `Str`)
    /// or an enum variant.
    Const(Expr),
    /// `= expr` over other fields (`sizeof`, `len`, checksums, arithmetic): checked on
    /// decode, computed on encode, absent from the owned type.
    Derived(Expr),
}

/// A wire type with the span it was written at.
#[derive(Debug, Clone)]
pub struct Type {
    /// What it is.
    pub kind: Ty,
    /// Where.
    pub span: Span,
}

/// An integer type: width, signedness and byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IntTy {
    /// Width in bits: 8, 16, 32 or 64 for fields; 1 to 64 inside bit groups and enum reprs.
    pub bits: u8,
    /// `iN` rather than `uN`.
    pub signed: bool,
    /// `None` uses the protocol's default byte order.
    pub endian: Option<Endian>,
}

/// A length or count prefix: an integer or a varint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// A fixed-width unsigned integer.
    Int(IntTy),
    /// An unsigned LEB128 varint.
    Varint,
}

/// How long a `bytes`, `str`, list or key/value list is.
#[derive(Debug, Clone)]
pub enum Len {
    /// Element count from an `Int` expression (`[T; n]`; a literal gives a fixed count).
    Count(Expr),
    /// Element count from a prefix (`[T; u16]`).
    CountPrefix(Prefix),
    /// Byte size from an `Int` expression (`bytes[n]`, `[T; size n]`; a literal gives a
    /// fixed size).
    Size(Expr),
    /// Byte size from a prefix (`bytes(u32)`, `[T; size u16]`).
    SizePrefix(Prefix),
    /// To the end of the enclosing region (`bytes[..]`, `[T; ..]`).
    ToEnd,
    /// Up to a NUL byte, which is consumed (`bytes[nul]`, `str[nul]`; bytes and text only).
    Nul,
}

/// The wire types.
#[derive(Debug, Clone)]
pub enum Ty {
    /// `u8`…`u64`, `i8`…`i64`, optionally `le`/`be`.
    Int(IntTy),
    /// `f32`/`f64`, optionally `le`/`be`.
    Float {
        /// 32 or 64.
        bits: u8,
        /// `None` uses the protocol default.
        endian: Option<Endian>,
    },
    /// One byte, 0 or 1.
    Bool,
    /// Unsigned LEB128, up to 64 bits.
    Varint,
    /// Zigzag-encoded signed LEB128, up to 64 bits.
    Zigzag,
    /// `bytes` (`text: false`) or UTF-8 `str` (`text: true`).
    Bytes {
        /// True for `str`.
        text: bool,
        /// How long.
        len: Len,
    },
    /// A list of elements.
    List {
        /// Element type.
        elem: Box<Type>,
        /// How long.
        len: Len,
    },
    /// A key/value list `[K => V; len]`: pairs encoded key then value.
    KvList {
        /// Key type.
        key: Box<Type>,
        /// Value type.
        value: Box<Type>,
        /// How long (counts pairs, or bytes with `size`).
        len: Len,
    },
    /// A struct, enum, bits group or extern type. Inline `bits` groups are lowered to a
    /// generated [`TypeDef`] and referenced here.
    Named(TypeId),
    /// A tagged union (`match tag { … }`).
    Union(Union),
    /// `pad N`: N bytes, zero on encode, ignored on decode.
    Pad(u64),
    /// `align N`: zero bytes up to the next multiple of N from the start of the frame.
    Align(u64),
    /// `()`: nothing, for union arms that carry no data.
    Unit,
}

/// A tagged union: the first arm whose pattern matches the tag is decoded.
#[derive(Debug, Clone)]
pub struct Union {
    /// The tag, an expression over earlier fields.
    pub tag: Expr,
    /// Arms in order; a `Default` pattern, if present, is in the last arm.
    pub arms: Vec<Arm>,
}

/// One arm of a union.
#[derive(Debug, Clone)]
pub struct Arm {
    /// Alternatives (`A | B`); an arm with [`Pattern::Default`] matches anything.
    pub patterns: Vec<Pattern>,
    /// The Rust variant name: explicit `Name(T)`, else the enum variant, else the
    /// named type, else `Other` for `_`.
    pub name: Ident,
    /// The arm's wire type.
    pub ty: Type,
    /// The whole arm.
    pub span: Span,
}

/// A union or `match` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// An integer literal.
    Int(i128),
    /// `true` or `false`.
    Bool(bool),
    /// A user enum's variant: the enum and the variant's index.
    Variant(TypeId, usize),
    /// A built-in enum's variant (for `match err.kind { … }`).
    Builtin(BuiltinVariant),
    /// `_`.
    Default,
}

/// An enum with explicit values.
#[derive(Debug, Clone)]
pub struct Enum {
    /// Width, signedness and byte order of the raw value.
    pub repr: IntTy,
    /// Variants in declaration order.
    pub variants: Vec<Variant>,
    /// `_ => Name`: unknown values decode to `Name(raw)` instead of failing.
    pub unknown: Option<Ident>,
}

/// An enum variant.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The name.
    pub name: Ident,
    /// The raw value on the wire.
    pub value: i128,
    /// Doc comment.
    pub doc: Docs,
}

/// A bit-field group packed into one integer, most significant bits first.
#[derive(Debug, Clone)]
pub struct Bits {
    /// The container integer.
    pub repr: IntTy,
    /// Members from the most significant bits down; their widths add up to `repr.bits`.
    pub fields: Vec<BitField>,
}

/// One member of a bit group.
#[derive(Debug, Clone)]
pub struct BitField {
    /// `None` for `_`.
    pub name: Option<Ident>,
    /// What the bits hold.
    pub ty: BitTy,
    /// `= value`: a constant checked on decode and written on encode.
    pub value: Option<i128>,
    /// Doc comment.
    pub doc: Docs,
    /// The whole member.
    pub span: Span,
}

/// What a bit-group member holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitTy {
    /// `uN`: an unsigned integer of N bits.
    Uint(u8),
    /// `bool`: one bit.
    Bool,
    /// An enum whose repr width is the member's width.
    Enum(TypeId),
}

impl BitTy {
    /// Width in bits, given the schema (for enums).
    pub fn bits(self, schema: &Schema) -> u8 {
        match self {
            BitTy::Uint(n) => n,
            BitTy::Bool => 1,
            BitTy::Enum(id) => match &schema.ty(id).kind {
                TypeKind::Enum(e) => e.repr.bits,
                _ => 0,
            },
        }
    }
}

/// A field encoding written in Rust.
#[derive(Debug, Clone)]
pub struct Extern {
    /// Path of the Rust type implementing `mproto_runtime::Extern`.
    pub rust_path: String,
}

/// An expression with its type and source text.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type, filled in by the front end.
    pub ty: ValueTy,
    /// Where.
    pub span: Span,
    /// The source text, quoted in error messages of generated code.
    pub text: String,
}

/// Types of expression values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueTy {
    /// Any integer (evaluated as `i128`).
    Int,
    /// `true`/`false`.
    Bool,
    /// UTF-8 text.
    Text,
    /// Raw bytes.
    Bytes,
    /// A float field (only usable as a whole value, not in arithmetic).
    Float,
    /// A user enum.
    Enum(TypeId),
    /// A bits group value.
    Bits(TypeId),
    /// A struct value.
    Struct(TypeId),
    /// An extern type's value.
    Extern(TypeId),
    /// A list of values of the element type.
    List(Box<ValueTy>),
    /// A key/value list.
    KvList,
    /// MetaProtocol's `MessageType`.
    MessageType,
    /// MetaProtocol's `ResponseStatus`.
    ResponseStatus,
    /// MetaProtocol's `ErrorKind`.
    ErrorKind,
    /// A value that may be absent (a path through a conditional field).
    Optional(Box<ValueTy>),
    /// No value (`()`).
    Unit,
}

/// A built-in enum variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinVariant {
    /// `MessageType::Name`; the name is one of the runtime's `MessageType` variants.
    MessageType(&'static str),
    /// `ResponseStatus::Ok` or `ResponseStatus::Error`.
    ResponseStatus(&'static str),
    /// `ErrorKind::Name`.
    ErrorKind(&'static str),
}

/// Built-in variant names, as the runtime spells them.
pub const MESSAGE_TYPES: [&str; 9] = [
    "Request",
    "Response",
    "Oneway",
    "StreamInit",
    "StreamData",
    "StreamCloseOneWay",
    "StreamCloseTwoWay",
    "Heartbeat",
    "Error",
];
/// `ResponseStatus` variant names.
pub const RESPONSE_STATUSES: [&str; 2] = ["Ok", "Error"];
/// `ErrorKind` variant names.
pub const ERROR_KINDS: [&str; 7] = [
    "RouteNotFound",
    "ClusterNotFound",
    "NoHealthyUpstream",
    "BadResponse",
    "OverLimit",
    "Timeout",
    "Unspecified",
];

/// A path from a struct to one of its fields, possibly into a bits group or nested struct:
/// `flags.kind` is field `flags`, then bit member `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// Index of the field in the struct the expression belongs to.
    pub field: usize,
    /// Steps into the field's value.
    pub sub: Vec<SubField>,
}

/// One step into a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubField {
    /// A member of a bits group, by index.
    Bit(usize),
    /// A field of a nested struct, by index.
    Field(usize),
}

/// What `sizeof` and checksums cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRange {
    /// The whole struct (`self`).
    SelfStruct,
    /// Fields `first..=last` by index (`a..b` in the schema includes `b`; `a` alone is `a..=a`).
    Fields {
        /// First field covered.
        first: usize,
        /// Last field covered.
        last: usize,
    },
}

/// Checksum algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Checksum {
    /// CRC-32 (IEEE 802.3), as zlib computes it.
    Crc32,
    /// Sum of bytes modulo 256.
    Sum8,
    /// XOR of bytes.
    Xor8,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `!` on bools.
    Not,
    /// `-` on integers.
    Neg,
}

/// Binary operators; arithmetic is on `i128` and fails on overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (fails on division by zero)
    Div,
    /// `%` (fails on division by zero)
    Rem,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
}

/// What a reply's `req` parameter gives access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestField {
    /// `req.request_id` (`Int`, 0 when unknown).
    RequestId,
    /// `req.stream_id` (`Int`, 0 when unknown).
    StreamId,
    /// `req.message_type` (`MessageType`).
    MessageType,
    /// `req["key"]` (`Text`, empty when absent).
    Property(String),
}

/// What a reply's `err` parameter gives access to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorField {
    /// `err.message` (`Text`).
    Message,
    /// `err.kind` (`ErrorKind`).
    Kind,
}

/// Conversions the front end inserts where a value meets a field of another type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coercion {
    /// A value of an arm's type becomes that union arm (by arm index).
    ToArm(usize),
    /// A struct value is encoded into a `bytes` field.
    EncodeToBytes,
    /// An enum (user or built-in) becomes its variant name, where text is expected.
    VariantName,
    /// An integer becomes its decimal text, where text is expected.
    Decimal,
    /// A text value becomes its UTF-8 bytes, where bytes are expected.
    TextToBytes,
    /// A present value fills a conditional field (`Some(v)`).
    Present,
}

/// The expression forms.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// An integer literal.
    Int(i128),
    /// `true`/`false`.
    Bool(bool),
    /// A string literal (`Text`).
    Str(String),
    /// A byte-string literal `b"…"` (`Bytes`).
    ByteStr(Vec<u8>),
    /// A field of the struct the expression belongs to (or of the frame, in `metadata`).
    Field(FieldRef),
    /// A user enum's variant.
    Variant(TypeId, usize),
    /// A built-in enum's variant.
    Builtin(BuiltinVariant),
    /// A field of a reply's request parameter.
    Request(RequestField),
    /// A field of a reply's error parameter.
    Error(ErrorField),
    /// A unary operation.
    Unary(UnOp, Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `sizeof(range)`: encoded size in bytes.
    SizeOf(FieldRange),
    /// `len(field)`: element count of a list, or byte length of bytes/text.
    LenOf(FieldRef),
    /// `crc32(range)` and friends: checksum of the range's encoded bytes.
    Checksum(Checksum, FieldRange),
    /// `if c { a } else { b }`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `match scrutinee { pattern => value, … }`; the last arm may be `_`.
    Match(Box<Expr>, Vec<(Vec<Pattern>, Expr)>),
    /// `Name { field: value, … }` in replies; fields by index into the struct,
    /// unmentioned fields take their defaults.
    StructLit(TypeId, Vec<(usize, Expr)>),
    /// `[key => value, …]` in replies.
    KvLit(Vec<(Expr, Expr)>),
    /// `[value, …]` in replies.
    ListLit(Vec<Expr>),
    /// A conversion inserted by the front end.
    Coerce(Coercion, Box<Expr>),
}

/// The `metadata` block: how to read MetaProtocol metadata off a decoded frame.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// The whole block.
    pub span: Span,
    /// A `MessageType` expression over frame fields.
    pub message_type: Option<Expr>,
    /// An `Int` (or `Optional(Int)`) expression.
    pub request_id: Option<Expr>,
    /// An `Int` (or `Optional(Int)`) expression.
    pub stream_id: Option<Expr>,
    /// A `ResponseStatus` expression.
    pub response_status: Option<Expr>,
    /// Routable properties, in order.
    pub properties: Vec<Property>,
    /// The `str => str` key/value list that mutations write into.
    pub mutate: Option<(FieldRef, Span)>,
}

/// A source of routable properties.
#[derive(Debug, Clone)]
pub enum Property {
    /// `property "key" = expr`: one property from a text, bytes, integer, bool or enum value
    /// (enums give their variant name); an `Optional` value is skipped when absent.
    Named {
        /// The property key.
        key: String,
        /// The value.
        value: Expr,
        /// The whole line.
        span: Span,
    },
    /// `properties = field`: every entry of a key/value list.
    List {
        /// The key/value list field.
        field: FieldRef,
        /// The whole line.
        span: Span,
    },
}

/// Which reply a `reply` block builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// `reply error(req, err)`.
    Error,
    /// `reply heartbeat(req)`.
    Heartbeat,
}

/// A `reply` block: the frame's defaults plus assignments.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Error or heartbeat.
    pub kind: ReplyKind,
    /// The request parameter's name.
    pub req: Ident,
    /// The error parameter's name (error replies only).
    pub err: Option<Ident>,
    /// The frame type built.
    pub target: TypeId,
    /// Assignments in order; later ones win.
    pub assigns: Vec<Assign>,
    /// The whole block.
    pub span: Span,
}

/// `path = value` in a reply; the path is relative to the frame.
#[derive(Debug, Clone)]
pub struct Assign {
    /// The field written.
    pub target: FieldRef,
    /// The value, already coerced to the field's type.
    pub value: Expr,
    /// The whole assignment.
    pub span: Span,
}
