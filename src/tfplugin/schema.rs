//! Schema model: plain Rust mirroring tfplugin6 `Schema`, with builders so resource code
//! reads like the documentation it generates, and the checks core runs on every schema.

use std::collections::{BTreeMap, BTreeSet};

use crate::tfplugin::path::{AttributePath, PathStep};
use crate::tfplugin::value::{Type, Value};

/// The schema of a resource, data source, provider configuration or ephemeral resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    /// Bumped when the stored state shape changes, so Terraform calls UpgradeResourceState.
    pub version: i64,
    /// The top-level block: the resource's attributes and nested blocks.
    pub block: Block,
}

impl Schema {
    /// A version-0 schema.
    pub fn new(block: Block) -> Self {
        Self { version: 0, block }
    }

    /// Sets the schema version.
    #[must_use]
    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The type of values of this schema (see [`Block::implied_type`]).
    pub fn implied_type(&self) -> Type {
        self.block.implied_type()
    }
}

/// How a description is rendered in docs and UIs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DescriptionKind {
    /// Plain text.
    #[default]
    Plain,
    /// Markdown.
    Markdown,
}

/// A block: attributes plus nested block types.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// The block's attributes, in documentation order.
    pub attributes: Vec<Attribute>,
    /// The block types that may be nested in this block (e.g. `timeouts`).
    pub block_types: Vec<NestedBlock>,
    /// What the block is for, shown in docs and editors.
    pub description: String,
    /// Whether `description` is plain text or markdown.
    pub description_kind: DescriptionKind,
    /// Whether using this block draws a deprecation warning.
    pub deprecated: bool,
    /// What to use instead; shown with the deprecation warning.
    pub deprecation_message: String,
}

