//! The committed `docs/` tree is exactly what the provider's schemas and `examples/` generate,
//! and the generator lays pages out the way the Terraform Registry expects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use dbaas::docs::{self, DocsError, PageDifference};
use dbaas::provider::DbaasProvider;
use dbaas::tfplugin::rpc::{ProviderServer, ServedSchemas};
use dbaas::tfplugin::schema::{Attribute, Block, NestedBlock, ObjectNesting, Schema};
use dbaas::tfplugin::value::Type;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn docs_committed_tree_is_current() {
    let server = ProviderServer::new(DbaasProvider);
    let pages = docs::render_site(
        &server.schemas(),
        &repo().join("examples"),
        &repo().join("templates"),
    )
    .expect("docs render");
    let differences = docs::compare(&pages, &repo().join("docs")).expect("docs/ readable");
    let list: Vec<String> = differences.iter().map(|d| format!("  {d}")).collect();
    assert!(
        differences.is_empty(),
        "docs/ does not match the provider schema and examples/:\n{}\nrun `make docs` and commit docs/",
        list.join("\n")
    );
}

#[test]
fn docs_follow_the_registry_conventions() {
    let server = ProviderServer::new(DbaasProvider);
    let site = |templates: &Path| {
        docs::render_site(&server.schemas(), &repo().join("examples"), templates)
            .expect("docs render")
    };
    let mut pages = site(&repo().join("templates"));
    let problems = docs::convention_problems(&pages);
    assert!(problems.is_empty(), "{problems:#?}");

    // The index as it was before the rules (with `subcategory`, without the hand-written
    // part), a resource page without its identity import, and a single-API data source shown
    // with the default provider are what the rules exist to catch.
    let index = PathBuf::from("index.md");
    let without_template = site(Path::new("/nonexistent"))[&index].clone();
    pages.insert(
        index.clone(),
        without_template.replacen(
            "page_title: \"dbaas Provider\"\n",
            "page_title: \"dbaas Provider\"\nsubcategory: \"\"\n",
            1,
        ),
    );
    let database = PathBuf::from("resources/database.md");
    let page = pages[&database].clone();
    let start = page.find("In Terraform v1.12.0").expect("identity import");
    let end = page.find("In Terraform v1.5.0").expect("id import");
    pages.insert(database, format!("{}{}", &page[..start], &page[end..]));
    let projects = PathBuf::from("data-sources/projects.md");
    let page = pages[&projects].clone();
    let example_start = page.find("```terraform\n").expect("example") + "```terraform\n".len();
    let example_end = example_start + page[example_start..].find("```").unwrap();
    pages.insert(
        projects,
        format!(
            "{}data \"dbaas_projects\" \"all\" {{}}\n{}",
            &page[..example_start],
            &page[example_end..]
        ),
    );
    let mut expected = vec![
        "data-sources/projects.md: its example does not configure a provider with `alias = \"globo\"` and the `globo` block".to_owned(),
        "data-sources/projects.md: its example sends 0 of its 1 blocks to `provider = dbaas.globo`".to_owned(),
        "index.md: the index must not carry `subcategory`".to_owned(),
        "index.md: lacks the hand-written section `## Installing`".to_owned(),
        "index.md: lacks the hand-written section `## Authentication`".to_owned(),
        "index.md: lacks the hand-written section `## Terraform and OpenTofu versions`".to_owned(),
    ];
    expected.extend(
        dbaas::api::APIS.iter().map(|(api, _)| {
            format!("index.md: `## Authentication` does not explain the `{api}` API")
        }),
    );
    let problems = docs::convention_problems(&pages);
    let variables = problems
        .iter()
        .filter(|p| p.contains("does not name the environment variable"))
        .count();
    assert_eq!(variables, 20, "{problems:#?}");
    expected.extend(
        problems
            .iter()
            .filter(|p| p.contains("does not name the environment variable"))
            .cloned(),
    );
    expected.extend([
        "resources/database.md: lacks an import-by-identity example".to_owned(),
        "resources/database.md: lacks an Identity Schema section".to_owned(),
    ]);
    assert_eq!(problems, expected);
}

