//! Seed 001 (globo.com DBaaS `doc/API.md`) replayed against dbaas-local's globo dialect:
//! every `curl` example is read out of the seed file at test time, sent as written (host
//! swapped for the test server, the seed's ids for the ids this run created), and its reply
//! checked field by field against the reply the seed prints.
//!
//! Aside, as the seed's own values cannot be reproduced: ids (numbers in `id`, and in
//! database/credential links), generated passwords, counts of the seed's sample data, the
//! non-realtime `used_size_in_bytes`, and hosts (in links and after the endpoint's `@`).
//! The seed's examples assume its sample data ("make reset_data"); the one sample database the
//! printed replies name, `my_first_database`, is created first.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dbaas::local::{self, Config, GloboDialect};
use secrecy::SecretString;
use serde_json::{Value, json};

const SEED: &str = "001_800428b67ee18313.txt";
const SEED_HOST: &str = "http://localhost:8000";

/// Keys whose values are aside (see the module doc).
const VALUES_ASIDE: &[&str] = &["id", "password", "count", "used_size_in_bytes"];

/// One request example of the seed and the reply it prints.
#[derive(Debug)]
struct Example {
    /// The `curl …` line as written.
    line: String,
    user: String,
    password: String,
    method: String,
    url: String,
    body: Option<String>,
    /// `(key, value)` pairs of the printed reply; `None` for an object or array opener.
    expected: Vec<(String, Option<Value>)>,
}

/// Splits a shell command line on blanks, honouring single and double quotes.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for character in line.chars() {
        match quote {
            Some(open) if character == open => quote = None,
            Some(_) => current.push(character),
            None if character == '\'' || character == '"' => {
                quote = Some(character);
                in_word = true;
            }
            None if character.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(character);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

fn parse_curl(line: &str) -> Result<Example> {
    let words = shell_words(line);
    let mut example = Example {
        line: line.to_owned(),
        user: String::new(),
        password: String::new(),
        method: String::new(),
        url: String::new(),
        body: None,
        expected: Vec::new(),
    };
    let mut explicit_method = None;
    let mut rest = words.iter().skip(1);
    while let Some(word) = rest.next() {
        match word.as_str() {
            "-u" => {
                let pair = rest.next().context("-u without value")?;
                let (user, password) = pair.split_once(':').context("-u user:password")?;
                example.user = user.to_owned();
                example.password = password.to_owned();
            }
            "-H" => {
                rest.next();
            }
            "-d" => example.body = Some(rest.next().context("-d without value")?.clone()),
            "-X" => explicit_method = Some(rest.next().context("-X without value")?.clone()),
            url if url.starts_with("http") => example.url = url.to_owned(),
            other => bail!("unexpected curl word {other:?} in {line}"),
        }
    }
    example.method = explicit_method.unwrap_or_else(|| {
        if example.body.is_some() {
            "POST".to_owned()
        } else {
            "GET".to_owned()
        }
    });
    Ok(example)
}

/// A printed reply line `"key": value,` as a key and (for scalars) a value.
fn parse_reply_line(line: &str) -> Option<(String, Option<Value>)> {
    let line = line.trim();
    let rest = line.strip_prefix('"')?;
    let (key, value) = rest.split_once("\":")?;
    let value = value.trim().trim_end_matches(',').trim();
    Some((key.to_owned(), serde_json::from_str(value).ok()))
}

fn examples(seed: &str) -> Result<Vec<Example>> {
    let mut examples: Vec<Example> = Vec::new();
    let mut in_reply = false;
    for line in seed.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("curl ") {
            examples.push(parse_curl(trimmed)?);
            in_reply = true;
            continue;
        }
        if trimmed.is_empty() || !in_reply {
            continue;
        }
        match parse_reply_line(trimmed) {
            Some(pair) => examples
                .last_mut()
                .expect("after a curl")
                .expected
                .push(pair),
            None => in_reply = false,
        }
    }
    Ok(examples)
}

/// Links with their ids and hosts aside: `…/api/database/12/` → `/api/database/N/`.
fn normalize_link(text: &str) -> String {
    let Some(start) = text.find("/api/") else {
        return text.to_owned();
    };
    let path = &text[start..];
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    if parts.len() > 3
        && matches!(parts[2].as_str(), "database" | "credential")
        && parts[3].parse::<u64>().is_ok()
    {
        parts[3] = "N".to_owned();
    }
    parts.join("/")
}

fn normalize(key: &str, value: &Value) -> Value {
    match value.as_str() {
        Some(text) if key == "endpoint" => {
            json!(text.split_once('@').map_or(text, |(head, _)| head))
        }
        Some(text) if text.starts_with("http") => json!(normalize_link(text)),
        _ => value.clone(),
    }
}

