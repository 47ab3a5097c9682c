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
# Full run, every package under the bar (engineio needs -q: about two hours
# on two cores with -q -w 2):
#   scripts/mutation.sh -q -w 2
# Only the lines changed since a git base, in the packages they touch (CI):
#   scripts/mutation.sh -d HEAD~1
# Some packages only (`.` is the root package, the server):
#   scripts/mutation.sh parser adapter
# Only some files of one package, then the survivors again once tests are
# added (each mutant run alone on the files as they are now):
#   scripts/mutation.sh -o /tmp/m -f server.go,rooms.go .
#   scripts/mutation.sh -r /tmp/m .
#
# Options:
#   -d BASE     diff mode: only mutants on lines changed since the merge base
#               with BASE (committed or not), in the packages they touch
#   -w N        gremlins workers (default 1: the tests of one mutant at a time)
#   -t SECONDS  overall time bound (default 5400, 1200 in diff mode); running
#               out of it fails the run
#   -o DIR      keep the gremlins reports (JSON, logs) in DIR
#   -f FILES    mutate only these files (comma-separated names) of the one
#               package given
#   -r DIR      recheck: no gremlins run; the reports kept in DIR by -o are
#               scored again, their survivors and uncovered mutants each run
#               on the tree as it is (the mutated files must not have moved
#               lines since)
#   -q          quick: scripts/mutrun.go instead of gremlins, which runs for
#               each mutant only the tests that execute its line (from a
#               per-test coverage map, cached); the way to a full run of the
#               packages with long suites (engineio, the root package,
#               sioclient). Same mutators, same scoring.
# Environment: MUTATION_MIN_SCORE (default 90), MUTATION_MIN_COVERAGE
# (default 95), MUTATION_TEST_SECONDS (time for the tests of one mutant,
# default 60), GREMLINS (command to run gremlins; default go run of v0.6.0).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# The packages held to the bar. Packages join the list once they reach it.
all_pkgs=(parser adapter internal/queue internal/listeners internal/observers internal/netpoll internal/typedarg internal/clientbundle engineio sioclient .)

base="" workers=1 bound="" out="" files="" recheck="" quick=""
while getopts "d:w:t:o:f:r:qh" opt; do
  case $opt in
    d) base=$OPTARG ;;
    w) workers=$OPTARG ;;
    t) bound=$OPTARG ;;
    o) out=$OPTARG ;;
    f) files=$OPTARG ;;
    r) recheck=$OPTARG ;;
    q) quick=1 ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=("${all_pkgs[@]}")
