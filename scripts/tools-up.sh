#!/usr/bin/env bash
# Installs, when missing, what the tests use besides the engine (see
# engine-up.sh for that): promtool (Debian's prometheus) to check /metrics,
# schemathesis for the API's OpenAPI document, Chromium and playwright-core
# for the status page. Idempotent.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
log() { echo "tools-up: $*" >&2; }

need_install=()
command -v promtool >/dev/null 2>&1 || need_install+=(prometheus)
# Compose files are compared with what Debian's docker-compose (1.29) makes of them.
command -v docker-compose >/dev/null 2>&1 || need_install+=(docker-compose)
command -v chromium >/dev/null 2>&1 || need_install+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_install+=(chromium-driver)
if [ "${#need_install[@]}" -gt 0 ]; then
  log "installing ${need_install[*]}"
  $SUDO apt-get update -qq
  # No recommends: prometheus would bring its exporters, chromium its extras.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${need_install[@]}" >/dev/null
fi
# The API is checked against its OpenAPI document by schemathesis (PyPI).
if ! command -v st >/dev/null 2>&1; then
  log "installing schemathesis"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore schemathesis
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
  hash -r
fi
# The page tests drive Chromium with playwright-core (no browser download:
# it launches Debian's chromium).
page_dir="$(dirname "$0")/../tests/page"
if [ ! -d "$page_dir/node_modules/playwright-core" ]; then
  log "installing playwright-core for the page tests"
  (cd "$page_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
log "promtool $(promtool --version 2>&1 | head -1 | awk '{print $3}'), $(chromium --version 2>/dev/null || echo 'no chromium')"