/// Whether some object in `reply` has `key` (with `expected`, normalised, unless aside).
fn contains(reply: &Value, key: &str, expected: Option<&Value>) -> bool {
    match reply {
        Value::Object(map) => {
            let here = map.get(key).is_some_and(|actual| match expected {
                None => true,
                Some(_) if VALUES_ASIDE.contains(&key) => true,
                Some(expected) => normalize(key, actual) == normalize(key, expected),
            });
            here || map.values().any(|value| contains(value, key, expected))
        }
        Value::Array(items) => items.iter().any(|item| contains(item, key, expected)),
        _ => false,
    }
}

#[tokio::test]
async fn seed_001_examples_replay_field_by_field() -> Result<()> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/seeds")
        .join(SEED);
    let seed = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    let examples = examples(&seed)?;
    assert_eq!(examples.len(), 9, "the seed has nine curl examples");
    let first = &examples[0];
    assert_eq!(
        (first.user.as_str(), first.password.as_str()),
        ("admin", "123456")
    );

    let dir = tempfile::tempdir()?;
    let running = local::start(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        provision_delay: Duration::from_millis(20),
        globo: Some(GloboDialect {
            username: first.user.clone(),
            password: SecretString::from(first.password.clone()),
        }),
        ..Config::default()
    })
    .await?;
    let base = format!("{}/globo", running.base_url());
    let client = reqwest::Client::new();

    // The seed's sample data.
    let sample = client
        .post(format!("{base}/api/database/"))
        .basic_auth(&first.user, Some(&first.password))
        .json(&json!({"name": "my_first_database", "plan": "/api/plan/1/",
                      "environment": "/api/environment/1/"}))
        .send()
        .await?;
    assert_eq!(sample.status(), 201);

    // The seed's database 1 and credential 1 are the first ones its examples create.
    let mut database_id: Option<u64> = None;
    let mut credential_id: Option<u64> = None;
    let mut checked_fields = 0;
    for example in &examples {
        let substitute = |text: &str| {
            let mut text = text.replace(SEED_HOST, &base);
            if let Some(id) = database_id {
                text = text
                    .replace("/api/database/1/", &format!("/api/database/{id}/"))
                    .replace("*some_id*", &id.to_string());
            }
            if let Some(id) = credential_id {
                text = text.replace("/api/credential/1/", &format!("/api/credential/{id}/"));
            }
            text
        };
        let mut request = client
            .request(example.method.parse()?, substitute(&example.url))
            .basic_auth(&example.user, Some(&example.password));
        if let Some(body) = &example.body {
            request = request
                .header("content-type", "application/json")
                .body(substitute(body));
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let reply: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        };
        match example.method.as_str() {
            "DELETE" => assert_eq!(status, 204, "{}: {reply}", example.line),
            "POST" if !example.url.contains("reset_password") => {
                assert_eq!(status, 201, "{}: {reply}", example.line)
            }
            _ => assert_eq!(status, 200, "{}: {reply}", example.line),
        }
        for (key, expected) in &example.expected {
            assert!(
                contains(&reply, key, expected.as_ref()),
                "{}\nprinted {key:?}: {expected:?}\nnot found in reply {reply:#}",
                example.line
            );
            checked_fields += 1;
        }
        if database_id.is_none()
            && example.url.ends_with("/api/database/")
            && example.method == "POST"
        {
            database_id = reply["id"].as_u64();
            let credential = reply["credentials"][0]
                .as_str()
                .context("a credential link")?;
            credential_id = credential
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .and_then(|id| id.parse().ok());
        }
    }
    assert!(checked_fields >= 40, "only {checked_fields} fields checked");
    running.shutdown().await;
    Ok(())
}

#[test]
fn shell_words_honours_quotes() {
    assert_eq!(
        shell_words(r#"curl -u a:b -H 'x: y' http://h/ -d '{ "a": 1 }'"#),
        [
            "curl",
            "-u",
            "a:b",
            "-H",
            "x: y",
            "http://h/",
            "-d",
            r#"{ "a": 1 }"#
        ]
    );
    assert_eq!(
        parse_reply_line(r#"    "name": "test_database2", "#),
        Some(("name".to_owned(), Some(json!("test_database2"))))
    );
    assert_eq!(
        parse_reply_line(r#""_links": {"#),
        Some(("_links".to_owned(), None))
    );
    assert_eq!(
        normalize_link("http://x:1/globo/api/database/77/"),
        "/api/database/N/"
    );
    assert_eq!(
        normalize_link("http://localhost:8000/api/plan/1/"),
        "/api/plan/1/"
    );
}
