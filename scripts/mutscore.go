//go:build ignore

// Command mutscore reads the JSON reports of gremlins (one per package),
// runs the mutants gremlins could not, subtracts the equivalent ones,
// prints a table per package and fails when a package is under the bar.
// scripts/mutation.sh runs it.
//
//	go run scripts/mutscore.go scripts/mutators.go -exclusions FILE [-min-score 90] [-min-coverage 95] [-recheck] pkg=report.json...
//
// gremlins only runs a mutant whose position lies in a block of the
// coverage profile that a test executed. Some code that runs has no such
// block: a constant declaration, the expression of a case clause. So each
// mutant reported NOT COVERED is run here too, with the mutated file given
// to go test as an overlay (the tree is not touched): one the tests kill
// counts as killed; one they do not stays not covered (it may really be
// unreached, or be a survivor in a case clause: either way it counts
// against the package).
//
// gremlins v0.6 can exclude whole files only, so the equivalent survivors
// (no test can tell them from the original) are kept in a file of their
// own, one per entry: comment lines giving the reason, then
//
//	path/file.go | MUTATOR_TYPE | the source line, trimmed
//
// An entry covers the survivors of that type on every line of the file
// whose trimmed text is exactly the one given: a mutant whose line is
// edited comes back, to be judged again. MUTATOR_TYPE@N narrows it to the
// operator at byte N (from 1) of the trimmed line, when the line has
// several of that type. An equivalent mutant counts as covered and as
// neither killed nor survived. A mutant gremlins could not run (a case
// clause) that lives when run here is matched against the list too. An
// entry whose line is no longer in the file is an error, so the list
// cannot rot silently.
//
// With -recheck, each survivor of the reports that is not listed as
// equivalent is run again the same way, on the tree as it is now: after
// tests are added, only the mutants that lived are run, not the whole
// package again. (The mutated files must be as they were for the report.)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type report struct {
	Files []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

type exclusion struct {
	file, typ, text, reason string
	where                   string // file:line of the entry
	used                    bool   // matched a survivor in this run
}

