//go:build ignore

// Command mutrun is a faster mutation run for packages whose test suite
// takes long: where gremlins runs every test of the package for every
// mutant, mutrun runs only the tests that execute the mutated line.
//
//	go run scripts/mutrun.go scripts/mutators.go [-o report.json] [-w N] [-timeout 60s] [-files a.go,b.go] [-diff BASE] [-resume LOG] PKG
//
// PKG is a package directory of the main module (`.` is the root
// package). The result is a report in gremlins' JSON format, which
// scripts/mutscore.go scores as it scores gremlins' (exclusions, the bar,
// the mutants reported NOT COVERED run again against the whole suite);
// scripts/mutation.sh -q runs both.
//
// How:
//
//  1. The mutants are gremlins' default mutators (ARITHMETIC_BASE,
//     CONDITIONALS_BOUNDARY, CONDITIONALS_NEGATION, INCREMENT_DECREMENT,
//     INVERT_NEGATIVES) on the operators of the package's non-test files
//     for this GOOS, found with go/ast.
//  2. Which test executes which code: the package's test binary is built
//     once with coverage, and each top-level test, fuzz target (its seed
//     corpus) and example is run alone with a coverage profile. The map is
//     cached (~/.cache/switchboard-mutrun), keyed by the package's files,
//     so a second run of an unchanged package skips this step.
//  3. For each mutant, the mutated file is given to `go test -c` as an
//     overlay (the tree is never touched) and the binary runs only the
//     tests whose profile has the mutant's position in an executed block.
//     A position in no block (a case clause's expression, a constant) gets
//     the tests that executed any block of its function; outside any
//     function, NOT COVERED (mutscore runs those against the whole suite).
//
// Statuses: KILLED (a test failed), LIVED, TIMED OUT (the tests ran past
// the mutant's time: five times what they took unmutated, at least 10 s,
// at most -timeout), NOT VIABLE (does not compile: counted in neither),
// NOT COVERED (no test executes it).
//
// A test that needs the others to have run first (shared state) can fail
// alone: the coverage step reports such tests, whose verdicts are then
// not to be trusted; the project's tests are independent.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// binaryMutators gives, per binary operator, gremlins' default mutators
// that apply to it (scripts/mutators.go holds the replacement each makes).
var binaryMutators = map[token.Token][]string{
	token.ADD: {"ARITHMETIC_BASE"}, token.SUB: {"ARITHMETIC_BASE"}, token.MUL: {"ARITHMETIC_BASE"},
	token.QUO: {"ARITHMETIC_BASE"}, token.REM: {"ARITHMETIC_BASE"},
	token.GTR: {"CONDITIONALS_BOUNDARY", "CONDITIONALS_NEGATION"},
	token.GEQ: {"CONDITIONALS_BOUNDARY", "CONDITIONALS_NEGATION"},
	token.LSS: {"CONDITIONALS_BOUNDARY", "CONDITIONALS_NEGATION"},
	token.LEQ: {"CONDITIONALS_BOUNDARY", "CONDITIONALS_NEGATION"},
	token.EQL: {"CONDITIONALS_NEGATION"}, token.NEQ: {"CONDITIONALS_NEGATION"},
}

type mutant struct {
	file      string // base name, in the package directory
	line, col int
	offset    int // byte offset of the operator
	tok       token.Token
	typ       string
	fn        [2]pos // the enclosing function's extent; zero outside one
	status    string
	tests     []string
}

type pos struct{ line, col int }

func (p pos) before(q pos) bool { return p.line < q.line || p.line == q.line && p.col <= q.col }

// block is an executed block of a coverage profile.
type block struct {
	file       string
	start, end pos
}

// coverMap is what the coverage step learns, and what the cache holds.
type coverMap struct {
	Tests []testCoverage
	All   []block // every block of the profiles, executed or not
}

type testCoverage struct {
	Name    string
	Seconds float64
	Failed  bool
	Blocks  []block
}

// MarshalJSON/UnmarshalJSON of block keep the cache compact.
func (b block) MarshalJSON() ([]byte, error) {
	return json.Marshal(fmt.Sprintf("%s:%d.%d,%d.%d", b.file, b.start.line, b.start.col, b.end.line, b.end.col))
}

