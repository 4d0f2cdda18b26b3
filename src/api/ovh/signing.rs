//! OVH's request signature and endpoint names.
//!
//! Every authenticated call carries `X-Ovh-Application` (application key), `X-Ovh-Consumer`
//! (consumer key), `X-Ovh-Timestamp` (Unix seconds, corrected by the server's clock) and
//! `X-Ovh-Signature`: `"$1$"` + lowercase hex SHA-1 of
//! `AS+CK+METHOD+FULL_URL+BODY+TIMESTAMP`, with the full URL exactly as sent (query included)
//! and the exact body bytes (empty without a body). The timestamp uses the server's clock
//! because OVH rejects a signature whose time is too far from its own: the offset comes from
//! the unauthenticated `GET /auth/time`, fetched once and cached (as go-ovh and python-ovh do).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use http::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::OnceCell;

use crate::api::Error;
use crate::api::http::{AuthContext, Authenticator};

/// The endpoint names OVH's own wrappers accept, and their API roots. Only the OVHcloud
/// regions are listed: the Kimsufi and So you Start APIs have no cloud databases.
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("ovh-eu", "https://eu.api.ovh.com/1.0"),
    ("ovh-ca", "https://ca.api.ovh.com/1.0"),
    ("ovh-us", "https://api.us.ovhcloud.com/1.0"),
];

