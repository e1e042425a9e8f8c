//! Typed decode and encode errors: what went wrong, at which byte, in which field.

use std::fmt;

/// One step of a field path such as `headers[3].key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSeg {
    /// A named field.
    Field(&'static str),
    /// An element of a list.
    Index(usize),
}

/// The field path of an error, from the frame down to the failing field.
///
/// Stored innermost first because errors are built at the failing field and
/// gain their parents while they travel up the decoder's call stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(Vec<PathSeg>);

impl FieldPath {
    /// The segments from the outermost field to the innermost.
    pub fn segments(&self) -> impl Iterator<Item = &PathSeg> {
        self.0.iter().rev()
    }

    /// True when the error is not inside any named field.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push_outer(&mut self, seg: PathSeg) {
        self.0.push(seg);
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segments().enumerate() {
            match seg {
                PathSeg::Field(name) if i == 0 => f.write_str(name)?,
                PathSeg::Field(name) => write!(f, ".{name}")?,
                PathSeg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The frame ends before the field does.
    Truncated {
        /// Bytes the field needs from its offset.
        needed: u64,
        /// Bytes left in the frame (or enclosing window) at that offset.
        available: u64,
    },
    /// A constant field holds another value.
    Magic {
        /// The constant from the schema.
        expected: u64,
        /// The value on the wire.
        found: u64,
    },
    /// A `where` constraint does not hold.
    Constraint {
        /// The constraint as written in the schema.
        rule: &'static str,
        /// The field's value, rendered.
        found: String,
    },
    /// A value that names no variant of a closed enum.
    Enum {
        /// The enum's name.
        name: &'static str,
        /// The raw value on the wire.
        found: u64,
    },
    /// A derived field disagrees with the value computed from the frame.
    Mismatch {
        /// The derivation as written in the schema.
        rule: &'static str,
        /// The value computed from the rest of the frame.
        expected: i128,
        /// The value on the wire.
        found: i128,
    },
    /// Text that is not UTF-8.
    Utf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// A bool byte other than 0 or 1.
    Bool {
        /// The byte on the wire.
        found: u8,
    },
    /// A NUL-terminated field without its NUL.
    MissingNul,
    /// A varint longer than ten bytes or larger than 64 bits.
    Varint,
    /// Bytes left over after the last field of a sized region.
    Trailing {
        /// How many bytes were left.
        extra: u64,
    },
    /// A union tag that matches no arm, and the union has no default arm.
    NoArm {
        /// The tag value, rendered.
        found: String,
    },
    /// A length or count expression that is negative or overflows.
    BadLength {
        /// The value of the expression.
        found: i128,
    },
    /// A checksum that does not match the covered bytes.
    Checksum {
        /// The checksum computed over the frame.
        expected: u64,
        /// The checksum on the wire.
        found: u64,
    },
    /// A frame longer than the codec accepts.
    FrameTooLarge {
        /// The frame's length as announced by its header.
        len: u64,
        /// The largest length accepted.
        max: u64,
    },
    /// An extern field's decoder rejected the bytes.
    Extern {
        /// The extern decoder's message.
        message: String,
    },
}

/// A frame that could not be decoded: where, in which field, and why.
///
/// Boxed so that decoders return small `Result`s on the hot path; errors are cold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(Box<DecodeErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct DecodeErrorInner {
    offset: usize,
    path: FieldPath,
    kind: DecodeErrorKind,
}

impl DecodeError {
    /// An error at `offset` bytes from the start of the frame.
    #[cold]
    pub fn new(offset: usize, kind: DecodeErrorKind) -> Self {
        DecodeError(Box::new(DecodeErrorInner {
            offset,
            path: FieldPath::default(),
            kind,
        }))
    }

    /// Adds the enclosing field's name to the path.
    #[must_use]
    #[cold]
    pub fn in_field(mut self, name: &'static str) -> Self {
        self.0.path.push_outer(PathSeg::Field(name));
        self
    }

    /// Adds the enclosing list index to the path.
    #[must_use]
    #[cold]
    pub fn at_index(mut self, index: usize) -> Self {
        self.0.path.push_outer(PathSeg::Index(index));
        self
    }

    /// Byte offset from the start of the frame.
    pub fn offset(&self) -> usize {
        self.0.offset
    }

    /// The field path, such as `headers[3].key`.
    pub fn path(&self) -> &FieldPath {
        &self.0.path
    }

    /// What went wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.0.kind
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeErrorKind::*;
        match self {
            Truncated { needed, available } => {
                write!(f, "expected {needed} bytes, found {available}")
            }
            Magic { expected, found } => write!(f, "expected {expected:#x}, found {found:#x}"),
            Constraint { rule, found } => write!(f, "expected `{rule}`, found {found}"),
            Enum { name, found } => write!(f, "expected a `{name}` value, found {found}"),
            Mismatch {
                rule,
                expected,
                found,
            } => write!(f, "expected {expected} (`{rule}`), found {found}"),
            Utf8 { valid_up_to } => {
                write!(
                    f,
                    "expected UTF-8 text, found an invalid byte after {valid_up_to} bytes"
                )
            }
            Bool { found } => write!(f, "expected a bool (0 or 1), found {found}"),
            MissingNul => f.write_str("expected a NUL terminator, found the end of the data"),
            Varint => f.write_str("expected a varint of at most 64 bits, found a longer one"),
            Trailing { extra } => write!(
                f,
                "expected the end of the region, found {extra} more bytes"
            ),
            NoArm { found } => write!(f, "expected a tag that selects an arm, found {found}"),
            BadLength { found } => write!(
                f,
                "expected a length between 0 and the frame size, found {found}"
            ),
            Checksum { expected, found } => {
                write!(f, "expected checksum {expected:#x}, found {found:#x}")
            }
            FrameTooLarge { len, max } => {
                write!(
                    f,
                    "expected a frame of at most {max} bytes, found one of {len}"
                )
            }
            Extern { message } => f.write_str(message),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}", self.offset())?;
        if !self.path().is_empty() {
            write!(f, " in `{}`", self.path())?;
        }
        write!(f, ": {}", self.kind())
    }
}

