//! Registry documentation generated from the provider's own schemas, so the docs cannot drift from
//! the code: `docs/index.md`, `docs/resources/<name>.md`, `docs/data-sources/<name>.md` and
//! `docs/ephemeral-resources/<name>.md`, laid out the way the Terraform Registry and tfplugindocs
//! expect (front matter, example, schema lists, nested-schema anchors, import).
//!
//! Examples come from `examples/` in the registry layout: `provider/provider.tf`,
//! `resources/<type>/resource.tf` and `import.sh`, `data-sources/<type>/data-source.tf`,
//! `ephemeral-resources/<type>/ephemeral-resource.tf`, `list-resources/<type>/list-resource.tfquery.hcl`.
//! A missing example only drops its section.
//! The index's hand-written part (installing, authentication, versions) is `templates/index.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use crate::api::Feature;
use crate::provider::DbaasProvider;
use crate::tfplugin::function::Signature;
use crate::tfplugin::resource::{IdentityAttribute, Provider as _};
use crate::tfplugin::rpc::ServedSchemas;
use crate::tfplugin::schema::{
    Attribute, AttributeType, Block, BlockNesting, NestedBlock, NestedObject, ObjectNesting, Schema,
};
use crate::tfplugin::value::Type;

/// Where the registry explains write-only arguments; linked from every page that has one.
const WRITE_ONLY_URL: &str =
    "https://developer.hashicorp.com/terraform/language/resources/ephemeral#write-only-arguments";

/// Where the registry explains ephemeral resources; linked from their pages.
const EPHEMERAL_URL: &str =
    "https://developer.hashicorp.com/terraform/language/resources/ephemeral";

/// Where the registry explains `terraform query` and list blocks; linked from their pages.
const QUERY_URL: &str = "https://developer.hashicorp.com/terraform/language/import/query";

/// Where the registry explains actions; linked from their pages.
const ACTION_URL: &str = "https://developer.hashicorp.com/terraform/language/invoke-actions";

/// Where the registry explains provider-defined functions; linked from their pages.
const FUNCTION_URL: &str =
    "https://developer.hashicorp.com/terraform/language/functions#provider-defined-functions";

/// The directory of function pages, and of their examples under `examples/`.
const FUNCTIONS_DIR: &str = "functions";

/// The provider's page, at the top of the docs directory.
const INDEX_PAGE: &str = "index.md";

/// Why the docs could not be generated, written or compared.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    /// An example or template file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    ReadSource {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
    /// A type is not named `<provider>_…`, so it has no page name.
    #[error("type name `{type_name}` does not start with `{prefix}`")]
    TypeName {
        /// The offending type name.
        type_name: String,
        /// The prefix every type name needs.
        prefix: String,
    },
    /// An attribute is neither required, optional nor computed (a schema the provider's own
    /// checks reject), or a block mixes read-only and settable content without being settable.
    #[error("cannot tell whether `{path}` is required, optional or read-only")]
    Unclassifiable {
        /// The dotted schema path.
        path: String,
    },
    /// Reading or writing the docs directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
}

/// Renders every page, keyed by its path relative to `docs/`. Deterministic: the same schemas
/// and examples give byte-identical pages.
pub fn render(
    schemas: &ServedSchemas<'_>,
    examples_dir: &Path,
) -> Result<BTreeMap<PathBuf, String>, DocsError> {
    render_pages(schemas, examples_dir, None)
}

fn render_pages(
    schemas: &ServedSchemas<'_>,
    examples_dir: &Path,
    index_part: Option<&str>,
) -> Result<BTreeMap<PathBuf, String>, DocsError> {
    let provider_name = DbaasProvider.type_name();
    let mut pages = BTreeMap::new();
    pages.insert(
        PathBuf::from(INDEX_PAGE),
        render_index(provider_name, schemas.provider, examples_dir, index_part)?,
    );
    let kinds = [
        (Kind::Resource, &schemas.resources),
        (Kind::DataSource, &schemas.data_sources),
        (Kind::EphemeralResource, &schemas.ephemeral_resources),
        (Kind::ListResource, &schemas.list_resources),
        (Kind::Action, &schemas.actions),
    ];
    for (kind, types) in kinds {
        for (type_name, schema) in types {
            let short = short_name(provider_name, type_name)?;
            let identity = match kind {
                Kind::Resource => schemas.identities.get(type_name).map(Vec::as_slice),
                Kind::DataSource | Kind::EphemeralResource | Kind::ListResource | Kind::Action => {
                    None
                }
            };
            let page = render_type_page(
                provider_name,
                kind,
                type_name,
                schema,
                identity,
                examples_dir,
            )?;
            pages.insert(Path::new(kind.dir()).join(format!("{short}.md")), page);
        }
    }
    for (name, signature) in &schemas.functions {
        let example = read_source(
            &examples_dir
                .join(FUNCTIONS_DIR)
                .join(name)
                .join("function.tf"),
        )?;
        pages.insert(
            Path::new(FUNCTIONS_DIR).join(format!("{name}.md")),
            render_function_page(provider_name, name, signature, example.as_deref()),
        );
    }
    Ok(pages)
}

/// The hand-written part of the index (installing, authentication per API, versions), in the
/// templates directory; the generator places it between the example and the schema.
pub const INDEX_TEMPLATE: &str = "index.md";

/// Every page of the provider's documentation: the schema pages of [`render`], the index with
/// its hand-written part from `templates_dir`, and the API support matrix
/// (`guides/api-support.md`).
pub fn render_site(
    schemas: &ServedSchemas<'_>,
    examples_dir: &Path,
    templates_dir: &Path,
) -> Result<BTreeMap<PathBuf, String>, DocsError> {
    let index_part = read_source(&templates_dir.join(INDEX_TEMPLATE))?;
    let mut pages = render_pages(schemas, examples_dir, index_part.as_deref())?;
    pages.insert(
        PathBuf::from(SUPPORT_PAGE),
        render_support_matrix(crate::api::APIS),
    );
    Ok(pages)
}

