# Shared by tests/cli/test_*.sh that source it: the binary and source tree from ctest, a
# temporary folder $T removed on exit, expect NAME GOT WANT, q DB SQL, and finish.
set -u
BIN=${ES_BIN:?ES_BIN not set}
SRC=${ES_SRC:?ES_SRC not set}
T=$(mktemp -d /tmp/es_cli_test.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
expect() {
    if [ "$2" = "$3" ]; then
        echo "ok   $1"
    else
        echo "FAIL $1: got '$2', want '$3'"
        fails=$((fails + 1))
    fi
}
q() { sqlite3 -batch -noheader "$1" "$2"; }
finish() {
    echo "$fails failed"
    [ "$fails" = 0 ]
}
