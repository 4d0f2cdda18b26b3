//! The fast part of the fuzzing (`make fuzz` runs the slow part): every committed corpus file
//! (`fuzz/corpus/<target>/`) goes through its target's entry point once, and proptests feed the
//! same entry points random and near-valid inputs. Each input must end in a result or a
//! diagnostic, never a panic.

use std::path::Path;

use dbaas::fuzzing;
use proptest::prelude::*;

#[test]
fn fuzz_corpus_replays_without_a_crash() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, entry) in fuzzing::TARGETS {
        let dir = corpus.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{target}: a few seeds at least");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| entry(&data));
            assert!(outcome.is_ok(), "{} crashed {target}", file.display());
        }
    }
}

#[test]
fn fuzz_targets_are_the_entry_points() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
        .collect();
    files.sort();
    let mut targets: Vec<String> = fuzzing::TARGETS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    targets.sort();
    assert_eq!(files, targets, "one fuzz target per entry point");
}

/// Text that looks like a duration: digits, dots, signs and units, in any order.
fn duration_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "0",
            "1",
            "9",
            "00",
            ".",
            "+",
            "-",
            "ns",
            "us",
            "µs",
            "ms",
            "s",
            "m",
            "h",
            " ",
            "9223372036854775807",
            "2562047",
        ]),
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

/// A composite id: pieces that may be empty, joined with slashes.
fn id_like() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z0-9.:-]{0,6}", 0..6).prop_map(|pieces| pieces.join("/"))
}

proptest! {
    #[test]
    fn fuzz_entry_points_take_any_bytes(
        target in 0..fuzzing::TARGETS.len(),
        data in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        (fuzzing::TARGETS[target].1)(&data);
    }

    #[test]
    fn fuzz_duration_takes_near_durations(text in duration_like()) {
        fuzzing::duration(text.as_bytes());
    }

    #[test]
    fn fuzz_import_id_takes_near_ids(resource in any::<u8>(), id in id_like()) {
        let mut data = vec![resource];
        data.extend_from_slice(id.as_bytes());
        fuzzing::import_id(&data);
    }

    #[test]
    fn fuzz_value_decode_takes_near_json(
        schema in any::<u8>(),
        json in r#"\{("(name|database_id|keys|roles|cidr|node_count|timeouts)":("[a-z]{0,4}"|[0-9]{1,25}|null|\[\]|\{\}|true),?){0,4}\}"#,
    ) {
        let mut data = vec![schema, 1];
        data.extend_from_slice(json.as_bytes());
        fuzzing::value_decode(&data);
    }

    #[test]
    fn fuzz_ovh_signature_takes_near_requests(
        choices in any::<u8>(),
        timestamp in prop_oneof![Just(i64::MIN), Just(i64::MAX), any::<i64>(), 1_699_999_000i64..1_700_001_000],
        url in "http://[a-z]{1,5}/[a-z/]{0,10}",
    ) {
        let data = format!("\0\0{timestamp}\0$1$\0GET\0{url}\0");
        let mut bytes = vec![choices];
        bytes.extend_from_slice(data.as_bytes());
        fuzzing::ovh_signature(&bytes);
    }
}
