//! Credential passwords: generation, salted hashing and verification.
//!
//! Generated passwords come from a CSPRNG (`rand::rng()`, a ChaCha generator seeded by the
//! operating system) and are kept so they can be revealed. A password the client chooses is
//! kept only as a salted PBKDF2-HMAC-SHA256 hash (aws-lc, already linked for TLS), encoded as
//! `pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>`; the iteration count travels with
//! each hash so it can be raised later without breaking stored ones.
//!
//! Nothing here logs, and no error message carries a password or a hash.

use std::num::NonZeroU32;

use aws_lc_rs::pbkdf2;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rand::Rng;
use rand::distr::Alphanumeric;
use secrecy::{ExposeSecret, SecretString};

use super::error::LocalError;
use super::model::PasswordHash;
use super::secrets::constant_time_eq;

/// Length of a generated password.
pub(crate) const GENERATED_LENGTH: usize = 24;

/// Shortest password a client may choose, in characters.
pub(crate) const MIN_CHOSEN_CHARS: usize = 12;

/// Longest password a client may choose, in characters.
pub(crate) const MAX_CHOSEN_CHARS: usize = 128;

/// PBKDF2 iterations for new hashes.
///
/// Far below what a production service would use (OWASP suggests 600 000 for SHA-256):
/// dbaas-local is a development and test service whose users are throwaway, and tests create
/// hundreds of credentials with chosen passwords, each hashed once and verified a few times.
/// The hash is there so the chosen password is never stored in a recoverable form; a random
/// 16-byte salt per password still rules out precomputed tables.
const ITERATIONS: u32 = 10_000;

/// Bytes of random salt per hash.
const SALT_BYTES: usize = 16;

/// Bytes of derived key kept per hash.
const HASH_BYTES: usize = 32;

/// Prefix naming the scheme of an encoded hash.
const SCHEME: &str = "pbkdf2-sha256";

/// A fresh password of [`GENERATED_LENGTH`] letters and digits, with at least one lowercase
/// letter, one uppercase letter and one digit (so it passes common password policies).
pub(crate) fn generate() -> SecretString {
    let mut rng = rand::rng();
    loop {
        let candidate: String = (0..GENERATED_LENGTH)
            .map(|_| char::from(rng.sample(Alphanumeric)))
            .collect();
        let has = |class: fn(&char) -> bool| candidate.chars().any(|c| class(&c));
        if has(char::is_ascii_lowercase)
            && has(char::is_ascii_uppercase)
            && has(char::is_ascii_digit)
        {
            return SecretString::from(candidate);
        }
    }
}

/// Checks the length of a client-chosen password; the message never quotes it.
pub(crate) fn validate_chosen(password: &SecretString) -> Result<(), LocalError> {
    let chars = password.expose_secret().chars().count();
    if (MIN_CHOSEN_CHARS..=MAX_CHOSEN_CHARS).contains(&chars) {
        Ok(())
    } else {
        Err(LocalError::invalid(
            "password",
            format!(
                "password must be {MIN_CHOSEN_CHARS} to {MAX_CHOSEN_CHARS} characters long \
                 (the one given has {chars})"
            ),
        ))
    }
}

/// Hashes a password with a fresh random salt (CPU-bound: call it off the async threads, see
/// [`hash_blocking`]).
pub(crate) fn hash(password: &SecretString) -> PasswordHash {
    let mut salt = [0u8; SALT_BYTES];
    rand::rng().fill(&mut salt[..]);
    hash_with_salt(password, &salt)
}

/// A hash of `password` salted with `context` (an idempotency key and its scope) instead of
/// random bytes: the same password in the same context always gives the same text, so a
/// replayed request can be compared with the first without keeping the password itself.
pub(crate) fn fingerprint(password: &SecretString, context: &str) -> PasswordHash {
    hash_with_salt(password, context.as_bytes())
}

fn hash_with_salt(password: &SecretString, salt: &[u8]) -> PasswordHash {
    let mut derived = [0u8; HASH_BYTES];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations(ITERATIONS),
        salt,
        password.expose_secret().as_bytes(),
        &mut derived,
    );
    PasswordHash(format!(
        "{SCHEME}${ITERATIONS}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(derived)
    ))
}

