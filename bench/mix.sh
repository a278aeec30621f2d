#!/usr/bin/env bash
# Issue 10's mixed case, timed stage by stage beside gzip -1 of the same evidence in the same run:
# FortiGate lines with interim records, Windows events (an EVTX file of the corpus's security.evtx
# chunks repeated), Postfix messages (two events each: connection and message).
# Usage: bench/mix.sh [FORTIGATE_LINES POSTFIX_MESSAGES EVTX_REPEATS]  (default 8000000 250000 663:
# 8 M + 1.5 M + 0.5 M events, ~6.6 GB); results in bench/out/mix/. Needs ../shared/corpus/evtx.
set -euo pipefail
cd "$(dirname "$0")/.."
fg=${1:-8000000} pf=${2:-250000} reps=${3:-663}
out=bench/out/mix
mkdir -p "$out"
go build -o bench/out/tool ./bench/tool
go build -o bench/out/exfiltrace ./cmd/exfiltrace
x=bench/out/exfiltrace
ev=(
  "$out/fortigate-$fg.log"
  "$out/postfix-$pf.log"
  "$out/security-x$reps.evtx"
)
[[ -f ${ev[0]} && -f ${ev[1]} ]] || bench/out/tool mix "$fg" "${ev[0]}" "$pf" "${ev[1]}"
[[ -f ${ev[2]} ]] || bench/out/tool evtxgen ../shared/corpus/evtx/omerbenamram-evtx/security.evtx "$reps" "${ev[2]}"
bytes=$(du -cbL "${ev[@]}" | tail -1 | cut -f1)
echo "== mixed case: $fg FortiGate lines, $pf Postfix messages, EVTX x$reps; $(awk -v b="$bytes" 'BEGIN{printf "%.2f GB", b/1e9}'), $(nproc) cores"
cat "${ev[@]}" >/dev/null
. bench/timed.sh
timed "gzip -1 of the evidence (yardstick)" sh -c "cat ${ev[*]} | gzip -1 >/dev/null"
timed "analyze (temporary case)" "$x" analyze "${ev[@]}" --quiet --format json -o "$out/findings.json"
jq -r '"  verdict: \(.verdict.data_taken), \(.case.events) events"' "$out/findings.json"
rm -rf "$out/case"
timed "ingest (full-text index)" "$x" ingest --case "$out/case" "${ev[@]}" --quiet
n=$(jq '.events' "$out/case/manifest.json")
awk -v c="$(du -sb "$out/case" | cut -f1)" -v e="$bytes" -v n="$n" 'BEGIN{printf "%-46s %8d events; case %.2f GB, %.2fx the evidence\n","case",n,c/1e9,c/e}'
addr=$(grep -m1 -o 'dstip=[0-9.]*' "${ev[0]}" | cut -d= -f2)
timed "search one address" "$x" search --case "$out/case" --quiet --limit 100 "destination.ip:\"$addr\""
timed "top destination.ip --sum source.bytes" "$x" top --case "$out/case" --quiet destination.ip --sum source.bytes
timed "stats" "$x" stats --case "$out/case" --quiet
timed "search free text (process.command_line:*)" "$x" search --case "$out/case" --quiet --limit 100 'process.command_line:* OR message:logon'
timed "search free text and a field" "$x" search --case "$out/case" --quiet --limit 100 'message:lsass AND NOT user.name:system'
timed "hunt, built-in pack" "$x" hunt --case "$out/case" --quiet
sigma=../shared/corpus/sigma/rules/windows
[[ -d $sigma ]] && timed "hunt, pack + SigmaHQ Windows rules" "$x" hunt --case "$out/case" --quiet --rules "$sigma"