/// The committed index is what the rules reject without the hand-written part, and the pages
/// of the types only one API offers say so.
#[test]
fn docs_single_api_pages_name_their_api() {
    let server = ProviderServer::new(DbaasProvider);
    let pages = docs::render_site(
        &server.schemas(),
        &repo().join("examples"),
        &repo().join("templates"),
    )
    .expect("docs render");
    for (page, api) in [
        ("data-sources/availability.md", "ovh"),
        ("data-sources/projects.md", "globo"),
        ("ephemeral-resources/credential.md", "local"),
    ] {
        let text = &pages[Path::new(page)];
        assert!(
            text.contains(&format!("> **NOTE**: Only the `{api}` API offers this"))
                && text.contains(&format!("provider = dbaas.{api}")),
            "{page}:\n{text}"
        );
    }
    assert!(
        pages[Path::new("resources/ip_restriction.md")]
            .contains("Offered by the `local`, `ovh` APIs")
    );
}

#[test]
fn docs_every_type_has_an_example() {
    let server = ProviderServer::new(DbaasProvider);
    let pages = docs::render(&server.schemas(), &repo().join("examples")).expect("docs render");
    let without: Vec<String> = pages
        .iter()
        .filter(|(_, text)| !text.contains("\n## Example Usage\n"))
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(without.is_empty(), "pages without an example: {without:?}");
    for (path, text) in &pages {
        if path.starts_with("resources") {
            assert!(
                text.contains("\n## Import\n"),
                "{} has no import",
                path.display()
            );
        }
    }
}

// --- the renderer, on a schema made for the test -----------------------------------------

fn timeouts() -> NestedBlock {
    NestedBlock::single(
        "timeouts",
        Block::new("How long to wait.")
            .attribute(
                Attribute::string("create")
                    .optional()
                    .description("Create timeout."),
            )
            .attribute(
                Attribute::string("delete")
                    .optional()
                    .description("Delete timeout."),
            ),
    )
}

fn widget() -> Schema {
    Schema::new(
        Block::new("A widget, made to `test` the docs.")
            .attribute(
                Attribute::string("name")
                    .required()
                    .description("Widget name."),
            )
            .attribute(
                Attribute::list(Type::String, "tags")
                    .optional()
                    .description("Labels."),
            )
            .attribute(
                Attribute::string("password_wo")
                    .optional()
                    .sensitive()
                    .write_only()
                    .description("A password you choose."),
            )
            .attribute(
                Attribute::number("size")
                    .optional()
                    .computed()
                    .description("Size. Default: 1."),
            )
            .attribute(
                Attribute::nested(
                    "keys",
                    ObjectNesting::List,
                    vec![
                        Attribute::string("field").required().description("Field."),
                        Attribute::string("direction")
                            .optional()
                            .computed()
                            .description("`asc` or `desc`."),
                    ],
                )
                .required()
                .description("Index keys."),
            )
            .attribute(Attribute::string("id").computed().description("Widget id."))
            .attribute(
                Attribute::string("password")
                    .computed()
                    .sensitive()
                    .description("Generated password."),
            )
            .attribute(
                Attribute::list(
                    Type::object([("name", Type::String), ("cores", Type::Number)]),
                    "flavors",
                )
                .computed()
                .description("Flavors."),
            )
            .attribute(
                Attribute::bool("legacy")
                    .optional()
                    .deprecated("Use size.")
                    .description("Old switch."),
            )
            .block(timeouts()),
    )
}

fn gadgets() -> Schema {
    Schema::new(
        Block::new("Every gadget.").attribute(
            Attribute::map(Type::String, "labels")
                .computed()
                .description("Labels by gadget."),
        ),
    )
}

fn secret() -> Schema {
    Schema::new(
        Block::new("A secret, read when needed.")
            .attribute(
                Attribute::string("name")
                    .required()
                    .description("Secret name."),
            )
            .attribute(
                Attribute::string("value")
                    .computed()
                    .sensitive()
                    .description("The secret."),
            ),
    )
}

