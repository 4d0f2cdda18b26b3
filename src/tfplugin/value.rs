//! Values as Terraform sees them (null, unknown or known), their types, and the two wire
//! codecs: msgpack (every `DynamicValue` we send) and JSON (stored state, `RawState.json`).
//!
//! Both codecs are driven by the schema's [`Type`], as in go-cty's `cty/msgpack` and
//! `cty/json`: the bytes alone do not say whether an array is a list, a set or a tuple.
//! A [`Value`] carries no type of its own; where the schema says `dynamic`, the codecs infer
//! one from the value ([`Value::infer_type`]).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::tfplugin::path::{AttributePath, PathStep};
use crate::tfplugin::refinement::{REFINED_UNKNOWN_EXT, Refinements};

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/// A Terraform (cty) type, as carried in `Schema.Attribute.type` bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// A Unicode string.
    String,
    /// An arbitrary-precision decimal number.
    Number,
    /// `true` or `false`.
    Bool,
    /// Any type, decided at run time; values travel with their type on the wire.
    Dynamic,
    /// An ordered sequence of elements of one type.
    List(Box<Type>),
    /// An unordered collection of distinct elements of one type.
    Set(Box<Type>),
    /// String keys to elements of one type.
    Map(Box<Type>),
    /// A fixed set of named attributes, each with its own type.
    Object(BTreeMap<String, Type>),
    /// A fixed-length sequence, each position with its own type.
    Tuple(Vec<Type>),
}

impl Type {
    /// `list(element)`.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// `set(element)`.
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// `map(element)`.
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// `object({...})` from (name, type) pairs.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(
            attributes
                .into_iter()
                .map(|(name, ty)| (name.into(), ty))
                .collect(),
        )
    }

    /// `tuple([...])`.
    pub fn tuple(elements: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(elements.into_iter().collect())
    }

    /// Whether `dynamic` appears anywhere in this type; such types cannot be set elements and
    /// change how nested blocks are typed.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::String | Type::Number | Type::Bool => false,
            Type::List(e) | Type::Set(e) | Type::Map(e) => e.has_dynamic(),
            Type::Object(attrs) => attrs.values().any(Type::has_dynamic),
            Type::Tuple(elems) => elems.iter().any(Type::has_dynamic),
        }
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(e) | Type::Set(e) | Type::Map(e) => Some(e),
            _ => None,
        }
    }

    /// The cty JSON form: `"string"`, `["list","string"]`, `["object",{"a":"number"}]`, …
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Type::String => J::from("string"),
            Type::Number => J::from("number"),
            Type::Bool => J::from("bool"),
            Type::Dynamic => J::from("dynamic"),
            Type::List(e) => J::Array(vec![J::from("list"), e.to_json()]),
            Type::Set(e) => J::Array(vec![J::from("set"), e.to_json()]),
            Type::Map(e) => J::Array(vec![J::from("map"), e.to_json()]),
            Type::Object(attrs) => {
                let fields = attrs
                    .iter()
                    .map(|(name, ty)| (name.clone(), ty.to_json()))
                    .collect::<serde_json::Map<_, _>>();
                J::Array(vec![J::from("object"), J::Object(fields)])
            }
            Type::Tuple(elems) => J::Array(vec![
                J::from("tuple"),
                J::Array(elems.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// The compact cty JSON bytes, as put in `Schema.Attribute.type`.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses the cty JSON form. The optional-attributes list that cty may append to an
    /// object type (`["object",{...},["a"]]`) is accepted and ignored: it does not change the
    /// wire encoding.
    pub fn from_json(json: &serde_json::Value) -> Result<Type, CodecError> {
        use serde_json::Value as J;
        let invalid = |why: &str| CodecError::at_root(format!("invalid type {json}: {why}"));
        match json {
            J::String(name) => match name.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(invalid("unknown primitive type")),
            },
            J::Array(parts) => {
                let kind = parts
                    .first()
                    .and_then(J::as_str)
                    .ok_or_else(|| invalid("the first element must be a type kind"))?;
                match (kind, parts.len()) {
                    ("list", 2) => Ok(Type::list(Type::from_json(&parts[1])?)),
                    ("set", 2) => Ok(Type::set(Type::from_json(&parts[1])?)),
                    ("map", 2) => Ok(Type::map(Type::from_json(&parts[1])?)),
                    ("object", 2 | 3) => {
                        let J::Object(fields) = &parts[1] else {
                            return Err(invalid("object attributes must be a JSON object"));
                        };
                        let attrs = fields
                            .iter()
                            .map(|(name, ty)| Ok((name.clone(), Type::from_json(ty)?)))
                            .collect::<Result<BTreeMap<_, _>, CodecError>>()?;
                        if let Some(optional) = parts.get(2) {
                            let names_ok = optional.as_array().is_some_and(|names| {
                                names
                                    .iter()
                                    .all(|n| n.as_str().is_some_and(|n| attrs.contains_key(n)))
                            });
                            if !names_ok {
                                return Err(invalid(
                                    "optional attributes must be a list of attribute names",
                                ));
                            }
                        }
                        Ok(Type::Object(attrs))
                    }
                    ("tuple", 2) => {
                        let J::Array(elems) = &parts[1] else {
                            return Err(invalid("tuple element types must be a JSON array"));
                        };
                        Ok(Type::Tuple(
                            elems
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    _ => Err(invalid("unknown type kind or wrong number of elements")),
                }
            }
            _ => Err(invalid("a type is a string or an array")),
        }
    }

    /// Parses cty JSON type bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, CodecError> {
        let json: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| CodecError::at_root(format!("invalid type JSON: {e}")))?;
        Type::from_json(&json)
    }

    /// "a string", "a list", … for error messages.
    fn with_article(&self) -> &'static str {
        match self {
            Type::String => "a string",
            Type::Number => "a number",
            Type::Bool => "a bool",
            Type::Dynamic => "a dynamic value",
            Type::List(_) => "a list",
            Type::Set(_) => "a set",
            Type::Map(_) => "a map",
            Type::Object(_) => "an object",
            Type::Tuple(_) => "a tuple",
        }
    }
}

/// Friendly names as in Terraform messages: `string`, `list of string`, `object`, …
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(e) => write!(f, "list of {e}"),
            Type::Set(e) => write!(f, "set of {e}"),
            Type::Map(e) => write!(f, "map of {e}"),
            Type::Object(_) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

/// Exponents beyond this are refused when parsing, so arithmetic on them can never overflow.
const MAX_EXPONENT: i64 = i64::MAX / 4;

/// How many zeros `Display` writes out before it switches to exponent notation.
const PLAIN_ZEROS_LIMIT: i64 = 64;

/// An arbitrary-precision decimal number, as Terraform's numbers are (cty uses big floats).
///
/// Always normalised so that equal numbers are equal values: `"1.50" == "1.5"`,
/// `"1e3" == "1000"`, `"-0" == "0"`. It is stored exactly as written in decimal, so `0.1`
/// stays `0.1`: never round it through `f64` when the value must come back bit-for-bit.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    /// Sign; always false for zero, so zero has one representation.
    negative: bool,
    /// Decimal digits of the coefficient, most significant first, without leading or trailing
    /// zeros; empty for zero.
    digits: Vec<u8>,
    /// Power of ten the coefficient is multiplied by; zero for zero.
    exponent: i64,
}

/// Why a text is not a decimal number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid number {text:?}: {reason}")]
pub struct ParseNumberError {
    /// The rejected text (cut short if long), so the message shows what was wrong.
    text: String,
    /// What was wrong with it.
    reason: &'static str,
}

impl ParseNumberError {
    fn new(text: &str, reason: &'static str) -> Self {
        let text = if text.len() > 64 {
            let mut cut = 64;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}…", &text[..cut])
        } else {
            text.to_string()
        };
        Self { text, reason }
    }
}

impl Number {
    /// Zero.
    pub fn zero() -> Self {
        Self {
            negative: false,
            digits: Vec::new(),
            exponent: 0,
        }
    }

    /// Builds the normal form from any coefficient digits (most significant first).
    fn normalized(negative: bool, mut digits: Vec<u8>, exponent: i64) -> Self {
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        let trailing = digits.iter().rev().take_while(|&&d| d == 0).count();
        digits.truncate(digits.len() - trailing);
        if digits.is_empty() {
            return Self::zero();
        }
        let trailing = i64::try_from(trailing).unwrap_or(i64::MAX);
        Self {
            negative,
            digits,
            exponent: exponent.saturating_add(trailing),
        }
    }

    fn from_i128(v: i128) -> Self {
        let mut magnitude = v.unsigned_abs();
        let mut digits = Vec::new();
        while magnitude > 0 {
            digits.push((magnitude % 10) as u8);
            magnitude /= 10;
        }
        digits.reverse();
        Self::normalized(v < 0, digits, 0)
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Whether this is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Whether this is a whole number.
    pub fn is_integer(&self) -> bool {
        self.exponent >= 0
    }

    fn to_i128(&self) -> Option<i128> {
        if self.is_zero() {
            return Some(0);
        }
        if self.exponent < 0 || self.digits.len() as i64 + self.exponent > 39 {
            return None;
        }
        let mut magnitude: i128 = 0;
        for &d in &self.digits {
            magnitude = magnitude.checked_mul(10)?.checked_add(i128::from(d))?;
        }
        for _ in 0..self.exponent {
            magnitude = magnitude.checked_mul(10)?;
        }
        Some(if self.negative { -magnitude } else { magnitude })
    }

    /// The value as an `i64`, if it is a whole number in range.
    pub fn to_i64(&self) -> Option<i64> {
        self.to_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// The value as a `u64`, if it is a whole number in range.
    pub fn to_u64(&self) -> Option<u64> {
        self.to_i128().and_then(|v| u64::try_from(v).ok())
    }

    /// The nearest `f64` (correctly rounded); ±infinity when out of range.
    pub fn to_f64(&self) -> f64 {
        if self.is_zero() {
            return 0.0;
        }
        let sign = if self.negative { -1.0 } else { 1.0 };
        let adjusted = self.exponent + self.digits.len() as i64;
        if adjusted > 400 {
            return sign * f64::INFINITY;
        }
        if adjusted < -400 {
            return sign * 0.0;
        }
        let text = format!(
            "{}{}e{}",
            if self.negative { "-" } else { "" },
            digits_text(&self.digits),
            self.exponent
        );
        text.parse().unwrap_or(sign * f64::NAN)
    }

    /// The shortest decimal that reads back as `value` (what a person expects: `0.1` for
    /// `0.1_f64`); `None` for NaN and infinities. Use for numbers that came from an API as floats.
    pub fn from_f64(value: f64) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        format!("{value:e}").parse().ok()
    }

    /// The exact value of the binary `value` (`0.1_f64` is
    /// `0.1000000000000000055511151231257827021181583404541015625`); `None` for NaN and
    /// infinities. The msgpack decoder uses this so a float Terraform sends comes back the same.
    pub fn from_f64_exact(value: f64) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        let bits = value.to_bits();
        let negative = bits >> 63 == 1;
        let biased_exponent = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1 << 52) - 1);
        let (mantissa, binary_exponent) = if biased_exponent == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1 << 52), biased_exponent - 1075)
        };
        if mantissa == 0 {
            return Some(Self::zero());
        }
        // Work least significant digit first so multiplying can grow the vector at the end.
        let mut digits = Vec::new();
        let mut m = mantissa;
        while m > 0 {
            digits.push((m % 10) as u8);
            m /= 10;
        }
        let exponent = if binary_exponent >= 0 {
            multiply_by_power(&mut digits, 2, binary_exponent as u32);
            0
        } else {
            // m * 2^-k == m * 5^k * 10^-k
            multiply_by_power(&mut digits, 5, (-binary_exponent) as u32);
            binary_exponent
        };
        digits.reverse();
        Some(Self::normalized(negative, digits, exponent))
    }

    /// The `f64` with exactly this value, if there is one (`0.5` yes, `0.1` no). Such numbers
    /// may go on the wire as msgpack floats without changing their value.
    fn to_exact_f64(&self) -> Option<f64> {
        if self.is_zero() {
            return Some(0.0);
        }
        // An exact f64 has at most 767 significant digits, at most 1074 decimals, and is below
        // 10^309; anything outside cannot match, and checking first keeps the work small.
        if self.digits.len() > 800 || self.exponent > 308 || self.exponent < -1100 {
            return None;
        }
        // With k > 0 decimals the coefficient must be divisible by 5^k to be m / 2^k, and it
        // does not end in 0, so it ends in 5.
        if self.exponent < 0 && self.digits.last() != Some(&5) {
            return None;
        }
        let float = self.to_f64();
        (Self::from_f64_exact(float).as_ref() == Some(self)).then_some(float)
    }
}

