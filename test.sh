#!/usr/bin/env bash
# The project's test command (README, .ci/run): static checks, every test,
# then a short run of every fuzz target (FUZZTIME=30s ./test.sh for longer).
set -euo pipefail
cd "$(dirname "$0")"
fuzztime=${FUZZTIME:-5s}
# Go minimizes every input that finds new code, for up to 60 s each by
# default: a 5 s run of a target whose inputs are slow to run (FuzzArchive
# writes and reads an archive per input) spent all of it minimizing its
# first new input (a few dozen executions instead of thousands). A bounded
# minimization leaves the time to fuzzing; a failing input is written as
# found, or shrunk a little.
minimize=${FUZZMINIMIZE:-100x}

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n $unformatted ]]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -count=1 ./...

# Fuzz every target briefly; a crash fails the run and leaves its input in testdata/fuzz.
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz $pkg $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg" >/tmp/exfiltrace-fuzz.out 2>&1; then
      tail -40 /tmp/exfiltrace-fuzz.out
      # A crash leaves its input under testdata/fuzz and fails here. A worker
      # the coordinator lost without a recorded input is retried once, and
      # said so: a real hang comes back on the retry. So is a run the fuzzing
      # engine ends past its deadline with no input recorded: Go 1.26's
      # coordinator races its own -fuzztime deadline on a loaded machine
      # (go.dev/issue/75804, fixed in Go 1.27), so the retry counts
      # executions instead of time and has no deadline to race: as many as
      # the first run made (1,000 at least), so that a slow target
      # (FuzzQuery: ~35 a second) is not retried for 10 minutes.
      if grep -Eq 'hung or terminated unexpectedly|context deadline exceeded' /tmp/exfiltrace-fuzz.out && ! grep -q 'Failing input written' /tmp/exfiltrace-fuzz.out; then
        made=$(grep -o 'execs: [0-9]*' /tmp/exfiltrace-fuzz.out | tail -1 | grep -o '[0-9]*' || true)
        retry=${FUZZRETRY:-$(( ${made:-0} > 1000 ? ${made:-0} : 1000 ))x}
        echo "fuzz $target: worker lost without a failing input; retrying once ($retry)"
        go test -run '^$' -fuzz "^${target}\$" -fuzztime "$retry" -fuzzminimizetime "$minimize" "$pkg" >/tmp/exfiltrace-fuzz.out 2>&1 || { tail -40 /tmp/exfiltrace-fuzz.out; exit 1; }
      else
        exit 1
      fi
    fi
  done
done
echo "all tests passed"