func (b *block) UnmarshalJSON(raw []byte) error {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	nb, ok := parseBlock(s)
	if !ok {
		return fmt.Errorf("bad block %q", s)
	}
	*b = nb
	return nil
}

var blockRE = regexp.MustCompile(`^(.*):(\d+)\.(\d+),(\d+)\.(\d+)$`)

func parseBlock(s string) (block, bool) {
	m := blockRE.FindStringSubmatch(s)
	if m == nil {
		return block{}, false
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	return block{file: filepath.Base(m[1]), start: pos{n(2), n(3)}, end: pos{n(4), n(5)}}, true
}

func main() {
	out := flag.String("o", "", "write the JSON report here (default: standard output)")
	workers := flag.Int("w", 1, "mutants built and run at once")
	timeout := flag.Duration("timeout", 60*time.Second, "most time for the tests of one mutant")
	files := flag.String("files", "", "mutate only these files (comma-separated base names)")
	diff := flag.String("diff", "", "only mutants on lines changed since the merge base with this git revision")
	cacheDir := flag.String("cache", "", "coverage map cache (default: the user cache directory's switchboard-mutrun)")
	resume := flag.String("resume", "", "the log (standard error) of an interrupted run on the same tree: the mutants it judged are not run again")
	flag.Parse()
	if flag.NArg() != 1 {
		fatal(fmt.Errorf("want one package directory"))
	}
	pkg := filepath.Clean(flag.Arg(0))
	target := "./" + pkg
	if pkg == "." {
		target = "."
	}

	goFiles := listFiles(target, "{{join .GoFiles \"\\n\"}}")
	if *files != "" {
		keep := map[string]bool{}
		for _, f := range strings.Split(*files, ",") {
			keep[strings.TrimSpace(f)] = true
		}
		var sel []string
		for _, f := range goFiles {
			if keep[f] {
				sel = append(sel, f)
			}
		}
		goFiles = sel
	}
	var changed map[string][][2]int
	if *diff != "" {
		changed = changedLines(*diff, pkg)
	}
	mutants := enumerate(pkg, goFiles, changed)
	fmt.Fprintf(os.Stderr, "mutrun: %s: %d mutants in %d files\n", pkg, len(mutants), len(goFiles))
	if len(mutants) == 0 {
		writeReport(*out, nil)
		return
	}

	cm := coverage(pkg, target, *cacheDir, *workers)
	cov := cm.Tests
	var failedAlone []string
	for _, t := range cov {
		if t.Failed {
			failedAlone = append(failedAlone, t.Name)
		}
	}
	if len(failedAlone) > 0 {
		fmt.Fprintf(os.Stderr, "mutrun: these tests fail when run alone, unmutated (their verdicts are not trusted): %s\n", strings.Join(failedAlone, " "))
	}
	assign(mutants, cov, cm.All)
	if *resume != "" {
		n := resumeFrom(*resume, mutants)
		fmt.Fprintf(os.Stderr, "mutrun: %d mutants judged by %s\n", n, *resume)
	}

	var wg sync.WaitGroup
	jobs := make(chan *mutant)
	var mu sync.Mutex
	done := 0
	for range max(*workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range jobs {
				m.status = run(pkg, target, m, cov, *timeout)
				mu.Lock()
				done++
				fmt.Fprintf(os.Stderr, "mutrun: [%d/%d] %s %s:%d:%d %s (%d tests)\n", done, len(mutants), m.status, m.file, m.line, m.col, m.typ, len(m.tests))
				mu.Unlock()
			}
		}()
	}
	for _, m := range mutants {
		if m.status != "" {
			continue // NOT COVERED, or judged by the run resumed
		}
		jobs <- m
	}
	close(jobs)
	wg.Wait()
	writeReport(*out, mutants)
}

// progressRE matches the progress lines run prints, which -resume reads.
var progressRE = regexp.MustCompile(`^mutrun: \[\d+/\d+\] (KILLED|LIVED|TIMED OUT|NOT VIABLE) (\S+):(\d+):(\d+) (\S+) `)