/// Where `pages` break the Terraform Registry's (tfplugindocs') conventions, one line each: the
/// index carries no `subcategory` and has its hand-written sections, authentication naming every
/// API and every environment variable the schema falls back to; every other page has a
/// `subcategory`; every resource page shows its import by identity with the identity schema,
/// by id, and by command; and the page of a type only one API offers says so, its example
/// reaching that API through a provider alias named after it.
pub fn convention_problems(pages: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let provider_name = DbaasProvider.type_name();
    let mut problems = Vec::new();
    for (path, page) in pages {
        let shown = path.display();
        let front = page
            .strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map(|(front, _)| front);
        let Some(front) = front else {
            problems.push(format!("{shown}: no YAML front matter"));
            continue;
        };
        let has_subcategory = front.lines().any(|line| line.starts_with("subcategory:"));
        if path == Path::new(INDEX_PAGE) {
            if has_subcategory {
                problems.push(format!("{shown}: the index must not carry `subcategory`"));
            }
            problems.extend(
                index_problems(page)
                    .into_iter()
                    .map(|problem| format!("{shown}: {problem}")),
            );
            continue;
        }
        if !has_subcategory {
            problems.push(format!("{shown}: no `subcategory`"));
        }
        if path.starts_with(Kind::Resource.dir()) {
            for (needed, what) in [
                ("\n## Import\n", "an Import section"),
                (
                    "with the `identity` attribute",
                    "an import-by-identity example",
                ),
                ("\n### Identity Schema\n", "an Identity Schema section"),
                ("with the `id` attribute", "an import-by-string-id example"),
                ("`terraform import` command", "an import command example"),
            ] {
                if !page.contains(needed) {
                    problems.push(format!("{shown}: lacks {what}"));
                }
            }
        }
        let typed = Kind::ALL.into_iter().find_map(|kind| {
            let short = path.strip_prefix(kind.dir()).ok()?.file_stem()?;
            Some((kind, format!("{provider_name}_{}", short.to_string_lossy())))
        });
        if let Some((kind, type_name)) = typed
            && let [api] = offering_apis(kind, &type_name).as_slice()
        {
            problems.extend(
                single_api_problems(page, api)
                    .into_iter()
                    .map(|problem| format!("{shown}: {problem}")),
            );
        }
    }
    problems
}

/// The index's hand-written sections, checked against its generated schema list.
fn index_problems(page: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for heading in [
        "## Installing",
        "## Authentication",
        "## Terraform and OpenTofu versions",
    ] {
        if !page.contains(&format!("\n{heading}\n")) {
            problems.push(format!("lacks the hand-written section `{heading}`"));
        }
    }
    let authentication = section(page, "## Authentication").unwrap_or_default();
    for (api, _) in crate::api::APIS {
        if !authentication.contains(&format!("\n### {api}\n")) {
            problems.push(format!(
                "`## Authentication` does not explain the `{api}` API"
            ));
        }
    }
    let schema = section(page, "## Schema").unwrap_or_default();
    for variable in schema
        .split("Falls back to the `")
        .skip(1)
        .filter_map(|rest| rest.split_once("` environment variable"))
        .map(|(variable, _)| variable)
    {
        if !authentication.contains(&format!("`{variable}`")) {
            problems.push(format!(
                "`## Authentication` does not name the environment variable `{variable}`"
            ));
        }
    }
    problems
}

/// A single-API type's page: the note saying so, and an example that configures that API under
/// an alias named after it and sends every block of the example to it.
fn single_api_problems(page: &str, api: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !page.contains(&single_api_note(api)) {
        problems.push(format!("does not say that only the `{api}` API offers it"));
    }
    let example = section(page, "## Example Usage").unwrap_or_default();
    let lines: Vec<String> = example.lines().map(fold_whitespace).collect();
    let alias = format!("alias = \"{api}\"");
    let configures_alias = lines.contains(&alias) && lines.contains(&format!("{api} {{"));
    if !configures_alias {
        problems.push(format!(
            "its example does not configure a provider with `{alias}` and the `{api}` block"
        ));
    }
    let blocks = lines
        .iter()
        .filter(|line| {
            ["resource \"", "data \"", "ephemeral \"", "action \""]
                .iter()
                .any(|start| line.starts_with(start))
        })
        .count();
    let routed = lines
        .iter()
        .filter(|line| **line == format!("provider = {}.{api}", DbaasProvider.type_name()))
        .count();
    if blocks == 0 || routed != blocks {
        problems.push(format!(
            "its example sends {routed} of its {blocks} blocks to `provider = dbaas.{api}`"
        ));
    }
    problems
}

fn fold_whitespace(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of a `## ` section, up to the next `## ` heading.
fn section<'a>(page: &'a str, heading: &str) -> Option<&'a str> {
    let start = page.find(&format!("\n{heading}\n"))? + heading.len() + 2;
    let rest = &page[start..];
    Some(rest.find("\n## ").map_or(rest, |end| &rest[..end]))
}

/// The APIs offering a type, from the clients' feature lists; empty for a type the lists do
/// not know (such as the test schemas').
fn offering_apis(kind: Kind, type_name: &str) -> Vec<&'static str> {
    let Some(feature) = type_feature(kind, type_name) else {
        return Vec::new();
    };
    crate::api::APIS
        .iter()
        .filter(|(_, features)| features.contains(&feature))
        .map(|(api, _)| *api)
        .collect()
}

