//! deku implementations of the three formats, written the way deku's documentation shows:
//! derived readers and writers, `bits` for bit groups, `temp`/`temp_value` for derived
//! lengths, `bytes_read` for a list measured in bytes, custom reader/writer functions for
//! length-prefixed text (deku has no `String` of its own). deku reads into owned values.

pub mod awesomerpc;
pub mod dubbo;
pub mod thrift;

use std::io::Cursor;

use deku::ctx::{Endian, ReadExact};
use deku::no_std_io::{Read, Seek};
use deku::prelude::*;

/// Reads a `T` that must fill `frame` exactly.
#[inline]
fn read_exact<'a, T: DekuContainerRead<'a>>(frame: &'a [u8]) -> Result<T, DekuError> {
    let ((rest, bits), value) = T::from_bytes((frame, 0))?;
    if !rest.is_empty() || bits != 0 {
        return Err(DekuError::Parse("trailing bytes after the frame".into()));
    }
    Ok(value)
}

/// Writes `value` into `out` (appending), the way deku writes to any `Write + Seek`.
#[inline]
fn write_into<T: DekuWriter>(value: &T, out: &mut Vec<u8>) -> Result<(), DekuError> {
    let mut cursor = Cursor::new(out);
    cursor.set_position(cursor.get_ref().len() as u64);
    let mut writer = Writer::new(&mut cursor);
    value.to_writer(&mut writer, ())?;
    writer.finalize()
}

/// Reads `len` bytes of UTF-8 text.
fn read_text<R: Read + Seek>(reader: &mut Reader<R>, len: usize) -> Result<String, DekuError> {
    let bytes = Vec::<u8>::from_reader_with_ctx(reader, ReadExact(len))?;
    String::from_utf8(bytes).map_err(|_| DekuError::Parse("invalid UTF-8".into()))
}

/// Reads text with a u8 length prefix.
fn read_str8<R: Read + Seek>(reader: &mut Reader<R>) -> Result<String, DekuError> {
    let len = u8::from_reader_with_ctx(reader, Endian::Big)?;
    read_text(reader, usize::from(len))
}

/// Reads text with a big-endian u16 length prefix.
fn read_str16<R: Read + Seek>(reader: &mut Reader<R>) -> Result<String, DekuError> {
    let len = u16::from_reader_with_ctx(reader, Endian::Big)?;
    read_text(reader, usize::from(len))
}

/// Reads text with a big-endian u32 length prefix.
fn read_str32<R: Read + Seek>(reader: &mut Reader<R>) -> Result<String, DekuError> {
    let len = u32::from_reader_with_ctx(reader, Endian::Big)?;
    read_text(reader, len as usize)
}

/// Writes text with a u8 length prefix.
fn write_str8<W: deku::no_std_io::Write + Seek>(
    writer: &mut Writer<W>,
    s: &str,
) -> Result<(), DekuError> {
    let len = u8::try_from(s.len()).map_err(|_| DekuError::InvalidParam("text too long".into()))?;
    len.to_writer(writer, Endian::Big)?;
    writer.write_bytes(s.as_bytes())
}

/// Writes text with a big-endian u16 length prefix.
fn write_str16<W: deku::no_std_io::Write + Seek>(
    writer: &mut Writer<W>,
    s: &str,
) -> Result<(), DekuError> {
    let len =
        u16::try_from(s.len()).map_err(|_| DekuError::InvalidParam("text too long".into()))?;
    len.to_writer(writer, Endian::Big)?;
    writer.write_bytes(s.as_bytes())
}

/// Writes text with a big-endian u32 length prefix.
fn write_str32<W: deku::no_std_io::Write + Seek>(
    writer: &mut Writer<W>,
    s: &str,
) -> Result<(), DekuError> {
    let len =
        u32::try_from(s.len()).map_err(|_| DekuError::InvalidParam("text too long".into()))?;
    len.to_writer(writer, Endian::Big)?;
    writer.write_bytes(s.as_bytes())
}
