//! Hostile input: arbitrary manifests and Docker strings never panic, and
//! every rejection is a clear error with a location.

use proptest::prelude::*;
use stevedore::manifest::parse_manifest;
use stevedore::spec::text::{parse_duration, parse_port, parse_size, parse_volume};
use stevedore::spec::validate;
use stevedore::{RestartPolicy, UnitSpec};

/// TOML-shaped text: manifest keys, values and punctuation in any order.
fn tomlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("namespace = \"ns\"\n".to_string()),
        Just("[[unit]]\n".to_string()),
        Just("[defaults]\n".to_string()),
        Just("name = \"web\"\n".to_string()),
        Just("image = \"busybox\"\n".to_string()),
        Just("ports = [\"80:80\", \"8080\"]\n".to_string()),
        Just("memory = \"64m\"\n".to_string()),
        Just("restart = \"on-failure:3\"\n".to_string()),
        Just("backoff = { initial = \"1s\", factor = 2.0 }\n".to_string()),
        Just("env = { A = 1 }\n".to_string()),
        Just("= [ { } ] \" , . \n".to_string()),
        "[a-z_]{1,8} = [0-9a-z\"\\[\\]{}:./ -]{0,12}\n",
        any::<String>(),
    ];
    prop::collection::vec(token, 0..12).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics_the_manifest_parser(text in any::<String>()) {
        let _ = parse_manifest(&text, "fuzz.toml");
    }

    #[test]
    fn every_rejection_of_tomlish_text_has_a_location_and_a_message(text in tomlish()) {
        if let Err(error) = parse_manifest(&text, "fuzz.toml") {
            prop_assert!(!error.problems.is_empty());
            let lines = text.lines().count().max(1);
            for problem in &error.problems {
                prop_assert!(problem.line >= 1 && problem.line <= lines + 1, "{problem}");
                prop_assert!(problem.column >= 1, "{problem}");
                prop_assert!(!problem.message.trim().is_empty(), "{problem}");
                prop_assert!(problem.to_string().starts_with("fuzz.toml:"), "{problem}");
            }
        }
    }

    #[test]
    fn docker_strings_never_panic_their_parsers(text in any::<String>()) {
        let _ = parse_port(&text);
        let _ = parse_volume(&text);
        let _ = parse_size(&text);
        let _ = parse_duration(&text);
        let _ = text.parse::<RestartPolicy>();
    }

    #[test]
    fn arbitrary_specs_validate_without_panicking(
        name in any::<String>(),
        image in any::<String>(),
        memory in any::<u64>(),
        shares in any::<u64>(),
        swappiness in any::<i64>(),
        ports in prop::collection::vec((any::<u16>(), any::<u16>()), 0..4),
        signal in any::<String>(),
    ) {
        let mut spec = UnitSpec::new(name, image)
            .memory(memory)
            .cpu_shares(shares)
            .swappiness(swappiness)
            .stop_signal(signal);
        for (internal, external) in ports {
            spec = spec.port(stevedore::PortMapping::tcp(internal, external));
        }
        if let Err(problems) = validate(&spec) {
            prop_assert!(problems.iter().all(|p| !p.field.is_empty() && !p.message.is_empty()));
        }
    }
}