// resumeFrom gives the mutants the statuses an earlier run's log gave
// them, and returns how many it found.
func resumeFrom(path string, mutants []*mutant) int {
	raw, err := os.ReadFile(path)
	if err != nil {
		fatal(err)
	}
	judged := map[string]string{}
	for _, l := range strings.Split(string(raw), "\n") {
		if m := progressRE.FindStringSubmatch(l); m != nil {
			judged[m[2]+":"+m[3]+":"+m[4]+" "+m[5]] = m[1]
		}
	}
	n := 0
	for _, m := range mutants {
		if st, ok := judged[fmt.Sprintf("%s:%d:%d %s", m.file, m.line, m.col, m.typ)]; ok && m.status == "" {
			m.status = st
			n++
		}
	}
	return n
}

// listFiles runs go list with format f on the package.
func listFiles(target, f string) []string {
	cmd := exec.Command("go", "list", "-f", f, target)
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		fatal(fmt.Errorf("go list %s: %v", target, err))
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// changedLines returns, per base name of the package's files, the line
// ranges changed since the merge base with base.
func changedLines(base, pkg string) map[string][][2]int {
	cmd := exec.Command("git", "diff", "--merge-base", "-U0", base, "--", pkg)
	if pkg == "." {
		cmd = exec.Command("git", "diff", "--merge-base", "-U0", base, "--", ":(glob)*.go")
	}
	raw, err := cmd.Output()
	if err != nil {
		fatal(fmt.Errorf("git diff %s: %v", base, err))
	}
	out := map[string][][2]int{}
	var file string
	hunk := regexp.MustCompile(`^@@ -\S+ \+(\d+)(?:,(\d+))? @@`)
	for _, l := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(l, "+++ "):
			file = ""
			if p := strings.TrimPrefix(l, "+++ b/"); p != l && filepath.Dir(p) == pkg {
				file = filepath.Base(p)
			}
		case file != "":
			if m := hunk.FindStringSubmatch(l); m != nil {
				start, _ := strconv.Atoi(m[1])
				n := 1
				if m[2] != "" {
					n, _ = strconv.Atoi(m[2])
				}
				if n > 0 {
					out[file] = append(out[file], [2]int{start, start + n - 1})
				}
			}
		}
	}
	return out
}

// enumerate finds the mutants of files (in directory pkg), only on the
// changed lines when changed is not nil.
func enumerate(pkg string, files []string, changed map[string][][2]int) []*mutant {
	var out []*mutant
	for _, name := range files {
		if changed != nil && len(changed[name]) == 0 {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, filepath.Join(pkg, name), nil, 0)
		if err != nil {
			fatal(err)
		}
		var fn [2]pos
		add := func(p token.Pos, tok token.Token, types ...string) {
			at := fset.Position(p)
			if changed != nil {
				in := false
				for _, r := range changed[name] {
					in = in || at.Line >= r[0] && at.Line <= r[1]
				}
				if !in {
					return
				}
			}
			for _, t := range types {
				out = append(out, &mutant{file: name, line: at.Line, col: at.Column, offset: at.Offset, tok: tok, typ: t, fn: fn})
			}
		}
		for _, d := range f.Decls {
			fn = [2]pos{}
			if fd, ok := d.(*ast.FuncDecl); ok {
				s, e := fset.Position(fd.Pos()), fset.Position(fd.End())
				fn = [2]pos{{s.Line, s.Column}, {e.Line, e.Column}}
			}
			ast.Inspect(d, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BinaryExpr:
					if n.Op == token.ADD && (isString(n.X) || isString(n.Y)) {
						return true // a concatenation: a subtraction would not compile
					}
					if types, ok := binaryMutators[n.Op]; ok {
						add(n.OpPos, n.Op, types...)
					}
				case *ast.IncDecStmt:
					add(n.TokPos, n.Tok, "INCREMENT_DECREMENT")
				case *ast.UnaryExpr:
					if n.Op == token.SUB {
						add(n.OpPos, n.Op, "INVERT_NEGATIVES")
					}
				}
				return true
			})
		}
	}
	return out
}

func isString(e ast.Expr) bool {
	l, ok := e.(*ast.BasicLit)
	return ok && l.Kind == token.STRING
}