if [ -n "$files" ] && [ ${#pkgs[@]} -ne 1 ]; then
  echo "mutation: -f needs exactly one package" >&2
  exit 2
fi
# The report of a package: its path with / as _, the root package "root".
report() { if [ "$1" = . ]; then echo root; else echo "${1//\//_}"; fi; }

score() {
  local reports=() pkg
  for pkg in "${pkgs[@]}"; do reports+=("$pkg=$1/$(report "$pkg").json"); done
  go run "$root/scripts/mutscore.go" "$root/scripts/mutators.go" \
    -exclusions "$root/scripts/mutation-exclusions.txt" \
    -min-score "${MUTATION_MIN_SCORE:-90}" -min-coverage "${MUTATION_MIN_COVERAGE:-95}" \
    ${recheck:+-recheck} "${reports[@]}"
}

if [ -n "$recheck" ]; then
  score "$(cd "$recheck" && pwd)"
  exit
fi
if [ -z "$bound" ]; then
  if [ -n "$base" ]; then bound=1200; else bound=5400; fi
fi
if [ -z "$out" ]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/mutation.XXXXXX")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

read -r -a gremlins <<<"${GREMLINS:-go run github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0}"

# Build gremlins before the clock starts.
if [ -z "$quick" ] && [ "${gremlins[0]}" = go ] && [ "${gremlins[1]}" = run ]; then
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
    dir="$pkg/"
    [ "$pkg" != . ] || dir=""
    if grep -q "^$dir[^/]*\.go$" <<<"$changed"; then selected+=("$pkg"); fi
  done
  pkgs=("${selected[@]+"${selected[@]}"}")
  if [ ${#pkgs[@]} -eq 0 ]; then
    echo "mutation: no package under the bar changed since $base"
    exit 0
  fi
fi

if [ -n "$quick" ]; then
  deadline=$(($(date +%s) + bound))
  for pkg in "${pkgs[@]}"; do
    name=$(report "$pkg")
    left=$((deadline - $(date +%s)))
    if [ $left -le 0 ]; then
      echo "mutation: out of time (${bound}s) before $pkg" >&2
      exit 1
    fi
    echo "== mutation testing $pkg with mutrun (log: $out/$name.log)"
    if ! timeout "$left" go run "$root/scripts/mutrun.go" "$root/scripts/mutators.go" -o "$out/$name.json" -w "$workers" \
      -timeout "${MUTATION_TEST_SECONDS:-60}s" ${files:+-files "$files"} ${base:+-diff "$base"} "$pkg" \
      >"$out/$name.log" 2>&1; then
      tail -20 "$out/$name.log" >&2
      echo "mutation: mutrun failed or ran out of time (${bound}s) on $pkg" >&2
      exit 1
    fi
  done
  score "$out"
  exit
fi

# The root package is mutated in a copy of the module that holds no other
# package's tests: gremlins measures coverage with `go test ./...` from the
# package's directory, which from the root would run every test of the
# module once, and copies that directory for each worker. Nested modules
# (interop, cmd/chat, bench) stay out. Test files marked for the README
# check (readme_test.go reads them), nested modules' included, are kept,
# and not built.
stage_root() {
  local stage=$1 f d skip nested
  nested=$(git ls-files -co --exclude-standard -- '*/go.mod' | xargs -rn1 dirname)
  rm -rf "$stage"
  mkdir -p "$stage"
  while IFS= read -r f; do
    [ -f "$f" ] || continue
    case $f in
      */*_test.go)
        # Those of nested modules too: the README check reads them all.
        if grep -q '// README: ' "$f"; then
          mkdir -p "$stage/$(dirname "$f")"
          { printf '//go:build ignore\n\n'; cat "$f"; } >"$stage/$f"
        fi
        continue
        ;;
    esac
    skip=""
    for d in $nested; do
      case $f in "$d"/*) skip=1 ;; esac
    done
    [ -z "$skip" ] || continue
    mkdir -p "$stage/$(dirname "$f")"
    cp "$f" "$stage/$f"
  done < <(git ls-files -co --exclude-standard)
}

deadline=$(($(date +%s) + bound))
for pkg in "${pkgs[@]}"; do
  name=$(report "$pkg")
  dir=$pkg
  if [ "$pkg" = . ]; then
    dir="$out/module"
    stage_root "$dir"
  fi
  # gremlins gives each mutant's tests the time its first, coverage run took,
  # times a coefficient. That run finds the package compiled while a mutant
  # must compile it again, so a fixed coefficient is either too short for a
  # package with quick tests or far too long for one with slow tests (an
  # endless loop waits it out). The coefficient is chosen instead so that
  # each mutant gets about MUTATION_TEST_SECONDS, from a run like gremlins'.
  #
  # The root package's copy, and gremlins' copies of it, are built with
  # -trimpath: the build cache then does not depend on the directory, so
  # neither gremlins' coverage run nor a mutant's first run compiles every
  # package again (which on a busy machine takes longer than the tests).
  flags="-vet=off -count=1"
  timed=(go test -count=1 -vet=off -cover "./$pkg")
  if [ "$pkg" = . ]; then
    flags+=" -trimpath"
    timed=(env -C "$dir" GOWORK=off go test -count=1 -vet=off -trimpath -cover ./...)
  fi
  "${timed[@]}" >/dev/null
  t0=$(date +%s%N)
  "${timed[@]}" >/dev/null
  ms=$((($(date +%s%N) - t0) / 1000000 + 1))
  coef=$(((${MUTATION_TEST_SECONDS:-60} * 1000 + ms - 1) / ms))
  [ "$coef" -ge 3 ] || coef=3
  args=(unleash --workers "$workers" --timeout-coefficient "$coef" -o "$out/$name.json")
  # Files of helper packages nested in a package are not part of it.
  for sub in $(cd "$dir" && find . -mindepth 2 -name '*.go' -printf '%h\n' | sort -u); do
    args+=(--exclude-files "^${sub#./}/")
  done
  if [ -n "$files" ]; then
    for f in $(cd "$pkg" && ls -- *.go | grep -v '_test\.go$'); do
      if ! grep -qx -- "$f" <<<"${files//,/$'\n'}"; then
        args+=(--exclude-files "^${f//./\\.}\$")
      fi
    done
  fi
  env=()
  [ "$pkg" != . ] || env=(GOWORK=off)
  # A package of a nested module (msgpackparser): gremlins copies that
  # module's directory alone, where its relative replace of the library
  # (../) points nowhere. It gets a copy of its go.mod (-modfile, outside
  # workspace mode) that replaces the library with a staged copy of it
  # (as for the root package; the nested modules left out, else the
  # package would be in both).
  moddir=$(cd "$dir" && GOWORK=off go env GOMOD)
  moddir=${moddir%/go.mod}
  if [ "$pkg" != . ] && [ "$moddir" != "$root" ]; then
    stage_root "$out/module"
    cp "$moddir/go.mod" "$out/$name.go.mod"
    cp "$moddir/go.sum" "$out/$name.go.sum"
    (cd "$moddir" && GOWORK=off go mod edit -modfile="$out/$name.go.mod" \
      -replace="$(GOWORK=off go -C "$root" list -m)=$out/module")
    flags+=" -modfile=$out/$name.go.mod"
    env=(GOWORK=off)
  fi
  if [ -n "$base" ]; then
    args+=(--diff "$base")
    if [ "$pkg" = . ]; then
      # The copy is no git work tree: point git at this one (the file
      # names of its diff are then relative to the module root already).
      env+=(GIT_DIR="$(git rev-parse --absolute-git-dir)" GIT_WORK_TREE="$root")
    else
      # gremlins matches the diff's file names against paths relative to
      # the directory it runs in: make git print them that way.
      env+=(GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=diff.relative GIT_CONFIG_VALUE_0=true)
    fi
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
  if ! (cd "$dir" && env "${env[@]+"${env[@]}"}" GOFLAGS="$flags" timeout "$left" "${gremlins[@]}" "${args[@]}" >"$out/$name.log" 2>&1); then
    tail -20 "$out/$name.log" >&2
    echo "mutation: gremlins failed or ran out of time (${bound}s) on $pkg" >&2
    exit 1
  fi
done

score "$out"
