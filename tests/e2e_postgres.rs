//! `engine = "postgresql"` is a real PostgreSQL at dbaas-local, driven by the real Terraform:
//! the database Terraform creates accepts a login with the credential's password, the unique
//! index refuses a duplicate, a password reset retires the old password, the allow-list
//! decides by source address (127.0.0.1 and 127.0.0.2, both loopback), and destroy drops the
//! database from PostgreSQL. Needs PostgreSQL's server programs (`make tools` installs them).

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use support::{LocalService, Workspace};
use tokio_postgres::NoTls;

const SOURCE_IN_LIST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const OTHER_SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

fn config(cidr: &str, password_reset: &str) -> String {
    format!(
        r#"
provider "dbaas" {{
  poll_interval = "100ms"
}}

resource "dbaas_database" "client" {{
  name   = "client-pg"
  engine = "postgresql"
  plan   = "essential"
}}

resource "dbaas_credential" "app" {{
  database_id    = dbaas_database.client.id
  username       = "app"
  roles          = ["readWrite@client-pg"]
  password_reset = "{password_reset}"
}}

resource "dbaas_collection_index" "email" {{
  database_id = dbaas_database.client.id
  collection  = "customers"
  keys        = [{{ field = "email" }}]
  unique      = true
}}

resource "dbaas_ip_restriction" "allowed" {{
  database_id = dbaas_database.client.id
  cidr        = "{cidr}"
}}

output "endpoint" {{
  value = dbaas_database.client.endpoint
}}

output "password" {{
  value     = dbaas_credential.app.password
  sensitive = true
}}
"#
    )
}

/// The port of `endpoint`, which must be where PostgreSQL serves `database`
/// (`postgresql://127.0.0.1:<port>/<database>`).
fn served_port(endpoint: &str, database: &str) -> u16 {
    endpoint
        .strip_prefix("postgresql://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix(&format!("/{database}")))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("a working endpoint of {database}: {endpoint}"))
}

/// A connection to `database` as `user` from `source` (bound before connecting), or why not.
async fn connect(
    port: u16,
    source: Ipv4Addr,
    user: &str,
    password: &str,
    database: &str,
) -> Result<tokio_postgres::Client, String> {
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .bind(SocketAddr::from((source, 0)))
        .map_err(|e| e.to_string())?;
    let stream = socket
        .connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|e| e.to_string())?;
    let mut config = tokio_postgres::Config::new();
    config.user(user).password(password).dbname(database);
    let (client, connection) = config.connect_raw(stream, NoTls).await.map_err(|e| {
        e.as_db_error()
            .map_or(e.to_string(), |db| db.message().to_owned())
    })?;
    tokio::spawn(connection);
    Ok(client)
}

