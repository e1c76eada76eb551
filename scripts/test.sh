#!/usr/bin/env bash
# govstore's tests, the command the README gives:
#   1. every crate's tests (cargo nextest; the server's HTTP tests run on SQLite and on
#      PostgreSQL, which must be running: GOVSTORE_TEST_POSTGRES_URL, default
#      postgres://postgres@127.0.0.1:5432/postgres);
#   2. the end-to-end tests with real clients (skopeo, oras, the govstore CLI)
#      against the server binary, on SQLite and PostgreSQL (scripts/e2e.sh);
#   3. the browser tests of the web catalogue in headless Chromium (scripts/browser.sh).
# Installs nothing; .ci/run installs what a fresh machine lacks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast
else
    echo "test: cargo-nextest not found, using cargo test" >&2
    cargo test --workspace --no-fail-fast
fi
bash scripts/e2e.sh
bash scripts/browser.sh
