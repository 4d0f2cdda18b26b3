//! OVH's request signature, checked on every call except `GET /auth/time`.
//!
//! A client sends `X-Ovh-Application` (application key), `X-Ovh-Consumer` (consumer key),
//! `X-Ovh-Timestamp` (Unix seconds, corrected by its delta to `GET /auth/time`) and
//! `X-Ovh-Signature`: `$1$` and the lowercase hex SHA-1 of
//! `AS+CK+METHOD+FULL_URL+BODY+TIMESTAMP`. The service rebuilds FULL_URL as the client saw it:
//! `http://`, the `Host` header and the raw request URI (percent-encoding kept, so `%2F` in an
//! `{ipBlock}` signs as sent).
//!
//! Checks run in this order, each with OVH's auth error shape: the application key (403
//! `INVALID_KEY`), the consumer key (403 `NOT_CREDENTIAL` when absent, `INVALID_CREDENTIAL`
//! when wrong), the timestamp (400 `QUERY_TIME_OUT` when absent or more than
//! [`MAX_CLOCK_SKEW_SECS`] away from the server's clock, either way), then the signature (400
//! `INVALID_SIGNATURE`). Keys and signatures are compared in constant time. OVH does not
//! publish its skew window or the stale-timestamp error; both are this service's choice.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use axum::http::HeaderMap;
use secrecy::ExposeSecret;

use super::OvhDialect;
use super::errors::AuthError;
use crate::local::secrets::constant_time_eq;

/// How far `X-Ovh-Timestamp` may be from the server's clock, in seconds, before or after.
pub(crate) const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// Header carrying the application key.
pub(crate) const APPLICATION: &str = "x-ovh-application";
/// Header carrying the consumer key.
pub(crate) const CONSUMER: &str = "x-ovh-consumer";
/// Header carrying the client's idea of the server time.
pub(crate) const TIMESTAMP: &str = "x-ovh-timestamp";
/// Header carrying the signature.
pub(crate) const SIGNATURE: &str = "x-ovh-signature";

/// `$1$` + lowercase hex SHA-1 of `secret+consumer_key+METHOD+url+body+timestamp`.
pub(crate) fn signature(
    application_secret: &str,
    consumer_key: &str,
    method: &str,
    full_url: &str,
    body: &[u8],
    timestamp: &str,
) -> String {
    let mut text = Vec::with_capacity(
        application_secret.len() + consumer_key.len() + full_url.len() + body.len() + 40,
    );
    for (index, part) in [
        application_secret.as_bytes(),
        consumer_key.as_bytes(),
        method.to_ascii_uppercase().as_bytes(),
        full_url.as_bytes(),
        body,
        timestamp.as_bytes(),
    ]
    .into_iter()
    .enumerate()
    {
        if index > 0 {
            text.push(b'+');
        }
        text.extend_from_slice(part);
    }
    let hash = digest(&SHA1_FOR_LEGACY_USE_ONLY, &text);
    let mut signed = String::from("$1$");
    for byte in hash.as_ref() {
        signed.push_str(&format!("{byte:02x}"));
    }
    signed
}