/// The feature that is the type itself: an API without it refuses the type at plan time.
fn type_feature(kind: Kind, type_name: &str) -> Option<Feature> {
    let feature = match (kind, type_name) {
        (Kind::Resource | Kind::ListResource, "dbaas_database") => Feature::Database,
        (Kind::Resource | Kind::ListResource, "dbaas_credential") => Feature::Credential,
        (Kind::Resource | Kind::ListResource, "dbaas_collection_index") => Feature::CollectionIndex,
        (Kind::Resource | Kind::ListResource, "dbaas_ip_restriction") => Feature::IpRestriction,
        (Kind::DataSource, "dbaas_capabilities" | "dbaas_plans") => Feature::Capabilities,
        (Kind::DataSource, "dbaas_availability") => Feature::Availability,
        (Kind::DataSource, "dbaas_database" | "dbaas_databases") => Feature::ListDatabases,
        (Kind::DataSource, "dbaas_projects") => Feature::Projects,
        (Kind::EphemeralResource, "dbaas_credential") => Feature::CredentialReadPassword,
        (Kind::Action, "dbaas_failover") => Feature::Failover,
        (Kind::Action, "dbaas_restart") => Feature::Restart,
        _ => return None,
    };
    Some(feature)
}

fn single_api_note(api: &str) -> String {
    format!("> **NOTE**: Only the `{api}` API offers this")
}

/// Which APIs offer the type: a note when only one does (its example then reaches it through an
/// alias named after it), else a line naming them.
fn push_offering_apis(page: &mut String, kind: Kind, type_name: &str) {
    let apis = offering_apis(kind, type_name);
    let matrix = format!("[API support matrix](../{SUPPORT_PAGE})");
    match apis.as_slice() {
        [] => {}
        [api] => page.push_str(&format!(
            "{} {}: it needs a provider configuration for that API (its `{api}` block), which \
             the example reaches through the alias `{api}` (`provider = dbaas.{api}`). See the \
             {matrix}.\n\n",
            single_api_note(api),
            kind.label().to_lowercase(),
        )),
        apis => {
            let names: Vec<String> = apis.iter().map(|api| format!("`{api}`")).collect();
            page.push_str(&format!(
                "Offered by the {} APIs; see the {matrix}.\n\n",
                names.join(", ")
            ));
        }
    }
}

/// The support matrix page, relative to the docs directory.
pub const SUPPORT_PAGE: &str = "guides/api-support.md";

/// Which API offers which resource type and attribute, from the clients' own feature lists, so
/// the page cannot drift from what the provider enforces at plan time.
pub fn render_support_matrix(apis: &[(&str, &[Feature])]) -> String {
    let mut page = String::from(
        "---\npage_title: \"API support matrix\"\nsubcategory: \"Guides\"\ndescription: |-\n  \
         Which API offers which resource type and attribute.\n---\n\n# API support matrix\n\n\
         Each provider configuration talks to one API (`local`, `ovh`, …). What an API does not \
         offer is refused by `terraform plan`, naming the API, before any request is sent. This \
         table is generated from the same lists the provider checks.\n\n",
    );
    page.push_str("| type | attribute |");
    for (name, _) in apis {
        page.push_str(&format!(" {name} |"));
    }
    page.push_str("\n|---|---|");
    for _ in apis {
        page.push_str("---|");
    }
    page.push('\n');
    for feature in Feature::ALL {
        let (type_name, _) = feature.location();
        page.push_str(&format!("| `{type_name}` | {} |", feature.matrix_label()));
        for (_, features) in apis {
            page.push_str(if features.contains(feature) {
                " yes |"
            } else {
                " no |"
            });
        }
        page.push('\n');
    }
    page
}

/// How a page in a docs directory differs from the generated one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageDifference {
    /// Generated but not in the directory.
    Missing(PathBuf),
    /// In the directory but no longer generated.
    Extra(PathBuf),
    /// In both, with different text.
    Changed {
        /// The page, relative to the docs directory.
        path: PathBuf,
        /// First line (1-based) that differs, to point the reader at the change.
        line: usize,
    },
}

impl std::fmt::Display for PageDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(path) => write!(f, "missing: {}", path.display()),
            Self::Extra(path) => write!(f, "extra (no longer generated): {}", path.display()),
            Self::Changed { path, line } => {
                write!(f, "different: {} (from line {line})", path.display())
            }
        }
    }
}

/// Compares generated `pages` with the generated part of `dir` (absent `dir` = no pages):
/// `index.md` and the markdown files under the per-kind directories. Anything else, such as
/// hand-written `guides/`, is left alone.
pub fn compare(
    pages: &BTreeMap<PathBuf, String>,
    dir: &Path,
) -> Result<Vec<PageDifference>, DocsError> {
    let existing = markdown_files(dir)?;
    let mut differences = Vec::new();
    for (path, text) in pages {
        if !existing.contains(path) {
            differences.push(PageDifference::Missing(path.clone()));
            continue;
        }
        let full = dir.join(path);
        let current = std::fs::read_to_string(&full).map_err(|source| DocsError::Io {
            path: full.clone(),
            source,
        })?;
        if &current != text {
            differences.push(PageDifference::Changed {
                path: path.clone(),
                line: first_different_line(&current, text),
            });
        }
    }
    for path in &existing {
        if !pages.contains_key(path) {
            differences.push(PageDifference::Extra(path.clone()));
        }
    }
    Ok(differences)
}

/// What [`write()`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Pages created or rewritten because their text changed.
    pub written: Vec<PathBuf>,
    /// Markdown pages deleted because they are no longer generated.
    pub removed: Vec<PathBuf>,
}

/// Writes `pages` under `dir`, leaving unchanged pages untouched (their times too), and deletes
/// generated pages that are no longer generated (see [`compare`]), with directories that become
/// empty.
pub fn write(pages: &BTreeMap<PathBuf, String>, dir: &Path) -> Result<WriteSummary, DocsError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DocsError::Io { path, source }
    };
    let mut summary = WriteSummary::default();
    for difference in compare(pages, dir)? {
        match difference {
            PageDifference::Missing(path) | PageDifference::Changed { path, .. } => {
                let full = dir.join(&path);
                if let Some(parent) = full.parent() {
                    std::fs::create_dir_all(parent).map_err(io_error(parent))?;
                }
                std::fs::write(&full, &pages[&path]).map_err(io_error(&full))?;
                summary.written.push(path);
            }
            PageDifference::Extra(path) => {
                let full = dir.join(&path);
                std::fs::remove_file(&full).map_err(io_error(&full))?;
                // Drop directories the removal emptied, up to (not including) `dir`.
                let mut parent = full.parent();
                while let Some(current) = parent {
                    if current == dir || std::fs::remove_dir(current).is_err() {
                        break;
                    }
                    parent = current.parent();
                }
                summary.removed.push(path);
            }
        }
    }
    Ok(summary)
}