/// Whether `password` matches the encoded hash (constant-time comparison of the derived keys).
pub(crate) fn verify_hash(
    password: &SecretString,
    stored: &PasswordHash,
) -> Result<bool, LocalError> {
    let corrupt = || LocalError::Corrupt("a stored password hash cannot be decoded".to_owned());
    let mut parts = stored.0.split('$');
    let (Some(SCHEME), Some(rounds), Some(salt), Some(derived), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(corrupt());
    };
    let rounds: u32 = rounds.parse().map_err(|_| corrupt())?;
    let salt = STANDARD_NO_PAD.decode(salt).map_err(|_| corrupt())?;
    let derived = STANDARD_NO_PAD.decode(derived).map_err(|_| corrupt())?;
    if rounds == 0 || derived.is_empty() || derived.len() > 64 {
        return Err(corrupt());
    }
    Ok(pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations(rounds),
        &salt,
        password.expose_secret().as_bytes(),
        &derived,
    )
    .is_ok())
}

/// Whether `password` equals a stored generated one, in time independent of where they differ.
pub(crate) fn verify_generated(password: &SecretString, stored: &SecretString) -> bool {
    constant_time_eq(
        password.expose_secret().as_bytes(),
        stored.expose_secret().as_bytes(),
    )
}

/// The SCRAM-SHA-256 verifier PostgreSQL stores for a password
/// (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, RFC 5802/7677), derived from
/// the hash alone: SCRAM's salted password is PBKDF2-HMAC-SHA256 of 32 bytes, which is what
/// [`hash`] keeps. A role can so take a chosen password the service never stored.
pub(crate) fn scram_verifier(stored: &PasswordHash) -> Result<String, LocalError> {
    use aws_lc_rs::{digest, hmac};
    use base64::engine::general_purpose::STANDARD;
    let corrupt = || LocalError::Corrupt("a stored password hash cannot be decoded".to_owned());
    let parts: Vec<&str> = stored.0.split('$').collect();
    let [SCHEME, rounds, salt, derived] = parts.as_slice() else {
        return Err(corrupt());
    };
    let salt = STANDARD_NO_PAD.decode(salt).map_err(|_| corrupt())?;
    let salted_password = STANDARD_NO_PAD.decode(derived).map_err(|_| corrupt())?;
    if salted_password.len() != HASH_BYTES || rounds.parse::<u32>().is_err() {
        return Err(corrupt());
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, &salted_password);
    let client_key = hmac::sign(&key, b"Client Key");
    let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
    let server_key = hmac::sign(&key, b"Server Key");
    Ok(format!(
        "SCRAM-SHA-256${rounds}:{}${}:{}",
        STANDARD.encode(&salt),
        STANDARD.encode(stored_key.as_ref()),
        STANDARD.encode(server_key.as_ref())
    ))
}

/// [`hash`] on the blocking pool, so a burst of creates does not stall the async workers.
pub(crate) async fn hash_blocking(password: SecretString) -> Result<PasswordHash, LocalError> {
    Ok(tokio::task::spawn_blocking(move || hash(&password)).await?)
}

/// [`fingerprint`] on the blocking pool.
pub(crate) async fn fingerprint_blocking(
    password: SecretString,
    context: String,
) -> Result<PasswordHash, LocalError> {
    Ok(tokio::task::spawn_blocking(move || fingerprint(&password, &context)).await?)
}

/// [`verify_hash`] on the blocking pool.
pub(crate) async fn verify_hash_blocking(
    password: SecretString,
    stored: PasswordHash,
) -> Result<bool, LocalError> {
    tokio::task::spawn_blocking(move || verify_hash(&password, &stored)).await?
}