// coverage returns the blocks each test executes, from the cache when
// the package's files are unchanged.
func coverage(pkg, target, cacheDir string, workers int) coverMap {
	key := cacheKey(pkg)
	if cacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			fatal(err)
		}
		cacheDir = filepath.Join(d, "switchboard-mutrun")
	}
	path := filepath.Join(cacheDir, key+".json")
	if raw, err := os.ReadFile(path); err == nil {
		var cm coverMap
		if json.Unmarshal(raw, &cm) == nil {
			fmt.Fprintf(os.Stderr, "mutrun: coverage map from %s\n", path)
			return cm
		}
	}
	tmp, err := os.MkdirTemp("", "mutrun-cov")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "cov.test")
	build := exec.Command("go", "test", "-c", "-vet=off", "-cover", "-covermode=count", "-o", bin, target)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fatal(fmt.Errorf("building %s's tests with coverage: %v", pkg, err))
	}
	list := exec.Command(bin, "-test.list", ".")
	list.Dir = pkg
	raw, err := list.Output()
	if err != nil {
		fatal(fmt.Errorf("listing %s's tests: %v", pkg, err))
	}
	var names []string
	for _, n := range strings.Fields(string(raw)) {
		if strings.HasPrefix(n, "Test") || strings.HasPrefix(n, "Fuzz") || strings.HasPrefix(n, "Example") {
			names = append(names, n)
		}
	}
	fmt.Fprintf(os.Stderr, "mutrun: coverage of %d tests, one at a time\n", len(names))
	cov := make([]testCoverage, len(names))
	all := make([][]block, len(names))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cov[i], all[i] = runCovered(pkg, bin, tmp, names[i], i)
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	cm := coverMap{Tests: cov}
	seen := map[block]bool{}
	for _, bs := range all {
		for _, b := range bs {
			if !seen[b] {
				seen[b] = true
				cm.All = append(cm.All, b)
			}
		}
	}
	if err := os.MkdirAll(cacheDir, 0o755); err == nil {
		if raw, err := json.Marshal(cm); err == nil {
			_ = os.WriteFile(path, raw, 0o644)
		}
	}
	return cm
}

// runCovered runs one test alone with a coverage profile: the blocks it
// executed, and every block of the profile.
func runCovered(pkg, bin, tmp, name string, i int) (testCoverage, []block) {
	profile := filepath.Join(tmp, fmt.Sprintf("c%d.out", i))
	cmd := exec.Command(bin, "-test.run", "^"+name+"$", "-test.count=1", "-test.timeout=5m",
		"-test.coverprofile", profile)
	cmd.Dir = pkg
	start := time.Now()
	out, err := cmd.CombinedOutput()
	tc := testCoverage{Name: name, Seconds: time.Since(start).Seconds(), Failed: err != nil}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mutrun: %s fails alone:\n%s\n", name, tail(out, 15))
	}
	raw, err := os.ReadFile(profile)
	if err != nil {
		return tc, nil
	}
	seen := map[block]bool{}
	var all []block
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		b, ok := parseBlock(f[0])
		if !ok || seen[b] {
			continue
		}
		seen[b] = true
		all = append(all, b)
		if f[2] != "0" {
			tc.Blocks = append(tc.Blocks, b)
		}
	}
	return tc, all
}

