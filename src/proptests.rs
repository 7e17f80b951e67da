//! Property tests (proptest) where hostile input lands first: the command
//! line, addresses, access rules, and the line framing. Arbitrary bytes
//! never panic; what is printed parses back to the same value; a stream
//! split anywhere comes back exactly as its ROT13.

use crate::addr::{Ip, parse_ip, parse_listen};
use crate::opts::{Config, parse};
use crate::rules::parse_cidr;
use crate::testutil::{rot, run_framing as run, show};
use proptest::prelude::*;

/// Bytes that are mostly what the parsers look for, so that cases get deep.
fn text() -> impl Strategy<Value = Vec<u8>> {
    let near = prop::sample::select(b"0123456789abcdef:./-%lpbcCtuadiqrvhV\0\xff".to_vec());
    prop::collection::vec(prop_oneof![3 => near, 1 => any::<u8>()], 0..48)
}

/// Any address, either family.
fn ip() -> impl Strategy<Value = Ip> {
    prop_oneof![any::<[u8; 4]>().prop_map(Ip::v4), any::<[u8; 16]>().prop_map(Ip::v6)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn command_lines_never_panic(args in prop::collection::vec(text(), 0..6)) {
        let _ = parse(args.iter().map(|a| a.as_slice()), &mut Config::default());
    }

    #[test]
    fn addresses_and_rules_never_panic(s in text()) {
        let _ = parse_ip(&s);
        let _ = parse_cidr(&s);
        let _ = parse_listen(&s);
    }

    #[test]
    fn every_printed_address_parses_back(ip in ip()) {
        prop_assert_eq!(parse_ip(show(ip).as_bytes()), Some(ip));
    }

    #[test]
    fn every_printed_network_parses_back(ip in ip(), bits in 0u8..=128) {
        // The network the address is in, at a prefix its family allows.
        let bits = if ip.v6 { bits } else { bits % 33 };
        let span = if ip.v6 { bits } else { 96 + bits };
        let net = u128::from_be_bytes(ip.bytes) & !(u128::MAX.checked_shr(span as u32).unwrap_or(0));
        let net = Ip { bytes: net.to_be_bytes(), ..ip };
        let rule = parse_cidr(format!("{}/{bits}", show(net)).as_bytes()).unwrap();
        prop_assert_eq!((rule.net, rule.bits), (net.bytes, span));
        // A bare address is the one host.
        let host = parse_cidr(show(ip).as_bytes()).unwrap();
        prop_assert_eq!((host.net, host.bits), (ip.bytes, 128));
    }

    #[test]
    fn framing_split_anywhere_is_exact(
        input in prop::collection::vec(prop_oneof![1 => Just(b'\n'), 3 => any::<u8>()], 0..600),
        cap in 1usize..64,
        sizes in prop::collection::vec(1usize..80, 1..40),
    ) {
        // `run` checks every flush against the contract on the way.
        let mut next = sizes.iter().cycle().copied();
        prop_assert_eq!(run(&input, cap, &mut || next.next().unwrap()), rot(&input));
    }
}