/// Multiplies a least-significant-first digit vector by `base^count` (base ≤ 10).
fn multiply_by_power(digits: &mut Vec<u8>, base: u64, count: u32) {
    // Multiply by the largest power of `base` that keeps `digit * factor + carry` small.
    let chunk = {
        let mut chunk = 0;
        let mut factor = 1u64;
        while factor * base <= 1_000_000_000 {
            factor *= base;
            chunk += 1;
        }
        chunk
    };
    let mut remaining = count;
    while remaining > 0 {
        let step = remaining.min(chunk);
        remaining -= step;
        let factor = base.pow(step);
        let mut carry = 0u64;
        for digit in digits.iter_mut() {
            let product = u64::from(*digit) * factor + carry;
            *digit = (product % 10) as u8;
            carry = product / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
}

fn digits_text(digits: &[u8]) -> String {
    digits.iter().map(|&d| char::from(b'0' + d)).collect()
}

impl FromStr for Number {
    type Err = ParseNumberError;

    /// Parses decimal text: optional sign, digits with an optional point, optional exponent
    /// (`-12.5`, `.5`, `1e3`, `1.5E-7`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = text.as_bytes();
        let mut i = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut digits = Vec::new();
        let mut decimals: i64 = 0;
        let mut seen_point = false;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'0'..=b'9' => {
                    digits.push(b - b'0');
                    if seen_point {
                        decimals += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if digits.is_empty() {
            return Err(ParseNumberError::new(text, "no digits"));
        }
        let mut exponent: i64 = 0;
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            let exponent_negative = match bytes.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let start = i;
            while let Some(&b) = bytes.get(i) {
                if !b.is_ascii_digit() {
                    break;
                }
                exponent = exponent
                    .checked_mul(10)
                    .and_then(|e| e.checked_add(i64::from(b - b'0')))
                    .filter(|e| *e <= MAX_EXPONENT)
                    .ok_or_else(|| ParseNumberError::new(text, "exponent out of range"))?;
                i += 1;
            }
            if i == start {
                return Err(ParseNumberError::new(text, "exponent has no digits"));
            }
            if exponent_negative {
                exponent = -exponent;
            }
        }
        if i != bytes.len() {
            return Err(ParseNumberError::new(text, "unexpected character"));
        }
        let number = Self::normalized(negative, digits, exponent - decimals);
        if number.exponent.abs() > MAX_EXPONENT {
            return Err(ParseNumberError::new(text, "exponent out of range"));
        }
        Ok(number)
    }
}

/// Plain decimal text (`1000`, `-0.125`), switching to exponent notation (`1.5e100`) only
/// when that would take more than 64 zeros. Terraform and JSON parse both forms.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        if self.negative {
            f.write_str("-")?;
        }
        let digits = digits_text(&self.digits);
        let len = self.digits.len() as i64;
        let e = self.exponent;
        if (0..=PLAIN_ZEROS_LIMIT).contains(&e) {
            f.write_str(&digits)?;
            return f.write_str(&"0".repeat(e as usize));
        }
        if e < 0 {
            let integer_len = len + e;
            if integer_len > 0 {
                let (int_part, frac_part) = digits.split_at(integer_len as usize);
                return write!(f, "{int_part}.{frac_part}");
            }
            if -integer_len <= PLAIN_ZEROS_LIMIT {
                return write!(f, "0.{}{digits}", "0".repeat((-integer_len) as usize));
            }
        }
        let (first, rest) = digits.split_at(1);
        f.write_str(first)?;
        if !rest.is_empty() {
            write!(f, ".{rest}")?;
        }
        write!(f, "e{}", e + len - 1)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |n: &Number| match (n.is_zero(), n.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        if self.is_zero() {
            return Ordering::Equal;
        }
        // Same sign: compare magnitudes by the position of the leading digit, then digit by
        // digit (no trailing zeros, so a strict prefix is the smaller magnitude).
        let magnitude = (self.exponent + self.digits.len() as i64)
            .cmp(&(other.exponent + other.digits.len() as i64))
            .then_with(|| self.digits.cmp(&other.digits));
        if self.negative {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl TryFrom<f64> for Number {
    type Error = ParseNumberError;

    /// Same as [`Number::from_f64`]: the shortest decimal that reads back as `value`.
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::from_f64(value)
            .ok_or_else(|| ParseNumberError::new(&value.to_string(), "not a finite number"))
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Self::from_i128(i128::from(v))
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Self {
        Self::from_i128(i128::from(v))
    }
}

impl From<i32> for Number {
    fn from(v: i32) -> Self {
        Self::from_i128(i128::from(v))
    }
}

impl From<u32> for Number {
    fn from(v: u32) -> Self {
        Self::from_i128(i128::from(v))
    }
}

impl From<usize> for Number {
    fn from(v: usize) -> Self {
        Self::from_i128(v as i128)
    }
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// A Terraform value. Untyped: the schema's [`Type`] says how to read and write it.
///
/// Objects must hold every attribute of their type to conform (use `Null` for unset ones);
/// the encoders are lenient and write a missing attribute as null.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Value {
    /// No value (unset optional attribute, absent block, deleted resource).
    #[default]
    Null,
    /// Not known until apply; with what Terraform knows of it already, if anything
    /// ([`Value::unknown_refined`]).
    Unknown(Option<Box<Refinements>>),
    /// A bool.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// A list: order matters.
    List(Vec<Value>),
    /// A set: order does not matter to Terraform, but is kept here as received.
    Set(Vec<Value>),
    /// A map with string keys.
    Map(BTreeMap<String, Value>),
    /// An object: a resource, a nested block, a nested attribute.
    Object(BTreeMap<String, Value>),
    /// A tuple.
    Tuple(Vec<Value>),
}

/// Shared answer of [`Value::attr`] for missing attributes.
static NULL: Value = Value::Null;

impl Value {
    /// An unknown value of which nothing more is known.
    pub fn unknown() -> Value {
        Value::Unknown(None)
    }

    /// An unknown value with refinements; the plain unknown when there are none.
    pub fn unknown_refined(refinements: Refinements) -> Value {
        if refinements.is_empty() {
            Value::unknown()
        } else {
            Value::Unknown(Some(Box::new(refinements)))
        }
    }

    /// What is known of this unknown value; `None` when it is known or nothing is.
    pub fn refinements(&self) -> Option<&Refinements> {
        match self {
            Value::Unknown(refinements) => refinements.as_deref(),
            _ => None,
        }
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A string value, or null for an empty string (a value the API does not report).
    pub fn string_or_null(s: &str) -> Value {
        if s.is_empty() {
            Value::Null
        } else {
            Value::string(s)
        }
    }

    /// A number value from an integer.
    pub fn number(n: i64) -> Value {
        Value::Number(Number::from(n))
    }

    /// An object value from (name, value) pairs.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(
            attributes
                .into_iter()
                .map(|(name, v)| (name.into(), v))
                .collect(),
        )
    }

    /// A map value from (key, value) pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list value.
    pub fn list(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::List(elements.into_iter().collect())
    }

    /// A set value.
    pub fn set(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::Set(elements.into_iter().collect())
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this is unknown (only the top level; see [`Value::is_wholly_known`]).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// Whether this is not unknown at the top level (it may still contain unknowns).
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// Whether no unknown appears anywhere inside, as core requires after apply and read.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Value::Map(entries) | Value::Object(entries) => {
                entries.values().all(Value::is_wholly_known)
            }
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as `i64`, if this is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::to_i64)
    }

    /// The elements of a list, set or tuple.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a map or the attributes of an object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(entries) | Value::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// An attribute of an object; `Null` when absent or when this is not an object (a null or
    /// unknown block reads as all-null, which is what resource code wants).
    pub fn attr(&self, name: &str) -> &Value {
        match self {
            Value::Object(attrs) => attrs.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// An attribute of an object, to change in place.
    pub fn attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(attrs) => attrs.get_mut(name),
            _ => None,
        }
    }

    /// Sets an attribute. If this is not an object (e.g. `Null` while building a state), it
    /// first becomes an empty object.
    pub fn set_attr(&mut self, name: impl Into<String>, value: Value) {
        if !matches!(self, Value::Object(_)) {
            *self = Value::Object(BTreeMap::new());
        }
        if let Value::Object(attrs) = self {
            attrs.insert(name.into(), value);
        }
    }

    /// The part of this value at `path`, if it exists. Attribute steps read objects, string
    /// keys read maps (and objects), integer keys read lists, tuples and sets (by position).
    pub fn get_path(&self, path: &AttributePath) -> Option<&Value> {
        path.steps
            .iter()
            .try_fold(self, |current, step| match (step, current) {
                (PathStep::Attribute(name), Value::Object(attrs)) => attrs.get(name),
                (PathStep::ElementKeyString(key), Value::Map(m) | Value::Object(m)) => m.get(key),
                (
                    PathStep::ElementKeyInt(index),
                    Value::List(items) | Value::Set(items) | Value::Tuple(items),
                ) => usize::try_from(*index).ok().and_then(|i| items.get(i)),
                _ => None,
            })
    }

    /// The part of this value at `path`, to change in place.
    pub fn get_path_mut(&mut self, path: &AttributePath) -> Option<&mut Value> {
        path.steps
            .iter()
            .try_fold(self, |current, step| match (step, current) {
                (PathStep::Attribute(name), Value::Object(attrs)) => attrs.get_mut(name),
                (PathStep::ElementKeyString(key), Value::Map(m) | Value::Object(m)) => {
                    m.get_mut(key)
                }
                (
                    PathStep::ElementKeyInt(index),
                    Value::List(items) | Value::Set(items) | Value::Tuple(items),
                ) => usize::try_from(*index).ok().and_then(|i| items.get_mut(i)),
                _ => None,
            })
    }

    /// The type this value would be sent with where the schema says `dynamic`: its own
    /// shape, with `dynamic` where it is null or unknown and for the elements of an empty
    /// collection. Fails if the elements of a collection have incompatible types.
    pub fn infer_type(&self) -> Result<Type, CodecError> {
        infer_type(self, &AttributePath::root())
    }

    /// "a string", "a list", … for error messages.
    fn kind_with_article(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "an unknown value",
            Value::Bool(_) => "a bool",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Set(_) => "a set",
            Value::Map(_) => "a map",
            Value::Object(_) => "an object",
            Value::Tuple(_) => "a tuple",
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::number(n)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` becomes `Null`, which is how optional API fields map to state.
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A value does not match its type, or bytes do not decode as the type says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct CodecError {
    /// Where in the value the problem is, so it can become a diagnostic's attribute.
    pub path: AttributePath,
    /// What is wrong there.
    pub message: String,
}

impl CodecError {
    fn new(path: &AttributePath, message: impl Into<String>) -> Self {
        Self {
            path: path.clone(),
            message: message.into(),
        }
    }

    fn at_root(message: impl Into<String>) -> Self {
        Self::new(&AttributePath::root(), message)
    }

    /// The path as cty prints it in messages: `.timeouts.create`, `.roles[2]`, `.tags["x"]`;
    /// empty at the root.
    pub fn path_string(&self) -> String {
        match self.path.steps.first() {
            Some(PathStep::Attribute(_)) => format!(".{}", self.path),
            _ => self.path.to_string(),
        }
    }

    fn render(&self) -> String {
        if self.path.is_root() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path_string(), self.message)
        }
    }
}

fn mismatch(path: &AttributePath, ty: &Type, v: &Value) -> CodecError {
    CodecError::new(
        path,
        format!(
            "{} is required, found {}",
            ty.with_article(),
            v.kind_with_article()
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Type inference and conformance
// ---------------------------------------------------------------------------------------------

fn infer_type(v: &Value, path: &AttributePath) -> Result<Type, CodecError> {
    Ok(match v {
        Value::Null | Value::Unknown(_) => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::list(unify_elements(indexed(items), &Type::Dynamic, path)?),
        Value::Set(items) => Type::set(unify_elements(indexed(items), &Type::Dynamic, path)?),
        Value::Map(entries) => Type::map(unify_elements(keyed(entries), &Type::Dynamic, path)?),
        Value::Object(attrs) => Type::Object(
            attrs
                .iter()
                .map(|(name, a)| Ok((name.clone(), infer_type(a, &path.with_attr(name))?)))
                .collect::<Result<_, CodecError>>()?,
        ),
        Value::Tuple(items) => Type::Tuple(
            items
                .iter()
                .enumerate()
                .map(|(i, e)| infer_type(e, &path.with_index(i as i64)))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn indexed(items: &[Value]) -> impl Iterator<Item = (PathStep, &Value)> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| (PathStep::ElementKeyInt(i as i64), v))
}

fn keyed(entries: &BTreeMap<String, Value>) -> impl Iterator<Item = (PathStep, &Value)> {
    entries
        .iter()
        .map(|(k, v)| (PathStep::ElementKeyString(k.clone()), v))
}

/// The most specific type that both `a` and `b` allow, treating `dynamic` as "anything";
/// `None` when they disagree (e.g. a string and a number).
fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        (Type::Dynamic, other) | (other, Type::Dynamic) => Some(other.clone()),
        (Type::List(x), Type::List(y)) => unify(x, y).map(Type::list),
        (Type::Set(x), Type::Set(y)) => unify(x, y).map(Type::set),
        (Type::Map(x), Type::Map(y)) => unify(x, y).map(Type::map),
        (Type::Object(x), Type::Object(y)) => {
            if x.len() != y.len() {
                return None;
            }
            x.iter()
                .map(|(name, tx)| Some((name.clone(), unify(tx, y.get(name)?)?)))
                .collect::<Option<BTreeMap<_, _>>>()
                .map(Type::Object)
        }
        (Type::Tuple(x), Type::Tuple(y)) => {
            if x.len() != y.len() {
                return None;
            }
            x.iter()
                .zip(y)
                .map(|(tx, ty)| unify(tx, ty))
                .collect::<Option<Vec<_>>>()
                .map(Type::Tuple)
        }
        (x, y) if x == y => Some(x.clone()),
        _ => None,
    }
}

/// One element type for all the elements of a collection: Terraform requires the elements
/// of a list, set or map to share a type even when the schema says `dynamic` for them, so
/// each must be sent with the same type in its dynamic wrapper.
fn unify_elements<'a>(
    items: impl Iterator<Item = (PathStep, &'a Value)>,
    start: &Type,
    path: &AttributePath,
) -> Result<Type, CodecError> {
    let mut acc = start.clone();
    for (step, item) in items {
        let own = infer_type(item, &path.with_step(step))?;
        acc = unify(&acc, &own).ok_or_else(|| {
            CodecError::new(
                path,
                format!("all elements must have the same type, but found both {acc} and {own}"),
            )
        })?;
    }
    Ok(acc)
}

/// The element type to encode a collection's elements with: the schema's element type, made
/// concrete from the elements where it is `dynamic`.
fn resolve_element_type<'a>(
    items: impl Iterator<Item = (PathStep, &'a Value)>,
    schema_element: &Type,
    resolved_element: &Type,
    path: &AttributePath,
) -> Result<Type, CodecError> {
    if schema_element.has_dynamic() {
        unify_elements(items, resolved_element, path)
    } else {
        Ok(schema_element.clone())
    }
}

/// The type written in the dynamic wrapper of `v`: the one resolved from sibling elements
/// when there is one, else the value's own.
fn wrapper_type(v: &Value, resolved: &Type, path: &AttributePath) -> Result<Type, CodecError> {
    let own = infer_type(v, path)?;
    unify(resolved, &own).ok_or_else(|| {
        CodecError::new(
            path,
            format!("a value of type {resolved} is required, found {own}"),
        )
    })
}

/// Checks that `v` matches `ty`, naming the first place where it does not. Null and unknown
/// match every type; objects must hold exactly the attributes of their type; where the type
/// is `dynamic` anything matches, except that the elements of one collection must share a type.
pub fn conforms(v: &Value, ty: &Type) -> Result<(), CodecError> {
    conforms_at(v, ty, &AttributePath::root())
}

fn conforms_at(v: &Value, ty: &Type, path: &AttributePath) -> Result<(), CodecError> {
    match (v, ty) {
        (Value::Null | Value::Unknown(_), _) => Ok(()),
        (_, Type::Dynamic) => infer_type(v, path).map(|_| ()),
        (Value::Bool(_), Type::Bool)
        | (Value::Number(_), Type::Number)
        | (Value::String(_), Type::String) => Ok(()),
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => {
            for (i, item) in items.iter().enumerate() {
                conforms_at(item, element, &path.with_index(i as i64))?;
            }
            resolve_element_type(indexed(items), element, element, path).map(|_| ())
        }
        (Value::Map(entries), Type::Map(element)) => {
            for (key, item) in entries {
                conforms_at(item, element, &path.with_key(key))?;
            }
            resolve_element_type(keyed(entries), element, element, path).map(|_| ())
        }
        (Value::Tuple(items), Type::Tuple(elements)) => {
            if items.len() != elements.len() {
                return Err(CodecError::new(
                    path,
                    format!(
                        "a tuple of length {} is required, found length {}",
                        elements.len(),
                        items.len()
                    ),
                ));
            }
            for (i, (item, element)) in items.iter().zip(elements).enumerate() {
                conforms_at(item, element, &path.with_index(i as i64))?;
            }
            Ok(())
        }
        (Value::Object(attrs), Type::Object(attr_types)) => {
            if let Some(extra) = attrs.keys().find(|name| !attr_types.contains_key(*name)) {
                return Err(CodecError::new(
                    &path.with_attr(extra),
                    "unsupported attribute",
                ));
            }
            for (name, attr_type) in attr_types {
                let attr_path = path.with_attr(name);
                match attrs.get(name) {
                    Some(a) => conforms_at(a, attr_type, &attr_path)?,
                    None => {
                        return Err(CodecError::new(
                            &attr_path,
                            "attribute is missing (use null for an unset attribute)",
                        ));
                    }
                }
            }
            Ok(())
        }
        _ => Err(mismatch(path, ty, v)),
    }
}

/// The resolved type of a collection's elements, when `resolved` has the collection's shape.
fn resolved_element<'a>(resolved: &'a Type, schema_element: &'a Type) -> &'a Type {
    match resolved {
        Type::List(r) | Type::Set(r) | Type::Map(r) => r,
        _ => schema_element,
    }
}

/// The resolved type of an object attribute, when `resolved` is an object.
fn resolved_attr<'a>(resolved: &'a Type, name: &str, schema_attr: &'a Type) -> &'a Type {
    match resolved {
        Type::Object(r) => r.get(name).unwrap_or(schema_attr),
        _ => schema_attr,
    }
}

/// The resolved type of a tuple element, when `resolved` is a tuple of the same length.
fn resolved_tuple_element<'a>(resolved: &'a Type, i: usize, schema_element: &'a Type) -> &'a Type {
    match resolved {
        Type::Tuple(r) => r.get(i).unwrap_or(schema_element),
        _ => schema_element,
    }
}

fn check_object_attrs(
    attrs: &BTreeMap<String, Value>,
    attr_types: &BTreeMap<String, Type>,
    path: &AttributePath,
) -> Result<(), CodecError> {
    match attrs.keys().find(|name| !attr_types.contains_key(*name)) {
        Some(extra) => Err(CodecError::new(
            &path.with_attr(extra),
            "unsupported attribute",
        )),
        None => Ok(()),
    }
}

fn check_tuple_length(
    items: &[Value],
    elements: &[Type],
    path: &AttributePath,
) -> Result<(), CodecError> {
    if items.len() == elements.len() {
        Ok(())
    } else {
        Err(CodecError::new(
            path,
            format!(
                "a tuple of length {} is required, found length {}",
                elements.len(),
                items.len()
            ),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// msgpack
// ---------------------------------------------------------------------------------------------

/// cty's unknown: fixext1, extension type 0, one zero byte (`d4 00 00`).
fn msgpack_unknown() -> rmpv::Value {
    rmpv::Value::Ext(0, vec![0])
}

/// Encodes `v` as cty msgpack for type `ty`, as every `DynamicValue` we send must be.
///
/// Object attributes are written in name order, and ones missing from `v` are written as nil.
/// Numbers are written as integers when whole and in `i64`/`u64` range, as float64 when
/// exactly representable, else as decimal strings, so no precision is lost.
pub fn to_msgpack(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let tree = msgpack_encode(v, ty, ty, &AttributePath::root())?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &tree)
        .map_err(|e| CodecError::at_root(format!("cannot write msgpack: {e}")))?;
    Ok(out)
}

pub(super) fn msgpack_number(n: &Number) -> rmpv::Value {
    if let Some(i) = n.to_i64() {
        rmpv::Value::from(i)
    } else if let Some(u) = n.to_u64() {
        rmpv::Value::from(u)
    } else if let Some(f) = n.to_exact_f64() {
        rmpv::Value::F64(f)
    } else {
        rmpv::Value::from(n.to_string())
    }
}

/// `ty` is the schema type; `resolved` is the same type made more concrete where the schema
/// says `dynamic` inside a collection (see [`unify_elements`]).
fn msgpack_encode(
    v: &Value,
    ty: &Type,
    resolved: &Type,
    path: &AttributePath,
) -> Result<rmpv::Value, CodecError> {
    use rmpv::Value as M;
    if *ty == Type::Dynamic {
        return match v {
            Value::Null => Ok(M::Nil),
            // cty's dynamic unknown has no refinements: its type is not known either.
            Value::Unknown(_) => Ok(msgpack_unknown()),
            _ => {
                let wrapper = wrapper_type(v, resolved, path)?;
                let inner = msgpack_encode(v, &wrapper, &wrapper, path)?;
                Ok(M::Array(vec![M::Binary(wrapper.to_json_bytes()), inner]))
            }
        };
    }
    Ok(match (v, ty) {
        (Value::Null, _) => M::Nil,
        (Value::Unknown(Some(refinements)), _) => M::Ext(REFINED_UNKNOWN_EXT, refinements.encode()),
        (Value::Unknown(None), _) => msgpack_unknown(),
        (Value::Bool(b), Type::Bool) => M::Boolean(*b),
        (Value::Number(n), Type::Number) => msgpack_number(n),
        (Value::String(s), Type::String) => M::from(s.as_str()),
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => {
            let element_type = resolve_element_type(
                indexed(items),
                element,
                resolved_element(resolved, element),
                path,
            )?;
            M::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        msgpack_encode(item, element, &element_type, &path.with_index(i as i64))
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::Map(entries), Type::Map(element)) => {
            let element_type = resolve_element_type(
                keyed(entries),
                element,
                resolved_element(resolved, element),
                path,
            )?;
            M::Map(
                entries
                    .iter()
                    .map(|(key, item)| {
                        let value =
                            msgpack_encode(item, element, &element_type, &path.with_key(key))?;
                        Ok((M::from(key.as_str()), value))
                    })
                    .collect::<Result<_, CodecError>>()?,
            )
        }
        (Value::Tuple(items), Type::Tuple(elements)) => {
            check_tuple_length(items, elements, path)?;
            M::Array(
                items
                    .iter()
                    .zip(elements)
                    .enumerate()
                    .map(|(i, (item, element))| {
                        let r = resolved_tuple_element(resolved, i, element);
                        msgpack_encode(item, element, r, &path.with_index(i as i64))
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::Object(attrs), Type::Object(attr_types)) => {
            check_object_attrs(attrs, attr_types, path)?;
            M::Map(
                attr_types
                    .iter()
                    .map(|(name, attr_type)| {
                        let a = attrs.get(name).unwrap_or(&NULL);
                        let r = resolved_attr(resolved, name, attr_type);
                        let value = msgpack_encode(a, attr_type, r, &path.with_attr(name))?;
                        Ok((M::from(name.as_str()), value))
                    })
                    .collect::<Result<_, CodecError>>()?,
            )
        }
        _ => return Err(mismatch(path, ty, v)),
    })
}

/// Decodes cty msgpack for type `ty`. An extension value is an unknown, keeping the
/// refinements of extension 12; numbers may be ints, floats or decimal strings; objects must
/// carry exactly the attributes of their type.
pub fn from_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut reader = bytes;
    let tree = rmpv::decode::read_value(&mut reader)
        .map_err(|e| CodecError::at_root(format!("invalid msgpack: {e}")))?;
    if !reader.is_empty() {
        return Err(CodecError::at_root(format!(
            "invalid msgpack: {} unexpected bytes after the value",
            reader.len()
        )));
    }
    msgpack_decode(&tree, ty, &AttributePath::root())
}

fn msgpack_string<'a>(m: &'a rmpv::Value, path: &AttributePath) -> Result<&'a str, CodecError> {
    match m {
        rmpv::Value::String(s) => s
            .as_str()
            .ok_or_else(|| CodecError::new(path, "string is not valid UTF-8")),
        rmpv::Value::Binary(b) => {
            std::str::from_utf8(b).map_err(|_| CodecError::new(path, "string is not valid UTF-8"))
        }
        _ => Err(CodecError::new(path, "a string is required")),
    }
}

/// A number as cty writes it: an integer, a float, or decimal text when neither is exact.
pub(super) fn msgpack_decode_number(
    m: &rmpv::Value,
    path: &AttributePath,
) -> Result<Number, CodecError> {
    use rmpv::Value as M;
    let required = || CodecError::new(path, "a number is required");
    Ok(match m {
        M::Integer(i) => match (i.as_i64(), i.as_u64()) {
            (Some(i), _) => Number::from(i),
            (None, Some(u)) => Number::from(u),
            (None, None) => return Err(required()),
        },
        M::F32(f) => Number::from_f64_exact(f64::from(*f))
            .ok_or_else(|| CodecError::new(path, "infinite numbers are not supported"))?,
        M::F64(f) => Number::from_f64_exact(*f)
            .ok_or_else(|| CodecError::new(path, "infinite numbers are not supported"))?,
        M::String(_) | M::Binary(_) => msgpack_string(m, path)?
            .parse()
            .map_err(|e: ParseNumberError| CodecError::new(path, e.to_string()))?,
        _ => return Err(required()),
    })
}

fn msgpack_decode(m: &rmpv::Value, ty: &Type, path: &AttributePath) -> Result<Value, CodecError> {
    use rmpv::Value as M;
    if let M::Ext(kind, payload) = m {
        // The plain unknown is extension 0 with at most one byte; anything longer must be
        // refinements, as for cty.
        if payload.len() <= 1 {
            return Ok(Value::unknown());
        }
        if *kind != REFINED_UNKNOWN_EXT {
            return Err(CodecError::new(
                path,
                format!("unsupported msgpack extension type {kind}"),
            ));
        }
        return Ok(Value::unknown_refined(Refinements::decode(
            payload, ty, path,
        )?));
    }
    if *ty == Type::Dynamic {
        return msgpack_decode_dynamic(m, path);
    }
    if let M::Nil = m {
        return Ok(Value::Null);
    }
    let required = || CodecError::new(path, format!("{} is required", ty.with_article()));
    Ok(match ty {
        Type::String => Value::String(msgpack_string(m, path)?.to_string()),
        Type::Bool => match m {
            M::Boolean(b) => Value::Bool(*b),
            _ => return Err(required()),
        },
        Type::Number => Value::Number(msgpack_decode_number(m, path)?),
        Type::List(element) | Type::Set(element) => {
            let M::Array(items) = m else {
                return Err(required());
            };
            let items = items
                .iter()
                .enumerate()
                .map(|(i, item)| msgpack_decode(item, element, &path.with_index(i as i64)))
                .collect::<Result<Vec<_>, _>>()?;
            if matches!(ty, Type::List(_)) {
                Value::List(items)
            } else {
                Value::Set(items)
            }
        }
        Type::Tuple(elements) => {
            let M::Array(items) = m else {
                return Err(required());
            };
            if items.len() != elements.len() {
                return Err(CodecError::new(
                    path,
                    format!(
                        "a tuple of length {} is required ({} given)",
                        elements.len(),
                        items.len()
                    ),
                ));
            }
            Value::Tuple(
                items
                    .iter()
                    .zip(elements)
                    .enumerate()
                    .map(|(i, (item, element))| {
                        msgpack_decode(item, element, &path.with_index(i as i64))
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Map(element) => {
            let M::Map(pairs) = m else {
                return Err(required());
            };
            let mut entries = BTreeMap::new();
            for (key, item) in pairs {
                let key = msgpack_string(key, path)
                    .map_err(|_| CodecError::new(path, "map keys must be strings"))?;
                let item_path = path.with_key(key);
                let item = msgpack_decode(item, element, &item_path)?;
                if entries.insert(key.to_string(), item).is_some() {
                    return Err(CodecError::new(&item_path, "duplicate map key"));
                }
            }
            Value::Map(entries)
        }
        Type::Object(attr_types) => {
            let M::Map(pairs) = m else {
                return Err(required());
            };
            if pairs.len() != attr_types.len() {
                return Err(CodecError::new(
                    path,
                    format!(
                        "an object with {} attributes is required ({} given)",
                        attr_types.len(),
                        pairs.len()
                    ),
                ));
            }
            let mut attrs = BTreeMap::new();
            for (key, item) in pairs {
                let name = msgpack_string(key, path)
                    .map_err(|_| CodecError::new(path, "all keys must be strings"))?;
                let attr_path = path.with_attr(name);
                let Some(attr_type) = attr_types.get(name) else {
                    return Err(CodecError::new(&attr_path, "unsupported attribute"));
                };
                let item = msgpack_decode(item, attr_type, &attr_path)?;
                if attrs.insert(name.to_string(), item).is_some() {
                    return Err(CodecError::new(&attr_path, "duplicate attribute"));
                }
            }
            Value::Object(attrs)
        }
        Type::Dynamic => return msgpack_decode_dynamic(m, path),
    })
}

/// A dynamic value is `[type JSON bytes, value]`; a bare nil is null and a bare extension
/// (handled by the caller) is unknown.
fn msgpack_decode_dynamic(m: &rmpv::Value, path: &AttributePath) -> Result<Value, CodecError> {
    match m {
        rmpv::Value::Nil => Ok(Value::Null),
        rmpv::Value::Array(parts) if parts.len() == 2 => {
            let type_json = match &parts[0] {
                rmpv::Value::Binary(b) => b.as_slice(),
                rmpv::Value::String(s) => s.as_bytes(),
                _ => {
                    return Err(CodecError::new(
                        path,
                        "the type of a dynamic value must be JSON bytes",
                    ));
                }
            };
            let ty =
                Type::from_json_bytes(type_json).map_err(|e| CodecError::new(path, e.message))?;
            msgpack_decode(&parts[1], &ty, path)
        }
        rmpv::Value::Array(_) => Err(CodecError::new(
            path,
            "dynamic value array must have exactly two elements",
        )),
        _ => Err(CodecError::new(
            path,
            "a dynamic value ([type, value] array) is required",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// Encodes `v` as cty JSON for type `ty` (the form of stored state). Unknowns cannot be
/// stored and are an error. Numbers keep their full decimal text.
pub fn to_json(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let tree = json_encode(v, ty, ty, &AttributePath::root())?;
    serde_json::to_vec(&tree).map_err(|e| CodecError::at_root(format!("cannot write JSON: {e}")))
}

fn json_encode(
    v: &Value,
    ty: &Type,
    resolved: &Type,
    path: &AttributePath,
) -> Result<serde_json::Value, CodecError> {
    use serde_json::Value as J;
    if let Value::Unknown(_) = v {
        return Err(CodecError::new(path, "value is not known"));
    }
    if *ty == Type::Dynamic {
        return match v {
            Value::Null => Ok(J::Null),
            _ => {
                let wrapper = wrapper_type(v, resolved, path)?;
                let inner = json_encode(v, &wrapper, &wrapper, path)?;
                let mut fields = serde_json::Map::new();
                fields.insert("value".to_string(), inner);
                fields.insert("type".to_string(), wrapper.to_json());
                Ok(J::Object(fields))
            }
        };
    }
    Ok(match (v, ty) {
        (Value::Null, _) => J::Null,
        (Value::Bool(b), Type::Bool) => J::Bool(*b),
        (Value::Number(n), Type::Number) => J::Number(
            serde_json::Number::from_str(&n.to_string())
                .map_err(|e| CodecError::new(path, format!("cannot write number {n}: {e}")))?,
        ),
        (Value::String(s), Type::String) => J::String(s.clone()),
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => {
            let element_type = resolve_element_type(
                indexed(items),
                element,
                resolved_element(resolved, element),
                path,
            )?;
            J::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        json_encode(item, element, &element_type, &path.with_index(i as i64))
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::Map(entries), Type::Map(element)) => {
            let element_type = resolve_element_type(
                keyed(entries),
                element,
                resolved_element(resolved, element),
                path,
            )?;
            J::Object(
                entries
                    .iter()
                    .map(|(key, item)| {
                        let value = json_encode(item, element, &element_type, &path.with_key(key))?;
                        Ok((key.clone(), value))
                    })
                    .collect::<Result<_, CodecError>>()?,
            )
        }
        (Value::Tuple(items), Type::Tuple(elements)) => {
            check_tuple_length(items, elements, path)?;
            J::Array(
                items
                    .iter()
                    .zip(elements)
                    .enumerate()
                    .map(|(i, (item, element))| {
                        let r = resolved_tuple_element(resolved, i, element);
                        json_encode(item, element, r, &path.with_index(i as i64))
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::Object(attrs), Type::Object(attr_types)) => {
            check_object_attrs(attrs, attr_types, path)?;
            J::Object(
                attr_types
                    .iter()
                    .map(|(name, attr_type)| {
                        let a = attrs.get(name).unwrap_or(&NULL);
                        let r = resolved_attr(resolved, name, attr_type);
                        let value = json_encode(a, attr_type, r, &path.with_attr(name))?;
                        Ok((name.clone(), value))
                    })
                    .collect::<Result<_, CodecError>>()?,
            )
        }
        _ => return Err(mismatch(path, ty, v)),
    })
}

/// Decodes cty JSON for type `ty`. Like cty it is lenient where old states need it:
/// attributes missing from an object read as null, and primitives may come as strings
/// (`"12"` for a number, `"true"` for a bool) or a string may come as a number or bool.
/// Attributes the type does not have are an error naming them.
pub fn from_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let tree: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| CodecError::at_root(format!("invalid JSON: {e}")))?;
    json_decode(&tree, ty, &AttributePath::root())
}

fn json_decode(
    j: &serde_json::Value,
    ty: &Type,
    path: &AttributePath,
) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    if j.is_null() {
        return Ok(Value::Null);
    }
    let required = || CodecError::new(path, format!("{} is required", ty.with_article()));
    Ok(match ty {
        Type::Dynamic => {
            let J::Object(fields) = j else {
                return Err(CodecError::new(
                    path,
                    "a JSON object with \"value\" and \"type\" is required for a dynamic value",
                ));
            };
            if let Some(other) = fields.keys().find(|k| *k != "value" && *k != "type") {
                return Err(CodecError::new(
                    path,
                    format!("invalid key {other:?} in dynamically-typed value"),
                ));
            }
            let type_json = fields
                .get("type")
                .ok_or_else(|| CodecError::new(path, "missing type in dynamically-typed value"))?;
            let inner = fields
                .get("value")
                .ok_or_else(|| CodecError::new(path, "missing value in dynamically-typed value"))?;
            let ty = Type::from_json(type_json).map_err(|e| CodecError::new(path, e.message))?;
            json_decode(inner, &ty, path)?
        }
        Type::String => Value::String(match j {
            J::String(s) => s.clone(),
            J::Number(n) => n.to_string(),
            J::Bool(b) => b.to_string(),
            _ => return Err(required()),
        }),
        Type::Bool => Value::Bool(match j {
            J::Bool(b) => *b,
            J::String(s) if s == "true" || s == "1" => true,
            J::String(s) if s == "false" || s == "0" => false,
            _ => return Err(required()),
        }),
        Type::Number => {
            let text = match j {
                J::Number(n) => n.to_string(),
                J::String(s) => s.clone(),
                _ => return Err(required()),
            };
            Value::Number(
                text.parse()
                    .map_err(|e: ParseNumberError| CodecError::new(path, e.to_string()))?,
            )
        }
        Type::List(element) | Type::Set(element) => {
            let J::Array(items) = j else {
                return Err(required());
            };
            let items = items
                .iter()
                .enumerate()
                .map(|(i, item)| json_decode(item, element, &path.with_index(i as i64)))
                .collect::<Result<Vec<_>, _>>()?;
            if matches!(ty, Type::List(_)) {
                Value::List(items)
            } else {
                Value::Set(items)
            }
        }
        Type::Tuple(elements) => {
            let J::Array(items) = j else {
                return Err(required());
            };
            if items.len() != elements.len() {
                return Err(CodecError::new(
                    path,
                    format!(
                        "a tuple of length {} is required ({} given)",
                        elements.len(),
                        items.len()
                    ),
                ));
            }
            Value::Tuple(
                items
                    .iter()
                    .zip(elements)
                    .enumerate()
                    .map(|(i, (item, element))| {
                        json_decode(item, element, &path.with_index(i as i64))
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Map(element) => {
            let J::Object(fields) = j else {
                return Err(required());
            };
            Value::Map(
                fields
                    .iter()
                    .map(|(key, item)| {
                        Ok((
                            key.clone(),
                            json_decode(item, element, &path.with_key(key))?,
                        ))
                    })
                    .collect::<Result<_, CodecError>>()?,
            )
        }
        Type::Object(attr_types) => {
            let J::Object(fields) = j else {
                return Err(required());
            };
            let unsupported: Vec<&str> = fields
                .keys()
                .filter(|k| !attr_types.contains_key(*k))
                .map(String::as_str)
                .collect();
            if !unsupported.is_empty() {
                return Err(CodecError::new(
                    path,
                    format!("unsupported attributes {unsupported:?}"),
                ));
            }
            Value::Object(
                attr_types
                    .iter()
                    .map(|(name, attr_type)| {
                        let a = match fields.get(name) {
                            Some(item) => json_decode(item, attr_type, &path.with_attr(name))?,
                            None => Value::Null,
                        };
                        Ok((name.clone(), a))
                    })
                    .collect::<Result<_, CodecError>>()?,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tfplugin::refinement::Bound;

    fn num(text: &str) -> Number {
        text.parse().unwrap()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn unhex(text: &str) -> Vec<u8> {
        text.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    // --- numbers --------------------------------------------------------------------------

    #[test]
    fn number_equal_values_compare_equal() {
        assert_eq!(num("1.50"), num("1.5"));
        assert_eq!(num("1e3"), num("1000"));
        assert_eq!(num("1000.000"), Number::from(1000i64));
        assert_eq!(num("-0"), num("0"));
        assert_eq!(num("0.000"), Number::zero());
        assert_eq!(num("+12"), num("12"));
        assert_eq!(num(".5"), num("0.5"));
        assert_eq!(num("5."), num("5"));
        assert_eq!(num("12.5E-1"), num("1.25"));
        assert_eq!(num("0012"), num("12"));
        assert_ne!(num("0.1"), num("0.10000000000000001"));
        assert_ne!(num("-1"), num("1"));
    }

    #[test]
    fn number_display_is_plain_decimal() {
        assert_eq!(num("1e3").to_string(), "1000");
        assert_eq!(num("1.50").to_string(), "1.5");
        assert_eq!(num("-0.125").to_string(), "-0.125");
        assert_eq!(num("0.001").to_string(), "0.001");
        assert_eq!(num("-0").to_string(), "0");
        assert_eq!(num("123.456").to_string(), "123.456");
        assert_eq!(
            num("18446744073709551616").to_string(),
            "18446744073709551616"
        );
        assert_eq!(num("1e20").to_string(), "100000000000000000000");
        assert_eq!(
            num("3.14159265358979323846264338").to_string(),
            "3.14159265358979323846264338"
        );
    }

    #[test]
    fn number_display_uses_exponent_only_for_extreme_values() {
        assert_eq!(num("1.5e100").to_string(), "1.5e100");
        assert_eq!(num("-2e-100").to_string(), "-2e-100");
        assert_eq!(num("1e64").to_string(), format!("1{}", "0".repeat(64)));
        assert_eq!(num("1e65").to_string(), "1e65");
        assert_eq!(
            num("1.5e100").to_string().parse::<Number>().unwrap(),
            num("1.5e100")
        );
    }

    #[test]
    fn number_parse_rejects_garbage() {
        for bad in [
            "",
            "-",
            "+",
            ".",
            "e5",
            "1e",
            "1e+",
            "abc",
            "1.2.3",
            "1 ",
            " 1",
            "0x10",
            "1e5.5",
            "--1",
            "NaN",
            "inf",
            "1e99999999999999999999",
        ] {
            assert!(bad.parse::<Number>().is_err(), "{bad:?} should not parse");
        }
        let err = "12x".parse::<Number>().unwrap_err();
        assert!(err.to_string().contains("12x"), "{err}");
    }

    #[test]
    fn number_integer_conversions() {
        assert_eq!(num("42").to_i64(), Some(42));
        assert_eq!(num("4.2e1").to_i64(), Some(42));
        assert_eq!(num("-9223372036854775808").to_i64(), Some(i64::MIN));
        assert_eq!(num("9223372036854775808").to_i64(), None);
        assert_eq!(num("9223372036854775808").to_u64(), Some(1 << 63));
        assert_eq!(num("18446744073709551615").to_u64(), Some(u64::MAX));
        assert_eq!(num("18446744073709551616").to_u64(), None);
        assert_eq!(num("1.5").to_i64(), None);
        assert_eq!(num("-1").to_u64(), None);
        assert_eq!(num("1e300").to_i64(), None);
        assert_eq!(Number::from(u64::MAX).to_string(), "18446744073709551615");
        assert_eq!(Number::from(i64::MIN).to_string(), "-9223372036854775808");
        assert!(num("1e3").is_integer());
        assert!(!num("0.5").is_integer());
    }

    #[test]
    fn number_float_conversions() {
        assert_eq!(Number::from_f64(0.1), Some(num("0.1")));
        assert_eq!(Number::from_f64(-2.5), Some(num("-2.5")));
        assert_eq!(Number::from_f64(1e300), Some(num("1e300")));
        assert_eq!(Number::from_f64(f64::NAN), None);
        assert_eq!(Number::from_f64(f64::INFINITY), None);
        assert_eq!(Number::try_from(2.5).unwrap(), num("2.5"));
        assert!(Number::try_from(f64::NAN).is_err());
        assert_eq!(
            Number::from_f64_exact(0.1),
            Some(num(
                "0.1000000000000000055511151231257827021181583404541015625"
            ))
        );
        assert_eq!(Number::from_f64_exact(0.5), Some(num("0.5")));
        assert_eq!(
            Number::from_f64_exact(2f64.powi(70)),
            Some(num("1180591620717411303424"))
        );
        assert_eq!(num("0.1").to_f64(), 0.1);
        assert_eq!(num("-3.25").to_f64(), -3.25);
        assert_eq!(num("1e400").to_f64(), f64::INFINITY);
        assert_eq!(num("1e-400").to_f64(), 0.0);
        assert_eq!(num("0.5").to_exact_f64(), Some(0.5));
        assert_eq!(num("0.1").to_exact_f64(), None);
        assert_eq!(num("1e23").to_exact_f64(), None);
        assert_eq!(
            Number::from_f64_exact(f64::MIN_POSITIVE / 4.0)
                .unwrap()
                .to_exact_f64(),
            Some(f64::MIN_POSITIVE / 4.0)
        );
    }

    #[test]
    fn number_ordering_follows_value() {
        let ordered = [
            "-1e100", "-12", "-1.5", "-1", "-0.001", "0", "1e-100", "0.1", "0.12", "1", "1.01",
            "10", "1e100",
        ];
        for pair in ordered.windows(2) {
            assert!(num(pair[0]) < num(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(num("1.0").cmp(&num("1")), Ordering::Equal);
    }

    // --- types ----------------------------------------------------------------------------

    #[test]
    fn type_json_form_matches_cty() {
        let ty = Type::object([
            ("name", Type::String),
            ("roles", Type::list(Type::String)),
            ("tags", Type::map(Type::Number)),
            ("ids", Type::set(Type::Bool)),
            ("any", Type::Dynamic),
            ("pair", Type::tuple([Type::String, Type::Number])),
        ]);
        let text = String::from_utf8(ty.to_json_bytes()).unwrap();
        assert_eq!(
            text,
            r#"["object",{"any":"dynamic","ids":["set","bool"],"name":"string","pair":["tuple",["string","number"]],"roles":["list","string"],"tags":["map","number"]}]"#
        );
        assert_eq!(Type::from_json_bytes(text.as_bytes()).unwrap(), ty);
        assert_eq!(Type::String.to_json_bytes(), br#""string""#);
    }

    #[test]
    fn type_from_json_accepts_optional_attribute_list() {
        let ty = Type::from_json_bytes(br#"["object",{"a":"string","b":"number"},["b"]]"#).unwrap();
        assert_eq!(ty, Type::object([("a", Type::String), ("b", Type::Number)]));
    }

    #[test]
    fn type_from_json_rejects_invalid() {
        for bad in [
            r#""str""#,
            r#"["list"]"#,
            r#"["list","string","x"]"#,
            r#"["object",["a"]]"#,
            r#"["object",{"a":"string"},["zz"]]"#,
            r#"["tuple","string"]"#,
            r#"["bag","string"]"#,
            "12",
            "not json",
        ] {
            assert!(
                Type::from_json_bytes(bad.as_bytes()).is_err(),
                "{bad} should fail"
            );
        }
    }

    #[test]
    fn type_has_dynamic_looks_everywhere() {
        assert!(!Type::list(Type::object([("a", Type::String)])).has_dynamic());
        assert!(Type::list(Type::object([("a", Type::Dynamic)])).has_dynamic());
        assert!(Type::tuple([Type::String, Type::map(Type::Dynamic)]).has_dynamic());
        assert_eq!(
            Type::list(Type::map(Type::String)).to_string(),
            "list of map of string"
        );
    }

    // --- value helpers --------------------------------------------------------------------

    #[test]
    fn value_helpers_read_and_write_parts() {
        let mut v = Value::object([
            ("name", Value::string("db")),
            ("size", Value::number(3)),
            (
                "roles",
                Value::list([Value::string("r0"), Value::string("r1")]),
            ),
            ("tags", Value::map([("env", Value::string("prod"))])),
            ("timeouts", Value::object([("create", Value::string("5m"))])),
            ("enabled", Value::from(true)),
        ]);
        assert_eq!(v.attr("name").as_str(), Some("db"));
        assert_eq!(v.attr("size").as_i64(), Some(3));
        assert_eq!(v.attr("enabled").as_bool(), Some(true));
        assert!(v.attr("missing").is_null());
        assert!(Value::unknown().attr("x").is_null());
        assert_eq!(v.attr("roles").as_list().map(<[Value]>::len), Some(2));
        assert_eq!(v.attr("tags").as_map().map(BTreeMap::len), Some(1));

        let create = AttributePath::attr("timeouts").with_attr("create");
        assert_eq!(v.get_path(&create).and_then(Value::as_str), Some("5m"));
        let role = AttributePath::attr("roles").with_index(1);
        assert_eq!(v.get_path(&role).and_then(Value::as_str), Some("r1"));
        let tag = AttributePath::attr("tags").with_key("env");
        assert_eq!(v.get_path(&tag).and_then(Value::as_str), Some("prod"));
        assert_eq!(
            v.get_path(&AttributePath::attr("roles").with_index(5)),
            None
        );
        assert_eq!(
            v.get_path(&AttributePath::attr("roles").with_index(-1)),
            None
        );
        assert_eq!(
            v.get_path(&AttributePath::attr("name").with_attr("x")),
            None
        );
        assert_eq!(v.get_path(&AttributePath::root()), Some(&v.clone()));

        *v.get_path_mut(&role).unwrap() = Value::string("changed");
        assert_eq!(v.get_path(&role).and_then(Value::as_str), Some("changed"));
        *v.attr_mut("size").unwrap() = Value::unknown();
        assert!(v.attr("size").is_unknown());
        assert!(!v.is_wholly_known());
        assert!(v.is_known());
        v.set_attr("size", Value::number(4));
        assert!(v.is_wholly_known());
        assert!(Value::Null.attr_mut("x").is_none());

        let mut built = Value::Null;
        built.set_attr("id", Value::string("x"));
        assert_eq!(built, Value::object([("id", Value::string("x"))]));
        assert_eq!(Value::from(None::<i64>), Value::Null);
        assert_eq!(Value::from(Some("a")), Value::string("a"));
    }

    #[test]
    fn value_infer_type_unifies_elements() {
        let v = Value::list([
            Value::object([("a", Value::Null)]),
            Value::object([("a", Value::string("x"))]),
        ]);
        assert_eq!(
            v.infer_type().unwrap(),
            Type::list(Type::object([("a", Type::String)]))
        );
        assert_eq!(
            Value::list([]).infer_type().unwrap(),
            Type::list(Type::Dynamic)
        );
        let mixed = Value::list([Value::number(1), Value::string("a")]);
        let err = mixed.infer_type().unwrap_err();
        assert!(err.message.contains("same type"), "{err}");
    }

    // --- conformance ----------------------------------------------------------------------

    #[test]
    fn conforms_reports_path_of_mismatch() {
        let ty = Type::object([
            ("roles", Type::list(Type::String)),
            ("timeouts", Type::object([("create", Type::String)])),
        ]);
        let good = Value::object([
            (
                "roles",
                Value::list([Value::string("a"), Value::unknown(), Value::Null]),
            ),
            ("timeouts", Value::Null),
        ]);
        conforms(&good, &ty).unwrap();

        let bad = Value::object([
            (
                "roles",
                Value::list([Value::string("a"), Value::string("b"), Value::number(1)]),
            ),
            ("timeouts", Value::Null),
        ]);
        let err = conforms(&bad, &ty).unwrap_err();
        assert_eq!(err.path_string(), ".roles[2]");
        assert_eq!(
            err.to_string(),
            ".roles[2]: a string is required, found a number"
        );

        let bad = Value::object([
            ("roles", Value::Null),
            ("timeouts", Value::object([("create", Value::Bool(true))])),
        ]);
        let err = conforms(&bad, &ty).unwrap_err();
        assert_eq!(err.path_string(), ".timeouts.create");

        let missing = Value::object([("roles", Value::Null)]);
        let err = conforms(&missing, &ty).unwrap_err();
        assert_eq!(err.path_string(), ".timeouts");

        let extra = Value::object([
            ("roles", Value::Null),
            ("timeouts", Value::Null),
            ("bogus", Value::Null),
        ]);
        let err = conforms(&extra, &ty).unwrap_err();
        assert_eq!(err.to_string(), ".bogus: unsupported attribute");

        let tags = Type::map(Type::Number);
        let err = conforms(&Value::map([("x", Value::string("1"))]), &tags).unwrap_err();
        assert_eq!(err.path_string(), r#"["x"]"#);
        assert!(conforms(&Value::Tuple(vec![]), &Type::tuple([Type::String])).is_err());
        assert!(conforms(&Value::Set(vec![]), &Type::list(Type::String)).is_err());
    }

    #[test]
    fn conforms_requires_one_element_type_under_dynamic() {
        let ty = Type::list(Type::Dynamic);
        conforms(&Value::list([Value::number(1), Value::number(2)]), &ty).unwrap();
        conforms(&Value::list([Value::number(1), Value::Null]), &ty).unwrap();
        let err = conforms(&Value::list([Value::number(1), Value::string("a")]), &ty).unwrap_err();
        assert!(err.message.contains("same type"), "{err}");
        // A dynamic attribute on its own may hold anything.
        conforms(&Value::list([Value::string("a")]), &Type::Dynamic).unwrap();
    }

    // --- msgpack, exact bytes -------------------------------------------------------------

    #[test]
    fn msgpack_unknown_is_fixext1_type_zero() {
        assert_eq!(
            hex(&to_msgpack(&Value::unknown(), &Type::String).unwrap()),
            "d4 00 00"
        );
        assert_eq!(hex(&to_msgpack(&Value::Null, &Type::String).unwrap()), "c0");
        assert_eq!(
            hex(&to_msgpack(&Value::unknown(), &Type::Dynamic).unwrap()),
            "d4 00 00"
        );
        assert_eq!(
            hex(&to_msgpack(&Value::Null, &Type::Dynamic).unwrap()),
            "c0"
        );
    }

    #[test]
    fn msgpack_object_keys_sorted_and_missing_written_as_nil() {
        let ty = Type::object([("b", Type::String), ("a", Type::Number), ("c", Type::Bool)]);
        let v = Value::object([("b", Value::string("x")), ("a", Value::number(1))]);
        assert_eq!(
            hex(&to_msgpack(&v, &ty).unwrap()),
            "83 a1 61 01 a1 62 a1 78 a1 63 c0"
        );
    }

    #[test]
    fn msgpack_numbers_pick_int_float_or_string() {
        let cases = [
            ("1", "01"),
            ("-1", "ff"),
            ("1000", "cd 03 e8"),
            ("-9223372036854775808", "d3 80 00 00 00 00 00 00 00"),
            ("18446744073709551615", "cf ff ff ff ff ff ff ff ff"),
            ("0.5", "cb 3f e0 00 00 00 00 00 00"),
            ("0.1", "a3 30 2e 31"),
            // 2^64 is exactly a float64; 2^64 + 1 is not, so it goes as text.
            ("18446744073709551616", "cb 43 f0 00 00 00 00 00 00"),
            (
                "18446744073709551617",
                "b4 31 38 34 34 36 37 34 34 30 37 33 37 30 39 35 35 31 36 31 37",
            ),
        ];
        for (text, bytes) in cases {
            let encoded = to_msgpack(&Value::Number(num(text)), &Type::Number).unwrap();
            assert_eq!(hex(&encoded), bytes, "{text}");
        }
        let pi = "3.14159265358979323846264338";
        let encoded = to_msgpack(&Value::Number(num(pi)), &Type::Number).unwrap();
        assert_eq!(encoded[0], 0xa0 | pi.len() as u8);
        assert_eq!(&encoded[1..], pi.as_bytes());
    }

    #[test]
    fn msgpack_decodes_every_number_form() {
        let cases = [
            ("2a", "42"),
            ("d0 d6", "-42"),
            ("cc ff", "255"),
            ("cf ff ff ff ff ff ff ff ff", "18446744073709551615"),
            ("ca 3f c0 00 00", "1.5"),
            (
                "cb 3f b9 99 99 99 99 99 9a",
                "0.1000000000000000055511151231257827021181583404541015625",
            ),
            ("a4 31 65 32 30", "1e20"),
            ("c4 03 31 2e 35", "1.5"),
        ];
        for (bytes, text) in cases {
            let v = from_msgpack(&unhex(bytes), &Type::Number).unwrap();
            assert_eq!(v, Value::Number(num(text)), "{bytes}");
        }
        let err = from_msgpack(&unhex("a3 61 62 63"), &Type::Number).unwrap_err();
        assert!(err.message.contains("invalid number"), "{err}");
        let err = from_msgpack(&unhex("cb 7f f0 00 00 00 00 00 00"), &Type::Number).unwrap_err();
        assert!(err.message.contains("infinite"), "{err}");
    }

    #[test]
    fn msgpack_dynamic_wraps_value_with_its_type() {
        let encoded = to_msgpack(&Value::string("x"), &Type::Dynamic).unwrap();
        let mut expected = vec![0x92, 0xc4, 0x08];
        expected.extend_from_slice(br#""string""#);
        expected.extend_from_slice(&[0xa1, b'x']);
        assert_eq!(encoded, expected);
        assert_eq!(
            from_msgpack(&encoded, &Type::Dynamic).unwrap(),
            Value::string("x")
        );

        let v = Value::list([Value::number(1), Value::number(2)]);
        let encoded = to_msgpack(&v, &Type::Dynamic).unwrap();
        let mut expected = vec![0x92, 0xc4, 17];
        expected.extend_from_slice(br#"["list","number"]"#);
        expected.extend_from_slice(&[0x92, 0x01, 0x02]);
        assert_eq!(encoded, expected);
    }

    #[test]
    fn msgpack_list_of_dynamic_uses_one_wrapper_type() {
        // The null attribute of the first element must not make its type differ from the
        // second's: Terraform requires one element type per list.
        let ty = Type::list(Type::Dynamic);
        let v = Value::list([
            Value::object([("a", Value::Null)]),
            Value::object([("a", Value::string("x"))]),
        ]);
        let encoded = to_msgpack(&v, &ty).unwrap();
        let tree = rmpv::decode::read_value(&mut encoded.as_slice()).unwrap();
        let rmpv::Value::Array(items) = tree else {
            panic!("array expected")
        };
        for item in &items {
            let rmpv::Value::Array(parts) = item else {
                panic!("wrapper expected")
            };
            assert_eq!(
                parts[0],
                rmpv::Value::Binary(br#"["object",{"a":"string"}]"#.to_vec())
            );
        }
        assert_eq!(from_msgpack(&encoded, &ty).unwrap(), v);
        let mixed = Value::list([Value::number(1), Value::string("a")]);
        assert!(to_msgpack(&mixed, &ty).is_err());
    }

    #[test]
    fn msgpack_refined_unknowns_come_back_as_they_were_sent() {
        // Each as cty writes it: extension 12, a map of refinement keys in order.
        let cases = [
            // not null, prefix "ab"
            (Type::String, "c7 07 0c 82 01 c2 02 a2 61 62"),
            (Type::Number, REFINED_NUMBER),
            // 2 to 5 elements
            (Type::list(Type::String), "c7 05 0c 82 05 02 06 05"),
            // not null alone: 3 bytes of payload, so fixext is not used
            (Type::Bool, "c7 03 0c 81 01 c2"),
        ];
        for (ty, bytes) in cases {
            let value = from_msgpack(&unhex(bytes), &ty).unwrap();
            assert!(value.is_unknown(), "{bytes}");
            assert_eq!(hex(&to_msgpack(&value, &ty).unwrap()), bytes, "{ty:?}");
        }
        let prefixed = from_msgpack(&unhex("c7 07 0c 82 01 c2 02 a2 61 62"), &Type::String);
        let refinements = prefixed.unwrap().refinements().cloned().unwrap();
        assert_eq!(refinements.string_prefix.as_deref(), Some("ab"));
        let bounded = from_msgpack(&unhex(REFINED_NUMBER), &Type::Number).unwrap();
        let refinements = bounded.refinements().unwrap();
        assert_eq!(
            refinements.number_lower,
            Some(Bound {
                value: Number::zero(),
                inclusive: true
            })
        );
        assert_eq!(
            refinements
                .number_upper
                .as_ref()
                .map(|b| (b.value.to_string(), b.inclusive)),
            Some(("1.5".to_string(), false))
        );
    }

    /// Not null, 0 <= n < 1.5.
    const REFINED_NUMBER: &str =
        "c7 13 0c 83 01 c2 03 92 00 c3 04 92 cb 3f f8 00 00 00 00 00 00 c2";

    #[test]
    fn msgpack_refinements_survive_inside_objects_and_are_kept_off_dynamic() {
        let ty = Type::object([("name", Type::String), ("any", Type::Dynamic)]);
        let bytes = "82 a3 61 6e 79 c7 03 0c 81 01 c2 a4 6e 61 6d 65 c7 07 0c 82 01 c2 02 a2 61 62";
        let v = from_msgpack(&unhex(bytes), &ty).unwrap();
        // cty's dynamic unknown has no refinements.
        assert_eq!(v.attr("any"), &Value::unknown());
        assert!(v.attr("name").refinements().is_some());
        assert_eq!(
            hex(&to_msgpack(&v, &ty).unwrap()),
            "82 a3 61 6e 79 d4 00 00 a4 6e 61 6d 65 c7 07 0c 82 01 c2 02 a2 61 62"
        );
        // Nothing refined is the plain unknown on the wire.
        let plain = Value::unknown_refined(Refinements::default());
        assert_eq!(hex(&to_msgpack(&plain, &Type::String).unwrap()), "d4 00 00");
    }

    #[test]
    fn msgpack_unknowns_without_refinements_and_bad_refinements() {
        // Any extension of at most one byte is the plain unknown, as for cty.
        for bytes in ["d4 00 00", "d4 05 ff", "c7 00 0c"] {
            assert_eq!(
                from_msgpack(&unhex(bytes), &Type::Number).unwrap(),
                Value::unknown(),
                "{bytes}"
            );
        }
        // A key this decoder does not know (a later Terraform's) is skipped.
        let later = from_msgpack(&unhex("c7 05 0c 82 01 c2 63 c3"), &Type::String).unwrap();
        assert_eq!(
            later.refinements(),
            Some(&Refinements {
                not_null: true,
                ..Refinements::default()
            })
        );
        let refused = [
            // a longer payload under another extension type
            (
                "c7 03 05 81 01 c2",
                Type::String,
                "unsupported msgpack extension type 5",
            ),
            ("c7 02 0c 01 c2", Type::String, "not a map"),
            // prefix on a number, bound on a string, length on a string
            ("c7 04 0c 81 02 a1 61", Type::Number, "not a string"),
            ("c7 05 0c 81 03 92 00 c3", Type::String, "not a number"),
            ("c7 03 0c 81 05 02", Type::String, "not a collection"),
            (
                "c7 03 0c 81 05 ff",
                Type::list(Type::String),
                "non-negative",
            ),
            ("c7 03 0c 81 01 a0", Type::String, "nullness is not a bool"),
        ];
        for (bytes, ty, expected) in refused {
            let err = from_msgpack(&unhex(bytes), &ty).unwrap_err();
            assert!(err.message.contains(expected), "{bytes}: {err}");
        }
        // A prefix of 1021 bytes: a payload of 1026.
        let mut oversize = vec![0xc8, 0x04, 0x02, 0x0c, 0x81, 0x02, 0xda, 0x03, 0xfd];
        oversize.extend(std::iter::repeat_n(b'a', 1021));
        let err = from_msgpack(&oversize, &Type::String).unwrap_err();
        assert!(err.message.contains("more than 1024 bytes"), "{err}");
    }

    #[test]
    fn msgpack_object_must_have_exactly_its_attributes() {
        let ty = Type::object([("a", Type::String), ("b", Type::String)]);
        let err = from_msgpack(&unhex("81 a1 61 a1 78"), &ty).unwrap_err();
        assert_eq!(
            err.to_string(),
            "an object with 2 attributes is required (1 given)"
        );
        let err = from_msgpack(&unhex("80"), &ty).unwrap_err();
        assert!(err.message.contains("(0 given)"), "{err}");
        let err = from_msgpack(&unhex("82 a1 61 a1 78 a1 7a a1 78"), &ty).unwrap_err();
        assert_eq!(err.to_string(), ".z: unsupported attribute");
        let nested = Type::object([("t", ty.clone())]);
        let err = from_msgpack(&unhex("81 a1 74 81 a1 61 c0"), &nested).unwrap_err();
        assert_eq!(err.path_string(), ".t");
        assert_eq!(
            from_msgpack(&unhex("c0"), &ty).unwrap(),
            Value::Null,
            "a null object is fine"
        );
    }

    #[test]
    fn msgpack_decode_errors_name_the_path() {
        let ty = Type::object([("roles", Type::list(Type::String))]);
        let err = from_msgpack(&unhex("81 a5 72 6f 6c 65 73 93 a1 61 a1 62 01"), &ty).unwrap_err();
        assert_eq!(err.to_string(), ".roles[2]: a string is required");
        let tags = Type::object([("tags", Type::map(Type::Bool))]);
        let err = from_msgpack(&unhex("81 a4 74 61 67 73 81 a1 78 a1 79"), &tags).unwrap_err();
        assert_eq!(err.to_string(), r#".tags["x"]: a bool is required"#);
        let err = from_msgpack(&unhex("92 01"), &Type::list(Type::Number)).unwrap_err();
        assert!(err.message.contains("invalid msgpack"), "{err}");
        let err = from_msgpack(&unhex("01 02"), &Type::Number).unwrap_err();
        assert!(err.message.contains("unexpected bytes"), "{err}");
        assert!(from_msgpack(&[], &Type::String).is_err());
        let err = from_msgpack(&unhex("93 c4 00 01 02"), &Type::Dynamic).unwrap_err();
        assert!(err.message.contains("two elements"), "{err}");
        let err = from_msgpack(&unhex("92 01 02"), &Type::tuple([Type::Number])).unwrap_err();
        assert!(err.message.contains("length 1"), "{err}");
    }

    #[test]
    fn msgpack_encode_rejects_nonconforming_values() {
        let ty = Type::object([("a", Type::String)]);
        let err = to_msgpack(&Value::object([("zz", Value::Null)]), &ty).unwrap_err();
        assert_eq!(err.to_string(), ".zz: unsupported attribute");
        let err = to_msgpack(&Value::object([("a", Value::number(1))]), &ty).unwrap_err();
        assert_eq!(err.to_string(), ".a: a string is required, found a number");
        assert!(to_msgpack(&Value::Tuple(vec![]), &Type::tuple([Type::String])).is_err());
    }

    // --- JSON -----------------------------------------------------------------------------

    #[test]
    fn json_missing_attributes_read_as_null_and_unknown_ones_fail() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let v = from_json(br#"{"a":"x"}"#, &ty).unwrap();
        assert_eq!(
            v,
            Value::object([("a", Value::string("x")), ("b", Value::Null)])
        );
        let err = from_json(br#"{"a":"x","legacy":1,"old":2}"#, &ty).unwrap_err();
        assert!(err.message.contains(r#"["legacy", "old"]"#), "{err}");
        let nested = Type::object([("t", ty.clone())]);
        let err = from_json(br#"{"t":{"zz":1}}"#, &nested).unwrap_err();
        assert_eq!(err.path_string(), ".t");
    }

    #[test]
    fn json_numbers_keep_full_precision() {
        let text = "123456789012345678901234567890.123456789012345678901";
        let json = format!(r#"{{"n":{text}}}"#);
        let ty = Type::object([("n", Type::Number)]);
        let v = from_json(json.as_bytes(), &ty).unwrap();
        assert_eq!(v.attr("n"), &Value::Number(num(text)));
        assert_eq!(to_json(&v, &ty).unwrap(), json.as_bytes());
        assert_eq!(
            to_json(&Value::Number(num("0.1")), &Type::Number).unwrap(),
            b"0.1"
        );
        let huge = Value::Number(num("-1.5e300"));
        let encoded = to_json(&huge, &Type::Number).unwrap();
        assert_eq!(from_json(&encoded, &Type::Number).unwrap(), huge);
    }

    #[test]
    fn json_dynamic_is_value_and_type() {
        let v = Value::map([("k", Value::number(1))]);
        let encoded = to_json(&v, &Type::Dynamic).unwrap();
        assert_eq!(encoded, br#"{"value":{"k":1},"type":["map","number"]}"#);
        assert_eq!(from_json(&encoded, &Type::Dynamic).unwrap(), v);
        assert_eq!(to_json(&Value::Null, &Type::Dynamic).unwrap(), b"null");
        assert!(from_json(br#"{"value":1}"#, &Type::Dynamic).is_err());
        assert!(from_json(br#"{"type":"number"}"#, &Type::Dynamic).is_err());
        assert!(from_json(br#"{"value":1,"type":"number","x":1}"#, &Type::Dynamic).is_err());
        assert!(from_json(b"1", &Type::Dynamic).is_err());
    }

    #[test]
    fn json_unknown_cannot_be_stored() {
        let ty = Type::object([("a", Type::String)]);
        let err = to_json(&Value::object([("a", Value::unknown())]), &ty).unwrap_err();
        assert_eq!(err.to_string(), ".a: value is not known");
    }

    #[test]
    fn json_primitives_are_lenient_like_cty() {
        assert_eq!(
            from_json(b"12", &Type::String).unwrap(),
            Value::string("12")
        );
        assert_eq!(
            from_json(b"true", &Type::String).unwrap(),
            Value::string("true")
        );
        assert_eq!(
            from_json(br#""12.5""#, &Type::Number).unwrap(),
            Value::Number(num("12.5"))
        );
        assert_eq!(
            from_json(br#""true""#, &Type::Bool).unwrap(),
            Value::Bool(true)
        );
        assert!(from_json(br#""yes""#, &Type::Bool).is_err());
        assert!(from_json(br#""x""#, &Type::Number).is_err());
        assert!(from_json(b"[1]", &Type::String).is_err());
        assert!(from_json(b"[1,2]", &Type::tuple([Type::Number])).is_err());
    }

    #[test]
    fn json_object_and_map_keys_are_sorted() {
        let ty = Type::object([("z", Type::String), ("a", Type::map(Type::Bool))]);
        let v = Value::object([
            ("z", Value::string("last")),
            (
                "a",
                Value::map([("y", Value::Bool(true)), ("b", Value::Bool(false))]),
            ),
        ]);
        assert_eq!(
            to_json(&v, &ty).unwrap(),
            br#"{"a":{"b":false,"y":true},"z":"last"}"#
        );
    }

    // --- property tests -------------------------------------------------------------------

    mod props {
        use super::*;
        use proptest::prelude::*;
        use proptest::strategy::Union;

        fn attr_name() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("a".to_string()),
                Just("b".to_string()),
                Just("id".to_string()),
                Just("name_2".to_string()),
                "[a-z_]{1,6}",
            ]
        }

        fn type_tree(leaf: BoxedStrategy<Type>, depth: u32) -> BoxedStrategy<Type> {
            leaf.prop_recursive(depth, 24, 4, |inner| {
                prop_oneof![
                    inner.clone().prop_map(Type::list),
                    inner.clone().prop_map(Type::set),
                    inner.clone().prop_map(Type::map),
                    prop::collection::btree_map(attr_name(), inner.clone(), 0..4)
                        .prop_map(Type::Object),
                    prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
                ]
            })
            .boxed()
        }

        /// Any type of depth ≤ 3, `dynamic` included.
        fn any_type() -> BoxedStrategy<Type> {
            let leaf = prop_oneof![
                Just(Type::String),
                Just(Type::Number),
                Just(Type::Bool),
                Just(Type::Dynamic),
            ];
            type_tree(leaf.boxed(), 3)
        }

        /// A type without `dynamic`: what a dynamic value really is at run time.
        fn static_type() -> BoxedStrategy<Type> {
            let leaf = prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)];
            type_tree(leaf.boxed(), 2)
        }

        /// `ty` with every `dynamic` replaced by some static type, so that all elements of a
        /// collection generated from it share one type, as Terraform requires.
        fn concretize(ty: &Type) -> BoxedStrategy<Type> {
            if !ty.has_dynamic() {
                return Just(ty.clone()).boxed();
            }
            match ty {
                Type::Dynamic => static_type(),
                Type::List(e) => concretize(e).prop_map(Type::list).boxed(),
                Type::Set(e) => concretize(e).prop_map(Type::set).boxed(),
                Type::Map(e) => concretize(e).prop_map(Type::map).boxed(),
                Type::Object(attrs) => {
                    let names: Vec<String> = attrs.keys().cloned().collect();
                    let parts: Vec<BoxedStrategy<Type>> = attrs.values().map(concretize).collect();
                    parts
                        .prop_map(move |tys| Type::Object(names.iter().cloned().zip(tys).collect()))
                        .boxed()
                }
                Type::Tuple(elems) => {
                    let parts: Vec<BoxedStrategy<Type>> = elems.iter().map(concretize).collect();
                    parts.prop_map(Type::Tuple).boxed()
                }
                other => Just(other.clone()).boxed(),
            }
        }

        fn number() -> BoxedStrategy<Number> {
            prop_oneof![
                any::<i64>().prop_map(Number::from),
                any::<u64>().prop_map(Number::from),
                "-?[1-9][0-9]{19,45}".prop_map(|t| t.parse().unwrap()),
                (any::<i64>(), -40i64..40).prop_map(|(m, e)| format!("{m}e{e}").parse().unwrap()),
                prop::sample::select(vec![
                    "0.1",
                    "-0.1",
                    "3.14159265358979323846264338",
                    "0.5",
                    "1e-300",
                    "123456789.000000001",
                    "1.5e100",
                    "-2.5e-90",
                ])
                .prop_map(|t| t.parse().unwrap()),
                any::<f64>().prop_filter_map("finite", Number::from_f64_exact),
                any::<f64>().prop_filter_map("finite", Number::from_f64),
            ]
            .boxed()
        }

        /// A value conforming to `ty`: null and (if `unknowns`) unknown at any level.
        fn value_for(ty: &Type, unknowns: bool) -> BoxedStrategy<Value> {
            let known: BoxedStrategy<Value> = match ty {
                Type::String => "\\PC{0,8}".prop_map(Value::String).boxed(),
                Type::Number => number().prop_map(Value::Number).boxed(),
                Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
                Type::Dynamic => static_type()
                    .prop_flat_map(move |t| value_for(&t, unknowns))
                    .boxed(),
                Type::List(e) | Type::Set(e) => {
                    let is_list = matches!(ty, Type::List(_));
                    concretize(e)
                        .prop_flat_map(move |t| {
                            prop::collection::vec(value_for(&t, unknowns), 0..4)
                        })
                        .prop_map(move |items| {
                            if is_list {
                                Value::List(items)
                            } else {
                                Value::Set(items)
                            }
                        })
                        .boxed()
                }
                Type::Map(e) => concretize(e)
                    .prop_flat_map(move |t| {
                        prop::collection::btree_map("\\PC{0,4}", value_for(&t, unknowns), 0..4)
                    })
                    .prop_map(Value::Map)
                    .boxed(),
                Type::Object(attrs) => {
                    let names: Vec<String> = attrs.keys().cloned().collect();
                    let parts: Vec<BoxedStrategy<Value>> =
                        attrs.values().map(|t| value_for(t, unknowns)).collect();
                    parts
                        .prop_map(move |vals| {
                            Value::Object(names.iter().cloned().zip(vals).collect())
                        })
                        .boxed()
                }
                Type::Tuple(elems) => {
                    let parts: Vec<BoxedStrategy<Value>> =
                        elems.iter().map(|t| value_for(t, unknowns)).collect();
                    parts.prop_map(Value::Tuple).boxed()
                }
            };
            let mut choices = vec![(1, Just(Value::Null).boxed()), (8, known)];
            if unknowns {
                choices.push((1, Just(Value::unknown()).boxed()));
            }
            Union::new_weighted(choices).boxed()
        }

        fn typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
            any_type().prop_flat_map(move |ty| {
                let values = value_for(&ty, unknowns);
                (Just(ty), values)
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn msgpack_roundtrip_preserves_value((ty, v) in typed_value(true)) {
                prop_assert_eq!(conforms(&v, &ty), Ok(()));
                let bytes = to_msgpack(&v, &ty).unwrap();
                prop_assert_eq!(from_msgpack(&bytes, &ty).unwrap(), v);
            }

            #[test]
            fn json_roundtrip_preserves_value((ty, v) in typed_value(false)) {
                prop_assert_eq!(conforms(&v, &ty), Ok(()));
                let bytes = to_json(&v, &ty).unwrap();
                prop_assert_eq!(from_json(&bytes, &ty).unwrap(), v);
            }

            #[test]
            fn msgpack_decodes_as_dynamic_with_embedded_type(
                (ty, v) in static_type().prop_flat_map(|ty| (Just(ty.clone()), value_for(&ty, true)))
            ) {
                // A value encoded under dynamic carries its type and comes back the same.
                prop_assert_eq!(conforms(&v, &ty), Ok(()));
                let bytes = to_msgpack(&v, &Type::Dynamic).unwrap();
                prop_assert_eq!(from_msgpack(&bytes, &Type::Dynamic).unwrap(), v);
            }

            #[test]
            fn type_json_roundtrip(ty in any_type()) {
                prop_assert_eq!(Type::from_json_bytes(&ty.to_json_bytes()).unwrap(), ty);
            }

            #[test]
            fn number_display_parses_back(n in number()) {
                prop_assert_eq!(n.to_string().parse::<Number>().unwrap(), n);
            }

            #[test]
            fn number_exact_f64_roundtrip(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
                let exact = Number::from_f64_exact(f).unwrap();
                prop_assert_eq!(exact.to_f64(), f);
                prop_assert_eq!(exact.to_exact_f64(), Some(f));
                let short = Number::from_f64(f).unwrap();
                prop_assert_eq!(short.to_f64(), f);
            }

            #[test]
            fn number_order_matches_f64(a in any::<i32>(), b in any::<i32>(), ea in -5i32..5, eb in -5i32..5) {
                let x: Number = format!("{a}e{ea}").parse().unwrap();
                let y: Number = format!("{b}e{eb}").parse().unwrap();
                let fx = f64::from(a) * 10f64.powi(ea);
                let fy = f64::from(b) * 10f64.powi(eb);
                if (fx - fy).abs() > 1e-9 * fx.abs().max(fy.abs()) {
                    prop_assert_eq!(x.cmp(&y), fx.partial_cmp(&fy).unwrap());
                }
            }

            #[test]
            fn number_integers_roundtrip(i in any::<i64>()) {
                prop_assert_eq!(Number::from(i).to_i64(), Some(i));
                prop_assert_eq!(Number::from(i).to_string(), i.to_string());
            }
        }
    }
}