// cacheKey hashes what decides the coverage map: the Go version and the
// package directory's Go files and test data.
func cacheKey(pkg string) string {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), pkg)
	var paths []string
	_ = filepath.WalkDir(pkg, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != pkg && filepath.Base(p) != "testdata" && !strings.HasPrefix(p, filepath.Join(pkg, "testdata")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") || strings.Contains(p, "testdata") {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	for _, p := range paths {
		raw, _ := os.ReadFile(p)
		fmt.Fprintln(h, p, len(raw))
		h.Write(raw)
	}
	name := strings.ReplaceAll(pkg, "/", "_")
	if name == "." {
		name = "root"
	}
	return name + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// assign gives each mutant the tests to run, or NOT COVERED. all holds
// every block of the profiles, executed or not.
func assign(mutants []*mutant, cov []testCoverage, all []block) {
	for _, m := range mutants {
		at := pos{m.line, m.col}
		var tests, fnTests []string
		for _, t := range cov {
			hit, hitFn := false, false
			for _, b := range t.Blocks {
				if b.file != m.file {
					continue
				}
				if b.start.before(at) && at.before(b.end) {
					hit = true
					break
				}
				if m.fn != ([2]pos{}) && m.fn[0].before(b.start) && b.end.before(m.fn[1]) {
					hitFn = true
				}
			}
			if hit {
				tests = append(tests, t.Name)
			} else if hitFn {
				fnTests = append(fnTests, t.Name)
			}
		}
		switch {
		case len(tests) > 0:
			m.tests = tests
		case inAnyBlock(m.file, at, all):
			m.status = "NOT COVERED" // a block no test executes
		case len(fnTests) > 0:
			// No block holds it (a case clause's expression): the tests
			// that run its function are the ones that can reach it.
			m.tests = fnTests
		default:
			m.status = "NOT COVERED"
		}
	}
}

func inAnyBlock(file string, at pos, all []block) bool {
	for _, b := range all {
		if b.file == file && b.start.before(at) && at.before(b.end) {
			return true
		}
	}
	return false
}

// run builds the test binary with the mutant and runs its tests.
func run(pkg, target string, m *mutant, cov []testCoverage, limit time.Duration) string {
	src, err := os.ReadFile(filepath.Join(pkg, m.file))
	if err != nil {
		fatal(err)
	}
	to, ok := mutations[m.typ][m.tok]
	if !ok || !bytes.HasPrefix(src[m.offset:], []byte(m.tok.String())) {
		fatal(fmt.Errorf("%s:%d:%d: no %s to mutate", m.file, m.line, m.col, m.tok))
	}
	mutated := append(append(append([]byte{}, src[:m.offset]...), to.String()...), src[m.offset+len(m.tok.String()):]...)
	dir, overlayPath := overlay(filepath.Join(pkg, m.file), mutated)
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "m.test")
	build := exec.Command("go", "test", "-c", "-vet=off", "-overlay", overlayPath, "-o", bin, target)
	if out, err := build.CombinedOutput(); err != nil {
		if strings.Contains(string(out), m.file) {
			return "NOT VIABLE"
		}
		fatal(fmt.Errorf("building %s with %s:%d:%d %s: %v\n%s", pkg, m.file, m.line, m.col, m.typ, err, out))
	}
	secs := 0.0
	byName := map[string]float64{}
	for _, t := range cov {
		byName[t.Name] = t.Seconds
	}
	for _, t := range m.tests {
		secs += byName[t]
	}
	budget := min(limit, max(10*time.Second, time.Duration(5*secs*float64(time.Second))))
	ctx, cancel := context.WithTimeout(context.Background(), budget+10*time.Second)
	defer cancel()
	names := make([]string, len(m.tests))
	for i, t := range m.tests {
		names[i] = regexp.QuoteMeta(t)
	}
	cmd := exec.CommandContext(ctx, bin, "-test.run", "^("+strings.Join(names, "|")+")$",
		"-test.count=1", "-test.failfast", "-test.timeout", budget.String())
	cmd.Dir = pkg
	out, err := cmd.CombinedOutput()
	switch {
	case ctx.Err() != nil || bytes.Contains(out, []byte("panic: test timed out")):
		return "TIMED OUT"
	case err == nil:
		return "LIVED"
	}
	return "KILLED"
}

func writeReport(path string, mutants []*mutant) {
	type mut struct {
		Type   string `json:"type"`
		Status string `json:"status"`
		Line   int    `json:"line"`
		Column int    `json:"column"`
	}
	type file struct {
		Name      string `json:"file_name"`
		Mutations []mut  `json:"mutations"`
	}
	byFile := map[string]*file{}
	var files []*file
	counts := map[string]int{}
	for _, m := range mutants {
		f := byFile[m.file]
		if f == nil {
			f = &file{Name: m.file}
			byFile[m.file] = f
			files = append(files, f)
		}
		f.Mutations = append(f.Mutations, mut{m.typ, m.status, m.line, m.col})
		counts[m.status]++
	}
	raw, err := json.MarshalIndent(map[string]any{"files": files}, "", "  ")
	if err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "mutrun: %v\n", counts)
	if path == "" {
		os.Stdout.Write(append(raw, '\n'))
		return
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		fatal(err)
	}
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mutrun:", err)
	os.Exit(2)
}