/// The databases PostgreSQL holds, asked as its administrator over the cluster's socket.
async fn databases_in_postgres(data_dir: &Path, port: u16) -> Vec<String> {
    let mut config = tokio_postgres::Config::new();
    config
        .host_path(data_dir.join("postgresql/socket"))
        .port(port)
        .user("dbaas_local_admin")
        .dbname("postgres");
    let (client, connection) = config.connect(NoTls).await.expect("the admin connects");
    tokio::spawn(connection);
    client
        .query(
            "SELECT datname FROM pg_database WHERE NOT datistemplate",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn postgresql_database_accepts_its_credential_enforces_its_index_and_allow_list() {
    let service = LocalService::start(Duration::from_millis(100));
    let (status, capabilities) = service.call("GET", "/v1/capabilities", None);
    assert_eq!(status, 200);
    let postgresql = capabilities["engines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|engine| engine["name"] == "postgresql")
        .unwrap();
    assert_eq!(
        postgresql["backing"], "real",
        "PostgreSQL's server programs are needed (make tools installs them)"
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let work = Workspace::new(&service);

    work.write(&config("127.0.0.1/32", "1"));
    work.apply();
    let outputs = work.outputs();
    let endpoint = outputs["endpoint"]["value"].as_str().unwrap().to_owned();
    let port = served_port(&endpoint, "client-pg");
    let first_password = outputs["password"]["value"].as_str().unwrap().to_owned();

    runtime.block_on(async {
        let app = connect(port, SOURCE_IN_LIST, "app", &first_password, "client-pg")
            .await
            .expect("the generated password logs in");
        let insert = "INSERT INTO customers (document) VALUES ($1::text::jsonb)";
        let document = r#"{"email": "ada@example.com", "name": "Ada"}"#;
        app.execute(insert, &[&document])
            .await
            .expect("readWrite inserts");
        let duplicate = app.execute(insert, &[&document]).await.unwrap_err();
        assert_eq!(
            duplicate.code(),
            Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION),
            "{duplicate}"
        );
        let refused = connect(port, OTHER_SOURCE, "app", &first_password, "client-pg")
            .await
            .expect_err("127.0.0.2 is outside the allow-list");
        assert!(refused.contains("no pg_hba.conf entry"), "{refused}");
    });

    // A password reset: the old password no longer logs in, the new one does.
    work.write(&config("127.0.0.1/32", "2"));
    work.apply();
    let second_password = work.outputs()["password"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second_password, first_password);
    runtime.block_on(async {
        let old = connect(port, SOURCE_IN_LIST, "app", &first_password, "client-pg")
            .await
            .expect_err("the old password is refused");
        assert!(old.contains("password authentication failed"), "{old}");
        connect(port, SOURCE_IN_LIST, "app", &second_password, "client-pg")
            .await
            .expect("the new password logs in");
    });

    // The allow-list moves to 127.0.0.2: that source gets in, 127.0.0.1 no longer does.
    work.write(&config("127.0.0.2/32", "2"));
    work.apply();
    runtime.block_on(async {
        let app = connect(port, OTHER_SOURCE, "app", &second_password, "client-pg")
            .await
            .expect("127.0.0.2 is in the allow-list now");
        let rows = app
            .query("SELECT document->>'name' FROM customers", &[])
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        let refused = connect(port, SOURCE_IN_LIST, "app", &second_password, "client-pg")
            .await
            .expect_err("127.0.0.1 is outside the allow-list now");
        assert!(refused.contains("no pg_hba.conf entry"), "{refused}");
    });

    let data_dir = service.data_dir().to_path_buf();
    let before = runtime.block_on(databases_in_postgres(&data_dir, port));
    assert!(before.contains(&"client-pg".to_owned()), "{before:?}");
    work.destroy();
    let after = runtime.block_on(databases_in_postgres(&data_dir, port));
    assert!(!after.contains(&"client-pg".to_owned()), "{after:?}");
    drop(runtime);
}

/// Through the databaselabs dialect (hosted PostgreSQL) the database is as real: the superuser
/// password Terraform got logs in as `postgres`, which may make tables in its database.
#[test]
fn databaselabs_superuser_password_logs_in_to_the_real_database() {
    let (service, work) = LocalService::start_vendor_test(Duration::from_millis(100));
    work.write(&format!(
        "{}\nresource \"dbaas_database\" \"client\" {{\n  plan   = \"512mb\"\n  region = \"ams3\"\n}}\n",
        service.databaselabs_provider_block("")
    ));
    work.apply();
    let created = work.resource("dbaas_database.client");
    let name = created["name"].as_str().unwrap().to_owned();
    let password = created["superuser_password"].as_str().unwrap().to_owned();
    // The store's endpoint of it: where PostgreSQL serves it.
    let endpoint = service.database_named(&name)["endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let port = served_port(&endpoint, &name);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let superuser = connect(port, SOURCE_IN_LIST, "postgres", &password, &name)
            .await
            .expect("the superuser password logs in");
        superuser
            .batch_execute("CREATE TABLE migrations (version int PRIMARY KEY)")
            .await
            .expect("the superuser makes tables in its database");
    });
    work.destroy();
    drop(runtime);
}

/// Two client databases, each with a user of the same name, in the second one's `username`.
fn two_clients(second_username: &str) -> String {
    format!(
        r#"
provider "dbaas" {{
  poll_interval = "100ms"
}}

resource "dbaas_database" "a" {{
  name   = "client-a"
  engine = "postgresql"
}}

resource "dbaas_database" "b" {{
  name   = "client-b"
  engine = "postgresql"
}}

resource "dbaas_credential" "a" {{
  database_id = dbaas_database.a.id
  username    = "app"
  roles       = ["readWrite@client-a"]
}}

resource "dbaas_credential" "b" {{
  database_id = dbaas_database.b.id
  username    = "{second_username}"
  roles       = ["readWrite@client-b"]
  # After the first one: which of the two gets the name is then certain.
  depends_on = [dbaas_credential.a]
}}

output "endpoint_a" {{
  value = dbaas_database.a.endpoint
}}

output "password_a" {{
  value     = dbaas_credential.a.password
  sensitive = true
}}
"#
    )
}

/// PostgreSQL's role names are the cluster's: the same username on a second real database
/// ends that credential in ERROR, and the apply says why, naming the role and whose it is;
/// the first one's user goes on logging in, and another username converges.
#[test]
fn the_same_username_on_two_postgresql_databases_fails_the_second_saying_why() {
    let service = LocalService::start(Duration::from_millis(100));
    let work = Workspace::new(&service);
    work.write(&two_clients("app"));
    // Terraform wraps its diagnostics: compared word by word.
    let failed = support::text(&work.apply_fails())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let (_, first) = service.call("GET", "/v1/databases", None);
    let owner = first["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|database| database["name"] == "client-a")
        .and_then(|database| database["id"].as_str())
        .unwrap()
        .to_owned();
    assert!(
        failed.contains(&format!("the role app belongs to {owner}"))
            && failed.contains("a username names one role across the PostgreSQL databases"),
        "{failed}"
    );

    work.write(&two_clients("app-b"));
    work.apply();
    let outputs = work.outputs();
    let endpoint = outputs["endpoint_a"]["value"].as_str().unwrap().to_owned();
    let port = served_port(&endpoint, "client-a");
    let password = outputs["password_a"]["value"].as_str().unwrap().to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        connect(port, SOURCE_IN_LIST, "app", &password, "client-a")
            .await
            .expect("the first database's user logs in");
    });
    work.assert_plan_empty();
    work.destroy();
    drop(runtime);
}
