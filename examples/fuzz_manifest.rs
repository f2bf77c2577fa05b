//! A mutation fuzzer for the manifest parser, on stable Rust (cargo-fuzz
//! needs nightly, which these machines cannot fetch). It mutates a seed
//! corpus — the demo manifest and hand-written edge cases — with byte flips,
//! token insertions, deletions and splices, and fails on the first panic or
//! on a rejection without a location.
//!
//! CI runs a short pass:   cargo run --example fuzz_manifest -- --iterations 20000
//! A longer run:           cargo run --release --example fuzz_manifest -- --seconds 600 --seed 7
//! A crashing input is written to fuzz-crash.toml.

use std::panic;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use stevedore::manifest::parse_manifest;

const TOKENS: &[&str] = &[
    "[[unit]]\n",
    "[defaults]\n",
    "namespace",
    "name",
    "image",
    "ports",
    "volumes",
    "memory",
    "env",
    "labels",
    "restart",
    "backoff",
    "intensity",
    "stop_timeout",
    "healthcheck",
    "on_unhealthy",
    "depends_on",
    "test",
    "disable",
    "interval",
    "retries",
    "start_interval",
    "condition",
    "\"CMD\"",
    "\"CMD-SHELL\"",
    "\"NONE\"",
    "\"healthy\"",
    "\"completed\"",
    "\"restart\"",
    "\"a\"",
    "=",
    "\"",
    "'",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    "\n",
    "\"64m\"",
    "\"1.5g\"",
    "\"512mb\"",
    "\"9000000000g\"",
    "\"8000-8010:8000-8010\"",
    "\"127.0.0.1:1-3:4-6/udp\"",
    "\"1.5s\"",
    "\"500us\"",
    "\"1h30m\"",
    "\"0.5m\"",
    "99999999999999999999",
    "-99999999999999999999",
    "1e999",
    "\"on-failure:3\"",
    "\"1m30s\"",
    "\"127.0.0.1:80:80/udp\"",
    "-1",
    "1e309",
    "true",
    "\"\\u0000\"",
    "\u{feff}",
    "é",
    "\"/a:/b:ro\"",
    "0x10",
    "nan",
    "inf",
    "#",
    "\"\"\"",
];

fn seeds() -> Vec<Vec<u8>> {
    vec![
        include_bytes!("demo.toml").to_vec(),
        b"namespace = \"ns\"\n".to_vec(),
        b"namespace = \"ns\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\nimage = \"j\"\ncpu_shares = 99999999999999999999\nenv = { A = 1, A = 2 }\nports = [\"8000-8002:9000-9002/udp\", \"8001:1\"]\nmemory = \"1.5g\"\nstop_timeout = \"1m\"\nbackoff = { initial = \"500us\", factor = 1e999 }\n[defaults]\n[defaults]\n".to_vec(),
        b"namespace = \"ns\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\nports = [\"1:1\", \"1:2\"]\n".to_vec(),
        b"namespace = \"ns\"\n[defaults]\nbackoff = { factor = 0.5 }\n[[unit]]\nname = \"a\"\nimage = \"i\"\n".to_vec(),
        b"namespace = \"ns\"\n[defaults]\nhealthcheck = { interval = \"5s\", retries = 3 }\non_unhealthy = \"restart\"\n[[unit]]\nname = \"a\"\nimage = \"i\"\nhealthcheck = { test = [\"CMD\", \"true\"], start_interval = \"1s\" }\ndepends_on = { b = { condition = \"healthy\", restart = true } }\n[[unit]]\nname = \"b\"\nimage = \"i\"\nhealthcheck = { test = \"true\", disable = false }\ndepends_on = [\"c\"]\n[[unit]]\nname = \"c\"\nimage = \"i\"\nhealthcheck = { disable = true }\n".to_vec(),
    ]
}

fn mutate(input: &mut Vec<u8>, rng: &mut StdRng) {
    for _ in 0..rng.random_range(1..4) {
        let at = if input.is_empty() {
            0
        } else {
            rng.random_range(0..=input.len())
        };
        match rng.random_range(0..5) {
            0 if !input.is_empty() => {
                let index = at.min(input.len() - 1);
                input[index] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())].as_bytes();
                input.splice(at..at, token.iter().copied());
            }
            2 if !input.is_empty() => {
                let end = (at + rng.random_range(1..16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            3 if !input.is_empty() => {
                let start = rng.random_range(0..input.len());
                let end = (start + rng.random_range(1..64)).min(input.len());
                let piece: Vec<u8> = input[start..end].to_vec();
                input.splice(at..at, piece);
            }
            _ => input.push(rng.random::<u8>()),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let iterations = value("--iterations").unwrap_or(u64::MAX);
    let seconds = value("--seconds").map(Duration::from_secs);
    let seed = value("--seed").unwrap_or(1);
    if iterations == u64::MAX && seconds.is_none() {
        eprintln!("usage: fuzz_manifest (--iterations N | --seconds S) [--seed N]");
        std::process::exit(2);
    }
    panic::set_hook(Box::new(|_| {}));
    let mut rng = StdRng::seed_from_u64(seed);
    let corpus = seeds();
    let started = Instant::now();
    let (mut accepted, mut rejected) = (0u64, 0u64);
    let mut done = 0u64;
    while done < iterations && seconds.is_none_or(|limit| started.elapsed() < limit) {
        let mut input = corpus[rng.random_range(0..corpus.len())].clone();
        mutate(&mut input, &mut rng);
        let text = String::from_utf8_lossy(&input).into_owned();
        let outcome = panic::catch_unwind(|| parse_manifest(&text, "fuzz.toml"));
        match outcome {
            Err(_) => {
                std::fs::write("fuzz-crash.toml", &input).expect("write the crashing input");
                eprintln!(
                    "panic after {done} inputs (seed {seed}); input written to fuzz-crash.toml"
                );
                std::process::exit(1);
            }
            Ok(Ok(_)) => accepted += 1,
            Ok(Err(error)) => {
                if error.problems.is_empty()
                    || error
                        .problems
                        .iter()
                        .any(|p| p.line == 0 || p.message.is_empty())
                {
                    std::fs::write("fuzz-crash.toml", &input).expect("write the input");
                    eprintln!("a rejection without a location or message: {error}");
                    std::process::exit(1);
                }
                rejected += 1;
            }
        }
        done += 1;
    }
    println!(
        "fuzz_manifest: {done} inputs in {:.1} s (seed {seed}): {accepted} accepted, {rejected} rejected with located errors, 0 panics",
        started.elapsed().as_secs_f64()
    );
}
