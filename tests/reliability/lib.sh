# Shared by the reliability tests: temp dir, the binary, assertions with both values.
set -u
ES_BIN=${ES_BIN:?ES_BIN must name the eventscope binary}
ES_SRC=${ES_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
export TZ=UTC NO_COLOR=1
work=$(mktemp -d /tmp/es-rel.XXXXXX)
pass=0
fail=0
cleanup_hooks=()
on_exit() {
    local h
    for h in "${cleanup_hooks[@]}"; do eval "$h"; done
    rm -rf "$work"
}
trap on_exit EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
expect_eq() { # expect_eq WHAT GOT WANT
    if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
sql() { sqlite3 -batch -noheader "$@"; }
finish() {
    echo "$(basename "$0"): $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
