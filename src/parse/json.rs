//! Strict JSON reading for [`super`]: objects only where objects belong, and
//! a decision that any consumer's parser can read back.

use super::ParseError;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// Parses `raw` into `T` if it is a JSON object (see `super::parse_delivery`).
pub(super) fn object<'a, T: Deserialize<'a>>(
    raw: &'a RawValue,
    what: &str,
) -> Result<T, ParseError> {
    if !raw.get().starts_with('{') {
        return Err(ParseError::InvalidPayload(format!(
            "{what} is not a JSON object"
        )));
    }
    serde_json::from_str(raw.get()).map_err(|e| ParseError::InvalidPayload(short(&e)))
}

/// The decision's exact text, once it is known to be an object that any JSON
/// parser can read back: no lone surrogate, no number out of range, no
/// nesting deeper than 128. The raw pass-through alone checks none of these,
/// and a message its consumers cannot parse would be an outcome lost.
pub(super) fn decision(raw: Box<RawValue>) -> Result<String, ParseError> {
    if raw.get().starts_with('{') && serde_json::from_str::<Readable>(raw.get()).is_ok() {
        Ok(String::from(Box::<str>::from(raw)))
    } else {
        Err(ParseError::InvalidDecision)
    }
}

/// Any JSON value that a parser can read back, walked without building it:
/// strings are decoded (a lone surrogate fails) and numbers converted (one out
/// of range fails), at the deserializer's depth limit, with no tree allocated.
struct Readable;

impl<'de> Deserialize<'de> for Readable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Readable)
    }
}

impl<'de> serde::de::Visitor<'de> for Readable {
    type Value = Readable;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_str<E>(self, _: &str) -> Result<Readable, E> {
        Ok(Readable)
    }
    fn visit_unit<E>(self) -> Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Readable, A::Error> {
        while seq.next_element::<Readable>()?.is_some() {}
        Ok(Readable)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Readable, A::Error> {
        while map.next_entry::<Readable, Readable>()?.is_some() {}
        Ok(Readable)
    }
}

/// A serde error message without the input echoed back, cut to a sane size.
pub(super) fn short(e: &serde_json::Error) -> String {
    let mut s = e.to_string();
    s.truncate(120);
    s
}

/// A `T` read from a JSON object only: serde also reads a struct from an
/// array, field by field, a guess we refuse. It guards the one-pass read;
/// when it refuses, the field-by-field read refuses too, and [`object`] says
/// which part was not an object.
pub(super) struct Object<T>(pub(super) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Fields<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(Fields(std::marker::PhantomData))
            .map(Object)
    }
}

/// The identity field that `first` or `second` names; refused when they
/// name two different values.
pub(super) fn one_of(
    first: Option<String>,
    second: Option<String>,
    field: &'static str,
) -> Result<Option<String>, ParseError> {
    match (first, second) {
        (Some(a), Some(b)) if a != b => Err(ParseError::MixedIdentity(field)),
        (a, b) => Ok(a.or(b)),
    }
}