/// The kinds of typed pages, each with its registry directory and example file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Resource,
    DataSource,
    EphemeralResource,
    ListResource,
    Action,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Resource,
        Kind::DataSource,
        Kind::EphemeralResource,
        Kind::ListResource,
        Kind::Action,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Resource => "Resource",
            Self::DataSource => "Data Source",
            Self::EphemeralResource => "Ephemeral Resource",
            Self::ListResource => "List Resource",
            Self::Action => "Action",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Self::Resource => "resources",
            Self::DataSource => "data-sources",
            Self::EphemeralResource => "ephemeral-resources",
            Self::ListResource => "list-resources",
            Self::Action => "actions",
        }
    }

    fn example_file(self) -> &'static str {
        match self {
            Self::Resource => "resource.tf",
            Self::DataSource => "data-source.tf",
            Self::EphemeralResource => "ephemeral-resource.tf",
            Self::ListResource => "list-resource.tfquery.hcl",
            Self::Action => "action.tf",
        }
    }
}

fn short_name<'a>(provider_name: &str, type_name: &'a str) -> Result<&'a str, DocsError> {
    type_name
        .strip_prefix(provider_name)
        .and_then(|rest| rest.strip_prefix('_'))
        .filter(|rest| !rest.is_empty())
        .ok_or_else(|| DocsError::TypeName {
            type_name: type_name.to_string(),
            prefix: format!("{provider_name}_"),
        })
}

fn render_index(
    provider_name: &str,
    schema: &Schema,
    examples_dir: &Path,
    hand_written: Option<&str>,
) -> Result<String, DocsError> {
    let example = read_source(&examples_dir.join("provider").join("provider.tf"))?;
    let title = format!("{provider_name} Provider");
    let sources = if hand_written.is_some() {
        "the provider schema and templates/index.md"
    } else {
        "the provider schema"
    };
    // The registry files the index under no subcategory: it must not carry the key at all.
    let mut page = front_matter(sources, &title, None, &schema.block.description);
    page.push_str(&format!("# {title}\n\n"));
    push_paragraph(&mut page, &schema.block.description);
    if let Some(example) = example {
        push_example(&mut page, &example);
    }
    if let Some(hand_written) = hand_written {
        page.push_str(hand_written.trim());
        page.push_str("\n\n");
    }
    page.push_str(&render_schema(&schema.block)?);
    Ok(finish(page))
}

fn render_type_page(
    provider_name: &str,
    kind: Kind,
    type_name: &str,
    schema: &Schema,
    identity: Option<&[IdentityAttribute]>,
    examples_dir: &Path,
) -> Result<String, DocsError> {
    let example_dir = examples_dir.join(kind.dir()).join(type_name);
    let example = read_source(&example_dir.join(kind.example_file()))?;
    let import = match kind {
        Kind::Resource => Some(ImportExamples {
            by_identity: read_source(&example_dir.join("import-by-identity.tf"))?,
            by_string_id: read_source(&example_dir.join("import-by-string-id.tf"))?,
            command: read_source(&example_dir.join("import.sh"))?,
        }),
        Kind::DataSource | Kind::EphemeralResource | Kind::ListResource | Kind::Action => None,
    };

    let description = &schema.block.description;
    let title = format!("{type_name} {} - {provider_name}", kind.label());
    let mut page = front_matter("the provider schema", &title, Some(""), description);
    page.push_str(&format!("# {type_name} ({})\n\n", kind.label()));
    push_paragraph(&mut page, description);
    push_offering_apis(&mut page, kind, type_name);
    if kind == Kind::ListResource {
        page.push_str(&format!(
            "> **NOTE**: [List resources]({QUERY_URL}) need Terraform 1.14 or later. A `list` \
             block in a `.tfquery.hcl` file finds the existing `{type_name}` objects; \
             `terraform query -generate-config-out=FILE` writes a resource and an `import` \
             block for each. The arguments below go in the block's `config`; `limit` (default \
             100) and `include_resource` are Terraform's own.\n\n"
        ));
    }
    if kind == Kind::Action {
        page.push_str(&format!(
            "> **NOTE**: [Actions]({ACTION_URL}) need Terraform 1.14 or later. Run one with \
             `terraform apply -invoke=action.{type_name}.<name>`, or from a resource's \
             `lifecycle {{ action_trigger {{ … }} }}`. The arguments below go in the action's \
             `config` block.\n\n"
        ));
    }
    if kind == Kind::EphemeralResource {
        page.push_str(&format!(
            "> **NOTE**: [Ephemeral resources]({EPHEMERAL_URL}) need Terraform 1.10 or later. \
             Their results are never stored in the plan or the state.\n\n"
        ));
    }
    if let Some(example) = example {
        push_example(&mut page, &example);
    }
    page.push_str(&render_schema(&schema.block)?);
    if let Some(import) = import {
        push_import(&mut page, &import, identity.unwrap_or_default());
    }
    Ok(finish(page))
}

