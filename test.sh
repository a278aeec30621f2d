#!/usr/bin/env bash
# The project's test command (README, .ci/run): static checks, every test,
# then a short run of every fuzz target (FUZZTIME=30s ./test.sh for longer).
set -euo pipefail
cd "$(dirname "$0")"
fuzztime=${FUZZTIME:-5s}

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
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/dev/null
  done
done
echo "all tests passed"