fn provider_schema() -> Schema {
    Schema::new(
        Block::new("The test provider.\n\nIt has two paragraphs.")
            .attribute(
                Attribute::string("token")
                    .optional()
                    .sensitive()
                    .description("API token."),
            )
            .block(
                NestedBlock::list(
                    "endpoint",
                    Block::new("").attribute(Attribute::string("url").required()),
                )
                .min_items(1)
                .max_items(2),
            ),
    )
}

/// Renders the test schemas with `examples` (path → content) written under a temp dir.
fn render_test_schemas(examples: &[(&str, &str)]) -> BTreeMap<PathBuf, String> {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in examples {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let (provider, widget, gadgets, secret) = (provider_schema(), widget(), gadgets(), secret());
    let schemas = ServedSchemas {
        provider: &provider,
        resources: BTreeMap::from([("dbaas_widget", &widget)]),
        data_sources: BTreeMap::from([("dbaas_gadgets", &gadgets), ("dbaas_widget", &widget)]),
        ephemeral_resources: BTreeMap::from([("dbaas_secret", &secret)]),
        list_resources: BTreeMap::new(),
        actions: BTreeMap::new(),
        functions: BTreeMap::new(),
        identities: BTreeMap::new(),
    };
    docs::render(&schemas, dir.path()).expect("render")
}

const ALL_EXAMPLES: &[(&str, &str)] = &[
    ("provider/provider.tf", "provider \"dbaas\" {}\n"),
    (
        "resources/dbaas_widget/resource.tf",
        "resource \"dbaas_widget\" \"w\" {\n  name = \"w\"\n}\n\n\n",
    ),
    (
        "resources/dbaas_widget/import.sh",
        "terraform import dbaas_widget.w w-1\n",
    ),
    (
        "data-sources/dbaas_widget/data-source.tf",
        "data \"dbaas_widget\" \"w\" {}\n",
    ),
    (
        "data-sources/dbaas_widget/import.sh",
        "terraform import nothing\n",
    ),
    (
        "ephemeral-resources/dbaas_secret/ephemeral-resource.tf",
        "ephemeral \"dbaas_secret\" \"s\" {\n  name = \"s\"\n}\n",
    ),
];

fn page<'a>(pages: &'a BTreeMap<PathBuf, String>, path: &str) -> &'a str {
    pages
        .get(Path::new(path))
        .unwrap_or_else(|| panic!("no page {path}; pages: {:?}", pages.keys()))
}

/// Byte offset of `needle` in `text`, failing the test with the page when absent.
fn at(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not found in:\n{text}"))
}

#[test]
fn render_pages_follow_the_registry_layout() {
    let pages = render_test_schemas(ALL_EXAMPLES);
    let paths: Vec<String> = pages.keys().map(|p| p.display().to_string()).collect();
    assert_eq!(
        paths,
        [
            "data-sources/gadgets.md",
            "data-sources/widget.md",
            "ephemeral-resources/secret.md",
            "index.md",
            "resources/widget.md",
        ]
    );
}

#[test]
fn render_front_matter_and_title() {
    let pages = render_test_schemas(ALL_EXAMPLES);
    let widget = page(&pages, "resources/widget.md");
    assert!(widget.starts_with("---\n"), "{widget}");
    let end = at(&widget[4..], "\n---\n\n") + 4;
    let front = &widget[..=end];
    assert!(front.contains("\npage_title: \"dbaas_widget Resource - dbaas\"\n"));
    assert!(front.contains("\nsubcategory: \"\"\n"));
    // Plain text in front matter: no code marks.
    assert!(front.contains("\ndescription: |-\n  A widget, made to test the docs.\n"));
    assert!(widget[end..].starts_with(
        "\n---\n\n# dbaas_widget (Resource)\n\nA widget, made to `test` the docs.\n\n"
    ));

    let data = page(&pages, "data-sources/gadgets.md");
    assert!(data.contains("page_title: \"dbaas_gadgets Data Source - dbaas\""));
    assert!(data.contains("\n# dbaas_gadgets (Data Source)\n"));
    let ephemeral = page(&pages, "ephemeral-resources/secret.md");
    assert!(ephemeral.contains("page_title: \"dbaas_secret Ephemeral Resource - dbaas\""));
    assert!(ephemeral.contains("\n# dbaas_secret (Ephemeral Resource)\n"));
    assert!(ephemeral.contains("Terraform 1.10 or later"));

    let index = page(&pages, "index.md");
    assert!(index.contains("page_title: \"dbaas Provider\""));
    assert!(
        index.contains("description: |-\n  The test provider.\n\n  It has two paragraphs.\n---")
    );
    assert!(
        index.contains("\n# dbaas Provider\n\nThe test provider.\n\nIt has two paragraphs.\n\n")
    );
}

