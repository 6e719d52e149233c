//! `sockframe bench --relay` end to end, with tiny counts: the table's rows
//! are there and their numbers parse. No timing is asserted (benchmarks
//! measure; tests check behaviour).

mod common;
use common::*;

/// The cells of the table row whose first cell starts with `label`.
fn row<'a>(table: &'a str, label: &str) -> Option<Vec<&'a str>> {
    table
        .lines()
        .find(|l| l.starts_with(&format!("| {label}")))
        .map(|l| l.trim().trim_start_matches('|').trim_end_matches('|').split('|').map(str::trim).collect())
}

fn number(cell: &str) -> f64 {
    cell.parse().unwrap_or_else(|_| panic!("not a number: {cell:?}"))
}

/// A ratio cell such as `0.93× throughput`, or `n/a ...` when the baseline
/// was lost in the noise.
fn ratio(cell: &str) -> Option<f64> {
    let head = cell.split_whitespace().next().unwrap_or("");
    if head == "n/a" {
        return None;
    }
    Some(number(head.strip_suffix('×').unwrap_or_else(|| panic!("not a ratio: {cell:?}"))))
}

#[test]
fn bench_relay_prints_its_table() {
    let out = sockframe(
        &["bench", "--relay", "--size", "64", "--reps", "1", "--round-trips", "200", "--frames", "2000"],
        b"",
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("64 B frames") && stdout.contains("2000 frames"), "{stdout}");
    assert!(
        stdout.contains("| path | frames/s | MiB/s | rtt p50 µs | rtt p99 µs | added p50 µs |"),
        "{stdout}"
    );

    let relay = row(&stdout, "sockframe relay").unwrap_or_else(|| panic!("no relay row: {stdout}"));
    assert_eq!(relay.len(), 6, "{stdout}");
    for cell in &relay[1..5] {
        assert!(number(cell) > 0.0, "{stdout}");
    }
    number(relay[5]); // added latency: may come out negative in the noise

    let direct = row(&stdout, "direct").unwrap_or_else(|| panic!("no direct row: {stdout}"));
    assert!(number(direct[3]) > 0.0 && number(direct[4]) > 0.0, "{stdout}");

    // socat is compared with when the machine has it (or can install it);
    // otherwise the bench says so and still succeeds.
    match row(&stdout, "socat") {
        Some(socat) => {
            for cell in &socat[1..5] {
                assert!(number(cell) > 0.0, "{stdout}");
            }
            let ratios =
                row(&stdout, "ratio relay / socat").unwrap_or_else(|| panic!("no ratio row: {stdout}"));
            assert!(ratio(ratios[1]).is_some_and(|r| r > 0.0), "{stdout}");
            for cell in [ratios[3], ratios[4], ratios[5]] {
                ratio(cell);
            }
        }
        None => assert!(stdout.contains("sockframe's figures alone"), "{stdout}"),
    }
}