func main() {
	exPath := flag.String("exclusions", "", "file of equivalent mutants")
	minScore := flag.Float64("min-score", 90, "minimum score, percent")
	minCoverage := flag.Float64("min-coverage", 95, "minimum mutator coverage, percent")
	timeout := flag.Duration("timeout", 2*time.Minute, "time for the tests of one mutant run here")
	recheck := flag.Bool("recheck", false, "run the survivors again, on the tree as it is")
	flag.Parse()

	exs, err := readExclusions(*exPath)
	if err != nil {
		fatal(err)
	}
	failed := false
	var survivors, uncovered, excluded, notViable []string
	type row struct {
		pkg                                              string
		killed, rerun, lived, excl, notCovered, timedOut int
		score, coverage                                  float64
	}
	var rows []row
	measured := map[string]bool{}
	for _, arg := range flag.Args() {
		pkg, path, ok := strings.Cut(arg, "=")
		if !ok {
			fatal(fmt.Errorf("argument %q: want pkg=report.json", arg))
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			fatal(err)
		}
		var r report
		if err := json.Unmarshal(raw, &r); err != nil {
			fatal(fmt.Errorf("%s: %v", path, err))
		}
		rw := row{pkg: pkg}
		measured[pkg] = true
		lines := map[string][]string{}
		sort.Slice(r.Files, func(i, j int) bool { return r.Files[i].Name < r.Files[j].Name })
		for _, f := range r.Files {
			file := filepath.ToSlash(filepath.Join(pkg, f.Name))
			ms := f.Mutations
			sort.Slice(ms, func(i, j int) bool {
				if ms[i].Line != ms[j].Line {
					return ms[i].Line < ms[j].Line
				}
				return ms[i].Column < ms[j].Column
			})
			for _, m := range ms {
				text, at := lineText(lines, file, m.Line, m.Column)
				where := fmt.Sprintf("%s:%d:%d %s", file, m.Line, m.Column, m.Type)
				switch m.Status {
				case "KILLED":
					rw.killed++
				case "TIMED OUT":
					rw.timedOut++
				case "NOT COVERED":
					switch status := rerun(pkg, file, m.Line, m.Column, m.Type, *timeout); status {
					case "KILLED":
						rw.killed++
						rw.rerun++
					case "TIMED OUT":
						rw.timedOut++
					case "NOT VIABLE":
						// It does not compile (a string concatenation
						// made a subtraction, say): gremlins counts such
						// a mutant in neither, and so does this.
						notViable = append(notViable, where+"  `"+text+"`")
					case "LIVED":
						// Run and not killed: an equivalent one (a case
						// clause of a memory-only choice, say) is listed
						// as any survivor is.
						if e := match(exs, file, m.Type, text, at); e != nil {
							e.used = true
							rw.excl++
							excluded = append(excluded, where+"  ("+e.where+")")
							break
						}
						rw.notCovered++
						uncovered = append(uncovered, where+"  `"+text+"`"+" (lived when run)")
					default:
						rw.notCovered++
						uncovered = append(uncovered, where+"  `"+text+"`"+" ("+strings.ToLower(status)+" when run)")
					}
				case "LIVED":
					if e := match(exs, file, m.Type, text, at); e != nil {
						e.used = true
						rw.excl++
						excluded = append(excluded, where+"  ("+e.where+")")
					} else if status := recheckStatus(*recheck, pkg, file, m.Line, m.Column, m.Type, *timeout); status == "KILLED" {
						rw.killed++
						rw.rerun++
					} else if status == "TIMED OUT" {
						rw.timedOut++
					} else {
						rw.lived++
						survivors = append(survivors, where+"  `"+text+"`")
					}
				}
			}
		}
		rw.score, rw.coverage = 100, 100
		if rw.killed+rw.lived > 0 {
			rw.score = 100 * float64(rw.killed) / float64(rw.killed+rw.lived)
		}
		if n := rw.killed + rw.lived + rw.excl + rw.notCovered; n > 0 {
			rw.coverage = 100 * float64(rw.killed+rw.lived+rw.excl) / float64(n)
		}
		rows = append(rows, rw)
	}

	if len(survivors) > 0 {
		fmt.Println("survivors:")
		for _, s := range survivors {
			fmt.Println("  " + s)
		}
	}
	if len(uncovered) > 0 {
		fmt.Println("not covered:")
		for _, s := range uncovered {
			fmt.Println("  " + s)
		}
	}
	if len(notViable) > 0 {
		fmt.Println("not viable (do not compile; counted in neither):")
		for _, s := range notViable {
			fmt.Println("  " + s)
		}
	}
	if len(excluded) > 0 {
		fmt.Println("equivalent (scripts/mutation-exclusions.txt):")
		for _, s := range excluded {
			fmt.Println("  " + s)
		}
	}
	fmt.Println()
	fmt.Println("| package | killed | survived | equivalent | not covered | timed out | score | mutator coverage |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, rw := range rows {
		mark := ""
		if rw.score < *minScore || rw.coverage < *minCoverage {
			mark = " **below the bar**"
			failed = true
		}
		killed := fmt.Sprint(rw.killed)
		if rw.rerun > 0 {
			killed += fmt.Sprintf(" (%d run by mutscore)", rw.rerun)
		}
		fmt.Printf("| %s | %s | %d | %d | %d | %d | %.1f %% | %.1f %% |%s\n",
			rw.pkg, killed, rw.lived, rw.excl, rw.notCovered, rw.timedOut, rw.score, rw.coverage, mark)
	}

	for _, e := range exs {
		if !measured[filepath.Dir(e.file)] {
			continue
		}
		src, err := readLines(e.file)
		if err != nil {
			fatal(err)
		}
		found := false
		for _, l := range src {
			if strings.TrimSpace(l) == e.text {
				found = true
				break
			}
		}
		if !found {
			fmt.Printf("\n%s: stale exclusion, no line %q in %s\n", e.where, e.text, e.file)
			failed = true
		} else if !e.used {
			// Normal in diff mode; in a full run, the mutant is killed
			// now and the entry can go.
			fmt.Printf("\n%s: no survivor matched %s %q\n", e.where, e.typ, e.text)
		}
	}
	if failed {
		fmt.Printf("\nmutation: under %.0f %% score or %.0f %% mutator coverage, or a stale exclusion\n", *minScore, *minCoverage)
		os.Exit(1)
	}
}

