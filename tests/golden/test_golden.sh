#!/usr/bin/env bash
# ctest entry: every golden case under tests/golden (see run.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${ES_BIN:?ES_BIN must name the eventscope binary}"
exec bash "$here/run.sh"
