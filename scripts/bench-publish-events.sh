#!/usr/bin/env bash
# Publish throughput before and after the event sequence (issue 10), on PostgreSQL.
#
# Builds server/benches/publish.rs at the baseline commit (c3ad660, the commit before the
# event sequence; in a git worktree under /tmp) and at the working tree, then runs both in
# this session, alternating (baseline, current, baseline, current, ...), on the same
# PostgreSQL server, and prints the figures side by side with the ratio current/baseline.
#
# Figures are from the dev profile (unoptimised) unless --release is passed: a release build
# of the workspace takes 14+ minutes on a 2-core machine. Compare the ratio, not the
# absolute numbers, and expect a few percent of variance between rounds.
#
# usage: scripts/bench-publish-events.sh [--release] [--no-build] [-n N] [--rounds R] [--database-url URL]
#   --no-build   reuse /tmp/govstore-bench-publish-{baseline,current} from an earlier run
#   -n N         publishes per mode per run (default 300)
#   --rounds R   baseline/current pairs (default 2)
#   --database-url URL   PostgreSQL server (default $GOVSTORE_TEST_POSTGRES_URL or
#                postgres://postgres:postgres@127.0.0.1:5432/postgres); each run creates and
#                drops its own database there.
set -euo pipefail

BASELINE=${BASELINE:-c3ad660}
WORKTREE=${WORKTREE:-/tmp/govstore-baseline}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

profile_flag=()
profile=dev
n=300
rounds=2
build=1
db_url=${GOVSTORE_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
while [ $# -gt 0 ]; do
    case "$1" in
        --release) profile_flag=(--release); profile=release ;;
        --no-build) build=0 ;;
        -n) n=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --database-url) db_url=$2; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

# Build the benches of govstore-server in directory $1; print the path of the publish bench.
build_bench() {
    (cd "$1" && cargo build --benches -p govstore-server "${profile_flag[@]}" --message-format=json) |
        python3 -c '
import json, sys
exe = None
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    t = m.get("target") or {}
    if m.get("reason") == "compiler-artifact" and t.get("name") == "publish" and "bench" in t.get("kind", []):
        exe = m.get("executable") or exe
if not exe:
    sys.exit("no publish bench binary in the cargo output")
print(exe)'
}

if [ "$build" = 1 ]; then
    # The baseline: a worktree at $BASELINE with today's bench file and its [[bench]] entry.
    if [ ! -d "$WORKTREE" ]; then
        git -C "$ROOT" worktree add --detach "$WORKTREE" "$BASELINE"
    fi
    mkdir -p "$WORKTREE/server/benches"
    cp "$ROOT/server/benches/publish.rs" "$WORKTREE/server/benches/publish.rs"
    if ! grep -q '^name = "publish"' "$WORKTREE/server/Cargo.toml"; then
        python3 - "$WORKTREE/server/Cargo.toml" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
anchor = '[[bench]]\nname = "pages"\nharness = false\n'
assert anchor in s, "no pages [[bench]] entry to add the publish entry after"
s = s.replace(anchor, anchor + '\n[[bench]]\nname = "publish"\nharness = false\n')
open(p, "w").write(s)
EOF
    fi

    # The baseline builds in a target dir of its own: its workspace crates have the same
    # names and versions as today's, and sharing one target dir lets the two builds
    # overwrite each other's artifacts (the next build of the working tree then links a
    # stale govstore-core). The first baseline build compiles the dependencies again.
    echo "building the baseline ($BASELINE, $profile profile)..." >&2
    base_exe=$(CARGO_TARGET_DIR="$ROOT/target/bench-baseline" build_bench "$WORKTREE")
    cp "$base_exe" /tmp/govstore-bench-publish-baseline
    echo "building the working tree ($profile profile)..." >&2
    cur_exe=$(build_bench "$ROOT")
    cp "$cur_exe" /tmp/govstore-bench-publish-current
fi

out=$(mktemp -d)
for r in $(seq 1 "$rounds"); do
    for which in baseline current; do
        echo "round $r: $which" >&2
        "/tmp/govstore-bench-publish-$which" -n "$n" --database-url "$db_url" | tee "$out/$which-$r.txt" >&2
    done
done

# Side by side: per mode and round, publishes/s and p50/p99 of both, and the ratio current/baseline.
python3 - "$out" "$rounds" "$n" "$profile" "$BASELINE" <<'EOF'
import re, sys
out, rounds, n, profile, baseline = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
pat = re.compile(r"^(\S+): (\d+) publishes, ([\d.]+)/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms")
def load(which, r):
    res = {}
    for line in open(f"{out}/{which}-{r}.txt"):
        m = pat.match(line)
        if m:
            res[m[1]] = (float(m[3]), float(m[4]), float(m[5]))
    return res
print(f"\npublish throughput, {n} publishes per mode per run, {profile} profile, baseline {baseline}")
print(f"{'mode':<14}{'round':>6}  {'baseline /s':>12}{'p50':>8}{'p99':>8}  {'current /s':>12}{'p50':>8}{'p99':>8}  {'ratio':>6}")
totals = {}
for r in range(1, rounds + 1):
    b, c = load("baseline", r), load("current", r)
    for mode in b:
        (bt, b50, b99), (ct, c50, c99) = b[mode], c[mode]
        t = totals.setdefault(mode, [0.0, 0.0])
        t[0] += bt; t[1] += ct
        print(f"{mode:<14}{r:>6}  {bt:>12.1f}{b50:>8.1f}{b99:>8.1f}  {ct:>12.1f}{c50:>8.1f}{c99:>8.1f}  {ct / bt:>6.2f}")
for mode, (bt, ct) in totals.items():
    print(f"{mode:<14}{'mean':>6}  {bt / rounds:>12.1f}{'':>16}  {ct / rounds:>12.1f}{'':>16}  {ct / bt:>6.2f}")
EOF
rm -rf "$out"