fn iterations(count: u32) -> NonZeroU32 {
    NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scram_verifier_is_postgresqls_for_the_hashed_password() {
        // Computed independently (Python's hashlib and hmac) for "pencil-pencil", this salt
        // and 10 000 iterations.
        let stored = hash_with_salt(&SecretString::from("pencil-pencil"), b"0123456789abcdef");
        assert_eq!(
            scram_verifier(&stored).unwrap(),
            "SCRAM-SHA-256$10000:MDEyMzQ1Njc4OWFiY2RlZg==$\
             RVBVhjw1CYdTiwcVaPI1y6UfF59Gs3yIzeAVQRFmgIA=:\
             ekIs1inL4/XpKvP/eSlOOIW2CYZReZmpPdQET8teSIw="
        );
        assert!(scram_verifier(&PasswordHash("pbkdf2-sha256$1$AA$AA".into())).is_err());
    }

    #[test]
    fn generate_makes_distinct_policy_passing_passwords() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let password = generate();
            let text = password.expose_secret();
            assert_eq!(text.len(), GENERATED_LENGTH);
            assert!(text.chars().all(|c| c.is_ascii_alphanumeric()), "{text}");
            assert!(text.chars().any(|c| c.is_ascii_digit()));
            assert!(text.chars().any(|c| c.is_ascii_uppercase()));
            assert!(text.chars().any(|c| c.is_ascii_lowercase()));
            assert!(seen.insert(text.to_owned()), "repeated password");
        }
    }

    #[test]
    fn hash_is_salted_and_verifies() {
        let password = SecretString::from("correct horse battery");
        let first = hash(&password);
        let second = hash(&password);
        assert_ne!(first, second, "a random salt makes every hash different");
        assert!(first.0.starts_with("pbkdf2-sha256$10000$"), "{:?}", first.0);
        assert!(!first.0.contains("correct horse"));
        assert!(verify_hash(&password, &first).unwrap());
        assert!(verify_hash(&password, &second).unwrap());
        assert!(!verify_hash(&SecretString::from("correct horse battery!"), &first).unwrap());
        assert!(!verify_hash(&SecretString::from(""), &first).unwrap());
    }

    #[test]
    fn fingerprint_is_stable_per_context_and_verifies() {
        let password = SecretString::from("correct horse battery");
        let first = fingerprint(&password, "scope key-1");
        assert_eq!(first, fingerprint(&password, "scope key-1"));
        assert_ne!(first, fingerprint(&password, "scope key-2"));
        assert_ne!(
            first,
            fingerprint(&SecretString::from("correct horse battery!"), "scope key-1")
        );
        assert!(!first.0.contains("correct horse"));
        assert!(verify_hash(&password, &first).unwrap());
    }

    #[test]
    fn verify_hash_refuses_garbage_without_echoing_it() {
        let password = SecretString::from("whatever-password");
        for stored in [
            "",
            "plain-text-password",
            "pbkdf2-sha256$0$AAAA$AAAA",
            "pbkdf2-sha256$x$AAAA$AAAA",
            "pbkdf2-sha256$10$!!$AAAA",
            "pbkdf2-sha256$10$AAAA$",
            "md5$10$AAAA$AAAA",
            "pbkdf2-sha256$10$AAAA$AAAA$extra",
        ] {
            let error = verify_hash(&password, &PasswordHash(stored.into())).unwrap_err();
            assert!(matches!(error, LocalError::Corrupt(_)), "{stored}");
            if !stored.is_empty() {
                assert!(!error.to_string().contains(stored), "{error}");
            }
        }
    }

    #[test]
    fn validate_chosen_counts_characters_and_hides_the_password() {
        assert!(validate_chosen(&SecretString::from("a".repeat(12))).is_ok());
        assert!(validate_chosen(&SecretString::from("é".repeat(128))).is_ok());
        for bad in ["short-pass1", &"x".repeat(129)] {
            let error = validate_chosen(&SecretString::from(bad)).unwrap_err();
            assert!(
                matches!(&error, LocalError::Invalid { field: Some(f), .. } if f == "password")
            );
            assert!(!error.to_string().contains(bad));
        }
    }

    #[test]
    fn verify_generated_compares_exactly() {
        let stored = SecretString::from("AbcDef123456");
        assert!(verify_generated(
            &SecretString::from("AbcDef123456"),
            &stored
        ));
        assert!(!verify_generated(
            &SecretString::from("abcDef123456"),
            &stored
        ));
        assert!(!verify_generated(
            &SecretString::from("AbcDef1234567"),
            &stored
        ));
    }
}
