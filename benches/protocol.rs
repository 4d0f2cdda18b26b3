//! `make bench`: throughput of the protocol hot paths every RPC goes through: decoding and
//! encoding a resource state (msgpack and the JSON of stored state) and computing a plan.
//! Reports nanoseconds per operation; compare runs on the same machine, never assert on them.
#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::hint::black_box;
use std::time::{Duration, Instant};

use dbaas::tfplugin::plan::plan;
use dbaas::tfplugin::resource::PlanRules;
use dbaas::tfplugin::schema::{Attribute, Block};
use dbaas::tfplugin::timeouts;
use dbaas::tfplugin::value::{self, Value};

fn block() -> Block {
    let mut block = Block::new("a database-like resource");
    for name in ["id", "status", "endpoint", "created_at"] {
        block = block.attribute(Attribute::string(name).computed());
    }
    block = block.attribute(Attribute::string("name").required());
    for name in ["engine", "version", "plan", "region"] {
        block = block.attribute(Attribute::string(name).optional().computed());
    }
    block
        .attribute(Attribute::string("description").optional())
        .block(timeouts::block(&[("create", Duration::from_secs(60))]))
}

fn state() -> Value {
    Value::object([
        ("id", Value::string("db-0123456789ab")),
        ("status", Value::string("READY")),
        (
            "endpoint",
            Value::string("mongodb://client-acme.eu-west-1.dbaas.local:27017/client-acme"),
        ),
        ("created_at", Value::string("2026-11-22T08:00:00Z")),
        ("name", Value::string("client-acme")),
        ("engine", Value::string("mongodb")),
        ("version", Value::string("8.0")),
        ("plan", Value::string("essential")),
        ("region", Value::string("eu-west-1")),
        ("description", Value::string("Database of client acme")),
        (
            "timeouts",
            Value::object([("create", Value::string("40m"))]),
        ),
    ])
}

/// Runs `f` for about a second and prints the mean time per call.
fn measure(name: &str, mut f: impl FnMut()) {
    for _ in 0..1_000 {
        f();
    }
    let started = Instant::now();
    let mut iterations = 0u64;
    while started.elapsed() < Duration::from_secs(1) {
        for _ in 0..1_000 {
            f();
        }
        iterations += 1_000;
    }
    let per_call = started.elapsed().as_nanos() / u128::from(iterations);
    println!("{name:<32} {per_call:>8} ns/op   ({iterations} iterations)");
}

fn main() {
    let block = block();
    let ty = block.implied_type();
    let state = state();
    let msgpack = value::to_msgpack(&state, &ty).unwrap();
    let json = value::to_json(&state, &ty).unwrap();
    let config = Value::object([("name", Value::string("client-acme"))]);
    let rules = PlanRules {
        requires_replace: &["name", "engine", "region"],
        volatile_on_update: &["status"],
        defaults: vec![("engine", Value::string("mongodb"))],
    };

    measure("state to msgpack", || {
        black_box(value::to_msgpack(black_box(&state), &ty).unwrap());
    });
    measure("state from msgpack", || {
        black_box(value::from_msgpack(black_box(&msgpack), &ty).unwrap());
    });
    measure("state from stored JSON", || {
        black_box(value::from_json(black_box(&json), &ty).unwrap());
    });
    measure("plan (no change)", || {
        black_box(plan(&block, &rules, &state, black_box(&state), &config));
    });
    measure("plan (create)", || {
        black_box(plan(
            &block,
            &rules,
            &Value::Null,
            black_box(&config),
            &config,
        ));
    });
}