impl std::error::Error for DecodeError {}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeErrorKind {
    /// A value that does not fit its field on the wire.
    OutOfRange {
        /// The value.
        value: i128,
        /// The largest value the field holds.
        max: i128,
    },
    /// A `where` constraint does not hold.
    Constraint {
        /// The constraint as written in the schema.
        rule: &'static str,
        /// The field's value, rendered.
        found: String,
    },
    /// A conditional field is present when its condition is false, or the reverse.
    Condition {
        /// The condition as written in the schema.
        rule: &'static str,
        /// Whether the condition holds for the value being encoded.
        holds: bool,
    },
    /// A union value whose arm disagrees with its tag.
    UnionArm {
        /// The union's tag expression as written in the schema.
        tag: &'static str,
    },
    /// Two lists that share a count field have different lengths.
    CountMismatch {
        /// The count already written.
        expected: u64,
        /// The other list's length.
        found: u64,
    },
    /// A text value holding a NUL byte in a NUL-terminated field.
    InteriorNul,
    /// The codec has no such operation (for example no heartbeat reply).
    Unsupported(&'static str),
    /// The frame being re-encoded could not be decoded.
    Decode(DecodeError),
    /// An extern field's encoder rejected the value.
    Extern {
        /// The extern encoder's message.
        message: String,
    },
}

/// A value that could not be encoded: in which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(Box<EncodeErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct EncodeErrorInner {
    path: FieldPath,
    kind: EncodeErrorKind,
}

impl EncodeError {
    /// An error of the given kind, not yet inside a field.
    #[cold]
    pub fn new(kind: EncodeErrorKind) -> Self {
        EncodeError(Box::new(EncodeErrorInner {
            path: FieldPath::default(),
            kind,
        }))
    }

    /// Adds the enclosing field's name to the path.
    #[must_use]
    #[cold]
    pub fn in_field(mut self, name: &'static str) -> Self {
        self.0.path.push_outer(PathSeg::Field(name));
        self
    }

    /// Adds the enclosing list index to the path.
    #[must_use]
    #[cold]
    pub fn at_index(mut self, index: usize) -> Self {
        self.0.path.push_outer(PathSeg::Index(index));
        self
    }

    /// The field path, such as `headers[3].key`.
    pub fn path(&self) -> &FieldPath {
        &self.0.path
    }

    /// What went wrong.
    pub fn kind(&self) -> &EncodeErrorKind {
        &self.0.kind
    }
}

impl From<DecodeError> for EncodeError {
    fn from(err: DecodeError) -> Self {
        EncodeError::new(EncodeErrorKind::Decode(err))
    }
}

impl fmt::Display for EncodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EncodeErrorKind::*;
        match self {
            OutOfRange { value, max } => write!(f, "{value} does not fit (at most {max})"),
            Constraint { rule, found } => write!(f, "expected `{rule}`, found {found}"),
            Condition { rule, holds: true } => {
                write!(f, "the field is missing but `{rule}` holds")
            }
            Condition { rule, holds: false } => {
                write!(f, "the field is present but `{rule}` does not hold")
            }
            UnionArm { tag } => write!(f, "the chosen arm does not match the tag `{tag}`"),
            CountMismatch { expected, found } => {
                write!(
                    f,
                    "lists sharing a count have {expected} and {found} elements"
                )
            }
            InteriorNul => f.write_str("text for a NUL-terminated field contains a NUL byte"),
            Unsupported(what) => write!(f, "this codec has no {what}"),
            Decode(err) => write!(f, "the frame does not decode: {err}"),
            Extern { message } => f.write_str(message),
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path().is_empty() {
            write!(f, "in `{}`: ", self.path())?;
        }
        write!(f, "{}", self.kind())
    }
}

impl std::error::Error for EncodeError {}

/// Either error, for APIs (such as the tokio codecs) that can fail both ways or on I/O.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A frame did not decode.
    Decode(DecodeError),
    /// A value did not encode.
    Encode(EncodeError),
    /// The transport failed.
    Io(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Decode(e) => write!(f, "decode error {e}"),
            Error::Encode(e) => write!(f, "encode error {e}"),
            Error::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Decode(e) => Some(e),
            Error::Encode(e) => Some(e),
            Error::Io(e) => Some(e),
        }
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::Encode(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_renders_outermost_first() {
        let err = DecodeError::new(17, DecodeErrorKind::Utf8 { valid_up_to: 2 })
            .in_field("key")
            .at_index(3)
            .in_field("headers");
        assert_eq!(err.path().to_string(), "headers[3].key");
        assert_eq!(
            err.to_string(),
            "at byte 17 in `headers[3].key`: expected UTF-8 text, found an invalid byte after 2 bytes"
        );
    }

    #[test]
    fn error_without_path_omits_it() {
        let err = DecodeError::new(
            0,
            DecodeErrorKind::Magic {
                expected: 0xa1b2,
                found: 0,
            },
        );
        assert_eq!(err.to_string(), "at byte 0: expected 0xa1b2, found 0x0");
    }

    #[test]
    fn encode_error_names_field() {
        let err = EncodeError::new(EncodeErrorKind::OutOfRange {
            value: 300,
            max: 255,
        })
        .in_field("len");
        assert_eq!(err.to_string(), "in `len`: 300 does not fit (at most 255)");
    }
}
