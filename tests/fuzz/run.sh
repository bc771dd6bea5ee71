#!/usr/bin/env bash
# Runs every libFuzzer target of a build made with -DES_FUZZERS=ON for SECONDS each,
# starting from the committed corpus (read only: new inputs go to BUILD_DIR/corpus-<target>);
# a crash input is left in tests/fuzz/crashes/<target>/ to be committed as a regression case,
# and the sanitizer's report (error, first frames, summary) is printed.
# FUZZ_SEED=N fixes libFuzzer's seed: the same build and corpus then try the same inputs in
# the same order, so a failure is reproducible and a longer run covers a shorter one (CI
# sets it; unset, every run explores anew).
# FUZZ_ONLY="http tcp" runs just those targets.
# usage: [FUZZ_SEED=N] [FUZZ_ONLY=NAMES] tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -u
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
src=$(cd "$(dirname "$0")" && pwd)
fail=0
ran=0
for bin in "$build"/tests/fuzz_*_fuzzer; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin" _fuzzer)
    short=${name#fuzz_}
    [ -n "${FUZZ_ONLY:-}" ] && [[ " $FUZZ_ONLY " != *" $short "* ]] && continue
    corpus="$src/corpus/$short"
    crashes="$src/crashes/$short"
    scratch="$build/corpus-$short"
    mkdir -p "$corpus" "$scratch"
    opts=()
    [ -f "$src/$short.dict" ] && opts=(-dict="$src/$short.dict")
    [ -n "${FUZZ_SEED:-}" ] && opts+=(-seed="$FUZZ_SEED")
    echo "== $short: ${secs}s"
    if ! "$bin" -max_total_time="$secs" -max_len=65536 -timeout=30 -rss_limit_mb=2048 \
        -artifact_prefix="$build/crash-$short-" "${opts[@]}" "$scratch" "$corpus" \
        >"$build/fuzz-$short.log" 2>&1; then
        mkdir -p "$crashes"
        cp "$build"/crash-"$short"-* "$crashes/" 2>/dev/null
        echo "!! $short: crash or failure, see $build/fuzz-$short.log and $crashes/"
        grep -E -m 12 'ERROR|runtime error|^ +#[0-5] |SUMMARY|out-of-memory|Test unit written' \
            "$build/fuzz-$short.log" | sed 's/^/!!   /'
        fail=$((fail + 1))
    fi
    grep -E '^(Done|#[0-9]+.*DONE)' "$build/fuzz-$short.log" | tail -1
    ran=$((ran + 1))
done
echo "$((ran - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