#[test]
fn render_sections_come_in_order() {
    let pages = render_test_schemas(ALL_EXAMPLES);
    let widget = page(&pages, "resources/widget.md");
    let example = at(
        widget,
        "\n## Example Usage\n\n```terraform\nresource \"dbaas_widget\" \"w\" {\n  name = \"w\"\n}\n```\n",
    );
    let schema = at(widget, "\n## Schema\n\n### Required\n\n");
    let optional = at(widget, "\n### Optional\n\n");
    let read_only = at(widget, "\n### Read-Only\n\n");
    let nested = at(widget, "\n<a id=\"nestedatt--keys\"></a>\n");
    let import = at(
        widget,
        "\n## Import\n\nImport is supported using the following syntax:\n\nThe [`terraform import` command](https://developer.hashicorp.com/terraform/cli/commands/import) can be used, for example:\n\n```shell\nterraform import dbaas_widget.w w-1\n```\n",
    );
    assert!(example < schema && schema < optional && optional < read_only);
    assert!(read_only < nested && nested < import, "{widget}");
    assert!(widget.ends_with("```\n") && !widget.ends_with("\n\n"));
}

#[test]
fn render_lists_members_sorted_with_types() {
    let pages = render_test_schemas(ALL_EXAMPLES);
    let widget = page(&pages, "resources/widget.md");
    let required = "### Required\n\n\
        - `keys` (Attributes List) Index keys. (see [below for nested schema](#nestedatt--keys))\n\
        - `name` (String) Widget name.\n\n";
    assert!(widget.contains(required), "{widget}");
    assert!(widget.contains("- `tags` (List of String) Labels.\n"));
    assert!(widget.contains("- `size` (Number) Size. Default: 1.\n"));
    assert!(
        widget.contains("- `legacy` (Boolean, Deprecated) Old switch. **Deprecated:** Use size.\n")
    );
    assert!(widget.contains(
        "- `flavors` (List of Object) Flavors. (see [below for nested schema](#nestedatt--flavors))\n"
    ));
    let optional = &widget[at(widget, "### Optional")..at(widget, "### Read-Only")];
    let names: Vec<&str> = optional
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .map(|l| &l[..l.find('`').unwrap()])
        .collect();
    assert_eq!(names, ["legacy", "password_wo", "size", "tags", "timeouts"]);
    let data = page(&pages, "data-sources/gadgets.md");
    assert!(data.contains("### Read-Only\n\n- `labels` (Map of String) Labels by gadget.\n"));
}

#[test]
fn render_marks_sensitive_and_write_only() {
    let pages = render_test_schemas(ALL_EXAMPLES);
    let widget = page(&pages, "resources/widget.md");
    assert!(
        widget.contains("- `password_wo` (String, Sensitive, Write-only) A password you choose.\n")
    );
    assert!(widget.contains("- `password` (String, Sensitive) Generated password.\n"));
    // The note about write-only arguments sits in the group that has one, and only there.
    let optional = &widget[at(widget, "### Optional")..at(widget, "### Read-Only")];
    assert!(optional.contains("> **NOTE**: [Write-only arguments]("));
    assert!(optional.contains("Terraform 1.11 or later"));
    assert_eq!(widget.matches("**NOTE**").count(), 1, "{widget}");
    let secret = page(&pages, "ephemeral-resources/secret.md");
    assert!(secret.contains("- `value` (String, Sensitive) The secret.\n"));
    assert!(!secret.contains("Write-only"));
}