/// A function's page, in tfplugindocs' layout: summary, description, example, signature,
/// arguments and return type.
fn render_function_page(
    provider_name: &str,
    name: &str,
    signature: &Signature,
    example: Option<&str>,
) -> String {
    let title = format!("{name} function - {provider_name}");
    let mut page = front_matter("the provider schema", &title, Some(""), signature.summary);
    page.push_str(&format!("# function: {name}\n\n"));
    push_paragraph(&mut page, signature.description);
    page.push_str(&format!(
        "> **NOTE**: [Provider-defined functions]({FUNCTION_URL}) need Terraform 1.8 or later \
         (OpenTofu 1.7). They run offline: the provider needs no configuration for them.\n\n"
    ));
    if let Some(example) = example {
        push_example(&mut page, example);
    }
    let mut parameters: Vec<String> = signature
        .parameters
        .iter()
        .map(|p| format!("{} {}", p.name, p.ty))
        .collect();
    if let Some(variadic) = &signature.variadic {
        parameters.push(format!("{}... {}", variadic.name, variadic.ty));
    }
    push_fenced(
        &mut page,
        "## Signature",
        "text",
        &format!(
            "{name}({}) {}",
            parameters.join(", "),
            signature.return_type
        ),
    );
    page.push_str("## Arguments\n\n");
    for (position, parameter) in signature
        .parameters
        .iter()
        .chain(signature.variadic.as_ref())
        .enumerate()
    {
        let variadic = if position >= signature.parameters.len() {
            ", Variadic"
        } else {
            ""
        };
        page.push_str(&format!(
            "{}. `{}` ({}{variadic}) {}\n",
            position + 1,
            parameter.name,
            type_label(&parameter.ty),
            parameter.description.trim()
        ));
    }
    page.push_str(&format!(
        "\n## Return Type\n\nThe return type of `{name}` is {}.\n",
        type_label(&signature.return_type)
    ));
    finish(page)
}

/// A resource's import examples, each from its file in `examples/resources/<type>/`.
struct ImportExamples {
    /// `import-by-identity.tf`: an `import` block with `identity` (Terraform 1.12+).
    by_identity: Option<String>,
    /// `import-by-string-id.tf`: an `import` block with `id` (Terraform 1.5+).
    by_string_id: Option<String>,
    /// `import.sh`: the `terraform import` command.
    command: Option<String>,
}

const IMPORT_BLOCK_URL: &str = "https://developer.hashicorp.com/terraform/language/import";
const IMPORT_COMMAND_URL: &str = "https://developer.hashicorp.com/terraform/cli/commands/import";

/// The "Import" section in tfplugindocs' order: by identity with the identity schema, by id,
/// then the command. Nothing when the resource has no import example at all.
fn push_import(page: &mut String, examples: &ImportExamples, identity: &[IdentityAttribute]) {
    if examples.by_identity.is_none()
        && examples.by_string_id.is_none()
        && examples.command.is_none()
    {
        return;
    }
    page.push_str("## Import\n\nImport is supported using the following syntax:\n\n");
    if let Some(example) = &examples.by_identity {
        push_fenced(
            page,
            &format!(
                "In Terraform v1.12.0 and later, the [`import` block]({IMPORT_BLOCK_URL}) can be \
                 used with the `identity` attribute, for example:"
            ),
            "terraform",
            example,
        );
        if !identity.is_empty() {
            page.push_str("### Identity Schema\n\n");
            for (heading, required) in [("Required", true), ("Optional", false)] {
                let attributes: Vec<&IdentityAttribute> = identity
                    .iter()
                    .filter(|a| a.required_for_import == required)
                    .collect();
                if attributes.is_empty() {
                    continue;
                }
                page.push_str(&format!("#### {heading}\n\n"));
                for attribute in attributes {
                    page.push_str(&format!(
                        "- `{}` ({}) {}\n",
                        attribute.name,
                        type_label(&attribute.ty),
                        attribute.description.trim()
                    ));
                }
                page.push('\n');
            }
        }
    }
    if let Some(example) = &examples.by_string_id {
        push_fenced(
            page,
            &format!(
                "In Terraform v1.5.0 and later, the [`import` block]({IMPORT_BLOCK_URL}) can be \
                 used with the `id` attribute, for example:"
            ),
            "terraform",
            example,
        );
    }
    if let Some(command) = &examples.command {
        push_fenced(
            page,
            &format!(
                "The [`terraform import` command]({IMPORT_COMMAND_URL}) can be used, for example:"
            ),
            "shell",
            command,
        );
    }
}

/// A sentence, then `code` fenced as `language`.
fn push_fenced(page: &mut String, sentence: &str, language: &str, code: &str) {
    page.push_str(&format!(
        "{sentence}\n\n```{language}\n{}\n```\n\n",
        code.trim_end()
    ));
}

/// YAML front matter. The description is a literal block with markdown code marks removed,
/// since the registry shows it as plain text.
fn front_matter(
    sources: &str,
    title: &str,
    subcategory: Option<&str>,
    description: &str,
) -> String {
    let mut out =
        format!("---\n# Generated by dbaas-docs from {sources}: run `make docs`, do not edit.\n");
    out.push_str(&format!("page_title: \"{}\"\n", title.replace('"', "\\\"")));
    if let Some(subcategory) = subcategory {
        out.push_str(&format!("subcategory: \"{subcategory}\"\n"));
    }
    let plain = description.trim().replace('`', "");
    if plain.is_empty() {
        out.push_str("description: \"\"\n");
    } else {
        out.push_str("description: |-\n");
        for line in plain.lines() {
            if line.trim().is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("  {line}\n"));
            }
        }
    }
    out.push_str("---\n\n");
    out
}

fn push_paragraph(page: &mut String, text: &str) {
    let text = text.trim();
    if !text.is_empty() {
        page.push_str(text);
        page.push_str("\n\n");
    }
}

fn push_example(page: &mut String, example: &str) {
    push_fenced(page, "## Example Usage", "terraform", example);
}

/// Exactly one trailing newline.
fn finish(mut page: String) -> String {
    let trimmed = page.trim_end().len();
    page.truncate(trimmed);
    page.push('\n');
    page
}

