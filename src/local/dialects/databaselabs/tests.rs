//! The dialect over the in-memory app: auth, create rules, reads, delete,
//! plans, ping, statuses and the credit limit.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use base64::Engine as _;
use tower::ServiceExt as _;

use super::*;
use crate::local::databases::Databases;
use crate::local::lifecycle::{Clock, Wake};
use crate::local::store::Store;

const KEY: &str = "dl-key";
const SECRET: &str = "dl-secret";

fn dialect(limit: Option<u32>) -> Shared {
    Arc::new(DatabaselabsDialect {
        api_key: KEY.to_owned(),
        api_secret: SecretString::from(SECRET),
        credit_limit_dollars: limit,
    })
}

async fn app(dir: &std::path::Path, dialect: Option<Shared>, delay: Duration) -> Router {
    let store = Store::open(dir).await.unwrap();
    let mut state = AppState::new(
        Databases::new(store, Clock::tokio(), Wake::default(), delay),
        SecretString::from("native-token"),
    );
    state.dialects.databaselabs = dialect;
    crate::local::app(state)
}

fn basic(key: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
    )
}

struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

async fn call_as(app: &Router, auth: Option<&str>, method: &str, path: &str, body: &str) -> Answer {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(auth) = auth {
        builder = builder.header("authorization", auth);
    }
    let response = app
        .clone()
        .oneshot(builder.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    Answer {
        status,
        content_type,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn call(app: &Router, method: &str, path: &str, body: &str) -> Answer {
    call_as(app, Some(&basic(KEY, SECRET)), method, path, body).await
}

#[tokio::test]
async fn authenticate_requires_key_and_secret() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), Some(dialect(None)), Duration::ZERO).await;
    for auth in [
        None,
        Some(basic(KEY, "wrong")),
        Some(basic("DL-KEY", SECRET)),
        Some(format!("Bearer {SECRET}")),
        Some("Basic !!!".to_owned()),
    ] {
        let answer = call_as(&app, auth.as_deref(), "GET", "/databaselabs/api/ping", "").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(
            answer.json()["error"]
                .as_str()
                .unwrap()
                .contains("Case matters")
        );
    }
    let pong = call(&app, "GET", "/databaselabs/api/ping", "").await;
    assert_eq!(pong.status, StatusCode::OK);
    assert_eq!(pong.text, "Pong");
    assert_eq!(pong.content_type, "text/plain;charset=UTF-8");
}

#[tokio::test]
async fn authenticate_without_configuration_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), None, Duration::ZERO).await;
    let answer = call(&app, "GET", "/databaselabs/api/plans", "").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(
        answer.json()["error"]
            .as_str()
            .unwrap()
            .contains("--databaselabs-api-key")
    );
}

