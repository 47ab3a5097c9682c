#!/usr/bin/env bash
# Mutation testing with gremlins (github.com/go-gremlins/gremlins): each
# covered operator or constant of a package is changed in turn (< to <=,
# + to -, a condition negated, ...) and the package's tests run without the
# race detector; a change the tests do not notice survives. The score of a
# package is killed / (killed + survived), its mutator coverage
# (killed + survived) / (killed + survived + not covered), both after
# subtracting the survivors listed as equivalent, each with its reason, in
# scripts/mutation-exclusions.txt (gremlins v0.6 has no per-mutant exclusion
# of its own, only whole files: scripts/mutscore.go applies the list). The
# mutants gremlins reports as not covered because their line has no
# coverage block (constants, case clauses) are run by scripts/mutscore.go.
#
# Full run, every package under the bar (about an hour on two cores):
#   scripts/mutation.sh
# Only the lines changed since a git base, in the packages they touch (CI):
#   scripts/mutation.sh -d HEAD~1
# Some packages only:
#   scripts/mutation.sh parser adapter
#
# Options:
#   -d BASE     diff mode: only mutants on lines changed since the merge base
#               with BASE (committed or not), in the packages they touch
#   -w N        gremlins workers (default 1: the tests of one mutant at a time)
#   -t SECONDS  overall time bound (default 3600, 1200 in diff mode); running
#               out of it fails the run
#   -o DIR      keep the gremlins reports (JSON, logs) in DIR
# Environment: MUTATION_MIN_SCORE (default 90), MUTATION_MIN_COVERAGE
# (default 95), MUTATION_TEST_SECONDS (time for the tests of one mutant,
# default 60), GREMLINS (command to run gremlins; default go run of v0.6.0).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# The packages held to the bar. Packages join the list once they reach it.
all_pkgs=(parser adapter internal/queue internal/listeners)

base="" workers=1 bound="" out=""
while getopts "d:w:t:o:h" opt; do
  case $opt in
    d) base=$OPTARG ;;
    w) workers=$OPTARG ;;
    t) bound=$OPTARG ;;
    o) out=$OPTARG ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=("${all_pkgs[@]}")
if [ -z "$bound" ]; then
  if [ -n "$base" ]; then bound=1200; else bound=3600; fi
fi
if [ -z "$out" ]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/mutation.XXXXXX")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

read -r -a gremlins <<<"${GREMLINS:-go run github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0}"

# Build gremlins before the clock starts.
if [ "${gremlins[0]}" = go ] && [ "${gremlins[1]}" = run ]; then
  "${gremlins[@]}" --version >/dev/null
fi

if [ -n "$base" ]; then
  if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
    echo "mutation: no commit $base to compare with (a shallow clone?)" >&2
    exit 1
  fi
  # A package is looked at when one of its non-test Go files changed.
  changed=$(git diff --merge-base --name-only "$base" -- '*.go' | grep -v '_test\.go$' || true)
  selected=()
  for pkg in "${pkgs[@]}"; do
    if grep -q "^$pkg/[^/]*\.go$" <<<"$changed"; then selected+=("$pkg"); fi
  done
  pkgs=("${selected[@]+"${selected[@]}"}")
  if [ ${#pkgs[@]} -eq 0 ]; then
    echo "mutation: no package under the bar changed since $base"
    exit 0
  fi
fi

deadline=$(($(date +%s) + bound))
for pkg in "${pkgs[@]}"; do
  name=${pkg//\//_}
  # gremlins gives each mutant's tests the time its first, coverage run took,
  # times a coefficient. That run finds the package compiled while a mutant
  # must compile it again, so a fixed coefficient is either too short for a
  # package with quick tests or far too long for one with slow tests (an
  # endless loop waits it out). The coefficient is chosen instead so that
  # each mutant gets about MUTATION_TEST_SECONDS, from a run like gremlins'.
  go test -count=1 -vet=off -cover "./$pkg" >/dev/null
  t0=$(date +%s%N)
  go test -count=1 -vet=off -cover "./$pkg" >/dev/null
  ms=$((($(date +%s%N) - t0) / 1000000 + 1))
  coef=$(((${MUTATION_TEST_SECONDS:-60} * 1000 + ms - 1) / ms))
  [ "$coef" -ge 3 ] || coef=3
  args=(unleash --workers "$workers" --timeout-coefficient "$coef" -o "$out/$name.json")
  # Files of helper packages nested in a package are not part of it.
  for sub in $(cd "$pkg" && find . -mindepth 2 -name '*.go' -printf '%h\n' | sort -u); do
    args+=(--exclude-files "^${sub#./}/")
  done
  env=()
  if [ -n "$base" ]; then
    args+=(--diff "$base")
    # gremlins matches the diff's file names against paths relative to the
    # directory it runs in: make git print them that way.
    env=(GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=diff.relative GIT_CONFIG_VALUE_0=true)
  fi
  left=$((deadline - $(date +%s)))
  if [ $left -le 0 ]; then
    echo "mutation: out of time (${bound}s) before $pkg" >&2
    exit 1
  fi
  echo "== mutation testing $pkg (log: $out/$name.log, ${coef}x a test run of ${ms} ms)"
  # Vet is not a test: a mutant it rejects must not count as killed. And a
  # cached test result would make the coverage run, hence every timeout,
  # far too short.
  if ! (cd "$pkg" && env "${env[@]+"${env[@]}"}" GOFLAGS="-vet=off -count=1" timeout "$left" "${gremlins[@]}" "${args[@]}" >"$out/$name.log" 2>&1); then
    tail -20 "$out/$name.log" >&2
    echo "mutation: gremlins failed or ran out of time (${bound}s) on $pkg" >&2
    exit 1
  fi
done

reports=()
for pkg in "${pkgs[@]}"; do reports+=("$pkg=$out/${pkg//\//_}.json"); done
go run "$root/scripts/mutscore.go" \
  -exclusions "$root/scripts/mutation-exclusions.txt" \
  -min-score "${MUTATION_MIN_SCORE:-90}" -min-coverage "${MUTATION_MIN_COVERAGE:-95}" \
  "${reports[@]}"
