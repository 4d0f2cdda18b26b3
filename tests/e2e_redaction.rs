//! No secret of an error reply reaches the user, end to end. dbaas-local answers creates with
//! hostile 400s (request faults with a `body` of their own) that quote passwords and tokens in
//! every shape replies use: a `"password"` field, DRF's `{"password": ["…"]}`, a `"token"`, an
//! `Authorization: Bearer …` echoed in free text, a multi-host `mongodb://u:pass@h1,h2/db` URI,
//! a `https://user:pass@host` URL, `"password": "…"` and `password=…` in a message. The real
//! Terraform applies against each of the six clients (native, OVH, Compose, globo, databaselabs,
//! goaddon); every create must fail with its diagnostic, and no secret may show in the
//! diagnostics, the plan/apply output or the `TF_LOG=trace` log.

mod support;

use std::time::Duration;

use serde_json::{Value as Json, json};
use support::{
    COMPOSE_ACCOUNT, COMPOSE_DEPLOYMENT, LocalService, OVH_SERVICE_NAME, Workspace, flat_stderr,
    text,
};

const DELAY: Duration = Duration::from_millis(100);

/// Every secret the hostile replies hold; none may be shown anywhere.
const SECRETS: [&str; 8] = [
    "Drf-Pw-Secret-1",
    "Json-Token-Secret-2",
    "Text-Bearer-Secret-3",
    "Multi-Host-Secret-4",
    "Url-Pw-Secret-5",
    "Query-Token-Secret-6",
    "Quoted-Pw-Secret-7",
    "Pair-Pw-Secret-8",
];

/// A message that quotes secrets as free text, in a JSON error body.
const QUOTING_MESSAGE: &str = "request rejected: \"password\": \"Quoted-Pw-Secret-7\", sent with \
                               password=Pair-Pw-Secret-8";

/// The three hostile replies, each with the non-secret words its diagnostic must still show.
fn hostile_bodies() -> [(Json, &'static str); 3] {
    [
        (
            json!({
                "password": ["Drf-Pw-Secret-1"],
                "token": "Json-Token-Secret-2",
                "name": ["This field is required."],
            }),
            "name: This field is required.",
        ),
        (
            json!(
                "upstream refused: Authorization: Bearer Text-Bearer-Secret-3 via \
                 mongodb://app:Multi-Host-Secret-4@h1:27017,h2:27017/db and \
                 https://admin:Url-Pw-Secret-5@backend.test/v1?token=Query-Token-Secret-6"
            ),
            "upstream refused",
        ),
        (
            // `message` for most dialects, `error.message` for the native API.
            json!({"message": QUOTING_MESSAGE, "error": {"message": QUOTING_MESSAGE}}),
            "request rejected",
        ),
    ]
}

/// One client under test: its provider block, three resources whose creates the faults hit,
/// and the path prefix of those creates.
struct Case {
    name: &'static str,
    configuration: String,
    create_prefix: String,
}

fn three(resource: &str, body: impl Fn(usize) -> String) -> String {
    (0..3)
        .map(|n| format!("\nresource \"{resource}\" \"r{n}\" {{\n  {}\n}}\n", body(n)))
        .collect()
}

fn cases(service: &LocalService) -> Vec<Case> {
    let native = "provider \"dbaas\" {\n  poll_interval = \"100ms\"\n}\n".to_string();
    let ovh_path = format!("/ovh/1.0/cloud/project/{OVH_SERVICE_NAME}/database/mongodb");
    let goaddon_database = "data \"dbaas_databases\" \"project\" {}\n\nlocals {\n  db = \
                            one(data.dbaas_databases.project.databases)\n}\n";
    vec![
        Case {
            name: "native",
            configuration: native + &three("dbaas_database", |n| format!("name = \"native-{n}\"")),
            create_prefix: "/v1/databases".into(),
        },
        Case {
            name: "ovh",
            configuration: service.ovh_provider_block("")
                + &three("dbaas_database", |n| {
                    format!(
                        "name = \"ovh-{n}\"\n  plan = \"essential\"\n  flavor = \"db1-4\"\n  \
                         region = \"GRA\"\n  node_count = 1"
                    )
                }),
            create_prefix: ovh_path,
        },
        Case {
            name: "compose",
            configuration: service.compose_provider_block("")
                + &three("dbaas_database", |n| format!("name = \"compose-{n}\"")),
            create_prefix: format!(
                "/compose/deployments/{COMPOSE_ACCOUNT}/{COMPOSE_DEPLOYMENT}/mongodb/"
            ),
        },
        Case {
            name: "globo",
            configuration: service.globo_provider_block("")
                + &three("dbaas_database", |n| format!("name = \"globo_{n}\"")),
            create_prefix: "/globo/api/database/".into(),
        },
        Case {
            name: "databaselabs",
            configuration: service.databaselabs_provider_block("")
                + &three("dbaas_database", |_| "plan = \"512mb\"".to_string()),
            create_prefix: "/databaselabs/api/databases".into(),
        },
        Case {
            name: "goaddon",
            configuration: service.goaddon_provider_block("")
                + goaddon_database
                + &three("dbaas_credential", |n| {
                    format!(
                        "database_id = local.db.id\n  username = \"app{n}\"\n  roles = \
                         [\"readWrite@goaddon-project\"]"
                    )
                }),
            create_prefix: "/goaddon/api/v1/database_users".into(),
        },
    ]
}

#[test]
fn error_replies_never_show_their_secrets_at_any_api() {
    let service = LocalService::start_with_dialects(DELAY);
    for case in cases(&service) {
        let mut work = Workspace::with_vendor_env(&service);
        work.ovh_env();
        let trace = work.path().join("trace.log");
        work.env("TF_LOG", "trace");
        work.env("TF_LOG_PATH", trace.to_str().unwrap());
        work.write(&case.configuration);
        for (body, _) in hostile_bodies() {
            let fault = json!({"path_prefix": case.create_prefix, "method": "POST",
                               "status": 400, "body": body, "count": 1});
            let (status, reply) = service.call("POST", "/v1/_admin/faults", Some(fault));
            assert_eq!(status, 200, "{}: arming: {reply}", case.name);
        }

        let output = work.apply_fails();
        let (_, pending) = service.call("GET", "/v1/_admin/faults", None);
        assert_eq!(
            pending["faults"],
            json!([]),
            "{}: a hostile reply was never sent:\n{}",
            case.name,
            text(&output)
        );
        // Each hostile reply reached a diagnostic, so the secrets had their chance to leak.
        let diagnostics = flat_stderr(&output);
        for (_, shown) in hostile_bodies() {
            assert!(
                diagnostics.contains(shown),
                "{}: no diagnostic says `{shown}`:\n{}",
                case.name,
                text(&output)
            );
        }
        let log = std::fs::read_to_string(&trace).expect("the trace log");
        assert!(
            log.contains("HTTP response received"),
            "{}: the trace log has no replies",
            case.name
        );
        for secret in SECRETS {
            assert!(
                !text(&output).contains(secret),
                "{}: {secret} is in Terraform's output:\n{}",
                case.name,
                text(&output)
            );
            assert!(
                !log.contains(secret),
                "{}: {secret} is in the trace log",
                case.name
            );
        }
        assert!(
            diagnostics.contains("password: ***") && diagnostics.contains("Authorization: ***"),
            "{}: the redaction is not visible:\n{}",
            case.name,
            text(&output)
        );
        service.call("DELETE", "/v1/_admin/faults", None);
    }
}
