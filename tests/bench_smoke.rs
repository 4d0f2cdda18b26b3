//! `make bench`'s Terraform harness (`benches/terraform_bench`) at tiny sizes, so a change that
//! breaks the bench fails `make test` instead of a 20-minute run. Asserts on counts and on the
//! report's shape only, never on how long anything took.

#[path = "../benches/terraform_bench/mod.rs"]
mod terraform_bench;

mod support;

use std::time::Duration;

use terraform_bench::BenchConfig;
use terraform_bench::measure::Shape;

#[test]
fn bench_harness_measures_every_row_at_tiny_sizes() {
    let out = tempfile::tempdir().expect("temp dir");
    let config = BenchConfig {
        database_counts: vec![5],
        clients: 2,
        rounds: 1,
        client_rounds: 1,
        provision_delays: vec![Duration::from_millis(500)],
        readiness_rounds: 1,
        ovh_readiness: true,
        handshakes: 2,
        out_dir: out.path().to_path_buf(),
    };
    let report = terraform_bench::run(&config, &mut |step| eprintln!("bench smoke: {step}"));

    // Each side of each shape ran its round, and the plans found nothing to change.
    for (shape, ours, reference) in &report.side_by_side {
        assert_eq!((ours.len(), reference.len()), (1, 1), "{shape:?}");
        assert!(
            !ours[0].plan_changes && !reference[0].plan_changes,
            "{shape:?}: a plan right after the apply wants changes"
        );
        assert!(reference[0].plan_requests.is_none());
        let requests = ours[0].plan_requests.expect("ours counts requests");
        assert!(!requests.log_full);
        // At least one request, and at most one per resource plus a few to configure the
        // provider (a batched refresh sends far fewer).
        assert!(
            (1..=shape.resources() + 10).contains(&requests.count),
            "{shape:?}: {requests:?} requests per plan"
        );
        assert!(
            ours[0].provider_peak_rss_kib.is_some_and(|kib| kib > 0),
            "{shape:?}: the provider's peak RSS was read"
        );
        assert_eq!(
            reference[0].provider_peak_rss_kib, None,
            "no provider there"
        );
    }
    let shapes: Vec<Shape> = report.side_by_side.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(shapes, [Shape::Databases(5), Shape::Clients(2)]);

    // The database row also ran against terraform_data padded to hold as much state as ours.
    let (equal_shape, equal) = report.equal_state.as_ref().expect("an equal-state row");
    assert_eq!((*equal_shape, equal.len()), (Shape::Databases(5), 1));
    let (ours, plain) = (
        report.side_by_side[0].1[0].state_bytes,
        report.side_by_side[0].2[0].state_bytes,
    );
    assert!(
        plain > 0 && ours > plain,
        "state bytes: ours {ours}, plain {plain}"
    );
    let padded = equal[0].state_bytes;
    assert!(
        padded.abs_diff(ours) * 10 <= ours,
        "padded terraform_data holds {padded} state bytes, ours {ours}"
    );

    // Each readiness wait saw the create and at least one read after it.
    assert_eq!(report.readiness.len(), 2, "native and OVH");
    for (api, delay, samples) in &report.readiness {
        assert_eq!(samples.len(), 1);
        assert!(samples[0].status_requests >= 1, "{api:?}");
        assert!(
            samples[0].apply_requests > samples[0].status_requests,
            "{api:?}"
        );
        assert_eq!(*delay, Duration::from_millis(500));
    }
    assert_eq!(report.handshakes.len(), 2);

    // The report file holds the table with every row.
    let written = std::fs::read_to_string(out.path().join("report.md")).expect("report.md");
    for row in [
        "| apply, 5 databases |",
        "| apply, 12 resources (2 clients) |",
        "| apply, 5 databases, vs `terraform_data` with as much state (",
        "| plan, 5 databases |",
        "| requests per plan (refresh), 5 databases |",
        "| requests per plan (refresh), 12 resources (2 clients) |",
        "| readiness detection delay, provisioning 0.5 s |",
        "| status requests per wait, provisioning 0.5 s (OVH dialect, polling only) |",
        "| provider start → handshake (median of 2) |",
        "| provider peak RSS, apply 12 resources (2 clients) (highest of the rounds) |",
    ] {
        assert!(written.contains(row), "report.md lacks `{row}`:\n{written}");
    }
    assert!(
        written.contains("≤ 1.20×") && written.contains("≤ 1,100"),
        "{written}"
    );
    let csv = std::fs::read_to_string(out.path().join("apply.csv")).expect("apply.csv");
    assert_eq!(
        csv.lines().count(),
        3,
        "a header and a line per shape:\n{csv}"
    );
    // The plot needs the matplotlib `make tools` installs; without it the report says why.
    match &report.plot {
        Some(Ok(png)) => assert!(std::fs::metadata(png).is_ok_and(|m| m.len() > 0)),
        Some(Err(why)) => assert!(written.contains(why.as_str()), "{written}"),
        None => panic!("write() decides about the plot"),
    }
}
