//! What Terraform knows of a value it does not know yet: cty's refinements (not null, a string's
//! prefix, a number's bounds, a collection's length bounds), sent in msgpack extension 12 where
//! a plain unknown is extension 0. The provider keeps them on the values it passes through, so
//! that an expression over them stays known at plan time: with `name = "client-${x.id}"`,
//! `startswith(dbaas_database.a.name, "client-")` is `true` in the plan, not "known after apply".

use super::path::AttributePath;
use super::value::{CodecError, Number, Type, msgpack_decode_number, msgpack_number};

/// cty's extension type for an unknown value with refinements.
pub(super) const REFINED_UNKNOWN_EXT: i8 = 12;
/// cty refuses a larger payload as an attempt to make it allocate; so does this decoder.
const MAX_PAYLOAD: usize = 1024;

/// The payload's keys, small integers to keep it compact.
const NULLNESS: i64 = 1;
const STRING_PREFIX: i64 = 2;
const NUMBER_LOWER: i64 = 3;
const NUMBER_UPPER: i64 = 4;
const LENGTH_LOWER: i64 = 5;
const LENGTH_UPPER: i64 = 6;

/// The refinements of one unknown value. Each narrows what the value can turn out to be; none
/// set means "any value of its type", which goes on the wire as the plain unknown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refinements {
    /// The value will not be null.
    pub not_null: bool,
    /// A string: what it will start with.
    pub string_prefix: Option<String>,
    /// A number: the least it can be.
    pub number_lower: Option<Bound>,
    /// A number: the most it can be.
    pub number_upper: Option<Bound>,
    /// A list, set or map: the fewest elements it can have.
    pub length_lower: Option<u64>,
    /// A list, set or map: the most elements it can have.
    pub length_upper: Option<u64>,
}

/// One end of a number's range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    /// The bound.
    pub value: Number,
    /// Whether the value can be the bound itself.
    pub inclusive: bool,
}

impl Refinements {
    /// Whether nothing is known (the plain unknown).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Reads an extension-12 payload for a value of type `ty`, as cty does: a key that cannot
    /// apply to `ty` is an error, a key this decoder does not know (a later Terraform's) is
    /// skipped, and a dynamic value has no refinements.
    pub(super) fn decode(
        payload: &[u8],
        ty: &Type,
        path: &AttributePath,
    ) -> Result<Self, CodecError> {
        use rmpv::Value as M;
        let fail = |what: &str| CodecError {
            path: path.clone(),
            message: format!("invalid refinements of an unknown value: {what}"),
        };
        if payload.len() > MAX_PAYLOAD {
            return Err(fail("more than 1024 bytes"));
        }
        let mut reader = payload;
        let M::Map(entries) =
            rmpv::decode::read_value(&mut reader).map_err(|_| fail("not a map"))?
        else {
            return Err(fail("not a map"));
        };
        let mut refinements = Self::default();
        if *ty == Type::Dynamic {
            return Ok(refinements);
        }
        let collection = matches!(ty, Type::List(_) | Type::Set(_) | Type::Map(_));
        for (key, value) in &entries {
            let key = key
                .as_i64()
                .ok_or_else(|| fail("a key is not an integer"))?;
            match key {
                NULLNESS => {
                    let is_null = value
                        .as_bool()
                        .ok_or_else(|| fail("nullness is not a bool"))?;
                    // "Will be null" would have made the value a known null: only "not null"
                    // is ever sent.
                    refinements.not_null = !is_null;
                }
                STRING_PREFIX => {
                    if *ty != Type::String {
                        return Err(fail("a string prefix for a value that is not a string"));
                    }
                    let prefix = value
                        .as_str()
                        .ok_or_else(|| fail("the string prefix is not a UTF-8 string"))?;
                    refinements.string_prefix = Some(prefix.to_string());
                }
                NUMBER_LOWER | NUMBER_UPPER => {
                    if *ty != Type::Number {
                        return Err(fail("a number bound for a value that is not a number"));
                    }
                    let bound = match value {
                        M::Array(pair) if pair.len() == 2 => Bound {
                            value: msgpack_decode_number(&pair[0], path)
                                .map_err(|_| fail("a number bound is not a number"))?,
                            inclusive: pair[1].as_bool().ok_or_else(|| {
                                fail("a number bound's inclusivity is not a bool")
                            })?,
                        },
                        _ => return Err(fail("a number bound is not a [number, bool] array")),
                    };
                    if key == NUMBER_LOWER {
                        refinements.number_lower = Some(bound);
                    } else {
                        refinements.number_upper = Some(bound);
                    }
                }
                LENGTH_LOWER | LENGTH_UPPER => {
                    if !collection {
                        return Err(fail("a length bound for a value that is not a collection"));
                    }
                    let length = value
                        .as_u64()
                        .ok_or_else(|| fail("a length bound is not a non-negative integer"))?;
                    if key == LENGTH_LOWER {
                        refinements.length_lower = Some(length);
                    } else {
                        refinements.length_upper = Some(length);
                    }
                }
                _ => {}
            }
        }
        Ok(refinements)
    }

    /// The extension-12 payload: a map of the refinements set, in key order.
    pub(super) fn encode(&self) -> Vec<u8> {
        use rmpv::Value as M;
        let bound = |b: &Bound| M::Array(vec![msgpack_number(&b.value), M::Boolean(b.inclusive)]);
        let mut entries = Vec::new();
        if self.not_null {
            entries.push((M::from(NULLNESS), M::Boolean(false)));
        }
        if let Some(prefix) = &self.string_prefix {
            entries.push((M::from(STRING_PREFIX), M::from(prefix.as_str())));
        }
        if let Some(lower) = &self.number_lower {
            entries.push((M::from(NUMBER_LOWER), bound(lower)));
        }
        if let Some(upper) = &self.number_upper {
            entries.push((M::from(NUMBER_UPPER), bound(upper)));
        }
        if let Some(lower) = self.length_lower {
            entries.push((M::from(LENGTH_LOWER), M::from(lower)));
        }
        if let Some(upper) = self.length_upper {
            entries.push((M::from(LENGTH_UPPER), M::from(upper)));
        }
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = rmpv::encode::write_value(&mut out, &M::Map(entries));
        out
    }
}
