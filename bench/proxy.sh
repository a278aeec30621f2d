#!/usr/bin/env bash
# A web proxy's log beside a firewall's, at two sizes, to check that the
# proxy's flow ledgers (requests, tunnels) keep memory bounded as the
# evidence grows: analyze's wall time and peak RSS beside gzip -1 of the
# same files in the same run.
# Usage: bench/proxy.sh [SMALL LARGE]  (requests and FortiGate lines each;
# default 1000000 3000000); results in bench/out/proxy/.
set -euo pipefail
cd "$(dirname "$0")/.."
small=${1:-1000000} large=${2:-3000000}
out=bench/out/proxy
mkdir -p "$out"
go build -o bench/out/tool ./bench/tool
go build -o bench/out/exfiltrace ./cmd/exfiltrace
. bench/timed.sh
for n in "$small" "$large"; do
  ev=("$out/proxysg-$n.log" "$out/fortigate-$n.log")
  [[ -f ${ev[0]} ]] || bench/out/tool proxy "$n" "${ev[0]}"
  [[ -f ${ev[1]} ]] || bench/out/tool mix "$n" "${ev[1]}" 0 "$out/postfix-0.log"
  bytes=$(du -cbL "${ev[@]}" | tail -1 | cut -f1)
  echo "== $n proxy requests + $n FortiGate lines, $(awk -v b="$bytes" 'BEGIN{printf "%.2f GB", b/1e9}')"
  cat "${ev[@]}" >/dev/null
  timed "gzip -1 of the evidence (yardstick)" sh -c "cat ${ev[*]} | gzip -1 >/dev/null"
  timed "analyze proxy alone" bench/out/exfiltrace analyze "${ev[0]}" --quiet --format json -o "$out/proxy-$n.json"
  jq -r '"  verdict: \(.verdict.data_taken), \(.case.events) events"' "$out/proxy-$n.json"
  timed "analyze proxy + firewall" bench/out/exfiltrace analyze "${ev[@]}" --quiet --format json -o "$out/both-$n.json"
  jq -r '"  verdict: \(.verdict.data_taken), \(.case.events) events"' "$out/both-$n.json"
done
