#!/usr/bin/env bash
# Browser tests of the web catalogue: keyboard-only flows in headless Chromium (Debian's
# `chromium`, driven by playwright-core) and axe-core on every page type, against
# `govstore-server serve --demo` with the DPG listings imported, once per database.
# Screenshots of every page type go to tests/browser/artifacts/<backend>/.
#
#   scripts/browser.sh                                  build the server (debug), run every test
#   scripts/browser.sh --test-name-pattern=axe          extra arguments go to `node --test`
#
# Environment:
#   GOVSTORE_SERVER_BIN        use this server binary and do not build it
#   GOVSTORE_E2E_NO_BUILD=1    do not run cargo build (use ${CARGO_TARGET_DIR:-target}/debug/govstore-server)
#   GOVSTORE_BROWSER_BACKENDS  sqlite,postgres (default)
#   GOVSTORE_E2E_PG_URL        PostgreSQL server without database (default postgres://postgres@127.0.0.1:5432)
#   CHROMIUM_BIN               default /usr/bin/chromium
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

chromium="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
    echo "browser: Chromium not found at $chromium; install Debian's package (apt-get install chromium) or set CHROMIUM_BIN" >&2
    exit 2
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "browser: node and npm are needed (apt-get install nodejs npm)" >&2
    exit 2
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    echo "browser: playwright-core needs Node.js 20 or newer; this is $(node --version)" >&2
    exit 2
fi
backends="${GOVSTORE_BROWSER_BACKENDS:-sqlite,postgres}"
case ",$backends," in
    *,postgres,*) command -v psql >/dev/null 2>&1 || { echo "browser: psql is needed for the postgres run" >&2; exit 2; } ;;
esac

# The pinned node modules (package-lock.json), installed when missing or out of date.
(
    cd tests/browser
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        npm ci --no-audit --no-fund --loglevel=error
    fi
)

target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
if [ -z "${GOVSTORE_SERVER_BIN:-}" ]; then
    export GOVSTORE_SERVER_BIN="$target/debug/govstore-server"
    if [ "${GOVSTORE_E2E_NO_BUILD:-0}" != 1 ]; then
        cargo build --quiet -p govstore-server --bin govstore-server
    fi
fi

cd tests/browser
rm -rf artifacts
status=0
IFS=, read -r -a list <<<"$backends"
for backend in "${list[@]}"; do
    echo "=== browser tests on $backend"
    GOVSTORE_BROWSER_BACKEND="$backend" node --test --test-reporter=spec --test-concurrency=1 "$@" catalogue.test.js countries.test.js signin.test.js bundles.test.js \
        || status=1
done
echo "browser: screenshots in $(pwd)/artifacts"
exit $status
