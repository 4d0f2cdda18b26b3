//! Seed 002 replayed: every request example of the databaselabs API reference (the `% http`
//! lines) is parsed out of the seed at test time, sent to dbaas-local's databaselabs dialect,
//! and its reply checked against the seed's printed reply: status, media type, and every field
//! (generated ids and passwords, dates and hostnames only checked for shape).
//!
//! Each example runs on a fresh service holding the databases its reply shows (same size,
//! region and status, in the same order), so list and read replies can match as printed;
//! hostnames in the example's URL are mapped onto the ones the service generated.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use dbaas::local::{self, Config, DatabaselabsDialect, RunningService};
use secrecy::SecretString;
use serde_json::{Value, json};

const KEY: &str = "seed-key";
const SECRET: &str = "seed-secret";
const SEED_HOST: &str = "https://www.databaselabs.io";

fn seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds/002_3ed61da74de47521.txt")
}

/// One request example and the reply the seed prints for it.
#[derive(Debug)]
struct Example {
    method: String,
    /// Path under the API root (`/api/databases`).
    path: String,
    /// JSON body built from httpie's `key=value` items.
    body: Option<Value>,
    status: u16,
    media_type: Option<String>,
    /// The printed body; `None` when there is none.
    reply: Option<Value>,
    /// The printed array ends with `[etc...]`: only its first entries are shown.
    truncated: bool,
}

/// The `% http …` examples of the seed, with continuation lines joined.
fn parse_examples(text: &str) -> Result<Vec<Example>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut examples = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index].trim();
        index += 1;
        let Some(command) = line.strip_prefix("% http ") else {
            continue;
        };
        let mut command = command.to_owned();
        while command.trim_end().ends_with('\\') {
            command = command.trim_end().trim_end_matches('\\').to_owned();
            command.push(' ');
            command.push_str(lines.get(index).context("dangling continuation")?.trim());
            index += 1;
        }
        let (method, path, body) = parse_httpie(&command)?;
        // The reply: status line, headers, blank line, body up to the end of the section.
        while index < lines.len() && !lines[index].trim().starts_with("HTTP/1.1 ") {
            index += 1;
        }
        let status_line = lines.get(index).context("no status line")?.trim();
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .context("no status code")?
            .parse()?;
        index += 1;
        let mut media_type = None;
        while index < lines.len() && !lines[index].trim().is_empty() {
            if let Some((name, value)) = lines[index].trim().split_once(':')
                && name.eq_ignore_ascii_case("content-type")
            {
                media_type = Some(media(value.trim()));
            }
            index += 1;
        }
        let mut body_lines = Vec::new();
        while index < lines.len() && !lines[index].contains("Back to Top") {
            body_lines.push(lines[index]);
            index += 1;
        }
        let truncated = body_lines.iter().any(|l| l.contains("[etc...]"));
        let text: String = body_lines
            .iter()
            .filter(|l| !l.contains("[etc...]"))
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        let mut text = text.trim().to_owned();
        if truncated {
            // `…},\n[etc...]\n]`: drop the comma left before the closing bracket.
            let without_bracket = text.trim_end_matches(']').trim_end();
            text = format!("{}]", without_bracket.trim_end_matches(','));
        }
        let reply = if text.is_empty() {
            None
        } else {
            Some(serde_json::from_str(&text).with_context(|| format!("seed reply: {text}"))?)
        };
        examples.push(Example {
            method,
            path,
            body,
            status,
            media_type,
            reply,
            truncated,
        });
    }
    Ok(examples)
}

/// httpie's command line: `-a CREDENTIALS`, an optional method, the URL, `key=value` items
/// (JSON strings) and `key:=json` items. With items and no method, httpie POSTs.
fn parse_httpie(command: &str) -> Result<(String, String, Option<Value>)> {
    let mut tokens = command.split_whitespace();
    let mut method = None;
    let mut url = None;
    let mut items = serde_json::Map::new();
    while let Some(token) = tokens.next() {
        if token == "-a" || token == "--auth" {
            tokens.next();
        } else if token.starts_with("http://") || token.starts_with("https://") {
            url = Some(token.to_owned());
        } else if token.chars().all(|c| c.is_ascii_uppercase()) {
            method = Some(token.to_owned());
        } else if let Some((key, raw)) = token.split_once(":=") {
            items.insert(key.to_owned(), serde_json::from_str(raw)?);
        } else if let Some((key, value)) = token.split_once('=') {
            items.insert(key.to_owned(), Value::String(value.to_owned()));
        } else {
            bail!("unexpected httpie token {token:?} in {command:?}");
        }
    }
    let url = url.context("no URL")?;
    let path = url
        .strip_prefix(SEED_HOST)
        .with_context(|| format!("URL outside the API: {url}"))?
        .to_owned();
    let body = (!items.is_empty()).then_some(Value::Object(items));
    let method = method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.to_owned());
    Ok((method, path, body))
}

