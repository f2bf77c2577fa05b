#!/usr/bin/env bash
# Make sure a Docker engine answers and the test image exists. Idempotent:
# installs docker.io, busybox-static and procps when missing, starts dockerd when no
# engine answers, and imports `stevedore-test:latest` from the host's static
# busybox (no registry is reachable on these machines).
set -euo pipefail

IMAGE="${STEVEDORE_TEST_IMAGE:-stevedore-test:latest}"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

log() { echo "engine-up: $*" >&2; }

need_install=()
command -v dockerd >/dev/null 2>&1 || need_install+=(docker.io)
command -v docker >/dev/null 2>&1 || need_install+=(docker.io)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need_install+=(busybox-static)
# The tests signal processes (`kill`, `pkill`, `pgrep`): procps, absent from
# a brand-new machine's image.
command -v pkill >/dev/null 2>&1 || need_install+=(procps)
if [ "${#need_install[@]}" -gt 0 ]; then
  log "installing ${need_install[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_install[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "no engine answers; starting dockerd (log: /tmp/dockerd.log)"
  # A previous dockerd that died leaves its pid file behind and refuses to start.
  $SUDO rm -f /var/run/docker.pid
  # It also leaves its containerd behind, often dying, or a pid file naming a
  # pid that is gone or reused; dockerd then waits for a containerd that never
  # answers. Stop what is left and let dockerd start its own.
  containerd_pid=/var/run/docker/containerd/containerd.pid
  if [ -f "$containerd_pid" ]; then
    pid="$(cat "$containerd_pid")"
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = containerd ]; then
      $SUDO kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        [ -d "/proc/$pid" ] || break
        sleep 0.1
      done
    fi
    $SUDO rm -f "$containerd_pid"
  fi
  $SUDO sh -c 'nohup dockerd >/tmp/dockerd.log 2>&1 &'
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    log "dockerd did not answer within 60 s; last lines of its log:"
    tail -n 30 /tmp/dockerd.log >&2 || true
    exit 1
  fi
fi
log "engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "importing $IMAGE from the host's busybox"
  bb="$(command -v busybox)"
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/www" "$root/data"
  cp "$bb" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  echo 'hello from stevedore' >"$root/www/index.html"
  tar -C "$root" -c . | docker import \
    --change 'CMD ["/bin/sh"]' \
    --change 'ENV PATH=/bin' \
    --change 'ENV IMAGE_ONLY=from-image' \
    - "$IMAGE" >/dev/null
fi
log "test image $IMAGE ready"
