#!/usr/bin/env python3
"""Checks used by scripts/attack.sh.

  check.py snap DIR            one line per entry under DIR (hidden ones too, recursively,
                               symlinks not followed): path, type, size, sha256 or link target.
                               The lock file .landwatch.lock is left out (its content may change).
  check.py diff OLD NEW        what changed between two snapshots, in one line.
  check.py origin DIR A B NAME...  whether the files NAME... of DIR all come from the run
                               snapshotted in A, all from B, or are mixed.
  check.py leftovers DIR...    entries directly in each DIR that are hidden (other than
                               .landwatch.lock) or look like a temp or staging file.
  check.py csv FILE...         cells of CSV files that a spreadsheet would run as a formula:
                               starting with = + - @ TAB or CR, unless a plain number.
  check.py regular DIR NAME... names under DIR that exist and are not regular files.
  check.py patches STDOUT      the patch count printed by enforce ("N patches, ..."), or -1.
  check.py closed-stdout CMD...  runs CMD with its stdout a pipe nobody reads any more (the
                               read end closed before CMD starts, as in `CMD | head` once head
                               has ended); exits with CMD's status (128+N for signal N).
"""

import csv
import hashlib
import os
import re
import signal
import stat
import subprocess
import sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # the callers cut long lists with head

LOCK = ".landwatch.lock"


def snap_lines(top):
    lines = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, top)
            if name == LOCK and dirpath == top:
                continue
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                lines.append(f"{rel}\tlink\t{os.readlink(p)}")
            elif stat.S_ISDIR(st.st_mode):
                lines.append(f"{rel}\tdir")
            elif stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                lines.append(f"{rel}\tfile\t{st.st_size}\t{h.hexdigest()}")
            else:
                lines.append(f"{rel}\tother")
        # os.walk does not descend into symlinked folders
    return lines


def snap(top):
    print("\n".join(snap_lines(top)))


def as_dict(lines):
    return {l.split("\t", 1)[0]: l for l in lines if l}


def read_snap(path):
    return as_dict(open(path).read().splitlines())


def diff(old_path, new_path):
    old, new = read_snap(old_path), read_snap(new_path)
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    modified = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    out = []
    for label, names in (("modified", modified), ("added", added), ("removed", removed)):
        if names:
            shown = ", ".join(names[:6]) + (f" (+{len(names) - 6} more)" if len(names) > 6 else "")
            out.append(f"{label}: {shown}")
    print("; ".join(out))


def origin(top, snap_a, snap_b, names):
    """Which reference run the files of `top` come from: A, B, or mixed."""
    cur = as_dict(snap_lines(top))
    cur = {k: v for k, v in cur.items() if not k.startswith(".")}
    a, b = read_snap(snap_a), read_snap(snap_b)
    votes = {}
    for n in names:
        c = cur.get(n)
        if a.get(n) == b.get(n):
            if c != a.get(n):
                votes[n] = "neither"
            continue
        votes[n] = "A" if c == a.get(n) else "B" if c == b.get(n) else ("missing" if c is None else "neither")
    kinds = set(votes.values())
    listing_a, listing_b = set(a), set(b)
    extra = sorted(set(cur) - (listing_a | listing_b))
    if kinds <= {"A"} and set(cur) == listing_a and not extra:
        print("A")
    elif kinds == {"B"} and set(cur) == listing_b and not extra:
        print("B")
    else:
        detail = ", ".join(f"{n}={v}" for n, v in sorted(votes.items()))
        if extra:
            detail += "; extra: " + ", ".join(extra)
        print(f"mixed: {detail}")


TEMPISH = re.compile(r"(\.tmp|tmp-|\.part$|staging|\.partial|~$|\.swp$)", re.I)


def leftovers(tops):
    for top in tops:
        if not os.path.isdir(top):
            continue
        for name in sorted(os.listdir(top)):
            if name != LOCK and (name.startswith(".") or TEMPISH.search(name)):
                print(name)


NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def csv_cells(files):
    for f in files:
        if not os.path.exists(f):
            continue
        with open(f, newline="", encoding="utf-8", errors="replace") as fh:
            for r, row in enumerate(csv.reader(fh)):
                for c, cell in enumerate(row):
                    if cell and cell[0] in "=+-@\t\r" and not NUMBER.match(cell):
                        print(f"{os.path.basename(f)}:{r + 1}:{c + 1}:{cell!r}")


def regular(top, names):
    for name in names:
        p = os.path.join(top, name)
        if os.path.lexists(p) and not stat.S_ISREG(os.lstat(p).st_mode):
            print(name)


def patches(path):
    m = re.search(r"^(\d+) patches,", open(path, errors="replace").read(), re.M)
    print(m.group(1) if m else -1)


def closed_stdout(cmd):
    r, w = os.pipe()
    os.close(r)
    rc = subprocess.run(cmd, stdout=w, stdin=subprocess.DEVNULL).returncode  # SIGPIPE default in CMD
    sys.exit(128 - rc if rc < 0 else rc)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "snap":
        snap(args[0])
    elif cmd == "diff":
        diff(args[0], args[1])
    elif cmd == "origin":
        origin(args[0], args[1], args[2], args[3:])
    elif cmd == "leftovers":
        leftovers(args)
    elif cmd == "csv":
        csv_cells(args)
    elif cmd == "regular":
        regular(args[0], args[1:])
    elif cmd == "patches":
        patches(args[0])
    elif cmd == "closed-stdout":
        closed_stdout(args)
    else:
        sys.exit(f"unknown command {cmd}")
