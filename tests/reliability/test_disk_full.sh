#!/usr/bin/env bash
# Disk full (issue 7): a store on a 4 MiB tmpfs. A load that does not fit ends with a clear
# error and exit 3; the store stays valid and what was stored before is intact.
# Needs root (mount); elsewhere it says so and fails, as CI runs as root.
. "$(dirname "$0")/lib.sh"

mnt="$work/mnt"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=4m tmpfs "$mnt" 2>"$work/mount.err"; then
    echo "cannot mount a tmpfs (need root): $(cat "$work/mount.err")" >&2
    exit 1
fi
cleanup_hooks+=("umount '$mnt' 2>/dev/null")
db="$mnt/full.db"
python3 "$(dirname "$0")/gen_events.py" 2000 3 >"$work/small.jsonl"
python3 "$(dirname "$0")/gen_events.py" 60000 5 >"$work/big.jsonl"

"$ES_BIN" -d "$db" ingest "$work/small.jsonl" 2>"$work/small.err"
expect_eq "small load exit" "$?" 0
expect_eq "small load rows" "$(sql "$db" 'SELECT count(*) FROM events;')" 2000
before=$(sql "$db" 'SELECT sum(length(event_id) + length(data)) FROM events;')

"$ES_BIN" -d "$db" ingest "$work/big.jsonl" >/dev/null 2>"$work/big.err"
rc=$?
expect_eq "disk-full exit status" "$rc" 3
grep -qi 'full\|no space' "$work/big.err" && ok || bad "no clear disk-full message: $(tail -2 "$work/big.err")"
grep -q 'full.db' "$work/big.err" && ok || bad "the message does not name the store: $(tail -2 "$work/big.err")"

# Room again: the store is valid and the first load intact.
rm -f "$work/filler"
expect_eq "integrity_check after disk full" "$(sql "$db" 'PRAGMA integrity_check;')" ok
expect_eq "first load intact" \
    "$(sql "$db" "SELECT sum(length(event_id) + length(data)) FROM events WHERE location LIKE '%small.jsonl:%';")" "$before"
expect_eq "first load rows" "$(sql "$db" "SELECT count(*) FROM events WHERE location LIKE '%small.jsonl:%';")" 2000
finish
