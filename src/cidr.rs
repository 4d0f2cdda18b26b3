//! IP networks in CIDR notation, the crate's one parser of them: the provider's
//! `dbaas_ip_restriction.cidr`, the OVH client's IP blocks and dbaas-local's IP restrictions all
//! read one grammar, so what the provider accepts at plan time is what the service accepts.
//!
//! The grammar: an IPv4 or IPv6 address as `std` reads it, optionally `/` and a prefix length
//! of one to three decimal digits within the family's width. Nothing else: no surrounding
//! spaces, no sign, no zone. A bare address means a single host (`/32` or `/128`).
//!
//! One network has one spelling, so a CIDR can be an object's identity: the network address
//! (host bits zero), `/`, the prefix length; IPv6 in RFC 5952 form (lowercase, the longest run
//! of zero groups compressed), which is how `std` displays it. It imports nothing of the crate.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

/// A parsed address and prefix length; [`Cidr::parse_network`] also guarantees the host bits
/// are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The address as written (host bits zero when parsed as a network).
    address: IpAddr,
    /// Prefix length, at most 32 (IPv4) or 128 (IPv6).
    prefix: u8,
}

/// Why a text is not a (canonical) network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CidrError {
    /// Not an address, or a prefix that does not fit the family.
    Malformed {
        /// What was given.
        given: String,
        /// What is wrong, as a phrase.
        reason: &'static str,
    },
    /// Host bits are set; carries the network the writer probably meant.
    HostBitsSet {
        /// What was given.
        given: String,
        /// The same prefix with the host bits cleared.
        network: Cidr,
    },
}

impl Cidr {
    /// Reads `address` or `address/prefix`, host bits allowed (for APIs that decide on those
    /// themselves).
    pub fn parse(text: &str) -> Result<Self, CidrError> {
        let malformed = |reason| CidrError::Malformed {
            given: text.to_owned(),
            reason,
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
        Ok(Self { address, prefix })
    }

    /// Reads a network: like [`Cidr::parse`], but set host bits are refused with the network
    /// the writer probably meant.
    pub fn parse_network(text: &str) -> Result<Self, CidrError> {
        let written = Self::parse(text)?;
        let network = written.network();
        if network != written {
            return Err(CidrError::HostBitsSet {
                given: text.to_owned(),
                network,
            });
        }
        Ok(network)
    }

    /// The network this address belongs to: the host bits cleared.
    pub fn network(&self) -> Self {
        Self {
            address: mask(self.address, self.prefix),
            prefix: self.prefix,
        }
    }

    /// Orders networks by family (IPv4 first), address, then prefix length.
    pub fn network_order(&self, other: &Self) -> Ordering {
        let family = |address: &IpAddr| u8::from(address.is_ipv6());
        family(&self.address)
            .cmp(&family(&other.address))
            .then_with(|| bits(self.address).cmp(&bits(other.address)))
            .then_with(|| self.prefix.cmp(&other.prefix))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { given, reason } => write!(
                f,
                "{given:?} is not an IPv4 or IPv6 network ({reason}); use e.g. 10.0.0.0/24, \
                 203.0.113.7 or 2001:db8::/32"
            ),
            Self::HostBitsSet { given, network } => {
                write!(
                    f,
                    "{given} is not a network address; did you mean {network}?"
                )
            }
        }
    }
}

impl std::error::Error for CidrError {}

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
        Cidr::parse_network(text)
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
        let error = Cidr::parse_network("10.0.0.7/24").unwrap_err();
        assert!(matches!(
            &error,
            CidrError::HostBitsSet { given, network }
                if given == "10.0.0.7/24" && network.to_string() == "10.0.0.0/24"
        ));
        let message = error.to_string();
        assert_eq!(
            message,
            "10.0.0.7/24 is not a network address; did you mean 10.0.0.0/24?"
        );
        assert!(matches!(
            Cidr::parse_network("2001:db8::1/32").unwrap_err(),
            CidrError::HostBitsSet { network, .. } if network.to_string() == "2001:db8::/32"
        ));
        assert!(matches!(
            Cidr::parse_network("10.1.2.3/0").unwrap_err(),
            CidrError::HostBitsSet { network, .. } if network.to_string() == "0.0.0.0/0"
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
                matches!(Cidr::parse(bad), Err(CidrError::Malformed { .. })),
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

    #[test]
    fn parse_keeps_host_bits_that_parse_network_refuses() {
        let written = Cidr::parse("10.0.0.7/24").unwrap();
        assert_eq!(written.to_string(), "10.0.0.7/24");
        assert_eq!(written.network().to_string(), "10.0.0.0/24");
        assert_eq!(
            Cidr::parse("2001:0DB8::1").unwrap().to_string(),
            "2001:db8::1/128"
        );
    }

    #[test]
    fn malformed_message_names_the_text_and_the_examples() {
        let message = Cidr::parse("10.0.0.0/+8").unwrap_err().to_string();
        assert_eq!(
            message,
            "\"10.0.0.0/+8\" is not an IPv4 or IPv6 network (the prefix length must be a number); \
             use e.g. 10.0.0.0/24, 203.0.113.7 or 2001:db8::/32"
        );
    }

    proptest::proptest! {
        /// Whatever the text, parsing ends in a value or an error; a parsed network prints as a
        /// text that parses back to itself.
        #[test]
        fn any_text_parses_or_errs_and_networks_round_trip(text in "\\PC{0,48}") {
            if let Ok(network) = Cidr::parse_network(&text) {
                let printed = network.to_string();
                proptest::prop_assert_eq!(Cidr::parse_network(&printed), Ok(network));
            }
        }
    }
}