impl Block {
    /// An empty block with a plain-text description.
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            ..Self::default()
        }
    }

    /// Adds an attribute.
    #[must_use]
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds several attributes.
    #[must_use]
    pub fn attributes(mut self, attributes: impl IntoIterator<Item = Attribute>) -> Self {
        self.attributes.extend(attributes);
        self
    }

    /// Adds a nested block type.
    #[must_use]
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.block_types.push(block);
        self
    }

    /// Marks the description as markdown.
    #[must_use]
    pub fn markdown(mut self) -> Self {
        self.description_kind = DescriptionKind::Markdown;
        self
    }

    /// Deprecates the block, telling users what to use instead.
    #[must_use]
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecated = true;
        self.deprecation_message = message.into();
        self
    }

    /// The attribute called `name`, if any.
    pub fn attribute_named(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The nested block type called `name`, if any.
    pub fn block_named(&self, name: &str) -> Option<&NestedBlock> {
        self.block_types.iter().find(|b| b.type_name == name)
    }

    /// The type of this block's values, as core computes it: an object with one attribute per
    /// attribute and per nested block type. Nested blocks are an object (SINGLE, GROUP), a
    /// list, set or map of objects; a LIST or MAP whose block contains `dynamic` is `dynamic`
    /// (its values are then a tuple or an object of blocks, sent with their type).
    pub fn implied_type(&self) -> Type {
        let mut attrs = BTreeMap::new();
        for attribute in &self.attributes {
            attrs.insert(attribute.name.clone(), attribute.value_type());
        }
        for nested in &self.block_types {
            // An attribute wins a name clash, as in core; validate_internal reports it.
            attrs
                .entry(nested.type_name.clone())
                .or_insert_with(|| nested.implied_type());
        }
        Type::Object(attrs)
    }

    /// A value of this block with every attribute null and no nested blocks: nested LIST,
    /// SET and MAP blocks are empty collections (core rejects null ones), GROUP blocks are
    /// their own empty value and SINGLE blocks are null.
    pub fn empty_value(&self) -> Value {
        let mut attrs = BTreeMap::new();
        for attribute in &self.attributes {
            attrs.insert(attribute.name.clone(), Value::Null);
        }
        for nested in &self.block_types {
            let dynamic = nested.block.implied_type().has_dynamic();
            let empty = match nested.nesting {
                BlockNesting::Single => Value::Null,
                BlockNesting::Group => nested.block.empty_value(),
                BlockNesting::List if dynamic => Value::Tuple(Vec::new()),
                BlockNesting::List => Value::List(Vec::new()),
                BlockNesting::Set => Value::Set(Vec::new()),
                BlockNesting::Map if dynamic => Value::Object(BTreeMap::new()),
                BlockNesting::Map => Value::Map(BTreeMap::new()),
            };
            attrs.entry(nested.type_name.clone()).or_insert(empty);
        }
        Value::Object(attrs)
    }

    /// Whether any attribute in this block or below is write-only.
    pub fn contains_write_only(&self) -> bool {
        self.attributes.iter().any(Attribute::contains_write_only)
            || self
                .block_types
                .iter()
                .any(|b| b.block.contains_write_only())
    }

    /// Schema paths (attribute names only, no element keys) of every sensitive attribute in
    /// this block, nested blocks and nested attributes; for docs and redaction lists.
    pub fn sensitive_paths(&self) -> Vec<AttributePath> {
        let mut out = Vec::new();
        self.schema_paths(&AttributePath::root(), &|a| a.sensitive, &mut out);
        out
    }

    /// Schema paths (attribute names only) of every write-only attribute.
    pub fn write_only_paths(&self) -> Vec<AttributePath> {
        let mut out = Vec::new();
        self.schema_paths(&AttributePath::root(), &|a| a.write_only, &mut out);
        out
    }

    fn schema_paths(
        &self,
        base: &AttributePath,
        flagged: &dyn Fn(&Attribute) -> bool,
        out: &mut Vec<AttributePath>,
    ) {
        for attribute in &self.attributes {
            collect_attribute_schema_paths(attribute, base, flagged, out);
        }
        for nested in &self.block_types {
            nested
                .block
                .schema_paths(&base.with_attr(&nested.type_name), flagged, out);
        }
    }

    /// Paths into `value` (with list indexes and map keys) of every write-only attribute it
    /// holds, as core computes them (`WriteOnlyPaths`).
    pub fn write_only_value_paths(&self, value: &Value) -> Vec<AttributePath> {
        let mut out = Vec::new();
        self.value_paths(value, &AttributePath::root(), &|a| a.write_only, &mut out);
        out
    }

    /// Paths into `value` of every sensitive attribute it holds.
    pub fn sensitive_value_paths(&self, value: &Value) -> Vec<AttributePath> {
        let mut out = Vec::new();
        self.value_paths(value, &AttributePath::root(), &|a| a.sensitive, &mut out);
        out
    }

    /// Sets every write-only attribute in `value` to null, as core requires of every planned,
    /// applied and read state.
    pub fn null_write_only(&self, value: &mut Value) {
        for path in self.write_only_value_paths(value) {
            if let Some(slot) = value.get_path_mut(&path) {
                *slot = Value::Null;
            }
        }
    }

    /// The configuration that gives `state` back (`GenerateResourceConfig`): the state without
    /// what a configuration cannot set, read-only and write-only attributes, so that the
    /// generated block plans no change and holds no write-only secret.
    pub fn config_from_state(&self, state: &Value) -> Value {
        let mut config = state.clone();
        let not_settable = |a: &Attribute| a.write_only || (a.computed && !a.optional);
        let mut paths = Vec::new();
        self.value_paths(state, &AttributePath::root(), &not_settable, &mut paths);
        for path in paths {
            if let Some(slot) = config.get_path_mut(&path) {
                *slot = Value::Null;
            }
        }
        config
    }

    fn value_paths(
        &self,
        value: &Value,
        base: &AttributePath,
        flagged: &dyn Fn(&Attribute) -> bool,
        out: &mut Vec<AttributePath>,
    ) {
        if !matches!(value, Value::Object(_)) {
            return;
        }
        for attribute in &self.attributes {
            collect_attribute_value_paths(
                attribute,
                value.attr(&attribute.name),
                &base.with_attr(&attribute.name),
                flagged,
                out,
            );
        }
        for nested in &self.block_types {
            let block_value = value.attr(&nested.type_name);
            let block_path = base.with_attr(&nested.type_name);
            let single = matches!(nested.nesting, BlockNesting::Single | BlockNesting::Group);
            for_each_element(block_value, &block_path, single, |element, element_path| {
                nested
                    .block
                    .value_paths(element, &element_path, flagged, out);
            });
        }
    }

    /// Checks the rules core enforces on provider schemas (`InternalValidate`) plus the
    /// write-only and naming rules, returning every problem found, each prefixed by the
    /// dotted schema path it concerns.
    pub fn validate_internal(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        self.validate_into("", &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn validate_into(&self, prefix: &str, errors: &mut Vec<String>) {
        if !self.deprecated && !self.deprecation_message.is_empty() {
            let what = prefix.trim_end_matches('.');
            let what = if what.is_empty() { "block" } else { what };
            errors.push(format!(
                "{what}: deprecation_message is set but deprecated is not"
            ));
        }
        validate_attributes(&self.attributes, prefix, errors);

        let attribute_names: BTreeSet<&str> =
            self.attributes.iter().map(|a| a.name.as_str()).collect();
        let mut block_names = BTreeSet::new();
        for nested in &self.block_types {
            let name = nested.type_name.as_str();
            let at = format!("{prefix}{name}");
            if attribute_names.contains(name) {
                errors.push(format!(
                    "{at}: name defined as both attribute and child block type"
                ));
            } else if !valid_name(name) {
                errors.push(format!(
                    "{at}: name may contain only lowercase letters, digits and underscores"
                ));
            }
            if !block_names.insert(name) {
                errors.push(format!("{at}: block type defined more than once"));
            }
            if nested.min_items < 0 || nested.max_items < 0 {
                errors.push(format!(
                    "{at}: MinItems and MaxItems must both be greater than zero"
                ));
            }
            match nested.nesting {
                BlockNesting::Single => {
                    if nested.min_items != nested.max_items {
                        errors.push(format!(
                            "{at}: MinItems and MaxItems must match in NestingSingle mode"
                        ));
                    } else if !(0..=1).contains(&nested.min_items) {
                        errors.push(format!(
                            "{at}: MinItems and MaxItems must be set to either 0 or 1 in NestingSingle mode"
                        ));
                    }
                }
                BlockNesting::Group => {
                    if nested.min_items != 0 || nested.max_items != 0 {
                        errors.push(format!(
                            "{at}: MinItems and MaxItems cannot be used in NestingGroup mode"
                        ));
                    }
                }
                BlockNesting::List | BlockNesting::Set => {
                    if nested.max_items != 0 && nested.min_items > nested.max_items {
                        errors.push(format!(
                            "{at}: MinItems must be less than or equal to MaxItems in {:?} mode",
                            nested.nesting
                        ));
                    }
                    if nested.nesting == BlockNesting::Set {
                        if nested.block.implied_type().has_dynamic() {
                            errors.push(format!(
                                "{at}: NestingSet blocks may not contain attributes of dynamic type"
                            ));
                        }
                        if nested.block.contains_write_only() {
                            errors.push(format!(
                                "{at}: NestingSet blocks may not contain WriteOnly attributes"
                            ));
                        }
                    }
                }
                BlockNesting::Map => {
                    if nested.min_items != 0 || nested.max_items != 0 {
                        errors.push(format!(
                            "{at}: MinItems and MaxItems must both be 0 in NestingMap mode"
                        ));
                    }
                }
            }
            nested.block.validate_into(&format!("{at}."), errors);
        }
    }
}

fn collect_attribute_schema_paths(
    attribute: &Attribute,
    base: &AttributePath,
    flagged: &dyn Fn(&Attribute) -> bool,
    out: &mut Vec<AttributePath>,
) {
    let path = base.with_attr(&attribute.name);
    if flagged(attribute) {
        out.push(path.clone());
    }
    if let AttributeType::Nested(object) = &attribute.ty {
        for inner in &object.attributes {
            collect_attribute_schema_paths(inner, &path, flagged, out);
        }
    }
}

fn collect_attribute_value_paths(
    attribute: &Attribute,
    value: &Value,
    path: &AttributePath,
    flagged: &dyn Fn(&Attribute) -> bool,
    out: &mut Vec<AttributePath>,
) {
    // Flagged attributes count even when null, as in core.
    if flagged(attribute) {
        out.push(path.clone());
        return;
    }
    let AttributeType::Nested(object) = &attribute.ty else {
        return;
    };
    let visit = |element: &Value, element_path: AttributePath| {
        if !matches!(element, Value::Object(_)) {
            return;
        }
        for inner in &object.attributes {
            collect_attribute_value_paths(
                inner,
                element.attr(&inner.name),
                &element_path.with_attr(&inner.name),
                flagged,
                out,
            );
        }
    };
    let single = object.nesting == ObjectNesting::Single;
    for_each_element(value, path, single, visit);
}

/// Calls `f` on the object itself (`single`: SINGLE and GROUP nesting) or on each element
/// of a collection of objects, with its path. A LIST or MAP of blocks containing `dynamic`
/// arrives as a tuple or as an object keyed by label, so those count as collections here.
fn for_each_element(
    value: &Value,
    path: &AttributePath,
    single: bool,
    mut f: impl FnMut(&Value, AttributePath),
) {
    if single {
        f(value, path.clone());
        return;
    }
    match value {
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            for (i, item) in items.iter().enumerate() {
                f(item, path.with_step(PathStep::ElementKeyInt(i as i64)));
            }
        }
        Value::Map(entries) | Value::Object(entries) => {
            for (key, item) in entries {
                f(item, path.with_key(key));
            }
        }
        _ => {}
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether a set type with `dynamic` inside appears anywhere in `ty`: Terraform hashes set
/// elements by their exact type, so mixed element types cannot exist.
fn set_contains_dynamic(ty: &Type) -> bool {
    match ty {
        Type::Set(element) => element.has_dynamic(),
        Type::List(element) | Type::Map(element) => set_contains_dynamic(element),
        Type::Object(attrs) => attrs.values().any(set_contains_dynamic),
        Type::Tuple(elements) => elements.iter().any(set_contains_dynamic),
        Type::String | Type::Number | Type::Bool | Type::Dynamic => false,
    }
}

fn validate_attributes(attributes: &[Attribute], prefix: &str, errors: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    for attribute in attributes {
        if !seen.insert(attribute.name.as_str()) {
            errors.push(format!(
                "{prefix}{}: attribute defined more than once",
                attribute.name
            ));
        }
        attribute.validate_into(prefix, errors);
    }
}

/// The type of an attribute: a plain type, or nested attributes (protocol 6 only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeType {
    /// A plain cty type such as `string` or `list(string)`.
    Primitive(Type),
    /// An object, or a collection of objects, with its own attribute schemas.
    Nested(NestedObject),
}

/// How nested-attribute objects are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectNesting {
    /// One object.
    Single,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects.
    Map,
}

/// The object type of a nested attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NestedObject {
    /// The attributes of each object.
    pub attributes: Vec<Attribute>,
    /// Whether the attribute holds one object or a collection of them.
    pub nesting: ObjectNesting,
}

