#!/usr/bin/env bash
# Compares two roots made by scripts/ab-outputs.sh: every file byte for byte, except
# summary.json (compared as JSON without its timing fields) and report.html and the printed
# output (compared without the stage-time table and times in seconds).
#   scripts/ab-compare.sh ROOT_A ROOT_B      (prints "compare done bad=0" when identical)
A=$1; B=$2; bad=0
cd "$A"
while IFS= read -r f; do
  if [ ! -e "$B/$f" ]; then echo "MISSING $f"; bad=1; continue; fi
  case "$f" in
    *summary.json) /usr/bin/python3 -c '
import json,sys
def strip(d):
    if isinstance(d,dict): return {k:strip(v) for k,v in d.items() if k not in ("stages_seconds","elapsed_seconds","seconds")}
    if isinstance(d,list): return [strip(x) for x in d]
    return d
a=strip(json.load(open(sys.argv[1]))); b=strip(json.load(open(sys.argv[2])))
sys.exit(0 if a==b else 1)' "$f" "$B/$f" || { echo "DIFF $f"; bad=1; } ;;
    *report.html|*.stdout) diff -q <(sed -E 's/<h2>Stages.*//; s/[0-9]+\.[0-9]+ ?s\b//g' "$f") <(sed -E 's/<h2>Stages.*//; s/[0-9]+\.[0-9]+ ?s\b//g' "$B/$f") >/dev/null || { echo "DIFF(text) $f"; bad=1; } ;;
    *) cmp -s "$f" "$B/$f" || { echo "DIFF $f"; bad=1; } ;;
  esac
done < <(find . -type f | sort)
[ $(cd "$B" && find . -type f | wc -l) -eq $(find . -type f | wc -l) ] || { echo "file count differs"; bad=1; }
echo "compare done bad=$bad"; exit $bad
