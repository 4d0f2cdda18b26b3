//! The one comparison of secrets in dbaas-local: bearer tokens, dialect keys and passwords,
//! OVH signatures, generated passwords.
//!
//! Both sides are hashed with SHA-256 first and the fixed-size digests compared with aws-lc's
//! constant-time comparison, so the time taken says nothing about where the inputs differ, nor
//! about the expected secret's length. Below the adapters and the domain, so both use it.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};

/// Whether `presented` equals `expected`, in a time that does not depend on their contents.
pub(crate) fn constant_time_eq(presented: &[u8], expected: &[u8]) -> bool {
    let presented = digest(&SHA256, presented);
    let expected = digest(&SHA256, expected);
    verify_slices_are_equal(presented.as_ref(), expected.as_ref()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_bytes() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secreT", b"secret"));
        assert!(!constant_time_eq(b"secret1", b"secret"));
        assert!(!constant_time_eq(b"secre", b"secret"));
        assert!(!constant_time_eq(b"", b"secret"));
        assert!(constant_time_eq(b"", b""));
        // A longer input sharing the prefix plus NULs must not pass.
        assert!(!constant_time_eq(b"secret\0", b"secret"));
    }
}