impl NestedObject {
    /// The attribute's value type: `object`, or a list, set or map of objects.
    pub fn implied_type(&self) -> Type {
        let object = Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.value_type()))
                .collect(),
        );
        match self.nesting {
            ObjectNesting::Single => object,
            ObjectNesting::List => Type::list(object),
            ObjectNesting::Set => Type::set(object),
            ObjectNesting::Map => Type::map(object),
        }
    }

    /// Whether any attribute inside is write-only.
    pub fn contains_write_only(&self) -> bool {
        self.attributes.iter().any(Attribute::contains_write_only)
    }
}

/// One attribute of a block or nested object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// The name used in configuration, `[a-z0-9_]+`.
    pub name: String,
    /// The value type.
    pub ty: AttributeType,
    /// What the attribute means, shown in docs and editors.
    pub description: String,
    /// Whether `description` is plain text or markdown.
    pub description_kind: DescriptionKind,
    /// The user must set it.
    pub required: bool,
    /// The user may set it.
    pub optional: bool,
    /// The provider sets it (alone: read-only; with optional: the provider may default it).
    pub computed: bool,
    /// Terraform hides the value in plans and output.
    pub sensitive: bool,
    /// The value comes only from configuration and is never stored: null in every state.
    pub write_only: bool,
    /// Using it draws a deprecation warning.
    pub deprecated: bool,
    /// What to use instead; shown with the deprecation warning.
    pub deprecation_message: String,
}

