#!/bin/sh
# Rewrites tests/tui/screens/*.screen from the current binary; review the diff like code.
# usage: tests/tui/update.sh [BUILD_DIR] [test_tui_NAME.sh...]
set -e
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
[ $# -gt 0 ] && shift
tests=${*:-$(cd "$src/tests/tui" && ls test_tui_*.sh)}
for t in $tests; do
    ES_TUI_UPDATE=1 ES_BIN="$build/eventscope" ES_SRC="$src" ES_BUILD="$build" \
        bash "$src/tests/tui/$t"
done
