#!/usr/bin/env bash
# Throughput and peak memory of exfiltrace on this machine:
#   - ≥ 1 million generated FortiGate lines: cat, gzip -1, parse only, the answer on the stream,
#     analyze, ingest with queries after it (CLI), hunt, report, bleve's bare batch rate
#   - the EVTX corpus (../shared/corpus/evtx, if present): evtxexport vs our parse only
# Usage: bench/run.sh [LINES]   (default 1000000); results in bench/out/
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
out=bench/out
mkdir -p "$out"
go build -o "$out/tool" ./bench/tool
log="$out/fortigate-$lines.log"
[[ -f $log ]] || "$out/tool" gen "$lines" "$log"
mb=$(du -b "$log" | awk '{printf "%.1f", $1/1e6}')

echo "== $lines FortiGate lines ($mb MB), $(nproc) cores, $(go version | cut -d' ' -f3)"
cat "$log" >/dev/null # warm the page cache so every reader starts equal
s=$(date +%s.%N); cat "$log" >/dev/null; e=$(date +%s.%N)
awk -v s="$s" -v e="$e" -v mb="$mb" -v n="$lines" 'BEGIN{d=e-s; printf "%-28s %10d lines  %8.1f MB %7.2f s %10.0f lines/s  %8.1f MB/s\n","cat",n,mb,d,n/d,mb/d}'
"$out/tool" parse "$log"
"$out/tool" analyze "$log"   # the answer on the stream: rules, ledgers, baselines, links; no index
# The analyst's command end to end (parse, event store, the answer; no search index for a
# throw-away case), beside one gzip -1 pass over the same evidence.
go build -o "$out/exfiltrace" ./cmd/exfiltrace
s=$(date +%s.%N); gzip -1 -c "$log" >/dev/null; e=$(date +%s.%N)
awk -v s="$s" -v e="$e" -v mb="$mb" 'BEGIN{d=e-s; printf "%-28s %8.1f MB %7.2f s %8.1f MB/s\n","gzip -1 (yardstick)",mb,d,mb/d}'
s=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$out/analyze.rss" "$out/exfiltrace" analyze "$log" --quiet --format json -o /dev/null 2>/dev/null
e=$(date +%s.%N)
awk -v s="$s" -v e="$e" -v mb="$mb" -v n="$lines" -v rss="$(cat "$out/analyze.rss")" 'BEGIN{d=e-s; printf "%-28s %10d lines  %8.1f MB %7.2f s %10.0f lines/s  peak RSS %d MiB\n","exfiltrace analyze (CLI)",n,mb,d,n/d,rss/1024}'
# The case an analyst keeps: ingest (event store, columnar copy, full-text index) through the CLI,
# its size beside the evidence's, and the questions asked of it right after.
timed() { # NAME COMMAND...: wall time and peak RSS of one command
  local name=$1; shift
  local s e; s=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$out/rss" "$@" >/dev/null 2>"$out/stderr" || { echo "$name failed:"; cat "$out/stderr"; return 1; }
  e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" -v rss="$(tail -1 "$out/rss")" -v name="$name" 'BEGIN{printf "%-44s %8.2f s  peak RSS %d MiB\n",name,e-s,rss/1024}'
}
kept="$out/kept-case"
rm -rf "$kept"
timed "exfiltrace ingest (CLI, $lines lines)" "$out/exfiltrace" ingest --case "$kept" "$log" --quiet
awk -v c="$(du -sb "$kept" | cut -f1)" -v e="$(du -b "$log" | cut -f1)" 'BEGIN{printf "%-44s %8.1f MB for %.1f MB of evidence (%.2fx)\n","case on disk",c/1e6,e/1e6,c/e}'
addr=$(grep -m1 -o 'dstip=[0-9.]*' "$log" | cut -d= -f2)
timed "search one address" "$out/exfiltrace" search --case "$kept" --quiet --limit 100 "destination.ip:\"$addr\""
timed "top destination.ip --sum source.bytes" "$out/exfiltrace" top --case "$kept" --quiet destination.ip --sum source.bytes
timed "top destination.port --sum source.bytes" "$out/exfiltrace" top --case "$kept" --quiet destination.port --sum source.bytes
timed "stats" "$out/exfiltrace" stats --case "$kept" --quiet
timed "search free text ('message:* OR vssadmin')" "$out/exfiltrace" search --case "$kept" --quiet --limit 100 'message:* OR vssadmin'
timed "hunt (CLI, built-in pack)" "$out/exfiltrace" hunt --case "$kept" --quiet
rm -rf "$kept"
timed "analyze --case (CLI)" "$out/exfiltrace" analyze "$log" --case "$kept" --quiet --format json -o /dev/null
rm -rf "$kept"
BENCH_CASE="$out/case" "$out/tool" index "$log"
"$out/tool" hunt "$out/case"
"$out/tool" report "$out/case"
sigma=../shared/corpus/sigma/rules/windows
[[ -d $sigma ]] && "$out/tool" hunt "$out/case" "$sigma"
"$out/tool" bare "$log" # FortiGate sessions have no free text: bleve indexes (almost) nothing

corpus=../shared/corpus/evtx
if [[ -d $corpus ]]; then
  mapfile -t evtx < <(find "$corpus" -name '*.evtx' | sort)
  emb=$(du -cbL "${evtx[@]}" | tail -1 | awk '{printf "%.1f", $1/1e6}') # apparent size, MB
  echo "== EVTX corpus: ${#evtx[@]} files, $emb MB"
  if command -v evtxexport >/dev/null; then
    s=$(date +%s.%N)
    for f in "${evtx[@]}"; do evtxexport -f xml "$f" >/dev/null 2>&1 || true; done
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" -v mb="$emb" 'BEGIN{d=e-s; printf "%-28s %8.1f MB %7.2f s %8.1f MB/s\n","evtxexport (libevtx)",mb,d,mb/d}'
  else
    echo "evtxexport not installed (apt-get install libevtx-utils) — skipped"
  fi
  "$out/tool" parse "${evtx[@]}"
  # One large file (security.evtx's chunks repeated to ~110 MB): throughput and memory on a big log.
  big="$out/big.evtx"
  [[ -f $big ]] || "$out/tool" evtxgen "$corpus/omerbenamram-evtx/security.evtx" 50 "$big"
  bmb=$(du -b "$big" | awk '{printf "%.1f", $1/1e6}')
  if command -v evtxexport >/dev/null; then
    s=$(date +%s.%N); evtxexport -f xml "$big" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" -v mb="$bmb" 'BEGIN{d=e-s; printf "%-28s %8.1f MB %7.2f s %8.1f MB/s\n","evtxexport, one big file",mb,d,mb/d}'
  fi
  "$out/tool" parse "$big"
  # Windows events all carry free text (the rendered message): the full-text index's own load.
  "$out/tool" bare "$big"
  rm -rf "$kept"
  timed "exfiltrace ingest (CLI, the big EVTX file)" "$out/exfiltrace" ingest --case "$kept" "$big" --quiet
  rm -rf "$kept"
else
  echo "EVTX corpus not found at $corpus — skipped"
fi
echo "Go benchmarks: go test -run '^\$' -bench . ./parsers/... ./index/"