/// A source file of the docs (an example or a template), `None` when it does not exist.
fn read_source(path: &Path) -> Result<Option<String>, DocsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DocsError::ReadSource {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The pages under `dir` that the generator owns.
fn markdown_files(dir: &Path) -> Result<BTreeSet<PathBuf>, DocsError> {
    let mut found = BTreeSet::new();
    for page in [INDEX_PAGE, SUPPORT_PAGE] {
        if dir.join(page).is_file() {
            found.insert(PathBuf::from(page));
        }
    }
    if dir.join(FUNCTIONS_DIR).is_dir() {
        collect_markdown(dir, Path::new(FUNCTIONS_DIR), &mut found)?;
    }
    for kind in Kind::ALL {
        if dir.join(kind.dir()).is_dir() {
            collect_markdown(dir, Path::new(kind.dir()), &mut found)?;
        }
    }
    Ok(found)
}

fn collect_markdown(
    root: &Path,
    relative: &Path,
    found: &mut BTreeSet<PathBuf>,
) -> Result<(), DocsError> {
    let here = root.join(relative);
    let entries = std::fs::read_dir(&here).map_err(|source| DocsError::Io {
        path: here.clone(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| DocsError::Io {
            path: here.clone(),
            source,
        })?;
        let path = relative.join(entry.file_name());
        let file_type = entry.file_type().map_err(|source| DocsError::Io {
            path: root.join(&path),
            source,
        })?;
        if file_type.is_dir() {
            collect_markdown(root, &path, found)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            found.insert(path);
        }
    }
    Ok(())
}

fn first_different_line(a: &str, b: &str) -> usize {
    let mut a_lines = a.lines();
    let mut b_lines = b.lines();
    let mut line = 1;
    loop {
        match (a_lines.next(), b_lines.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            // A different line, one text ending first, or (both ended) only the final newline.
            _ => return line,
        }
    }
}

// --- the `## Schema` section ---------------------------------------------------------------

/// The three lists every block is split into, as on the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Required,
    Optional,
    ReadOnly,
}

impl Group {
    const ALL: [Group; 3] = [Group::Required, Group::Optional, Group::ReadOnly];

    /// The heading: a `###` heading at the top level, a label inside nested schemas.
    fn title(self, top_level: bool) -> &'static str {
        match (self, top_level) {
            (Self::Required, true) => "### Required",
            (Self::Optional, true) => "### Optional",
            (Self::ReadOnly, true) => "### Read-Only",
            (Self::Required, false) => "Required:",
            (Self::Optional, false) => "Optional:",
            (Self::ReadOnly, false) => "Read-Only:",
        }
    }
}

/// A nested schema still to write below the list that links to it.
struct Section<'a> {
    /// `nestedblock--a--b`, `nestedatt--a--b` or `nestedobjatt--a--b`.
    anchor: String,
    /// Schema path from the root, joined with `.` in the heading.
    path: Vec<&'a str>,
    content: SectionContent<'a>,
}

