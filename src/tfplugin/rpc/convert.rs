//! Conversions between the wire types of tfplugin6 and the protocol-agnostic model (values,
//! schemas, diagnostics, paths). The only place that knows both.

use crate::tfplugin::diag::{Diagnostic, Diagnostics, Severity};
use crate::tfplugin::path::{AttributePath, PathStep};
use crate::tfplugin::proto::tfplugin6 as pb;
use crate::tfplugin::resource::IdentityAttribute;
use crate::tfplugin::schema::{
    Attribute, AttributeType, Block, BlockNesting, DescriptionKind, NestedBlock, ObjectNesting,
    Schema,
};
use crate::tfplugin::value::{self, Type, Value};

/// Decodes a `DynamicValue`: msgpack when present, else JSON, else null (Terraform sends an empty
/// value for null).
pub(crate) fn decode(
    dynamic: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
) -> Result<Value, Diagnostics> {
    let Some(dynamic) = dynamic else {
        return Ok(Value::Null);
    };
    let decoded = if !dynamic.msgpack.is_empty() {
        value::from_msgpack(&dynamic.msgpack, ty)
    } else if !dynamic.json.is_empty() {
        value::from_json(&dynamic.json, ty)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|err| {
        Diagnostics::from_error(
            "Invalid Value From Terraform",
            format!(
                "The provider could not decode the {what} that Terraform sent: {err}. This is a bug \
                 in the provider or a mismatch with the Terraform version; please report it."
            ),
        )
    })
}

/// Encodes a value as msgpack, the encoding Terraform expects in every response.
pub(crate) fn encode(
    value: &Value,
    ty: &Type,
    what: &str,
) -> Result<pb::DynamicValue, Diagnostics> {
    value::to_msgpack(value, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|err| {
            Diagnostics::from_error(
                "Invalid Value From Provider",
                format!(
                    "The provider could not encode the {what}: {err}. This is a bug in the \
                     provider; please report it."
                ),
            )
        })
}

pub(crate) fn diagnostics(diags: Diagnostics) -> Vec<pb::Diagnostic> {
    diags.into_iter().map(diagnostic).collect()
}

fn diagnostic(diag: Diagnostic) -> pb::Diagnostic {
    let severity = match diag.severity {
        Severity::Error => pb::diagnostic::Severity::Error,
        Severity::Warning => pb::diagnostic::Severity::Warning,
    };
    pb::Diagnostic {
        severity: severity as i32,
        summary: diag.summary,
        detail: diag.detail,
        attribute: diag.path.as_ref().map(attribute_path),
    }
}

pub(crate) fn attribute_path(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    let steps = path
        .steps
        .iter()
        .map(|step| pb::attribute_path::Step {
            selector: Some(match step {
                PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                PathStep::ElementKeyString(key) => Selector::ElementKeyString(key.clone()),
                PathStep::ElementKeyInt(index) => Selector::ElementKeyInt(*index),
            }),
        })
        .collect();
    pb::AttributePath { steps }
}

pub(crate) fn schema(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block(&schema.block, schema.version)),
    }
}

fn block(block: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: block.attributes.iter().map(attribute).collect(),
        block_types: block.block_types.iter().map(nested_block).collect(),
        description: block.description.clone(),
        description_kind: description_kind(block.description_kind) as i32,
        deprecated: block.deprecated,
        deprecation_message: block.deprecation_message.clone(),
    }
}

fn nested_block(nested: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    let nesting = match nested.nesting {
        BlockNesting::Single => NestingMode::Single,
        BlockNesting::List => NestingMode::List,
        BlockNesting::Set => NestingMode::Set,
        BlockNesting::Map => NestingMode::Map,
        BlockNesting::Group => NestingMode::Group,
    };
    pb::schema::NestedBlock {
        type_name: nested.type_name.clone(),
        block: Some(block(&nested.block, 0)),
        nesting: nesting as i32,
        min_items: nested.min_items,
        max_items: nested.max_items,
    }
}

fn attribute(attribute: &Attribute) -> pb::schema::Attribute {
    use pb::schema::object::NestingMode;
    let (ty, nested_type) = match &attribute.ty {
        AttributeType::Primitive(ty) => (ty.to_json_bytes(), None),
        AttributeType::Nested(object) => {
            let nesting = match object.nesting {
                ObjectNesting::Single => NestingMode::Single,
                ObjectNesting::List => NestingMode::List,
                ObjectNesting::Set => NestingMode::Set,
                ObjectNesting::Map => NestingMode::Map,
            };
            #[allow(deprecated)]
            let nested = pb::schema::Object {
                attributes: object.attributes.iter().map(self::attribute).collect(),
                nesting: nesting as i32,
                min_items: 0,
                max_items: 0,
            };
            (Vec::new(), Some(nested))
        }
    };
    pb::schema::Attribute {
        name: attribute.name.clone(),
        r#type: ty,
        nested_type,
        description: attribute.description.clone(),
        required: attribute.required,
        optional: attribute.optional,
        computed: attribute.computed,
        sensitive: attribute.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: attribute.deprecated,
        write_only: attribute.write_only,
        deprecation_message: attribute.deprecation_message.clone(),
    }
}

fn description_kind(kind: DescriptionKind) -> pb::StringKind {
    match kind {
        DescriptionKind::Plain => pb::StringKind::Plain,
        DescriptionKind::Markdown => pb::StringKind::Markdown,
    }
}

pub(crate) fn identity_schema(
    version: i64,
    attributes: &[IdentityAttribute],
) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version,
        identity_attributes: attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.to_string(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: !a.required_for_import,
                description: a.description.to_string(),
            })
            .collect(),
    }
}

/// The object type of an identity schema.
pub(crate) fn identity_type(attributes: &[IdentityAttribute]) -> Type {
    Type::object(attributes.iter().map(|a| (a.name, a.ty.clone())))
}