fn media(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A service on `dir` whose databases settle after `delay`.
async fn start(dir: &Path, delay: Duration) -> Result<RunningService> {
    Ok(local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.to_path_buf(),
        provision_delay: delay,
        databaselabs: Some(DatabaselabsDialect {
            api_key: KEY.into(),
            api_secret: SecretString::from(SECRET),
            credit_limit_dollars: None,
        }),
        ..Config::default()
    })
    .await?)
}

async fn send(
    running: &RunningService,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Option<String>, String)> {
    let request = reqwest::Client::new()
        .request(
            method.parse()?,
            format!("{}/databaselabs{path}", running.base_url()),
        )
        .basic_auth(KEY, Some(SECRET));
    let request = match body {
        Some(body) => request.json(body),
        None => request,
    };
    let response = request.send().await?;
    let status = response.status().as_u16();
    let media_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(media);
    Ok((status, media_type, response.text().await?))
}

/// Databases a reply shows (those with a `hostname`), in order.
fn shown_databases(reply: Option<&Value>) -> Vec<Value> {
    match reply {
        Some(Value::Array(items)) => items
            .iter()
            .filter(|item| item.get("hostname").is_some())
            .cloned()
            .collect(),
        Some(item) if item.get("hostsize").is_some() => vec![item.clone()],
        _ => Vec::new(),
    }
}