/// Checks the four `X-Ovh-*` headers of a request against `dialect`'s keys.
pub(crate) fn verify(
    dialect: &OvhDialect,
    headers: &HeaderMap,
    method: &str,
    full_url: &str,
    body: &[u8],
    now_secs: i64,
) -> Result<(), AuthError> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let application = header(APPLICATION).ok_or(AuthError::InvalidKey)?;
    if !constant_time_eq(application.as_bytes(), dialect.application_key.as_bytes()) {
        return Err(AuthError::InvalidKey);
    }
    let consumer = header(CONSUMER).ok_or(AuthError::NotCredential)?;
    let expected_consumer = dialect.consumer_key.expose_secret();
    if !constant_time_eq(consumer.as_bytes(), expected_consumer.as_bytes()) {
        return Err(AuthError::InvalidCredential);
    }
    let timestamp = header(TIMESTAMP).ok_or(AuthError::QueryTimeOut)?;
    let sent_secs: i64 = timestamp.parse().map_err(|_| AuthError::QueryTimeOut)?;
    // A difference, not a subtraction: a timestamp near i64::MIN must not overflow.
    if sent_secs.abs_diff(now_secs) > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
        return Err(AuthError::QueryTimeOut);
    }
    let presented = header(SIGNATURE).ok_or(AuthError::InvalidSignature)?;
    let expected = signature(
        dialect.application_secret.expose_secret(),
        expected_consumer,
        method,
        full_url,
        body,
        timestamp,
    );
    if constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::InvalidSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use secrecy::SecretString;

    /// OVH's published example (first steps with the API guide).
    #[test]
    fn signature_reproduces_the_published_test_vector() {
        assert_eq!(
            signature(
                "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
                "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1",
                "GET",
                "https://eu.api.ovh.com/1.0/domain/",
                b"",
                "1366560945",
            ),
            "$1$6a77f43f2871db97a029f1d1d81c4dcd3c6f7265"
        );
    }

    fn dialect() -> OvhDialect {
        OvhDialect {
            application_key: "ak".into(),
            application_secret: SecretString::from("as"),
            consumer_key: SecretString::from("ck"),
            service_name: "project".into(),
        }
    }

    fn signed(ak: &str, secret: &str, ck: &str, ts: i64, url: &str, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let stamp = ts.to_string();
        let sig = signature(secret, ck, "POST", url, body, &stamp);
        for (name, value) in [
            (APPLICATION, ak.to_owned()),
            (CONSUMER, ck.to_owned()),
            (TIMESTAMP, stamp),
            (SIGNATURE, sig),
        ] {
            headers.insert(name, HeaderValue::from_str(&value).unwrap());
        }
        headers
    }

    #[test]
    fn verify_accepts_good_and_names_each_failure() {
        let url = "http://127.0.0.1:1/ovh/1.0/cloud/project/project/database/mongodb";
        let body = br#"{"plan":"essential"}"#;
        let now = 1_700_000_000;
        let check = |headers: &HeaderMap, sent_body: &[u8]| {
            verify(&dialect(), headers, "POST", url, sent_body, now)
        };
        assert_eq!(
            check(&signed("ak", "as", "ck", now, url, body), body),
            Ok(())
        );
        assert_eq!(
            check(&signed("ak", "as", "ck", now - 300, url, body), body),
            Ok(())
        );
        assert_eq!(
            check(&signed("ak", "as", "ck", now + 300, url, body), body),
            Ok(())
        );
        assert_eq!(
            check(&signed("ak", "wrong", "ck", now, url, body), body),
            Err(AuthError::InvalidSignature)
        );
        assert_eq!(
            check(&signed("ak", "as", "ck", now, url, body), b"{}"),
            Err(AuthError::InvalidSignature),
            "the body is signed"
        );
        assert_eq!(
            check(&signed("other", "as", "ck", now, url, body), body),
            Err(AuthError::InvalidKey)
        );
        assert_eq!(
            check(&signed("ak", "as", "other", now, url, body), body),
            Err(AuthError::InvalidCredential)
        );
        assert_eq!(
            check(&signed("ak", "as", "ck", now - 301, url, body), body),
            Err(AuthError::QueryTimeOut)
        );
        assert_eq!(
            check(&signed("ak", "as", "ck", now + 301, url, body), body),
            Err(AuthError::QueryTimeOut)
        );
        let mut missing = signed("ak", "as", "ck", now, url, body);
        missing.remove(CONSUMER);
        assert_eq!(check(&missing, body), Err(AuthError::NotCredential));
        let mut missing = signed("ak", "as", "ck", now, url, body);
        missing.remove(SIGNATURE);
        assert_eq!(check(&missing, body), Err(AuthError::InvalidSignature));
        assert_eq!(check(&HeaderMap::new(), body), Err(AuthError::InvalidKey));
    }

    /// A timestamp at either end of i64 (the `ovh_signature` fuzz target sends such) made the
    /// skew subtraction overflow: a panic in debug builds.
    #[test]
    fn verify_refuses_extreme_timestamps_without_overflow() {
        let url = "http://127.0.0.1:1/ovh/1.0/me";
        for stamp in [i64::MIN, i64::MAX] {
            let headers = signed("ak", "as", "ck", stamp, url, b"");
            assert_eq!(
                verify(&dialect(), &headers, "POST", url, b"", 1_700_000_000),
                Err(AuthError::QueryTimeOut),
                "{stamp}"
            );
        }
    }
}