/// The API root for an endpoint name (`ovh-eu`, `ovh-ca`, `ovh-us`) or a URL.
///
/// As in go-ovh, anything containing a `/` is taken as a URL (so a local emulator such as
/// `http://127.0.0.1:8780/ovh/1.0` works); a trailing `/` is dropped, because the signature
/// covers the URL exactly and the paths are appended to the root.
pub fn endpoint_url(alias_or_url: &str) -> Result<String, Error> {
    let given = alias_or_url.trim();
    if given.contains('/') {
        return Ok(given.trim_end_matches('/').to_owned());
    }
    ENDPOINTS
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(given))
        .map(|(_, url)| (*url).to_owned())
        .ok_or_else(|| Error::Invalid {
            field: Some("endpoint".to_owned()),
            message: format!(
                "`{given}` is not an OVH endpoint: use one of {} or an API root URL such as \
                 https://eu.api.ovh.com/1.0",
                ENDPOINTS
                    .iter()
                    .map(|(alias, _)| *alias)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// The `X-Ovh-Signature` value of one request.
pub fn signature(
    application_secret: &str,
    consumer_key: &str,
    method: &str,
    full_url: &str,
    body: &[u8],
    timestamp: i64,
) -> String {
    let mut context = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    for part in [
        application_secret.as_bytes(),
        consumer_key.as_bytes(),
        method.as_bytes(),
        full_url.as_bytes(),
        body,
    ] {
        context.update(part);
        context.update(b"+");
    }
    context.update(timestamp.to_string().as_bytes());
    let hash = context.finish();
    let mut text = String::with_capacity(3 + 2 * hash.as_ref().len());
    text.push_str("$1$");
    for byte in hash.as_ref() {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// Seconds since the Unix epoch on this machine.
pub(crate) fn local_unix_time() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(elapsed) => i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

const APPLICATION: HeaderName = HeaderName::from_static("x-ovh-application");
const CONSUMER: HeaderName = HeaderName::from_static("x-ovh-consumer");
const TIMESTAMP: HeaderName = HeaderName::from_static("x-ovh-timestamp");
const SIGNATURE: HeaderName = HeaderName::from_static("x-ovh-signature");

/// A header value marked sensitive, so no log shows it (the application key is not a secret
/// by OVH's rules, but it names the account: logs have no use for it).
fn sensitive_value(field: &str, text: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(text).map_err(|_| Error::Invalid {
        field: Some(field.to_owned()),
        message: format!("the {field} contains characters that are not allowed in an HTTP header"),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Sends only `X-Ovh-Application`, for the unauthenticated calls (`GET /auth/time`), as
/// go-ovh does whenever it has an application key.
#[derive(Debug)]
pub(crate) struct ApplicationKeyOnly {
    /// Identifies the application even on unauthenticated calls.
    pub(crate) application_key: String,
}

impl Authenticator for ApplicationKeyOnly {
    fn authorize(&self, request: &mut AuthContext<'_>) -> Result<(), Error> {
        let value = sensitive_value("application_key", &self.application_key)?;
        request.headers.insert(APPLICATION, value);
        Ok(())
    }
}

/// Signs every attempt of a request (so a retry carries a fresh timestamp).
#[derive(Debug)]
pub(crate) struct OvhSigner {
    /// `X-Ovh-Application`.
    pub(crate) application_key: String,
    /// Signs, never sent.
    pub(crate) application_secret: SecretString,
    /// `X-Ovh-Consumer`: the user's grant for this application.
    pub(crate) consumer_key: SecretString,
    /// Server time minus local time, in seconds; set by the client from `GET /auth/time`
    /// before the first signed call.
    pub(crate) clock_offset: Arc<OnceCell<i64>>,
}

impl Authenticator for OvhSigner {
    fn authorize(&self, request: &mut AuthContext<'_>) -> Result<(), Error> {
        let offset = self
            .clock_offset
            .get()
            .copied()
            .ok_or_else(|| Error::Protocol {
                message: "the OVH server time is not known yet (GET /auth/time must come first)"
                    .to_owned(),
            })?;
        let timestamp = local_unix_time().saturating_add(offset);
        let signed = signature(
            self.application_secret.expose_secret(),
            self.consumer_key.expose_secret(),
            request.method.as_str(),
            request.url.as_str(),
            request.body,
            timestamp,
        );
        let headers = &mut *request.headers;
        headers.insert(
            APPLICATION,
            sensitive_value("application_key", &self.application_key)?,
        );
        headers.insert(
            CONSUMER,
            sensitive_value("consumer_key", self.consumer_key.expose_secret())?,
        );
        headers.insert(TIMESTAMP, HeaderValue::from(timestamp));
        headers.insert(SIGNATURE, sensitive_value("signature", &signed)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, Method};
    use reqwest::Url;

    use super::*;
    use crate::api::http::{REDACTED, redact_headers};

    #[test]
    fn signature_reproduces_the_published_test_vector() {
        // OVH's "First steps with the API" guide.
        assert_eq!(
            signature(
                "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
                "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1",
                "GET",
                "https://eu.api.ovh.com/1.0/domain/",
                b"",
                1_366_560_945,
            ),
            "$1$6a77f43f2871db97a029f1d1d81c4dcd3c6f7265"
        );
    }

    #[test]
    fn signature_covers_every_part() {
        let base = || signature("as", "ck", "POST", "https://h/1.0/x?a=1", b"{}", 10);
        let reference = base();
        let variants = [
            signature("as2", "ck", "POST", "https://h/1.0/x?a=1", b"{}", 10),
            signature("as", "ck2", "POST", "https://h/1.0/x?a=1", b"{}", 10),
            signature("as", "ck", "PUT", "https://h/1.0/x?a=1", b"{}", 10),
            signature("as", "ck", "POST", "https://h/1.0/x?a=2", b"{}", 10),
            signature("as", "ck", "POST", "https://h/1.0/x?a=1", b"{ }", 10),
            signature("as", "ck", "POST", "https://h/1.0/x?a=1", b"{}", 11),
        ];
        assert_eq!(base(), reference);
        for variant in variants {
            assert_ne!(variant, reference);
            assert!(
                variant.starts_with("$1$") && variant.len() == 43,
                "{variant}"
            );
        }
    }

    #[test]
    fn endpoint_url_maps_aliases_and_keeps_urls() {
        assert_eq!(
            endpoint_url("ovh-eu").unwrap(),
            "https://eu.api.ovh.com/1.0"
        );
        assert_eq!(
            endpoint_url("ovh-ca").unwrap(),
            "https://ca.api.ovh.com/1.0"
        );
        assert_eq!(
            endpoint_url("ovh-us").unwrap(),
            "https://api.us.ovhcloud.com/1.0"
        );
        assert_eq!(
            endpoint_url(" OVH-EU ").unwrap(),
            "https://eu.api.ovh.com/1.0"
        );
        assert_eq!(
            endpoint_url("http://127.0.0.1:8780/ovh/1.0/").unwrap(),
            "http://127.0.0.1:8780/ovh/1.0"
        );
        assert_eq!(
            endpoint_url("https://eu.api.ovh.com/1.0").unwrap(),
            "https://eu.api.ovh.com/1.0"
        );
        for bad in ["ovh-asia", "kimsufi-eu", ""] {
            let error = endpoint_url(bad).unwrap_err();
            assert!(
                matches!(&error, Error::Invalid { field: Some(f), .. } if f == "endpoint"),
                "{error:?}"
            );
            assert!(
                error.to_string().contains("ovh-eu, ovh-ca, ovh-us"),
                "{error}"
            );
        }
    }

    fn signer(offset: Option<i64>) -> OvhSigner {
        let clock_offset = Arc::new(OnceCell::new());
        if let Some(offset) = offset {
            clock_offset.set(offset).unwrap();
        }
        OvhSigner {
            application_key: "app-key-7".into(),
            application_secret: SecretString::from("app-secret-8"),
            consumer_key: SecretString::from("consumer-key-9"),
            clock_offset,
        }
    }

    #[test]
    fn signer_adds_headers_with_server_corrected_timestamp() {
        let signer = signer(Some(-1_000_000));
        let url = Url::parse("http://127.0.0.1:1/ovh/1.0/cloud/project/p/database/mongodb/a/ipRestriction/10.0.0.0%2F24").unwrap();
        let body = br#"{"description":"office"}"#;
        let mut headers = HeaderMap::new();
        let before = local_unix_time() - 1_000_000;
        signer
            .authorize(&mut AuthContext {
                method: &Method::PUT,
                url: &url,
                body,
                headers: &mut headers,
            })
            .unwrap();
        let after = local_unix_time() - 1_000_000;
        let text = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
        let timestamp: i64 = text("x-ovh-timestamp").parse().unwrap();
        assert!((before..=after).contains(&timestamp), "{timestamp}");
        assert_eq!(text("x-ovh-application"), "app-key-7");
        assert_eq!(text("x-ovh-consumer"), "consumer-key-9");
        assert_eq!(
            text("x-ovh-signature"),
            signature(
                "app-secret-8",
                "consumer-key-9",
                "PUT",
                url.as_str(),
                body,
                timestamp
            )
        );
        // The percent-encoded CIDR is signed as sent.
        assert!(url.as_str().ends_with("10.0.0.0%2F24"));
    }

    #[test]
    fn signer_headers_are_redacted_in_logs() {
        let signer = signer(Some(0));
        let url = Url::parse("https://eu.api.ovh.com/1.0/auth/details").unwrap();
        let mut headers = HeaderMap::new();
        signer
            .authorize(&mut AuthContext {
                method: &Method::GET,
                url: &url,
                body: b"",
                headers: &mut headers,
            })
            .unwrap();
        let shown: std::collections::BTreeMap<_, _> =
            redact_headers(&headers).into_iter().collect();
        for name in ["x-ovh-application", "x-ovh-consumer", "x-ovh-signature"] {
            assert_eq!(shown[name], REDACTED, "{name}");
        }
        assert_ne!(shown["x-ovh-timestamp"], REDACTED);
        let debug = format!("{signer:?}");
        assert!(!debug.contains("app-secret-8") && !debug.contains("consumer-key-9"));
    }

    #[test]
    fn signer_refuses_to_sign_without_server_time() {
        let url = Url::parse("https://eu.api.ovh.com/1.0/me").unwrap();
        let mut headers = HeaderMap::new();
        let error = signer(None)
            .authorize(&mut AuthContext {
                method: &Method::GET,
                url: &url,
                body: b"",
                headers: &mut headers,
            })
            .unwrap_err();
        assert!(matches!(error, Error::Protocol { .. }), "{error:?}");
        assert!(headers.is_empty());
    }

    #[test]
    fn application_key_only_sends_no_signature() {
        let url = Url::parse("https://eu.api.ovh.com/1.0/auth/time").unwrap();
        let mut headers = HeaderMap::new();
        ApplicationKeyOnly {
            application_key: "app-key-7".into(),
        }
        .authorize(&mut AuthContext {
            method: &Method::GET,
            url: &url,
            body: b"",
            headers: &mut headers,
        })
        .unwrap();
        assert_eq!(headers.len(), 1);
        assert_eq!(headers["x-ovh-application"], "app-key-7");
    }
}
