//! Provider-defined functions (Terraform 1.8+), called as `provider::<provider>::<name>(…)`.
//!
//! Terraform calls them on a provider it has not configured, so a [`Function`] gets no client:
//! it is a pure computation from its arguments. The RPC layer decodes the arguments with the
//! declared parameter types and upholds the signature (argument count, nulls, unknowns) before
//! [`Function::call`] runs.

use super::value::{Type, Value};

/// A function the provider offers.
pub trait Function: Send + Sync {
    /// The name Terraform calls it by, without the `provider::<provider>::` prefix.
    fn name(&self) -> &'static str;

    /// Parameters, return type and documentation. Static: Terraform may cache it.
    fn signature(&self) -> Signature;

    /// Computes the result. `arguments` conform to the signature: one per positional
    /// parameter, then any number for the variadic one, each known and, unless its parameter
    /// allows null, non-null.
    fn call(&self, arguments: &Arguments<'_>) -> Result<Value, FunctionError>;
}

/// What a function takes and returns, and how the documentation describes it.
#[derive(Debug, Clone)]
pub struct Signature {
    /// Positional parameters, in order.
    pub parameters: Vec<Parameter>,
    /// A last parameter that takes zero or more arguments.
    pub variadic: Option<Parameter>,
    /// The result's type; one per function, since the protocol declares it statically.
    pub return_type: Type,
    /// One line, shown in listings.
    pub summary: &'static str,
    /// Markdown, for the documentation page.
    pub description: &'static str,
}

/// One parameter of a [`Signature`].
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Shown in Terraform's error messages and the docs (arguments are positional).
    pub name: &'static str,
    /// The type Terraform converts the argument to before the call.
    pub ty: Type,
    /// Markdown.
    pub description: &'static str,
    /// Null may be passed; otherwise Terraform refuses a null argument itself.
    pub allow_null: bool,
    /// Unknown values may be passed; otherwise Terraform skips the call and the result is
    /// unknown until the argument is known.
    pub allow_unknown: bool,
}

impl Parameter {
    /// A parameter that takes only known, non-null values.
    pub fn new(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self {
            name,
            ty,
            description,
            allow_null: false,
            allow_unknown: false,
        }
    }
}

/// The decoded arguments of one call, in order (variadic ones last).
#[derive(Debug, Clone, Copy)]
pub struct Arguments<'a> {
    values: &'a [Value],
}

impl<'a> Arguments<'a> {
    /// Wraps decoded argument values.
    pub fn new(values: &'a [Value]) -> Self {
        Self { values }
    }

    /// The string argument at `index`; an error naming that argument if it is missing, null
    /// or not a string (the RPC layer prevents that for string parameters).
    pub fn string(&self, index: usize) -> Result<&'a str, FunctionError> {
        self.values
            .get(index)
            .and_then(Value::as_str)
            .ok_or_else(|| FunctionError::argument(index, "a string is required"))
    }

    /// The string arguments from `index` on (a variadic parameter's).
    pub fn strings_from(&self, index: usize) -> Result<Vec<&'a str>, FunctionError> {
        (index..self.values.len())
            .map(|at| self.string(at))
            .collect()
    }
}

/// Why a call failed. Terraform shows `text` after `Invalid value for "<parameter>"
/// parameter: ` when an argument is named, and adds a final period itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// What is wrong and what would be right, without a final period.
    pub text: String,
    /// The 0-based index of the argument at fault, when one is.
    pub argument: Option<usize>,
}

impl FunctionError {
    /// A failure of the call as a whole.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            argument: None,
        }
    }

    /// A failure caused by the argument at `index` (an index past the last argument names
    /// the variadic parameter, e.g. a part that is missing).
    pub fn argument(index: usize, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            argument: Some(index),
        }
    }
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.argument {
            Some(index) => write!(f, "argument {index}: {}", self.text),
            None => f.write_str(&self.text),
        }
    }
}

impl std::error::Error for FunctionError {}