impl Attribute {
    /// An attribute of a plain type, with no flags set yet.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Self::with_type(name, AttributeType::Primitive(ty))
    }

    fn with_type(name: impl Into<String>, ty: AttributeType) -> Self {
        Self {
            name: name.into(),
            ty,
            description: String::new(),
            description_kind: DescriptionKind::Plain,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
            deprecation_message: String::new(),
        }
    }

    /// A string attribute.
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }

    /// A number attribute.
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }

    /// A bool attribute.
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }

    /// A dynamically typed attribute.
    pub fn dynamic(name: impl Into<String>) -> Self {
        Self::new(name, Type::Dynamic)
    }

    /// A list attribute.
    pub fn list(element: Type, name: impl Into<String>) -> Self {
        Self::new(name, Type::list(element))
    }

    /// A set attribute.
    pub fn set(element: Type, name: impl Into<String>) -> Self {
        Self::new(name, Type::set(element))
    }

    /// A map attribute.
    pub fn map(element: Type, name: impl Into<String>) -> Self {
        Self::new(name, Type::map(element))
    }

    /// A nested attribute: one object or a collection of objects with their own attributes.
    pub fn nested(
        name: impl Into<String>,
        nesting: ObjectNesting,
        attributes: Vec<Attribute>,
    ) -> Self {
        Self::with_type(
            name,
            AttributeType::Nested(NestedObject {
                attributes,
                nesting,
            }),
        )
    }

    /// The user must set it.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The user may set it.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// The provider sets it.
    #[must_use]
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Hidden in plans and output.
    #[must_use]
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Never stored: configuration only.
    #[must_use]
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Deprecated, with what to use instead.
    #[must_use]
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecated = true;
        self.deprecation_message = message.into();
        self
    }

    /// A plain-text description.
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self.description_kind = DescriptionKind::Plain;
        self
    }

    /// A markdown description.
    #[must_use]
    pub fn markdown_description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self.description_kind = DescriptionKind::Markdown;
        self
    }

    /// The type of this attribute's values.
    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttributeType::Primitive(ty) => ty.clone(),
            AttributeType::Nested(object) => object.implied_type(),
        }
    }

    /// Whether this attribute, or any nested attribute inside it, is write-only.
    pub fn contains_write_only(&self) -> bool {
        self.write_only
            || matches!(&self.ty, AttributeType::Nested(object) if object.contains_write_only())
    }

    fn validate_into(&self, prefix: &str, errors: &mut Vec<String>) {
        let at = format!("{prefix}{}", self.name);
        if !valid_name(&self.name) {
            errors.push(format!(
                "{at}: name may contain only lowercase letters, digits and underscores"
            ));
        }
        if !self.optional && !self.required && !self.computed {
            errors.push(format!("{at}: must set Optional, Required or Computed"));
        }
        if self.optional && self.required {
            errors.push(format!("{at}: cannot set both Optional and Required"));
        }
        if self.computed && self.required {
            errors.push(format!("{at}: cannot set both Computed and Required"));
        }
        if self.write_only && self.computed {
            errors.push(format!("{at}: cannot set both WriteOnly and Computed"));
        }
        if !self.deprecated && !self.deprecation_message.is_empty() {
            errors.push(format!(
                "{at}: deprecation_message is set but deprecated is not"
            ));
        }
        match &self.ty {
            AttributeType::Primitive(ty) => {
                if set_contains_dynamic(ty) {
                    errors.push(format!("{at}: set types may not contain the dynamic type"));
                }
            }
            AttributeType::Nested(object) => {
                if object.nesting == ObjectNesting::Set {
                    if object.implied_type().has_dynamic() {
                        errors.push(format!(
                            "{at}: NestingSet attributes may not contain attributes of dynamic type"
                        ));
                    }
                    if object.contains_write_only() {
                        errors.push(format!(
                            "{at}: NestingSet attributes may not contain WriteOnly attributes"
                        ));
                    }
                }
                validate_attributes(&object.attributes, &format!("{at}."), errors);
            }
        }
    }
}

