//! `dbaas-connect`: connects to a PostgreSQL database of dbaas-local as an application would,
//! to show that what Terraform made works: logs in with a credential, optionally from a chosen
//! loopback source address (to meet the allow-list), and inserts documents into a collection.
//! It says what the server answered, line by line; it exits 1 when the server refused.
//!
//! The password comes from `DBAAS_CONNECT_PASSWORD`, never the command line (which `ps` shows).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use tokio_postgres::NoTls;

/// Log in to a dbaas-local PostgreSQL database and insert documents, reporting what the server
/// answers. The password is read from DBAAS_CONNECT_PASSWORD.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The database's endpoint, as its `endpoint` attribute gives it:
    /// postgresql://127.0.0.1:<port>/<database>.
    #[arg(long)]
    endpoint: String,

    /// The credential's username.
    #[arg(long)]
    user: String,

    /// The local address to connect from (any 127.0.0.0/8 address): the allow-list decides by
    /// it. Default: the system's choice (127.0.0.1).
    #[arg(long)]
    source: Option<Ipv4Addr>,

    /// The collection to insert into (a table with one JSONB document per row).
    #[arg(long, requires = "documents")]
    collection: Option<String>,

    /// JSON documents to insert, one after the other; each insert is reported.
    #[arg(long = "insert", value_name = "JSON")]
    documents: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Ok(password) = std::env::var("DBAAS_CONNECT_PASSWORD") else {
        eprintln!("dbaas-connect: set DBAAS_CONNECT_PASSWORD to the credential's password");
        return ExitCode::from(2);
    };
    let Some((host, port, database)) = parse_endpoint(&args.endpoint) else {
        eprintln!(
            "dbaas-connect: {:?} is not a postgresql://<host>:<port>/<database> endpoint",
            args.endpoint
        );
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dbaas-connect: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(&args, &password, host, port, &database))
}

/// `postgresql://<ip>:<port>/<database>`.
fn parse_endpoint(endpoint: &str) -> Option<(IpAddr, u16, String)> {
    let rest = endpoint.strip_prefix("postgresql://")?;
    let (address, database) = rest.split_once('/')?;
    let address: SocketAddr = address.parse().ok()?;
    (!database.is_empty()).then(|| (address.ip(), address.port(), database.to_owned()))
}

async fn run(args: &Args, password: &str, host: IpAddr, port: u16, database: &str) -> ExitCode {
    let from = args
        .source
        .map_or_else(|| "127.0.0.1".to_owned(), |source| source.to_string());
    let client = match connect(args, password, host, port, database).await {
        Ok(client) => client,
        Err(why) => {
            say(format!(
                "  refused: {} from {from} to {database}: {why}",
                args.user
            ));
            return ExitCode::FAILURE;
        }
    };
    say(format!(
        "  logged in: {} from {from} to {database}",
        args.user
    ));
    let Some(collection) = &args.collection else {
        return ExitCode::SUCCESS;
    };
    let insert = format!(
        "INSERT INTO \"{}\" (document) VALUES ($1::text::jsonb)",
        collection.replace('"', "\"\"")
    );
    let mut refused = false;
    for document in &args.documents {
        match client.execute(insert.as_str(), &[document]).await {
            Ok(_) => say(format!("  inserted into {collection}: {document}")),
            Err(error) => {
                refused = true;
                let why = error
                    .as_db_error()
                    .map_or_else(|| error.to_string(), |db| db.message().to_owned());
                say(format!(
                    "  refused: insert into {collection} of {document}: {why}"
                ));
            }
        }
    }
    if refused {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn connect(
    args: &Args,
    password: &str,
    host: IpAddr,
    port: u16,
    database: &str,
) -> Result<tokio_postgres::Client, String> {
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
    if let Some(source) = args.source {
        socket
            .bind(SocketAddr::from((source, 0)))
            .map_err(|e| format!("cannot use {source} as the source: {e}"))?;
    }
    let stream = socket
        .connect(SocketAddr::from((host, port)))
        .await
        .map_err(|e| e.to_string())?;
    let mut config = tokio_postgres::Config::new();
    config.user(&args.user).password(password).dbname(database);
    let (client, connection) = config.connect_raw(stream, NoTls).await.map_err(|error| {
        error
            .as_db_error()
            .map_or_else(|| error.to_string(), |db| db.message().to_owned())
    })?;
    tokio::spawn(connection);
    Ok(client)
}

/// One line of the report, on stdout (where the demo shows it).
fn say(line: String) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_postgresql_urls_with_an_address_and_a_database() {
        assert_eq!(
            parse_endpoint("postgresql://127.0.0.1:5432/client-acme"),
            Some((
                IpAddr::from(Ipv4Addr::LOCALHOST),
                5432,
                "client-acme".to_owned()
            ))
        );
        for bad in [
            "mongodb://127.0.0.1:27017/x",
            "postgresql://127.0.0.1/x",
            "postgresql://127.0.0.1:5432/",
            "postgresql://host.example:5432/x",
        ] {
            assert_eq!(parse_endpoint(bad), None, "{bad}");
        }
    }
}
