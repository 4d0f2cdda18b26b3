//! Canonical CIDR networks for IP restrictions.
//!
//! One network has one spelling, so the CIDR can be the restriction's identity: the network
//! address (host bits must be zero), then `/` and the prefix length; a bare address means a
//! single host (`/32` or `/128`); IPv6 is written in RFC 5952 form (lowercase, the longest run
//! of zero groups compressed), which is how `std` displays it.

use std::cmp::Ordering;
use std::net::IpAddr;

use super::error::LocalError;

/// A parsed, canonical network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    /// Network address, host bits zero.
    address: IpAddr,
    /// Prefix length, at most 32 (IPv4) or 128 (IPv6).
    prefix: u8,
}

/// Why a text is not a canonical network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CidrError {
    /// Not an address, or a prefix that does not fit the family.
    Malformed(String),
    /// Host bits are set; carries the network the client probably meant.
    HostBitsSet {
        /// What the client sent.
        given: String,
        /// The same prefix with the host bits cleared.
        network: String,
    },
}

impl Cidr {
    /// Reads `address` or `address/prefix`, refusing host bits.
    pub(crate) fn parse(text: &str) -> Result<Self, CidrError> {
        let malformed = |why: &str| {
            CidrError::Malformed(format!(
                "{text:?} is not an IPv4 or IPv6 network ({why}); use e.g. 10.0.0.0/24, \
                 203.0.113.7 or 2001:db8::/32"
            ))
        };
        let (address_text, prefix_text) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address_text.parse().map_err(|_| malformed("bad address"))?;
        let max_prefix = match address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix_text {
            None => max_prefix,
            Some(digits) => {
                if digits.is_empty()
                    || digits.len() > 3
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(malformed("the prefix length must be a number"));
                }
                let prefix: u8 = digits
                    .parse()
                    .map_err(|_| malformed("the prefix length is too large"))?;
                if prefix > max_prefix {
                    return Err(malformed(if max_prefix == 32 {
                        "an IPv4 prefix length is at most 32"
                    } else {
                        "an IPv6 prefix length is at most 128"
                    }));
                }
                prefix
            }
        };
        let network = Self {
            address: mask(address, prefix),
            prefix,
        };
        if network.address != address {
            return Err(CidrError::HostBitsSet {
                given: text.to_owned(),
                network: network.to_string(),
            });
        }
        Ok(network)
    }

    /// Orders networks by family (IPv4 first), address, then prefix length.
    pub(crate) fn network_order(&self, other: &Self) -> Ordering {
        let family = |address: &IpAddr| u8::from(address.is_ipv6());
        family(&self.address)
            .cmp(&family(&other.address))
            .then_with(|| bits(self.address).cmp(&bits(other.address)))
            .then_with(|| self.prefix.cmp(&other.prefix))
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

impl CidrError {
    /// The 400 answer, naming `field`.
    pub(crate) fn into_invalid(self, field: &str) -> LocalError {
        match self {
            Self::Malformed(message) => LocalError::invalid(field, message),
            Self::HostBitsSet { given, network } => LocalError::invalid(
                field,
                format!("{given} is not a network address; did you mean {network}?"),
            ),
        }
    }
}

fn bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn mask(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & keep).into())
        }
        IpAddr::V6(v6) => {
            let keep = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & keep).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        Cidr::parse(text)
            .unwrap_or_else(|error| panic!("{text}: {error:?}"))
            .to_string()
    }

    #[test]
    fn parse_canonicalizes() {
        for (given, expected) in [
            ("10.0.0.0/24", "10.0.0.0/24"),
            ("10.0.0.7", "10.0.0.7/32"),
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("192.168.1.0/024", "192.168.1.0/24"),
            ("2001:DB8::/32", "2001:db8::/32"),
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128"),
            ("::/0", "::/0"),
            ("::1", "::1/128"),
            ("fe80:0:0:0::/64", "fe80::/64"),
        ] {
            assert_eq!(canonical(given), expected, "{given}");
        }
    }

    #[test]
    fn parse_rejects_host_bits_with_suggestion() {
        let error = Cidr::parse("10.0.0.7/24").unwrap_err();
        assert_eq!(
            error,
            CidrError::HostBitsSet {
                given: "10.0.0.7/24".into(),
                network: "10.0.0.0/24".into()
            }
        );
        let message = error.into_invalid("cidr").to_string();
        assert_eq!(
            message,
            "10.0.0.7/24 is not a network address; did you mean 10.0.0.0/24?"
        );
        assert!(matches!(
            Cidr::parse("2001:db8::1/32").unwrap_err(),
            CidrError::HostBitsSet { network, .. } if network == "2001:db8::/32"
        ));
        assert!(matches!(
            Cidr::parse("10.1.2.3/0").unwrap_err(),
            CidrError::HostBitsSet { network, .. } if network == "0.0.0.0/0"
        ));
    }

    #[test]
    fn parse_rejects_malformed() {
        for bad in [
            "",
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0/24",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            " 10.0.0.0/8",
            "10.0.0.0/8 ",
            "::/129",
            "::/1000",
            "fe80::1%eth0",
            "host.example",
            "10.0.0.0/24/8",
        ] {
            assert!(
                matches!(Cidr::parse(bad), Err(CidrError::Malformed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn network_order_puts_ipv4_first_then_numeric() {
        let mut cidrs: Vec<Cidr> = [
            "::/0",
            "10.0.0.0/8",
            "9.0.0.0/8",
            "10.0.0.0/16",
            "2001:db8::/32",
        ]
        .iter()
        .map(|text| Cidr::parse(text).unwrap())
        .collect();
        cidrs.sort_by(Cidr::network_order);
        let sorted: Vec<String> = cidrs.iter().map(Cidr::to_string).collect();
        assert_eq!(
            sorted,
            [
                "9.0.0.0/8",
                "10.0.0.0/8",
                "10.0.0.0/16",
                "::/0",
                "2001:db8::/32"
            ]
        );
    }
}