/// Creates the databases an example needs and returns seed hostname → generated hostname.
/// Settled (`ready`) ones come first, on a service whose databases settle at once; then a
/// restart with a long provision delay leaves the others `ordered`.
async fn prepare(dir: &Path, example: &Example) -> Result<HashMap<String, String>> {
    let mut wanted = shown_databases(example.reply.as_ref());
    if let Some(hostname) = example.path.strip_prefix("/api/databases/")
        && !wanted.iter().any(|db| db["hostname"] == hostname)
    {
        wanted.push(json!({"hostname": hostname, "hostsize": "512mb", "region": "nyc3", "status": "ordered"}));
    }
    let mut hosts = HashMap::new();
    if wanted.is_empty() {
        return Ok(hosts);
    }
    let ready_count = wanted
        .iter()
        .take_while(|db| db["status"] == "ready")
        .count();
    ensure!(
        wanted[ready_count..]
            .iter()
            .all(|db| db["status"] == "ordered"),
        "the seed's databases must be ready ones, then ordered ones: {wanted:?}"
    );
    let settled = start(dir, Duration::ZERO).await?;
    for db in &wanted[..ready_count] {
        let hostname = create(&settled, db).await?;
        for _ in 0..500 {
            let (_, _, text) =
                send(&settled, "GET", &format!("/api/databases/{hostname}"), None).await?;
            if serde_json::from_str::<Value>(&text)?["status"] == "ready" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        hosts.insert(db["hostname"].as_str().unwrap().to_owned(), hostname);
    }
    settled.shutdown().await;
    let slow = start(dir, Duration::from_secs(3600)).await?;
    for db in &wanted[ready_count..] {
        let hostname = create(&slow, db).await?;
        hosts.insert(db["hostname"].as_str().unwrap().to_owned(), hostname);
    }
    slow.shutdown().await;
    Ok(hosts)
}

async fn create(running: &RunningService, db: &Value) -> Result<String> {
    let body = json!({"size": db["hostsize"], "region": db["region"]});
    let (status, _, text) = send(running, "POST", "/api/databases", Some(&body)).await?;
    ensure!(status == 202, "create answered {status}: {text}");
    let reply: Value = serde_json::from_str(&text)?;
    Ok(reply["hostname"]
        .as_str()
        .context("no hostname")?
        .to_owned())
}

fn is_uuid(value: &Value) -> bool {
    value.as_str().is_some_and(|text| {
        text.len() == 36
            && text.chars().enumerate().all(|(i, c)| {
                if [8, 13, 18, 23].contains(&i) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    })
}

/// Compares one printed object with the served one, field by field.
fn check_object(
    printed: &Value,
    served: &Value,
    hosts: &HashMap<String, String>,
    at: &str,
) -> Result<()> {
    let printed = printed
        .as_object()
        .with_context(|| format!("{at}: not an object"))?;
    let served = served
        .as_object()
        .with_context(|| format!("{at}: served {served} is not an object"))?;
    let printed_keys: Vec<&String> = printed.keys().collect();
    let mut served_keys: Vec<&String> = served.keys().collect();
    let mut sorted_printed = printed_keys.clone();
    sorted_printed.sort();
    served_keys.sort();
    ensure!(
        sorted_printed == served_keys,
        "{at}: keys {printed_keys:?} vs {served_keys:?}"
    );
    let is_database = printed.contains_key("hostname");
    for (key, expected) in printed {
        let actual = &served[key];
        let field = format!("{at}.{key}");
        match key.as_str() {
            "hostname" if is_database => {
                let host = actual
                    .as_str()
                    .with_context(|| format!("{field}: not text"))?;
                ensure!(host.ends_with(".db.databaselabs.local"), "{field}: {host}");
                if let Some(mapped) = expected.as_str().and_then(|h| hosts.get(h)) {
                    ensure!(host == mapped, "{field}: {host} is not {mapped}");
                }
            }
            "id" if is_database => ensure!(is_uuid(actual), "{field}: {actual} is not a UUID"),
            "password" => ensure!(
                actual.as_str().is_some_and(|p| p.len() >= 12),
                "{field}: no generated password"
            ),
            "updated-at" => ensure!(
                actual
                    .as_str()
                    .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()
                        && t.len() == expected.as_str().map_or(0, str::len)),
                "{field}: {actual} is not a date like {expected}"
            ),
            _ => ensure!(
                expected == actual,
                "{field}: expected {expected}, served {actual}"
            ),
        }
    }
    Ok(())
}

async fn replay(example: &Example) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let hosts = prepare(dir.path(), example).await?;
    let running = start(dir.path(), Duration::from_secs(3600)).await?;
    let mut path = example.path.clone();
    for (seed_host, host) in &hosts {
        path = path.replace(seed_host.as_str(), host);
    }
    let (status, media_type, text) =
        send(&running, &example.method, &path, example.body.as_ref()).await?;
    let at = format!("{} {}", example.method, example.path);
    ensure!(
        status == example.status,
        "{at}: status {status}, seed {}: {text}",
        example.status
    );
    ensure!(
        media_type == example.media_type,
        "{at}: media type {media_type:?}, seed {:?}",
        example.media_type
    );
    match &example.reply {
        None => ensure!(
            text.is_empty(),
            "{at}: body {text:?} where the seed has none"
        ),
        Some(Value::Array(printed)) => {
            let served: Value = serde_json::from_str(&text)?;
            let served = served
                .as_array()
                .with_context(|| format!("{at}: not an array"))?;
            if example.truncated {
                ensure!(
                    served.len() >= printed.len(),
                    "{at}: {} entries",
                    served.len()
                );
            } else {
                ensure!(
                    served.len() == printed.len(),
                    "{at}: {} entries",
                    served.len()
                );
            }
            for (position, item) in printed.iter().enumerate() {
                // A database is matched through its hostname (the service orders databases
                // created within the same second by hostname); other entries by position.
                let counterpart = item["hostname"]
                    .as_str()
                    .and_then(|seed_host| hosts.get(seed_host))
                    .and_then(|host| served.iter().find(|s| s["hostname"] == host.as_str()))
                    .unwrap_or(&served[position]);
                check_object(item, counterpart, &hosts, &format!("{at}[{position}]"))?;
            }
        }
        Some(printed) => {
            let served: Value = serde_json::from_str(&text)?;
            check_object(printed, &served, &hosts, &at)?;
        }
    }
    running.shutdown().await;
    Ok(())
}

#[test]
fn seed_examples_parse_as_printed() -> Result<()> {
    let text = std::fs::read_to_string(seed_path())?;
    let examples = parse_examples(&text)?;
    let summary: Vec<(String, String, u16)> = examples
        .iter()
        .map(|e| (e.method.clone(), e.path.clone(), e.status))
        .collect();
    let host = "/api/databases/classic-rhinoceros-521.db.databaselabs.io";
    assert_eq!(
        summary,
        [
            ("POST".to_owned(), "/api/databases".to_owned(), 202),
            ("GET".to_owned(), "/api/databases".to_owned(), 200),
            ("GET".to_owned(), host.to_owned(), 200),
            ("DELETE".to_owned(), host.to_owned(), 204),
            ("GET".to_owned(), "/api/clouds".to_owned(), 200),
        ]
    );
    assert_eq!(examples[0].body, Some(json!({"size": "512mb"})));
    assert!(examples[4].truncated);
    assert_eq!(
        examples[4]
            .reply
            .as_ref()
            .and_then(Value::as_array)
            .map(Vec::len),
        Some(3)
    );
    Ok(())
}

#[tokio::test]
async fn seed_every_example_replays_as_printed() -> Result<()> {
    let text = std::fs::read_to_string(seed_path())?;
    let examples = parse_examples(&text)?;
    ensure!(!examples.is_empty(), "no examples found in the seed");
    let mut failures = Vec::new();
    for example in &examples {
        if let Err(error) = replay(example).await {
            failures.push(format!("{error:#}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}
