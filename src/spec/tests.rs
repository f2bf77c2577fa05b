//! Tests of the unit model: JSON round trips, Docker strings, unknown fields.

use super::*;

#[test]
fn spec_round_trips_through_json_unchanged() {
    let spec = UnitSpec::new("web", "busybox:latest")
        .command(["httpd", "-f"])
        .env("A", "1")
        .port("127.0.0.1:18080:8080".parse().unwrap())
        .volume("/srv:/data:ro".parse().unwrap())
        .memory(64 << 20)
        .cpu_shares(512)
        .swappiness(0)
        .label("team", "edge")
        .restart(RestartPolicy::OnFailure {
            max_retries: Some(3),
        })
        .stop_timeout(Duration::from_millis(1500));
    let json = serde_json::to_string(&spec).unwrap();
    let back: UnitSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(back, spec);
}

#[test]
fn manifest_style_fields_are_read_from_docker_strings() {
    let json = r#"{"name":"w","image":"i","memory":"64m","restart":"on-failure:5",
        "ports":["9000:9000/udp"],"stop_timeout":"3s"}"#;
    let spec: UnitSpec = serde_json::from_str(json).unwrap();
    assert_eq!(spec.memory, Some(64 << 20));
    assert_eq!(
        spec.restart,
        RestartPolicy::OnFailure {
            max_retries: Some(5)
        }
    );
    assert_eq!(spec.ports[0].protocol, Protocol::Udp);
    assert_eq!(spec.stop_timeout, Duration::from_secs(3));
}

#[test]
fn port_ranges_in_a_spec_read_as_one_mapping_per_port() {
    let json = r#"{"name":"w","image":"i","ports":["8000-8002:9000-9002/udp","80"]}"#;
    let spec: UnitSpec = serde_json::from_str(json).unwrap();
    let pairs: Vec<(u16, u16)> = spec
        .ports
        .iter()
        .map(|p| (p.internal, p.external))
        .collect();
    assert_eq!(pairs, [(9000, 8000), (9001, 8001), (9002, 8002), (80, 0)]);
    let back: UnitSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
    assert_eq!(back, spec);
}

#[test]
fn sub_millisecond_durations_survive_the_json_round_trip() {
    let spec = UnitSpec::new("w", "i").backoff(Backoff {
        initial: Duration::from_micros(500),
        max: Duration::from_nanos(1_000_000_001),
        ..Backoff::default()
    });
    let json = serde_json::to_string(&spec).unwrap();
    assert!(json.contains("\"500us\""), "{json}");
    let back: UnitSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(back, spec);
    assert_eq!(spec_hash(&back), spec_hash(&spec));
}

#[test]
fn unknown_fields_are_refused() {
    let err =
        serde_json::from_str::<UnitSpec>(r#"{"name":"w","image":"i","memroy":"6m"}"#).unwrap_err();
    assert!(err.to_string().contains("memroy"));
}