// rerun applies one mutant to a copy of file, runs the tests of pkg with
// the copy overlaid, and returns KILLED, LIVED, TIMED OUT or NOT VIABLE.
func rerun(pkg, file string, line, col int, typ string, timeout time.Duration) string {
	src, err := os.ReadFile(file)
	if err != nil {
		fatal(err)
	}
	mutated, ok := mutate(src, line, col, typ)
	if !ok {
		return "NOT VIABLE"
	}
	dir, overlayPath := overlay(file, mutated)
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-vet=off", "-failfast",
		"-overlay", overlayPath, "-timeout", (timeout + 5*time.Second).String(), "./"+pkg)
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return "TIMED OUT"
	case err == nil:
		return "LIVED"
	case !errors.As(err, &exit):
		fatal(err)
	case strings.Contains(string(out), "[build failed]") || strings.Contains(string(out), "[setup failed]"):
		return "NOT VIABLE"
	}
	return "KILLED"
}

// recheckStatus runs a survivor again when rechecking, and says LIVED
// otherwise.
func recheckStatus(recheck bool, pkg, file string, line, col int, typ string, timeout time.Duration) string {
	if !recheck {
		return "LIVED"
	}
	return rerun(pkg, file, line, col, typ, timeout)
}

// mutate replaces the operator at line:col of src as mutator typ does.
func mutate(src []byte, line, col int, typ string) ([]byte, bool) {
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(src))
	var s scanner.Scanner
	s.Init(f, src, nil, 0)
	for {
		pos, tok, _ := s.Scan()
		if tok == token.EOF {
			return nil, false
		}
		p := fset.Position(pos)
		if p.Line != line || p.Column != col {
			continue
		}
		to, ok := mutations[typ][tok]
		if !ok {
			return nil, false
		}
		off := p.Offset
		out := append([]byte{}, src[:off]...)
		out = append(out, to.String()...)
		return append(out, src[off+len(tok.String()):]...), true
	}
}

func match(exs []*exclusion, file, typ, text string, at int) *exclusion {
	for _, e := range exs {
		t, pos, narrowed := strings.Cut(e.typ, "@")
		if e.file == file && t == typ && e.text == text && (!narrowed || pos == fmt.Sprint(at)) {
			return e
		}
	}
	return nil
}

// lineText returns line n of file, trimmed, and where column col is in
// the trimmed line, reading the file once.
func lineText(cache map[string][]string, file string, n, col int) (string, int) {
	src, ok := cache[file]
	if !ok {
		var err error
		if src, err = readLines(file); err != nil {
			fatal(err)
		}
		cache[file] = src
	}
	if n < 1 || n > len(src) {
		return "", 0
	}
	line := src[n-1]
	return strings.TrimSpace(line), col - (len(line) - len(strings.TrimLeft(line, " \t")))
}

func readExclusions(path string) ([]*exclusion, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*exclusion
	var reason []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			reason = nil
		case strings.HasPrefix(line, "#"):
			reason = append(reason, strings.TrimSpace(strings.TrimPrefix(line, "#")))
		default:
			parts := strings.SplitN(line, " | ", 3)
			if len(parts) != 3 {
				return nil, fmt.Errorf("%s:%d: want `file | TYPE | source line`", path, n)
			}
			if len(reason) == 0 {
				return nil, fmt.Errorf("%s:%d: an exclusion needs its reason in comment lines above it", path, n)
			}
			out = append(out, &exclusion{
				file: parts[0], typ: parts[1], text: strings.TrimSpace(parts[2]),
				reason: strings.Join(reason, " "), where: fmt.Sprintf("%s:%d", filepath.Base(path), n),
			})
		}
	}
	return out, sc.Err()
}

func readLines(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(string(raw), "\n"), nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mutscore:", err)
	os.Exit(2)
}