#[test]
fn render_nested_schemas_have_anchors() {
    let pages = render_test_schemas(ALL_EXAMPLES);
    let widget = page(&pages, "resources/widget.md");
    assert!(widget.contains(
        "- `timeouts` (Block, Optional) How long to wait. \
         (see [below for nested schema](#nestedblock--timeouts))\n"
    ));
    assert!(widget.contains(
        "<a id=\"nestedatt--keys\"></a>\n### Nested Schema for `keys`\n\n\
         Required:\n\n- `field` (String) Field.\n\n\
         Optional:\n\n- `direction` (String) `asc` or `desc`.\n\n"
    ));
    assert!(widget.contains(
        "<a id=\"nestedatt--flavors\"></a>\n### Nested Schema for `flavors`\n\n\
         Read-Only:\n\n- `cores` (Number)\n- `name` (String)\n\n"
    ));
    assert!(widget.contains(
        "<a id=\"nestedblock--timeouts\"></a>\n### Nested Schema for `timeouts`\n\n\
         Optional:\n\n- `create` (String) Create timeout.\n- `delete` (String) Delete timeout.\n"
    ));
    // Every link points at an anchor of the page.
    for link in widget.split("](#").skip(1) {
        let anchor = &link[..link.find(')').unwrap()];
        assert!(
            widget.contains(&format!("<a id=\"{anchor}\"></a>")),
            "{anchor}"
        );
    }
    let index = page(&pages, "index.md");
    assert!(index.contains(
        "### Required\n\n- `endpoint` (Block List, Min: 1, Max: 2) \
         (see [below for nested schema](#nestedblock--endpoint))\n"
    ));
    assert!(index.contains("### Optional\n\n- `token` (String, Sensitive) API token.\n"));
}

#[test]
fn render_import_section_only_for_resources() {
    let pages = render_test_schemas(ALL_EXAMPLES);
    assert!(page(&pages, "resources/widget.md").contains("\n## Import\n"));
    // Same schema as a data source, with an import.sh lying next to its example: no import.
    let data = page(&pages, "data-sources/widget.md");
    assert!(data.contains("\n## Example Usage\n"));
    assert!(!data.contains("## Import"), "{data}");
    assert!(!page(&pages, "ephemeral-resources/secret.md").contains("## Import"));
    assert!(!page(&pages, "index.md").contains("## Import"));
}

#[test]
fn render_without_examples_leaves_the_sections_out() {
    let pages = render_test_schemas(&[]);
    assert_eq!(pages.len(), 5);
    for (path, text) in &pages {
        assert!(!text.contains("## Example Usage"), "{}", path.display());
        assert!(!text.contains("## Import"), "{}", path.display());
        assert!(text.contains("\n## Schema\n"), "{}", path.display());
        assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
    }
}

#[test]
fn render_is_deterministic() {
    assert_eq!(
        render_test_schemas(ALL_EXAMPLES),
        render_test_schemas(ALL_EXAMPLES)
    );
}

#[test]
fn render_rejects_type_names_without_the_provider_prefix() {
    let schema = gadgets();
    let provider = provider_schema();
    let schemas = ServedSchemas {
        provider: &provider,
        resources: BTreeMap::new(),
        data_sources: BTreeMap::from([("gadgets", &schema)]),
        ephemeral_resources: BTreeMap::new(),
        list_resources: BTreeMap::new(),
        actions: BTreeMap::new(),
        functions: BTreeMap::new(),
        identities: BTreeMap::new(),
    };
    let error = docs::render(&schemas, Path::new("/nonexistent")).unwrap_err();
    assert!(matches!(error, DocsError::TypeName { .. }), "{error}");
    assert!(error.to_string().contains("`dbaas_`"), "{error}");
}

#[test]
fn render_reports_an_unclassifiable_attribute() {
    let broken = Schema::new(Block::new("").attribute(Attribute::string("flagless")));
    let provider = provider_schema();
    let schemas = ServedSchemas {
        provider: &provider,
        resources: BTreeMap::from([("dbaas_broken", &broken)]),
        data_sources: BTreeMap::new(),
        ephemeral_resources: BTreeMap::new(),
        list_resources: BTreeMap::new(),
        actions: BTreeMap::new(),
        functions: BTreeMap::new(),
        identities: BTreeMap::new(),
    };
    let error = docs::render(&schemas, Path::new("/nonexistent")).unwrap_err();
    assert!(error.to_string().contains("`flagless`"), "{error}");
}

