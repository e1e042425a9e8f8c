//! Expression arithmetic for generated code: exact `i128` maths where overflow,
//! division by zero and absent values give `None` instead of a panic.

use crate::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};

/// `a + b`.
#[inline]
pub fn add(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    a?.checked_add(b?)
}

/// `a - b`.
#[inline]
pub fn sub(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    a?.checked_sub(b?)
}

/// `a * b`.
#[inline]
pub fn mul(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    a?.checked_mul(b?)
}

/// `a / b`; `None` when `b` is zero.
#[inline]
pub fn div(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    a?.checked_div(b?)
}

/// `a % b`; `None` when `b` is zero.
#[inline]
pub fn rem(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    a?.checked_rem(b?)
}

/// `a << b`; `None` when bits would be lost.
#[inline]
pub fn shl(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    let (a, b) = (a?, u32::try_from(b?).ok()?);
    let r = a.checked_shl(b)?;
    (r >> b == a).then_some(r)
}

/// `a >> b`.
#[inline]
pub fn shr(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    a?.checked_shr(u32::try_from(b?).ok()?)
}

/// `a & b`.
#[inline]
pub fn bitand(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    Some(a? & b?)
}

/// `a | b`.
#[inline]
pub fn bitor(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    Some(a? | b?)
}

/// `a ^ b`.
#[inline]
pub fn bitxor(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    Some(a? ^ b?)
}

/// `-a`.
#[inline]
pub fn neg(a: Option<i128>) -> Option<i128> {
    a?.checked_neg()
}

/// `!a`.
#[inline]
pub fn not(a: Option<bool>) -> Option<bool> {
    a.map(|a| !a)
}

/// `a == b`.
#[inline]
pub fn eq<T: PartialEq>(a: Option<T>, b: Option<T>) -> Option<bool> {
    Some(a? == b?)
}

/// `a != b`.
#[inline]
pub fn ne<T: PartialEq>(a: Option<T>, b: Option<T>) -> Option<bool> {
    Some(a? != b?)
}

/// `a < b`.
#[inline]
pub fn lt<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<bool> {
    Some(a? < b?)
}

/// `a <= b`.
#[inline]
pub fn le<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<bool> {
    Some(a? <= b?)
}

/// `a > b`.
#[inline]
pub fn gt<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<bool> {
    Some(a? > b?)
}

/// `a >= b`.
#[inline]
pub fn ge<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<bool> {
    Some(a? >= b?)
}

/// `a && b`: false wins over an absent operand.
#[inline]
pub fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// `a || b`: true wins over an absent operand.
#[inline]
pub fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// Converts a computed value into a field's integer type.
#[inline]
pub fn fit<T: TryFrom<i128>>(value: i128, max: i128) -> Result<T, EncodeError> {
    T::try_from(value).map_err(|_| EncodeError::new(EncodeErrorKind::OutOfRange { value, max }))
}

/// What a decoder reports when an expression has no value.
const UNDEFINED: &str = "no value (overflow, division by zero or an absent field)";

/// The error of a one-pass check (`List::validated_with`) that did not take a list.
/// Never reported: the caller starts over with the checking decode, which says what
/// is wrong.
#[cold]
pub fn unchecked() -> DecodeError {
    DecodeError::new(
        0,
        DecodeErrorKind::Constraint {
            rule: "the list passes the one-pass check",
            found: UNDEFINED.into(),
        },
    )
}

/// The value of an expression while decoding, or an error at `offset` quoting `rule`.
#[inline]
pub fn decoded<T>(value: Option<T>, offset: usize, rule: &'static str) -> Result<T, DecodeError> {
    value.ok_or_else(|| {
        DecodeError::new(
            offset,
            DecodeErrorKind::Constraint {
                rule,
                found: UNDEFINED.into(),
            },
        )
    })
}

/// The value of an expression while encoding, or an error quoting `rule`.
#[inline]
pub fn encoded<T>(value: Option<T>, rule: &'static str) -> Result<T, EncodeError> {
    value.ok_or_else(|| {
        EncodeError::new(EncodeErrorKind::Constraint {
            rule,
            found: UNDEFINED.into(),
        })
    })
}

/// A request property for a reply field: empty when the request lacks it, an
/// error quoting `rule` when the field cannot hold it.
pub fn property<'a, T: crate::repr::FromProperty<'a> + Default>(
    value: Option<&'a crate::metadata::Value>,
    rule: &'static str,
) -> Result<T, EncodeError> {
    let Some(value) = value else {
        return Ok(T::default());
    };
    T::from_property(value).ok_or_else(|| {
        EncodeError::new(EncodeErrorKind::Constraint {
            rule,
            found: "a number, which borrowed text cannot hold".into(),
        })
    })
}

/// A count or length from an expression, rejecting negative values.
#[inline]
pub fn count(value: i128, offset: usize) -> Result<u64, DecodeError> {
    u64::try_from(value)
        .map_err(|_| DecodeError::new(offset, DecodeErrorKind::BadLength { found: value }))
}

/// CRC-32 (IEEE) of `bytes`.
pub fn crc32(bytes: &[u8]) -> i128 {
    crc32fast::hash(bytes).into()
}

/// Sum of `bytes` modulo 256.
pub fn sum8(bytes: &[u8]) -> i128 {
    bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b)).into()
}

/// XOR of `bytes`.
pub fn xor8(bytes: &[u8]) -> i128 {
    bytes.iter().fold(0u8, |a, b| a ^ b).into()
}

/// Adds a field name to a decode error's path, unless the error is outside any field.
#[cold]
pub fn in_field(e: DecodeError, name: &'static str) -> DecodeError {
    if name.is_empty() { e } else { e.in_field(name) }
}

/// Adds a field name to an encode error's path, unless the error is outside any field.
#[cold]
pub fn in_field_enc(e: EncodeError, name: &'static str) -> EncodeError {
    if name.is_empty() { e } else { e.in_field(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_and_zero_division_are_none() {
        assert_eq!(add(Some(i128::MAX), Some(1)), None);
        assert_eq!(div(Some(1), Some(0)), None);
        assert_eq!(rem(Some(1), Some(0)), None);
        assert_eq!(shl(Some(1), Some(200)), None);
        assert_eq!(shl(Some(-1), Some(127)), Some(i128::MIN));
        assert_eq!(shl(Some(3), Some(127)), None);
        assert_eq!(sub(Some(5), Some(7)), Some(-2));
    }

    #[test]
    fn logic_with_absent_values() {
        assert_eq!(and(None, Some(false)), Some(false));
        assert_eq!(or(None, Some(true)), Some(true));
        assert_eq!(and(None, Some(true)), None);
        assert_eq!(eq(Some("a"), Some("a")), Some(true));
        assert_eq!(lt::<i128>(None, Some(1)), None);
    }

    #[test]
    fn fit_checks_range() {
        assert_eq!(fit::<u8>(255, 255), Ok(255u8));
        assert!(fit::<u8>(256, 255).is_err());
        assert!(fit::<u8>(-1, 255).is_err());
    }
}
