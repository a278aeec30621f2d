#!/usr/bin/env bash
# Throughput and peak memory of exfiltrace on this machine:
#   - ≥ 1 million generated FortiGate lines: cat, parse only, parse+index (ingest), bleve's bare batch rate
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
BENCH_CASE="$out/case" "$out/tool" index "$log"
"$out/tool" hunt "$out/case"
"$out/tool" report "$out/case"
sigma=../shared/corpus/sigma/rules/windows
[[ -d $sigma ]] && "$out/tool" hunt "$out/case" "$sigma"
"$out/tool" bare "$log"

corpus=../shared/corpus/evtx
if [[ -d $corpus ]]; then
  mapfile -t evtx < <(find "$corpus" -name '*.evtx' | sort)
  emb=$(du -cb "${evtx[@]}" | tail -1 | awk '{printf "%.1f", $1/1e6}') # apparent size, MB
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
else
  echo "EVTX corpus not found at $corpus — skipped"
fi
echo "Go benchmarks: go test -run '^\$' -bench . ./parsers/... ./index/"
