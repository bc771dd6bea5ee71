#!/bin/sh
# Checks that the Debian packages in $DEPS are installed. As root, installs the missing
# ones; otherwise prints the exact apt-get line and fails.
missing=""
for p in $DEPS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "eventscope: installing missing packages:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >&2 && exit 0
    echo "eventscope: apt-get install failed" >&2
    exit 1
fi
echo "eventscope: missing Debian packages. Run as root:" >&2
echo "    apt-get install -y$missing" >&2
exit 1
