//! Provider-defined functions: GetFunctions, CallFunction, and the functions' part of
//! GetProviderSchema and GetMetadata. Terraform calls functions on an unconfigured provider,
//! so nothing here needs the client.

use std::collections::HashMap;

use super::{ProviderServer, pb};
use crate::tfplugin::function::{Arguments, FunctionError, Parameter, Signature};
use crate::tfplugin::resource::Provider;
use crate::tfplugin::value::{self, Value};

impl<P: Provider> ProviderServer<P> {
    /// Every function's definition by name, for GetFunctions and GetProviderSchema.
    pub(super) fn function_definitions(&self) -> HashMap<String, pb::Function> {
        self.functions
            .iter()
            .map(|(name, entry)| (name.to_string(), definition(&entry.signature)))
            .collect()
    }

    pub(super) fn function_metadata(&self) -> Vec<pb::get_metadata::FunctionMetadata> {
        self.functions
            .keys()
            .map(|name| pb::get_metadata::FunctionMetadata {
                name: name.to_string(),
            })
            .collect()
    }

    pub(super) fn get_functions(&self) -> pb::get_functions::Response {
        pb::get_functions::Response {
            functions: self.function_definitions(),
            diagnostics: Vec::new(),
        }
    }

    pub(super) fn call_function(
        &self,
        request: pb::call_function::Request,
    ) -> pb::call_function::Response {
        // The name only: arguments may be secrets (a password), whatever the log level.
        tracing::debug!(tf_rpc = "CallFunction", tf_function_name = %request.name);
        let result = self.call(&request).and_then(|(result, signature)| {
            value::to_msgpack(&result, &signature.return_type).map_err(|err| {
                FunctionError::new(format!(
                    "the provider could not encode the result of {}: {err}; this is a bug in \
                     the provider, please report it",
                    request.name
                ))
            })
        });
        match result {
            Ok(msgpack) => pb::call_function::Response {
                result: Some(pb::DynamicValue {
                    msgpack,
                    json: Vec::new(),
                }),
                error: None,
            },
            Err(error) => pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: error.text,
                    function_argument: error.argument.and_then(|index| i64::try_from(index).ok()),
                }),
            },
        }
    }

    /// Decodes the arguments, upholds the signature, and calls the function.
    fn call(
        &self,
        request: &pb::call_function::Request,
    ) -> Result<(Value, &Signature), FunctionError> {
        let entry = self.functions.get(request.name.as_str()).ok_or_else(|| {
            let known: Vec<&str> = self.functions.keys().copied().collect();
            FunctionError::new(format!(
                "the provider has no function named \"{}\"; it offers: {}",
                request.name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        let signature = &entry.signature;
        let positional = signature.parameters.len();
        let given = request.arguments.len();
        let too_few = given < positional;
        if too_few || (signature.variadic.is_none() && given > positional) {
            let at_least = if signature.variadic.is_some() {
                "at least "
            } else {
                ""
            };
            return Err(FunctionError::argument(
                given.min(positional),
                format!(
                    "{} takes {at_least}{positional} arguments, {given} given",
                    request.name
                ),
            ));
        }
        let mut arguments = Vec::with_capacity(request.arguments.len());
        for (index, dynamic) in request.arguments.iter().enumerate() {
            let parameter = signature
                .parameters
                .get(index)
                .or(signature.variadic.as_ref())
                .ok_or_else(|| FunctionError::argument(index, "unexpected argument"))?;
            let argument = decode_argument(dynamic, parameter)
                .map_err(|text| FunctionError::argument(index, text))?;
            if !parameter.allow_unknown && !argument.is_wholly_known() {
                // Terraform's own rule, should it send one anyway: the result waits.
                return Ok((Value::unknown(), signature));
            }
            if !parameter.allow_null && argument.is_null() {
                return Err(FunctionError::argument(
                    index,
                    format!("{} must not be null", parameter.name),
                ));
            }
            arguments.push(argument);
        }
        let result = entry.handler.call(&Arguments::new(&arguments))?;
        Ok((result, signature))
    }
}

/// One argument, msgpack (what Terraform sends) or JSON. Never quotes the value: it may be a
/// secret.
fn decode_argument(dynamic: &pb::DynamicValue, parameter: &Parameter) -> Result<Value, String> {
    let decoded = if !dynamic.msgpack.is_empty() {
        value::from_msgpack(&dynamic.msgpack, &parameter.ty)
    } else if !dynamic.json.is_empty() {
        value::from_json(&dynamic.json, &parameter.ty)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|_| {
        format!(
            "the provider could not decode {} as {}; this is a bug in the provider or a \
             mismatch with the Terraform version, please report it",
            parameter.name, parameter.ty
        )
    })
}

fn definition(signature: &Signature) -> pb::Function {
    pb::Function {
        parameters: signature.parameters.iter().map(parameter).collect(),
        variadic_parameter: signature.variadic.as_ref().map(parameter),
        r#return: Some(pb::function::Return {
            r#type: signature.return_type.to_json_bytes(),
        }),
        summary: signature.summary.to_string(),
        description: signature.description.to_string(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

fn parameter(parameter: &Parameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: parameter.name.to_string(),
        r#type: parameter.ty.to_json_bytes(),
        allow_null_value: parameter.allow_null,
        allow_unknown_values: parameter.allow_unknown,
        description: parameter.description.to_string(),
        description_kind: pb::StringKind::Markdown as i32,
    }
}