#[test]
fn write_then_compare_finds_missing_changed_and_extra_pages() {
    let pages = render_test_schemas(ALL_EXAMPLES);
    let dir = tempfile::tempdir().unwrap();
    let docs_dir = dir.path().join("docs");

    let missing = docs::compare(&pages, &docs_dir).unwrap();
    assert_eq!(missing.len(), pages.len());
    assert!(
        missing
            .iter()
            .all(|d| matches!(d, PageDifference::Missing(_)))
    );

    let summary = docs::write(&pages, &docs_dir).unwrap();
    assert_eq!(summary.written.len(), pages.len());
    assert!(summary.removed.is_empty());
    assert_eq!(docs::compare(&pages, &docs_dir).unwrap(), []);
    // Nothing to do the second time.
    assert_eq!(
        docs::write(&pages, &docs_dir).unwrap(),
        docs::WriteSummary::default()
    );

    let index = docs_dir.join("index.md");
    let text = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, text.replacen("# dbaas Provider", "# edited", 1)).unwrap();
    std::fs::create_dir_all(docs_dir.join("data-sources/old")).unwrap();
    std::fs::write(docs_dir.join("data-sources/old/gone.md"), "stale\n").unwrap();
    std::fs::write(docs_dir.join("resources/notes.txt"), "not a page\n").unwrap();
    std::fs::create_dir_all(docs_dir.join("guides")).unwrap();
    std::fs::write(docs_dir.join("guides/hand-written.md"), "# Guide\n").unwrap();

    let differences = docs::compare(&pages, &docs_dir).unwrap();
    let line = text.lines().position(|l| l == "# dbaas Provider").unwrap() + 1;
    assert_eq!(
        differences,
        [
            PageDifference::Changed {
                path: PathBuf::from("index.md"),
                line
            },
            PageDifference::Extra(PathBuf::from("data-sources/old/gone.md")),
        ]
    );
    assert!(
        differences[1]
            .to_string()
            .contains("data-sources/old/gone.md")
    );

    let summary = docs::write(&pages, &docs_dir).unwrap();
    assert_eq!(summary.written, [PathBuf::from("index.md")]);
    assert_eq!(summary.removed, [PathBuf::from("data-sources/old/gone.md")]);
    assert_eq!(std::fs::read_to_string(&index).unwrap(), text);
    assert!(
        !docs_dir.join("data-sources/old").exists(),
        "emptied directories go too"
    );
    assert!(docs_dir.join("data-sources/gadgets.md").exists());
    assert!(
        docs_dir.join("resources/notes.txt").exists(),
        "only markdown pages are managed"
    );
    assert!(
        docs_dir.join("guides/hand-written.md").exists(),
        "guides are not generated"
    );
}

#[test]
fn dbaas_docs_binary_writes_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("docs");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dbaas-docs"))
            .args(args)
            .arg("--examples")
            .arg(repo().join("examples"))
            .arg(&out)
            .output()
            .expect("dbaas-docs runs")
    };
    let check = run(&["--check"]);
    assert!(!check.status.success());
    assert!(String::from_utf8_lossy(&check.stderr).contains("run `make docs`"));

    let written = run(&[]);
    assert!(written.status.success(), "{written:?}");
    assert!(out.join("index.md").exists());
    assert!(out.join("resources/database.md").exists());

    let check = run(&["--check"]);
    assert!(check.status.success(), "{check:?}");
}

#[test]
fn support_matrix_lists_every_api_and_feature() {
    let page = docs::render_support_matrix(dbaas::api::APIS);
    let header = page
        .lines()
        .find(|line| line.starts_with("| type |"))
        .expect("a table");
    for (api, _) in dbaas::api::APIS {
        assert!(header.contains(&format!(" {api} |")), "{header}");
    }
    let rows = page.lines().filter(|line| line.starts_with("| `")).count();
    assert_eq!(rows, dbaas::api::Feature::ALL.len());
    assert!(
        page.contains("| `dbaas_collection_index` | (the type itself) | yes | no |"),
        "dbaas-local offers indexes, OVH does not:\n{page}"
    );
}
