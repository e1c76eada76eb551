#!/usr/bin/env bash
# End-to-end tests of govstore-server with real clients (skopeo, the oras Python
# client, the govstore CLI), each test once on SQLite and once on PostgreSQL. Installs
# nothing: see tests/e2e/CI-NEEDS.md for what the machine needs.
#
#   scripts/e2e.sh                      build the server and the CLI (debug), run every test
#   scripts/e2e.sh -k referrers -x      extra arguments go to pytest
#
# Environment:
#   GOVSTORE_SERVER_BIN     use this server binary and do not build it
#   GOVSTORE_CLI_BIN        use this govstore (CLI) binary and do not build it
#   GOVSTORE_E2E_NO_BUILD=1 do not run cargo build (use ${CARGO_TARGET_DIR:-target}/debug/{govstore-server,govstore})
#   GOVSTORE_E2E_BACKENDS   sqlite,postgres (default); "reference" checks the tests against docker-registry
#   GOVSTORE_E2E_PG_URL     PostgreSQL server without database (default postgres://postgres@127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

missing=()
for tool in python3 skopeo curl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
case ",${GOVSTORE_E2E_BACKENDS:-sqlite,postgres}," in
    *,postgres,*) command -v psql >/dev/null 2>&1 || missing+=(psql) ;;
esac
case ",${GOVSTORE_E2E_BACKENDS:-}," in
    *,reference,*) command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry) ;;
esac
if ! python3 -c 'import pytest, oras.client, requests, cryptography' 2>/dev/null; then
    missing+=("python packages (pip install -r tests/e2e/requirements.txt)")
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "e2e: missing: ${missing[*]} (see tests/e2e/CI-NEEDS.md)" >&2
    exit 2
fi

target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
build=()
if [ -z "${GOVSTORE_SERVER_BIN:-}" ]; then
    build+=(-p govstore-server --bin govstore-server)
    export GOVSTORE_SERVER_BIN="$target/debug/govstore-server"
fi
if [ -z "${GOVSTORE_CLI_BIN:-}" ]; then
    build+=(-p govstore-cli --bin govstore)
    export GOVSTORE_CLI_BIN="$target/debug/govstore"
fi
if [ ${#build[@]} -gt 0 ] && [ "${GOVSTORE_E2E_NO_BUILD:-0}" != 1 ]; then
    cargo build --quiet "${build[@]}"
fi

# Every request goes to 127.0.0.1: never through a proxy.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"
export PYTHONDONTWRITEBYTECODE=1

exec python3 -m pytest -q tests/e2e "$@"