enum SectionContent<'a> {
    Block(&'a Block),
    Attributes(&'a NestedObject),
    /// The attributes of an object type; they all take the group of the attribute holding them.
    Object(&'a BTreeMap<String, Type>, Group),
}

/// One entry of a block's lists: an attribute or a nested block type.
enum Member<'a> {
    Attribute(&'a Attribute),
    Block(&'a NestedBlock),
}

impl<'a> Member<'a> {
    fn name(&self) -> &'a str {
        match self {
            Self::Attribute(a) => &a.name,
            Self::Block(b) => &b.type_name,
        }
    }

    fn write_only(&self) -> bool {
        match self {
            Self::Attribute(a) => a.write_only,
            Self::Block(b) => b.block.contains_write_only(),
        }
    }
}

fn render_schema(block: &Block) -> Result<String, DocsError> {
    let mut out = String::from("## Schema\n\n");
    write_block(&mut out, &[], block, true)?;
    Ok(out)
}

fn write_block<'a>(
    out: &mut String,
    parents: &[&'a str],
    block: &'a Block,
    top_level: bool,
) -> Result<(), DocsError> {
    let mut members: Vec<(Group, Member<'a>)> = Vec::new();
    for attribute in &block.attributes {
        let group =
            attribute_group(attribute).ok_or_else(|| unclassifiable(parents, &attribute.name))?;
        members.push((group, Member::Attribute(attribute)));
    }
    for nested in &block.block_types {
        let group =
            block_group(nested).ok_or_else(|| unclassifiable(parents, &nested.type_name))?;
        members.push((group, Member::Block(nested)));
    }
    members.sort_by(|(ga, a), (gb, b)| ga.cmp(gb).then_with(|| a.name().cmp(b.name())));

    let mut sections = Vec::new();
    for group in Group::ALL {
        let in_group: Vec<&Member<'a>> = members
            .iter()
            .filter(|(g, _)| *g == group)
            .map(|(_, m)| m)
            .collect();
        if in_group.is_empty() {
            continue;
        }
        out.push_str(group.title(top_level));
        out.push_str("\n\n");
        if in_group.iter().any(|m| m.write_only()) {
            push_write_only_note(out);
        }
        for member in in_group {
            let mut path = parents.to_vec();
            path.push(member.name());
            match member {
                Member::Attribute(attribute) => {
                    write_attribute(out, path, attribute, group, &mut sections);
                }
                Member::Block(nested) => write_nested_block(out, path, nested, &mut sections),
            }
        }
        out.push('\n');
    }
    write_sections(out, sections)
}

fn push_write_only_note(out: &mut String) {
    out.push_str(&format!(
        "> **NOTE**: [Write-only arguments]({WRITE_ONLY_URL}) are never stored in the plan or \
         the state; they need Terraform 1.11 or later.\n\n"
    ));
}

fn unclassifiable(parents: &[&str], name: &str) -> DocsError {
    let mut path = parents.to_vec();
    path.push(name);
    DocsError::Unclassifiable {
        path: path.join("."),
    }
}

fn attribute_group(attribute: &Attribute) -> Option<Group> {
    if attribute.required {
        Some(Group::Required)
    } else if attribute.optional {
        Some(Group::Optional)
    } else if attribute.computed {
        Some(Group::ReadOnly)
    } else {
        None
    }
}

/// A block is required when it must appear, optional when the user can write anything in it
/// (or it is empty), and read-only when everything in it is computed.
fn block_group(nested: &NestedBlock) -> Option<Group> {
    if nested.min_items > 0 {
        Some(Group::Required)
    } else if block_is_settable(&nested.block) {
        Some(Group::Optional)
    } else if nested.max_items == 0 && block_is_read_only(&nested.block) {
        Some(Group::ReadOnly)
    } else {
        None
    }
}

fn block_is_settable(block: &Block) -> bool {
    (block.attributes.is_empty() && block.block_types.is_empty())
        || block.attributes.iter().any(|a| a.required || a.optional)
        || block
            .block_types
            .iter()
            .any(|b| b.min_items > 0 || block_is_settable(&b.block))
}

fn block_is_read_only(block: &Block) -> bool {
    block
        .attributes
        .iter()
        .all(|a| attribute_group(a) == Some(Group::ReadOnly))
        && block
            .block_types
            .iter()
            .all(|b| b.min_items == 0 && b.max_items == 0 && block_is_read_only(&b.block))
}

fn write_attribute<'a>(
    out: &mut String,
    path: Vec<&'a str>,
    attribute: &'a Attribute,
    group: Group,
    sections: &mut Vec<Section<'a>>,
) {
    let mut marks = vec![match &attribute.ty {
        AttributeType::Primitive(ty) => type_label(ty),
        AttributeType::Nested(object) => attributes_label(object),
    }];
    if attribute.sensitive {
        marks.push("Sensitive".into());
    }
    if attribute.deprecated {
        marks.push("Deprecated".into());
    }
    if attribute.write_only {
        marks.push("Write-only".into());
    }
    let name = path.last().copied().unwrap_or_default();
    out.push_str(&format!("- `{name}` ({})", marks.join(", ")));
    push_description(out, &attribute.description);
    if attribute.deprecated && !attribute.deprecation_message.trim().is_empty() {
        out.push_str(&format!(
            " **Deprecated:** {}",
            attribute.deprecation_message.trim()
        ));
    }
    let content = match &attribute.ty {
        AttributeType::Nested(object) => Some(SectionContent::Attributes(object)),
        AttributeType::Primitive(ty) => {
            object_attributes(ty).map(|attrs| SectionContent::Object(attrs, group))
        }
    };
    if let Some(content) = content {
        let anchor = format!("nestedatt--{}", path.join("--"));
        out.push_str(&format!(" (see [below for nested schema](#{anchor}))"));
        sections.push(Section {
            anchor,
            path,
            content,
        });
    }
    out.push('\n');
}

fn write_nested_block<'a>(
    out: &mut String,
    path: Vec<&'a str>,
    nested: &'a NestedBlock,
    sections: &mut Vec<Section<'a>>,
) {
    let mut marks = vec![match nested.nesting {
        BlockNesting::Single | BlockNesting::Group => "Block".to_string(),
        BlockNesting::List => "Block List".to_string(),
        BlockNesting::Set => "Block Set".to_string(),
        BlockNesting::Map => "Block Map".to_string(),
    }];
    match nested.nesting {
        BlockNesting::Single | BlockNesting::Group => {
            marks.push(
                match block_group(nested) {
                    Some(Group::Required) => "Required",
                    Some(Group::ReadOnly) => "Read-only",
                    Some(Group::Optional) | None => "Optional",
                }
                .to_string(),
            );
        }
        BlockNesting::List | BlockNesting::Set | BlockNesting::Map => {
            if nested.min_items > 0 {
                marks.push(format!("Min: {}", nested.min_items));
            }
            if nested.max_items > 0 {
                marks.push(format!("Max: {}", nested.max_items));
            }
        }
    }
    if nested.block.deprecated {
        marks.push("Deprecated".into());
    }
    let name = path.last().copied().unwrap_or_default();
    out.push_str(&format!("- `{name}` ({})", marks.join(", ")));
    push_description(out, &nested.block.description);
    let anchor = format!("nestedblock--{}", path.join("--"));
    out.push_str(&format!(" (see [below for nested schema](#{anchor}))\n"));
    sections.push(Section {
        anchor,
        path,
        content: SectionContent::Block(&nested.block),
    });
}

/// Appends ` description`, with blank lines turned into markdown line breaks so that the text
/// stays inside its list item.
fn push_description(out: &mut String, description: &str) {
    let description = description.trim();
    if description.is_empty() {
        return;
    }
    let mut text = String::new();
    let mut blank_run = false;
    for line in description.lines() {
        if line.trim().is_empty() {
            blank_run = true;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank_run { "  \n" } else { "\n" });
        }
        blank_run = false;
        text.push_str(line);
    }
    out.push(' ');
    out.push_str(&text);
}

fn write_sections(out: &mut String, sections: Vec<Section<'_>>) -> Result<(), DocsError> {
    for section in sections {
        out.push_str(&format!(
            "<a id=\"{}\"></a>\n### Nested Schema for `{}`\n\n",
            section.anchor,
            section.path.join(".")
        ));
        match section.content {
            SectionContent::Block(block) => write_block(out, &section.path, block, false)?,
            SectionContent::Attributes(object) => {
                write_nested_attributes(out, &section.path, object)?;
            }
            SectionContent::Object(attrs, group) => {
                write_object(out, &section.path, attrs, group)?;
            }
        }
    }
    Ok(())
}