#[tokio::test]
async fn create_validates_body_size_and_region() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), Some(dialect(None)), Duration::ZERO).await;
    for (body, needle) in [
        ("not json", "not a map"),
        ("[1]", "not a map"),
        ("{}", "\"size\""),
        (r#"{"size": null}"#, "\"size\""),
        (r#"{"size": "3gb"}"#, "512mb, 1gb"),
        (r#"{"size": 512}"#, "string"),
        (r#"{"size": "512mb", "region": "mars1"}"#, "nyc3"),
    ] {
        let answer = call(&app, "POST", "/databaselabs/api/databases", body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        let message = answer.json()["error"].as_str().unwrap().to_owned();
        assert!(message.contains(needle), "{body}: {message}");
    }
    let list = call(&app, "GET", "/databaselabs/api/databases", "").await;
    assert_eq!(list.json(), json!([]));
}

#[tokio::test]
async fn create_read_list_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), Some(dialect(None)), Duration::from_secs(3600)).await;
    let created = call(
        &app,
        "POST",
        "/databaselabs/api/databases",
        r#"{"size": "1gb", "region": "nyc2", "ignored": true}"#,
    )
    .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    let body = created.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["hostname", "id", "password", "status"]);
    assert_eq!(body["status"], "building");
    let hostname = body["hostname"].as_str().unwrap().to_owned();
    assert!(hostname.ends_with(".db.databaselabs.local"), "{hostname}");
    assert!(body["password"].as_str().unwrap().len() >= 12);

    let read = call(
        &app,
        "GET",
        &format!("/databaselabs/api/databases/{hostname}"),
        "",
    )
    .await;
    assert_eq!(read.status, StatusCode::OK);
    let read = read.json();
    assert_eq!(read["hostname"], hostname.as_str());
    assert_eq!(read["id"], body["id"]);
    assert_eq!(read["hostsize"], "1gb");
    assert_eq!(read["region"], "nyc2");
    assert_eq!(read["status"], "ordered");
    assert_eq!(read["cloud"], "digitalocean");
    assert_eq!(read["updated-at"].as_str().unwrap().len(), 24);

    let list = call(&app, "GET", "/databaselabs/api/databases", "")
        .await
        .json();
    assert_eq!(list, json!([read]));

    let deleted = call(
        &app,
        "DELETE",
        &format!("/databaselabs/api/databases/{hostname}"),
        "",
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(deleted.text, "");
    assert_eq!(deleted.content_type, "text/plain");
    let again = call(
        &app,
        "GET",
        &format!("/databaselabs/api/databases/{hostname}"),
        "",
    )
    .await;
    assert_eq!(again.json()["status"], "destroying");
    let missing = call(
        &app,
        "GET",
        "/databaselabs/api/databases/nope.db.databaselabs.local",
        "",
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let foreign = call(
        &app,
        "DELETE",
        "/databaselabs/api/databases/example.com",
        "",
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn create_defaults_region_to_nyc3() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), Some(dialect(None)), Duration::ZERO).await;
    let created = call(
        &app,
        "POST",
        "/databaselabs/api/databases",
        r#"{"size": "512mb"}"#,
    )
    .await;
    let hostname = created.json()["hostname"].as_str().unwrap().to_owned();
    let read = call(
        &app,
        "GET",
        &format!("/databaselabs/api/databases/{hostname}"),
        "",
    )
    .await;
    assert_eq!(read.json()["region"], "nyc3");
    assert_eq!(read.json()["hostsize"], "512mb");
}

#[tokio::test]
async fn create_beyond_credit_limit_is_payment_required() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), Some(dialect(Some(60))), Duration::ZERO).await;
    let first = call(
        &app,
        "POST",
        "/databaselabs/api/databases",
        r#"{"size": "1gb"}"#,
    )
    .await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let refused = call(
        &app,
        "POST",
        "/databaselabs/api/databases",
        r#"{"size": "1gb"}"#,
    )
    .await;
    assert_eq!(refused.status, StatusCode::PAYMENT_REQUIRED);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("credit card")
    );
    let fits = call(
        &app,
        "POST",
        "/databaselabs/api/databases",
        r#"{"size": "512mb"}"#,
    )
    .await;
    assert_eq!(fits.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn plans_are_served_under_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), Some(dialect(None)), Duration::ZERO).await;
    let plans = call(&app, "GET", "/databaselabs/api/plans", "")
        .await
        .json();
    let clouds = call(&app, "GET", "/databaselabs/api/clouds", "")
        .await
        .json();
    assert_eq!(plans, clouds);
    assert_eq!(plans, catalog::plans());
}

#[test]
fn status_of_splits_creating_into_ordered_and_building() {
    let start = Utc::now();
    let database = Database {
        id: "db-000000000001".into(),
        uuid: "00000000-0000-4000-8000-000000000001".into(),
        name: "vivid-answer-395".into(),
        engine: ENGINE.into(),
        version: "17".into(),
        plan: "essential".into(),
        region: "us-east-1".into(),
        flavor: "db1-4".into(),
        node_count: 1,
        description: None,
        locked: false,
        status: Status::Creating,
        status_message: None,
        created_at: start,
        updated_at: start,
        transition_at: Some(start + chrono::Duration::seconds(10)),
        gone_at: None,
        fails_with: None,
        served_at: None,
    };
    assert_eq!(status_of(&database, start), "ordered");
    assert_eq!(
        status_of(&database, start + chrono::Duration::seconds(4)),
        "ordered"
    );
    assert_eq!(
        status_of(&database, start + chrono::Duration::seconds(5)),
        "building"
    );
    for (status, expected) in [
        (Status::Ready, "ready"),
        (Status::Updating, "ready"),
        (Status::Deleting, "destroying"),
        (Status::Error, "failed"),
    ] {
        let database = Database {
            status,
            ..database.clone()
        };
        assert_eq!(status_of(&database, start), expected);
    }
}

#[test]
fn error_response_keeps_retry_after_and_hides_internals() {
    let response = Front.error_response(LocalError::Unavailable {
        message: "down".into(),
        retry_after_secs: Some(7),
    });
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    let hidden = Front.error_response(LocalError::Corrupt("/secret/path".into()));
    assert_eq!(hidden.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
