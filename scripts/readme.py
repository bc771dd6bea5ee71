#!/usr/bin/env python3
"""Refreshes the example outputs in README.md: every block

    <!-- run: eventscope ARGS -->
    ```
    ...output...
    ```

is replaced by the real output of `BIN -d DB ARGS` (stdout, then stderr), cut to the
number of lines given by an optional `| head -N` at the end of ARGS.
usage: scripts/readme.py BIN DB [README]"""
import re
import shlex
import subprocess
import sys

binp, db = sys.argv[1], sys.argv[2]
path = sys.argv[3] if len(sys.argv) > 3 else "README.md"
text = open(path, encoding="utf-8").read()
pat = re.compile(r"(<!-- run: eventscope (.*?) -->\n```[a-z]*\n)(.*?)(```)", re.S)


def run(m):
    args = m.group(2)
    head = None
    hm = re.search(r"\s*\|\s*head -(\d+)\s*$", args)
    if hm:
        head = int(hm.group(1))
        args = args[: hm.start()]
    env = {"TZ": "UTC", "NO_COLOR": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "100"}
    p = subprocess.run([binp, "-d", db] + shlex.split(args), capture_output=True, text=True,
                       env=env, cwd=".")
    out = (p.stdout + p.stderr).replace(db, "demo.db")
    lines = out.rstrip("\n").split("\n")
    if head is not None and len(lines) > head:
        lines = lines[:head] + ["..."]
    return m.group(1) + "\n".join(lines) + "\n" + m.group(4)


open(path, "w", encoding="utf-8").write(pat.sub(run, text))
