//! Table tests of the spec ↔ engine mappings.
use super::*;
use bollard::models::{ContainerConfig, ContainerState, EventActor, ImageConfig};
use std::time::Duration;

fn web() -> UnitSpec {
    UnitSpec::new("web", "busybox:latest")
        .command(["httpd", "-f"])
        .env("GREETING", "hello")
        .port("127.0.0.1:18080:8080".parse().unwrap())
        .port("9000/udp".parse().unwrap())
        .volume("/srv:/data:ro".parse().unwrap())
        .memory(64 << 20)
        .cpu_shares(512)
        .swappiness(0)
        .stop_signal("SIGINT")
        .stop_timeout(Duration::from_secs(7))
}

#[test]
fn create_body_carries_every_field_of_the_spec() {
    let body = create_body("demo", &web(), "h", &CarriedState::default());
    assert_eq!(body.image.as_deref(), Some("busybox:latest"));
    assert_eq!(body.cmd, Some(vec!["httpd".into(), "-f".into()]));
    assert_eq!(body.env, Some(vec!["GREETING=hello".into()]));
    assert_eq!(
        body.exposed_ports,
        Some(vec!["8080/tcp".into(), "9000/udp".into()])
    );
    assert_eq!(body.stop_signal.as_deref(), Some("SIGINT"));
    let host = body.host_config.unwrap();
    assert_eq!(host.memory, Some(64 << 20));
    assert_eq!(host.cpu_shares, Some(512));
    assert_eq!(host.memory_swappiness, Some(0));
    assert_eq!(host.binds, Some(vec!["/srv:/data:ro".into()]));
    assert!(
        host.restart_policy.is_none(),
        "the engine must not restart on its own"
    );
    let bindings = host.port_bindings.unwrap();
    let tcp = bindings["8080/tcp"].as_ref().unwrap();
    assert_eq!(tcp[0].host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(tcp[0].host_port.as_deref(), Some("18080"));
    assert_eq!(
        bindings["9000/udp"].as_ref().unwrap()[0]
            .host_port
            .as_deref(),
        Some("")
    );
    let labels = body.labels.unwrap();
    assert_eq!(labels[labels::NAMESPACE], "demo");
    assert_eq!(labels[labels::SPEC_HASH], "h");
}

#[test]
fn a_plain_spec_leaves_limits_and_command_to_the_engine() {
    let body = create_body(
        "demo",
        &UnitSpec::new("w", "busybox"),
        "h",
        &CarriedState::default(),
    );
    let host = body.host_config.unwrap();
    assert_eq!(
        (host.memory, host.cpu_shares, host.memory_swappiness),
        (None, None, None)
    );
    assert!(body.cmd.is_none() && body.env.is_none() && host.port_bindings.is_none());
}

#[test]
fn exit_codes_are_read_from_list_status_text() {
    assert_eq!(
        exit_code_from_status("Exited (137) 2 seconds ago"),
        Some(137)
    );
    assert_eq!(
        exit_code_from_status("Exited (0) About a minute ago"),
        Some(0)
    );
    assert_eq!(exit_code_from_status("Up 3 seconds"), None);
}

#[test]
fn die_events_carry_their_exit_code() {
    let message = EventMessage {
        action: Some("die".into()),
        actor: Some(EventActor {
            id: Some("abc".into()),
            attributes: Some(HashMap::from([
                ("exitCode".into(), "3".into()),
                ("name".into(), "demo--w".into()),
            ])),
        }),
        time_nano: Some(42),
        ..Default::default()
    };
    let event = container_event(&message).unwrap();
    assert_eq!(event.kind, ContainerEventKind::Died { exit_code: 3 });
    assert_eq!(
        (event.id.as_str(), event.name.as_str(), event.time_nanos),
        ("abc", "demo--w", 42)
    );
}

#[test]
fn health_status_events_and_list_statuses_carry_the_verdict() {
    let message = EventMessage {
        action: Some("health_status: unhealthy".into()),
        actor: Some(EventActor {
            id: Some("abc".into()),
            attributes: None,
        }),
        ..Default::default()
    };
    assert_eq!(
        container_event(&message).unwrap().kind,
        ContainerEventKind::HealthChanged(Health::Unhealthy)
    );
    assert_eq!(
        health_from_status("Up 3 seconds (healthy)"),
        Some(Health::Healthy)
    );
    assert_eq!(
        health_from_status("Up Less than a second (health: starting)"),
        Some(Health::Starting)
    );
    assert_eq!(
        health_from_status("Up 2 minutes (unhealthy)"),
        Some(Health::Unhealthy)
    );
    assert_eq!(health_from_status("Up 2 minutes"), None);
    assert_eq!(health_from_status("Up 2 minutes (Paused)"), None);
}

#[test]
fn a_check_maps_to_nanoseconds_and_leaves_the_rest_to_the_engine() {
    let check = HealthCheck::exec(["test", "-f", "/ok"])
        .interval(Duration::from_millis(500))
        .retries(2);
    let spec = UnitSpec::new("w", "busybox").healthcheck(check);
    let body = create_body("demo", &spec, "h", &CarriedState::default());
    let config = body.healthcheck.unwrap();
    assert_eq!(
        config.test,
        Some(vec!["CMD".into(), "test".into(), "-f".into(), "/ok".into()])
    );
    assert_eq!(config.interval, Some(500_000_000));
    assert_eq!(config.retries, Some(2));
    assert_eq!(
        (config.timeout, config.start_period, config.start_interval),
        (None, None, None)
    );
    let plain = create_body(
        "demo",
        &UnitSpec::new("w", "b"),
        "h",
        &CarriedState::default(),
    );
    assert!(
        plain.healthcheck.is_none(),
        "no check declared: the image's stays"
    );
}

#[test]
fn events_stevedore_does_not_act_on_are_dropped() {
    let message = EventMessage {
        action: Some("exec_start: sh".into()),
        actor: Some(EventActor {
            id: Some("abc".into()),
            attributes: None,
        }),
        ..Default::default()
    };
    assert_eq!(container_event(&message), None);
}

fn inspect_of(spec: &UnitSpec, extra_env: &[&str]) -> ContainerInspectResponse {
    let body = create_body("demo", spec, "h", &CarriedState::default());
    let mut env = body.env.clone().unwrap_or_default();
    env.extend(extra_env.iter().map(|e| e.to_string()));
    ContainerInspectResponse {
        id: Some("abc".into()),
        config: Some(ContainerConfig {
            image: body.image.clone(),
            cmd: body.cmd.clone().or(Some(vec!["/bin/sh".into()])),
            env: Some(env),
            labels: body.labels.clone(),
            ..Default::default()
        }),
        host_config: body.host_config.clone(),
        state: Some(ContainerState {
            running: Some(false),
            exit_code: Some(3),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn image_with(env: &[&str], cmd: &[&str]) -> ImageInspect {
    ImageInspect {
        config: Some(ImageConfig {
            env: Some(env.iter().map(|e| e.to_string()).collect()),
            cmd: Some(cmd.iter().map(|c| c.to_string()).collect()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn details_list_only_the_units_environment_and_its_own_command() {
    let image = image_with(&["PATH=/bin"], &["/bin/sh"]);
    let details = container_details(&inspect_of(&web(), &["PATH=/bin"]), Some(&image));
    assert_eq!(
        details.env,
        BTreeMap::from([("GREETING".into(), "hello".into())])
    );
    assert_eq!(details.command, Some(vec!["httpd".into(), "-f".into()]));
    assert_eq!(details.memory, Some(64 << 20));
    assert_eq!(details.cpu_shares, Some(512));
    assert_eq!(details.ports.len(), 2);
    assert_eq!(details.volumes, web().volumes);
    assert_eq!(details.exit_code, Some(3));
}

#[test]
fn the_images_command_reads_as_none_and_unset_limits_as_none() {
    let plain = UnitSpec::new("w", "busybox");
    let image = image_with(&["PATH=/bin"], &["/bin/sh"]);
    let details = container_details(&inspect_of(&plain, &["PATH=/bin"]), Some(&image));
    assert_eq!(details.command, None);
    assert!(details.env.is_empty());
    assert_eq!((details.memory, details.cpu_shares), (None, None));
}

#[test]
fn a_deleted_image_falls_back_to_the_stored_spec() {
    let details = container_details(&inspect_of(&web(), &["PATH=/bin"]), None);
    assert_eq!(details.env.len(), 1);
    assert_eq!(details.command, web().command);
}

#[test]
fn engine_times_read_to_the_nanosecond_and_its_zero_time_reads_as_never() {
    let at = engine_time("2026-12-01T11:50:14.123456789Z").expect("a time");
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap();
    assert_eq!(since.as_secs(), 1_796_125_814);
    assert_eq!(since.subsec_nanos(), 123_456_789);
    assert_eq!(engine_time("0001-01-01T00:00:00Z"), None);
    assert_eq!(engine_time("yesterday"), None);
}