fn write_nested_attributes<'a>(
    out: &mut String,
    parents: &[&'a str],
    object: &'a NestedObject,
) -> Result<(), DocsError> {
    let mut sorted: Vec<(Group, &'a Attribute)> = Vec::new();
    for attribute in &object.attributes {
        let group =
            attribute_group(attribute).ok_or_else(|| unclassifiable(parents, &attribute.name))?;
        sorted.push((group, attribute));
    }
    sorted.sort_by(|(ga, a), (gb, b)| ga.cmp(gb).then_with(|| a.name.cmp(&b.name)));

    let mut sections = Vec::new();
    for group in Group::ALL {
        let in_group: Vec<&'a Attribute> = sorted
            .iter()
            .filter(|(g, _)| *g == group)
            .map(|(_, a)| *a)
            .collect();
        if in_group.is_empty() {
            continue;
        }
        out.push_str(group.title(false));
        out.push_str("\n\n");
        if in_group.iter().any(|a| a.write_only) {
            push_write_only_note(out);
        }
        for attribute in in_group {
            let mut path = parents.to_vec();
            path.push(&attribute.name);
            write_attribute(out, path, attribute, group, &mut sections);
        }
        out.push('\n');
    }
    write_sections(out, sections)
}

fn write_object<'a>(
    out: &mut String,
    parents: &[&'a str],
    attrs: &'a BTreeMap<String, Type>,
    group: Group,
) -> Result<(), DocsError> {
    out.push_str(group.title(false));
    out.push_str("\n\n");
    let mut sections = Vec::new();
    // A BTreeMap iterates in name order already.
    for (name, ty) in attrs {
        let mut path = parents.to_vec();
        path.push(name);
        out.push_str(&format!("- `{name}` ({})", type_label(ty)));
        if let Some(inner) = object_attributes(ty) {
            let anchor = format!("nestedobjatt--{}", path.join("--"));
            out.push_str(&format!(" (see [below for nested schema](#{anchor}))"));
            sections.push(Section {
                anchor,
                path,
                content: SectionContent::Object(inner, group),
            });
        }
        out.push('\n');
    }
    out.push('\n');
    write_sections(out, sections)
}

/// The attributes of an object type, or of the objects in a list, set or map.
fn object_attributes(ty: &Type) -> Option<&BTreeMap<String, Type>> {
    match ty {
        Type::Object(attrs) => Some(attrs),
        Type::List(element) | Type::Set(element) | Type::Map(element) => match element.as_ref() {
            Type::Object(attrs) => Some(attrs),
            _ => None,
        },
        _ => None,
    }
}

/// The registry's name for a type: `String`, `List of String`, `Map of Object`, …
fn type_label(ty: &Type) -> String {
    match ty {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(element) => format!("List of {}", type_label(element)),
        Type::Set(element) => format!("Set of {}", type_label(element)),
        Type::Map(element) => format!("Map of {}", type_label(element)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

/// `Attributes`, `Attributes List`, … for nested attributes.
fn attributes_label(object: &NestedObject) -> String {
    match object.nesting {
        ObjectNesting::Single => "Attributes",
        ObjectNesting::List => "Attributes List",
        ObjectNesting::Set => "Attributes Set",
        ObjectNesting::Map => "Attributes Map",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_type_maps_to_the_feature_of_its_own_type() {
        let server = crate::tfplugin::rpc::ProviderServer::new(DbaasProvider);
        let schemas = server.schemas();
        let kinds = [
            (Kind::Resource, schemas.resources.keys(), ""),
            (Kind::DataSource, schemas.data_sources.keys(), "data "),
            (
                Kind::EphemeralResource,
                schemas.ephemeral_resources.keys(),
                "ephemeral ",
            ),
            (Kind::ListResource, schemas.list_resources.keys(), ""),
            (Kind::Action, schemas.actions.keys(), "action "),
        ];
        for (kind, names, prefix) in kinds {
            for name in names {
                let feature = type_feature(kind, name)
                    .unwrap_or_else(|| panic!("{kind:?} {name} has no feature"));
                let (location, attribute) = feature.location();
                let listed = location
                    .strip_prefix(prefix)
                    .unwrap_or(location)
                    .split(", ")
                    .any(|listed| listed.split(' ').next() == Some(name));
                assert!(
                    listed && attribute.is_none() && location.starts_with(prefix),
                    "{kind:?} {name} ↦ {feature:?} ({location})"
                );
            }
        }
    }

    #[test]
    fn type_label_names_types_like_the_registry() {
        assert_eq!(type_label(&Type::String), "String");
        assert_eq!(type_label(&Type::Bool), "Boolean");
        assert_eq!(type_label(&Type::list(Type::String)), "List of String");
        assert_eq!(
            type_label(&Type::set(Type::map(Type::Number))),
            "Set of Map of Number"
        );
        assert_eq!(
            type_label(&Type::list(Type::object([("a", Type::String)]))),
            "List of Object"
        );
        assert_eq!(type_label(&Type::Tuple(vec![Type::String])), "Tuple");
        assert_eq!(type_label(&Type::Dynamic), "Dynamic");
    }

    #[test]
    fn short_name_strips_the_provider_prefix_or_fails() {
        assert_eq!(short_name("dbaas", "dbaas_database").unwrap(), "database");
        for bad in ["database", "dbaasdatabase", "dbaas_", "other_database"] {
            assert!(
                matches!(short_name("dbaas", bad), Err(DocsError::TypeName { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn first_different_line_points_at_the_change() {
        assert_eq!(first_different_line("a\nb\nc\n", "a\nx\nc\n"), 2);
        assert_eq!(first_different_line("a\n", "a\nb\n"), 2);
        assert_eq!(first_different_line("a\nb", "a\nb\n"), 3);
    }

    #[test]
    fn push_description_keeps_multi_paragraph_text_in_one_list_item() {
        let mut out = String::new();
        push_description(&mut out, "  First.\n\n\nSecond\nline.  ");
        assert_eq!(out, " First.  \nSecond\nline.");
        let mut empty = String::new();
        push_description(&mut empty, " \n ");
        assert_eq!(empty, "");
    }

    #[test]
    fn block_group_follows_the_blocks_content() {
        let settable = Block::new("").attribute(Attribute::string("a").optional());
        let computed = Block::new("").attribute(Attribute::string("a").computed());
        assert_eq!(
            block_group(&NestedBlock::list("b", settable.clone()).min_items(1)),
            Some(Group::Required)
        );
        assert_eq!(
            block_group(&NestedBlock::single("b", settable)),
            Some(Group::Optional)
        );
        assert_eq!(
            block_group(&NestedBlock::list("b", computed.clone())),
            Some(Group::ReadOnly)
        );
        assert_eq!(
            block_group(&NestedBlock::list("b", computed).max_items(1)),
            None
        );
        assert_eq!(
            block_group(&NestedBlock::single("b", Block::new(""))),
            Some(Group::Optional)
        );
    }
}
