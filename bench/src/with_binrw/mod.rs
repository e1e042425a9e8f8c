//! binrw implementations of the three formats, written the way binrw's documentation shows:
//! `#[binrw]` structs, `calc` for derived lengths, `map`/`try_map` for bit groups and text,
//! `map_stream` + `take_seek` for a list measured in bytes. binrw reads into owned values.

pub mod awesomerpc;
pub mod dubbo;
pub mod thrift;

use binrw::io::Cursor;
use binrw::{BinRead, BinResult, BinWrite};

/// Reads a `T` that must fill `frame` exactly (binrw itself ignores trailing bytes).
#[inline]
fn read_exact<T>(frame: &[u8]) -> BinResult<T>
where
    T: BinRead,
    for<'a> T::Args<'a>: Default,
{
    let mut cursor = Cursor::new(frame);
    let value = T::read_be(&mut cursor)?;
    if cursor.position() != frame.len() as u64 {
        return Err(binrw::Error::AssertFail {
            pos: cursor.position(),
            message: "trailing bytes after the frame".to_owned(),
        });
    }
    Ok(value)
}

/// Writes `value` into `out` (appending), the way binrw writes to any `Write + Seek`.
#[inline]
fn write_into<T>(value: &T, out: &mut Vec<u8>) -> BinResult<()>
where
    T: BinWrite,
    for<'a> T::Args<'a>: Default,
{
    let mut cursor = Cursor::new(out);
    cursor.set_position(cursor.get_ref().len() as u64);
    value.write_be(&mut cursor)
}

/// Why a UTF-8 conversion failed, as a binrw custom error.
fn utf8(bytes: Vec<u8>) -> Result<String, std::string::FromUtf8Error> {
    String::from_utf8(bytes)
}