/// How nested blocks of one type are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockNesting {
    /// At most one block; null when absent.
    Single,
    /// Blocks in order.
    List,
    /// Blocks without order.
    Set,
    /// Blocks keyed by their one label.
    Map,
    /// Exactly one block, synthesised all-null when absent.
    Group,
}

/// A block type that may appear inside a block, e.g. `timeouts { … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NestedBlock {
    /// The block type name used in configuration.
    pub type_name: String,
    /// The content of each block.
    pub block: Block,
    /// How several blocks of this type are grouped.
    pub nesting: BlockNesting,
    /// Fewest blocks allowed (LIST and SET; 0 or 1 for SINGLE); enforced by core.
    pub min_items: i64,
    /// Most blocks allowed, 0 for no limit; enforced by core.
    pub max_items: i64,
}

impl NestedBlock {
    fn with_nesting(type_name: impl Into<String>, block: Block, nesting: BlockNesting) -> Self {
        Self {
            type_name: type_name.into(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }

    /// At most one block.
    pub fn single(type_name: impl Into<String>, block: Block) -> Self {
        Self::with_nesting(type_name, block, BlockNesting::Single)
    }

    /// A list of blocks.
    pub fn list(type_name: impl Into<String>, block: Block) -> Self {
        Self::with_nesting(type_name, block, BlockNesting::List)
    }

    /// A set of blocks.
    pub fn set(type_name: impl Into<String>, block: Block) -> Self {
        Self::with_nesting(type_name, block, BlockNesting::Set)
    }

    /// Blocks keyed by label.
    pub fn map(type_name: impl Into<String>, block: Block) -> Self {
        Self::with_nesting(type_name, block, BlockNesting::Map)
    }

    /// One block that is never null.
    pub fn group(type_name: impl Into<String>, block: Block) -> Self {
        Self::with_nesting(type_name, block, BlockNesting::Group)
    }

    /// Sets the fewest blocks allowed.
    #[must_use]
    pub fn min_items(mut self, min: i64) -> Self {
        self.min_items = min;
        self
    }

    /// Sets the most blocks allowed.
    #[must_use]
    pub fn max_items(mut self, max: i64) -> Self {
        self.max_items = max;
        self
    }

    /// The type of this block type's value within its parent (see [`Block::implied_type`]).
    pub fn implied_type(&self) -> Type {
        let object = self.block.implied_type();
        let dynamic = object.has_dynamic();
        match self.nesting {
            BlockNesting::Single | BlockNesting::Group => object,
            BlockNesting::List if dynamic => Type::Dynamic,
            BlockNesting::List => Type::list(object),
            BlockNesting::Set => Type::set(object),
            BlockNesting::Map if dynamic => Type::Dynamic,
            BlockNesting::Map => Type::map(object),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts() -> Block {
        Block::new("Operation timeouts.")
            .attribute(Attribute::string("create").optional())
            .attribute(Attribute::string("delete").optional())
    }

    fn database() -> Block {
        Block::new("A managed database.")
            .attribute(
                Attribute::string("id")
                    .computed()
                    .description("Identifier."),
            )
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::list(Type::String, "roles").optional())
            .attribute(Attribute::map(Type::String, "tags").optional().computed())
            .attribute(Attribute::string("password").optional().sensitive())
            .attribute(
                Attribute::string("password_wo")
                    .optional()
                    .sensitive()
                    .write_only(),
            )
            .attribute(
                Attribute::nested(
                    "keys",
                    ObjectNesting::List,
                    vec![
                        Attribute::string("name").required(),
                        Attribute::string("secret").optional().write_only(),
                    ],
                )
                .optional(),
            )
            .block(NestedBlock::single("timeouts", timeouts()))
    }

    fn errors_of(block: &Block) -> Vec<String> {
        block.validate_internal().err().unwrap_or_default()
    }

    fn assert_one_error(block: Block, needle: &str) {
        let errors = errors_of(&block);
        assert_eq!(
            errors.len(),
            1,
            "expected one error containing {needle:?}: {errors:?}"
        );
        assert!(errors[0].contains(needle), "{needle:?} not in {errors:?}");
    }

    fn with_attr(a: Attribute) -> Block {
        Block::new("").attribute(a)
    }

    #[test]
    fn schema_builders_set_flags() {
        let a = Attribute::string("name")
            .required()
            .markdown_description("The `name`.")
            .deprecated("use `title`");
        assert!(a.required && !a.optional && !a.computed);
        assert_eq!(a.description_kind, DescriptionKind::Markdown);
        assert!(a.deprecated);
        assert_eq!(a.deprecation_message, "use `title`");
        let b = Attribute::set(Type::Number, "ports")
            .optional()
            .computed()
            .sensitive();
        assert!(b.optional && b.computed && b.sensitive && !b.write_only);
        assert_eq!(b.value_type(), Type::set(Type::Number));
        let schema = Schema::new(database()).version(2);
        assert_eq!(schema.version, 2);
        assert_eq!(
            schema.block.attribute_named("name").map(|a| a.required),
            Some(true)
        );
        assert!(schema.block.attribute_named("nope").is_none());
        assert_eq!(
            schema.block.block_named("timeouts").map(|b| b.nesting),
            Some(BlockNesting::Single)
        );
        let block = Block::new("x").markdown().deprecated("gone");
        assert_eq!(block.description_kind, DescriptionKind::Markdown);
        assert!(block.deprecated);
    }

    #[test]
    fn schema_example_is_valid() {
        assert_eq!(database().validate_internal(), Ok(()));
    }

    #[test]
    fn schema_implied_type_covers_attributes_and_blocks() {
        let ty = Schema::new(database()).implied_type();
        let expected = Type::object([
            ("id", Type::String),
            ("name", Type::String),
            ("roles", Type::list(Type::String)),
            ("tags", Type::map(Type::String)),
            ("password", Type::String),
            ("password_wo", Type::String),
            (
                "keys",
                Type::list(Type::object([
                    ("name", Type::String),
                    ("secret", Type::String),
                ])),
            ),
            (
                "timeouts",
                Type::object([("create", Type::String), ("delete", Type::String)]),
            ),
        ]);
        assert_eq!(ty, expected);
    }

    #[test]
    fn schema_implied_type_by_nesting_mode() {
        let inner = Block::new("").attribute(Attribute::string("a").optional());
        let obj = Type::object([("a", Type::String)]);
        let cases = [
            (NestedBlock::single("b", inner.clone()), obj.clone()),
            (NestedBlock::group("b", inner.clone()), obj.clone()),
            (
                NestedBlock::list("b", inner.clone()),
                Type::list(obj.clone()),
            ),
            (NestedBlock::set("b", inner.clone()), Type::set(obj.clone())),
            (NestedBlock::map("b", inner.clone()), Type::map(obj.clone())),
        ];
        for (nested, expected) in cases {
            assert_eq!(nested.implied_type(), expected, "{:?}", nested.nesting);
        }
        let dynamic = Block::new("").attribute(Attribute::dynamic("d").optional());
        assert_eq!(
            NestedBlock::list("b", dynamic.clone()).implied_type(),
            Type::Dynamic
        );
        assert_eq!(
            NestedBlock::map("b", dynamic.clone()).implied_type(),
            Type::Dynamic
        );
        assert_eq!(
            NestedBlock::single("b", dynamic).implied_type(),
            Type::object([("d", Type::Dynamic)])
        );

        let nested_attrs = vec![Attribute::number("n").optional()];
        let n_obj = Type::object([("n", Type::Number)]);
        for (nesting, expected) in [
            (ObjectNesting::Single, n_obj.clone()),
            (ObjectNesting::List, Type::list(n_obj.clone())),
            (ObjectNesting::Set, Type::set(n_obj.clone())),
            (ObjectNesting::Map, Type::map(n_obj.clone())),
        ] {
            let a = Attribute::nested("x", nesting, nested_attrs.clone());
            assert_eq!(a.value_type(), expected, "{nesting:?}");
        }
    }

    #[test]
    fn schema_empty_value_uses_empty_collections_for_blocks() {
        let block = Block::new("")
            .attribute(Attribute::string("a").optional())
            .block(NestedBlock::single("s", timeouts()))
            .block(NestedBlock::group("g", timeouts()))
            .block(NestedBlock::list("l", timeouts()))
            .block(NestedBlock::set("st", timeouts()))
            .block(NestedBlock::map("m", timeouts()));
        let empty = block.empty_value();
        assert_eq!(
            empty,
            Value::object([
                ("a", Value::Null),
                ("s", Value::Null),
                (
                    "g",
                    Value::object([("create", Value::Null), ("delete", Value::Null)])
                ),
                ("l", Value::List(vec![])),
                ("st", Value::Set(vec![])),
                ("m", Value::Map(BTreeMap::new())),
            ])
        );
        crate::tfplugin::value::conforms(&empty, &block.implied_type()).unwrap();
    }

    #[test]
    fn schema_sensitive_and_write_only_paths() {
        let block = database();
        let show = |paths: Vec<AttributePath>| -> Vec<String> {
            paths.iter().map(ToString::to_string).collect()
        };
        assert_eq!(show(block.sensitive_paths()), ["password", "password_wo"]);
        assert_eq!(
            show(block.write_only_paths()),
            ["password_wo", "keys.secret"]
        );
        let deep = Block::new("").block(NestedBlock::list(
            "users",
            Block::new("").attribute(Attribute::string("token").optional().sensitive()),
        ));
        assert_eq!(show(deep.sensitive_paths()), ["users.token"]);
        assert!(block.contains_write_only());
        assert!(!timeouts().contains_write_only());
    }

    #[test]
    fn schema_null_write_only_clears_every_write_only_value() {
        let block = database().block(NestedBlock::list(
            "users",
            Block::new("")
                .attribute(Attribute::string("name").required())
                .attribute(Attribute::string("pw").optional().write_only()),
        ));
        let key = |name: &str, secret: &str| {
            Value::object([
                ("name", Value::string(name)),
                ("secret", Value::string(secret)),
            ])
        };
        let user = |name: &str| {
            Value::object([
                ("name", Value::string(name)),
                ("pw", Value::string("hunter2")),
            ])
        };
        let mut value = block.empty_value();
        value.set_attr("name", Value::string("db"));
        value.set_attr("password_wo", Value::string("s3cret"));
        value.set_attr("keys", Value::list([key("k0", "a"), key("k1", "b")]));
        value.set_attr("users", Value::list([user("u0")]));

        let paths: Vec<String> = block
            .write_only_value_paths(&value)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            paths,
            [
                "password_wo",
                "keys[0].secret",
                "keys[1].secret",
                "users[0].pw"
            ]
        );

        block.null_write_only(&mut value);
        assert!(value.attr("password_wo").is_null());
        assert_eq!(value.attr("name").as_str(), Some("db"));
        for k in value.attr("keys").as_list().unwrap() {
            assert!(k.attr("secret").is_null());
            assert!(k.attr("name").as_str().is_some());
        }
        assert!(
            value.attr("users").as_list().unwrap()[0]
                .attr("pw")
                .is_null()
        );
        assert_eq!(
            block.sensitive_value_paths(&value).len(),
            2,
            "password and password_wo"
        );
    }

    #[test]
    fn schema_null_write_only_handles_map_nesting_and_null_blocks() {
        let block = Block::new("")
            .attribute(Attribute::nested(
                "creds",
                ObjectNesting::Map,
                vec![Attribute::string("pw").optional().write_only()],
            ))
            .block(NestedBlock::single(
                "auth",
                Block::new("").attribute(Attribute::string("token").optional().write_only()),
            ));
        let mut value = Value::object([
            (
                "creds",
                Value::map([("x", Value::object([("pw", Value::string("p"))]))]),
            ),
            ("auth", Value::Null),
        ]);
        block.null_write_only(&mut value);
        let pw = AttributePath::attr("creds").with_key("x").with_attr("pw");
        assert_eq!(value.get_path(&pw), Some(&Value::Null));
        assert!(value.attr("auth").is_null());

        value.set_attr("auth", Value::object([("token", Value::string("t"))]));
        block.null_write_only(&mut value);
        assert!(value.attr("auth").attr("token").is_null());
    }

    // --- validate_internal: one test per rule --------------------------------------------

    #[test]
    fn validate_requires_one_of_required_optional_computed() {
        assert_one_error(
            with_attr(Attribute::string("a")),
            "must set Optional, Required or Computed",
        );
        assert_eq!(
            with_attr(Attribute::string("a").computed()).validate_internal(),
            Ok(())
        );
        assert_eq!(
            with_attr(Attribute::string("a").optional().computed()).validate_internal(),
            Ok(())
        );
    }

    #[test]
    fn validate_rejects_optional_with_required() {
        assert_one_error(
            with_attr(Attribute::string("a").optional().required()),
            "cannot set both Optional and Required",
        );
    }

    #[test]
    fn validate_rejects_required_with_computed() {
        assert_one_error(
            with_attr(Attribute::string("a").required().computed()),
            "cannot set both Computed and Required",
        );
    }

    #[test]
    fn validate_rejects_write_only_computed() {
        assert_one_error(
            with_attr(Attribute::string("a").optional().computed().write_only()),
            "cannot set both WriteOnly and Computed",
        );
        assert_eq!(
            with_attr(Attribute::string("a").required().write_only()).validate_internal(),
            Ok(())
        );
    }

    #[test]
    fn validate_rejects_bad_names() {
        for bad in ["Name", "my-attr", "", "spaced name", "é"] {
            assert_one_error(
                with_attr(Attribute::string(bad).optional()),
                "lowercase letters, digits and underscores",
            );
        }
        assert_one_error(
            Block::new("").block(NestedBlock::list("Bad", timeouts())),
            "lowercase letters, digits and underscores",
        );
        assert_eq!(
            with_attr(Attribute::string("a_1").optional()).validate_internal(),
            Ok(())
        );
    }

    #[test]
    fn validate_rejects_duplicate_names() {
        let block = Block::new("")
            .attribute(Attribute::string("a").optional())
            .attribute(Attribute::number("a").optional());
        assert_one_error(block, "attribute defined more than once");
        let block = Block::new("")
            .attribute(Attribute::string("timeouts").optional())
            .block(NestedBlock::single("timeouts", timeouts()));
        assert_one_error(block, "name defined as both attribute and child block type");
        let block = Block::new("")
            .block(NestedBlock::list("b", timeouts()))
            .block(NestedBlock::set("b", timeouts()));
        assert_one_error(block, "block type defined more than once");
    }

    #[test]
    fn validate_rejects_deprecation_message_without_deprecated() {
        let mut a = Attribute::string("a").optional();
        a.deprecation_message = "use b".into();
        assert_one_error(
            with_attr(a),
            "a: deprecation_message is set but deprecated is not",
        );
        let mut block = Block::new("");
        block.deprecation_message = "old".into();
        assert_one_error(block, "block: deprecation_message is set");
        let mut inner = timeouts();
        inner.deprecation_message = "old".into();
        assert_one_error(
            Block::new("").block(NestedBlock::single("t", inner)),
            "t: deprecation_message is set",
        );
        assert_eq!(
            with_attr(Attribute::string("a").optional().deprecated("use b")).validate_internal(),
            Ok(())
        );
    }

    #[test]
    fn validate_rejects_dynamic_inside_sets() {
        let dynamic = Block::new("").attribute(Attribute::dynamic("d").optional());
        assert_one_error(
            Block::new("").block(NestedBlock::set("s", dynamic.clone())),
            "NestingSet blocks may not contain attributes of dynamic type",
        );
        assert_eq!(
            Block::new("")
                .block(NestedBlock::list("s", dynamic))
                .validate_internal(),
            Ok(())
        );
        assert_one_error(
            with_attr(
                Attribute::nested(
                    "n",
                    ObjectNesting::Set,
                    vec![Attribute::dynamic("d").optional()],
                )
                .optional(),
            ),
            "NestingSet attributes may not contain attributes of dynamic type",
        );
        assert_one_error(
            with_attr(Attribute::set(Type::Dynamic, "s").optional()),
            "set types may not contain the dynamic type",
        );
        assert_one_error(
            with_attr(Attribute::list(Type::set(Type::list(Type::Dynamic)), "s").optional()),
            "set types may not contain the dynamic type",
        );
        assert_eq!(
            with_attr(Attribute::list(Type::Dynamic, "l").optional()).validate_internal(),
            Ok(())
        );
    }

    #[test]
    fn validate_rejects_write_only_inside_sets() {
        let wo = Block::new("").attribute(Attribute::string("pw").optional().write_only());
        assert_one_error(
            Block::new("").block(NestedBlock::set("s", wo.clone())),
            "NestingSet blocks may not contain WriteOnly attributes",
        );
        // Deeper down counts too.
        let deeper = Block::new("").block(NestedBlock::list("inner", wo.clone()));
        let errors = errors_of(&Block::new("").block(NestedBlock::set("s", deeper)));
        assert!(
            errors
                .iter()
                .any(|e| e.contains("s: NestingSet blocks may not contain WriteOnly")),
            "{errors:?}"
        );
        assert_eq!(
            Block::new("")
                .block(NestedBlock::list("s", wo))
                .validate_internal(),
            Ok(())
        );
        assert_one_error(
            with_attr(
                Attribute::nested(
                    "n",
                    ObjectNesting::Set,
                    vec![Attribute::string("pw").optional().write_only()],
                )
                .optional(),
            ),
            "NestingSet attributes may not contain WriteOnly attributes",
        );
        // A whole set attribute may be write-only.
        assert_eq!(
            with_attr(Attribute::set(Type::String, "s").optional().write_only())
                .validate_internal(),
            Ok(())
        );
    }

    #[test]
    fn validate_checks_min_max_items_per_nesting() {
        let t = timeouts;
        assert_one_error(
            Block::new("").block(NestedBlock::list("b", t()).min_items(-1)),
            "must both be greater than zero",
        );
        assert_one_error(
            Block::new("").block(NestedBlock::single("b", t()).min_items(1)),
            "must match in NestingSingle mode",
        );
        assert_one_error(
            Block::new("").block(NestedBlock::single("b", t()).min_items(2).max_items(2)),
            "either 0 or 1 in NestingSingle mode",
        );
        assert_eq!(
            Block::new("")
                .block(NestedBlock::single("b", t()).min_items(1).max_items(1))
                .validate_internal(),
            Ok(())
        );
        assert_one_error(
            Block::new("").block(NestedBlock::group("b", t()).max_items(1)),
            "cannot be used in NestingGroup mode",
        );
        assert_one_error(
            Block::new("").block(NestedBlock::list("b", t()).min_items(3).max_items(2)),
            "MinItems must be less than or equal to MaxItems",
        );
        assert_one_error(
            Block::new("").block(NestedBlock::set("b", t()).min_items(3).max_items(2)),
            "MinItems must be less than or equal to MaxItems",
        );
        assert_eq!(
            Block::new("")
                .block(NestedBlock::list("b", t()).min_items(3))
                .validate_internal(),
            Ok(()),
            "max 0 means no limit"
        );
        assert_one_error(
            Block::new("").block(NestedBlock::map("b", t()).min_items(1)),
            "must both be 0 in NestingMap mode",
        );
    }

    #[test]
    fn validate_reports_nested_paths_and_all_errors() {
        let inner = Block::new("").attribute(Attribute::string("x"));
        let block = Block::new("")
            .attribute(Attribute::string("a").optional().required())
            .attribute(
                Attribute::nested(
                    "n",
                    ObjectNesting::List,
                    vec![Attribute::string("y").required().computed()],
                )
                .optional(),
            )
            .block(NestedBlock::list(
                "outer",
                Block::new("").block(NestedBlock::single("inner", inner)),
            ));
        let errors = errors_of(&block);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("a: "), "{errors:?}");
        assert!(errors[1].starts_with("n.y: "), "{errors:?}");
        assert!(errors[2].starts_with("outer.inner.x: "), "{errors:?}");
    }
}
