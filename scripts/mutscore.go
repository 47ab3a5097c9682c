//go:build ignore

// Command mutscore reads the JSON reports of gremlins (one per package),
// subtracts the excluded mutants, prints a table per package and fails when
// a package is under the bar. scripts/mutation.sh runs it.
//
//	go run scripts/mutscore.go -exclusions FILE [-min-score 90] [-min-coverage 95] pkg=report.json...
//
// gremlins v0.6 can exclude whole files only, so the excluded mutants are
// kept in a file of their own, one per entry: comment lines giving the
// reason, then
//
//	path/file.go | MUTATOR_TYPE | the source line, trimmed
//
// An entry covers the mutants of that type on every line of the file whose
// trimmed text is exactly the one given: a mutant whose line is edited
// comes back, to be judged again. MUTATOR_TYPE@N narrows it to the
// operator at byte N (from 1) of the trimmed line, when the line has
// several of that type. It applies to two kinds of mutant:
//   - a survivor shown equivalent (no test can tell it from the original);
//     it counts as covered, and neither killed nor survived;
//   - a mutant gremlins cannot run because no coverage block holds its
//     line (a constant declaration), which the reason shows killed when
//     applied by hand; it is left out of the coverage altogether.
//
// An entry whose line is no longer in the file is an error, so the list
// cannot rot silently.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
}

func main() {
	eqPath := flag.String("exclusions", "", "file of excluded mutants")
	minScore := flag.Float64("min-score", 90, "minimum score, percent")
	minCoverage := flag.Float64("min-coverage", 95, "minimum mutator coverage, percent")
	flag.Parse()

	eqs, err := readEquivalents(*eqPath)
	if err != nil {
		fatal(err)
	}
	failed := false
	var survivors, excluded []string
	fmt.Printf("%-20s %7s %9s %11s %12s %12s %10s %8s %9s\n", "package", "killed", "survived", "equivalent", "not covered", "uncoverable", "timed out", "score", "coverage")
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
		var killed, lived, excl, notCovered, uncoverable, timedOut int
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
				switch m.Status {
				case "KILLED":
					killed++
				case "NOT COVERED":
					where := fmt.Sprintf("%s:%d:%d %s (not covered)", file, m.Line, m.Column, m.Type)
					text, at := lineText(lines, file, m.Line, m.Column)
					if e := match(eqs, file, m.Type, text, at); e != nil {
						uncoverable++
						excluded = append(excluded, where+"  ("+e.where+")")
					} else {
						notCovered++
					}
				case "TIMED OUT":
					timedOut++
				case "LIVED":
					text, at := lineText(lines, file, m.Line, m.Column)
					where := fmt.Sprintf("%s:%d:%d %s", file, m.Line, m.Column, m.Type)
					if e := match(eqs, file, m.Type, text, at); e != nil {
						excl++
						excluded = append(excluded, where+"  ("+e.where+")")
					} else {
						lived++
						survivors = append(survivors, where+"  `"+text+"`")
					}
				}
			}
		}
		score, coverage := 100.0, 100.0
		if killed+lived > 0 {
			score = 100 * float64(killed) / float64(killed+lived)
		}
		if n := killed + lived + excl + notCovered; n > 0 {
			// An equivalent mutant is covered: the tests ran it.
			coverage = 100 * float64(killed+lived+excl) / float64(n)
		}
		mark := ""
		if score < *minScore || coverage < *minCoverage {
			mark = "  BELOW THE BAR"
			failed = true
		}
		fmt.Printf("%-20s %7d %9d %11d %12d %12d %10d %7.1f%% %8.1f%%%s\n", pkg, killed, lived, excl, notCovered, uncoverable, timedOut, score, coverage, mark)
	}
	if len(survivors) > 0 {
		fmt.Println("\nsurvivors:")
		for _, s := range survivors {
			fmt.Println("  " + s)
		}
	}
	if len(excluded) > 0 {
		fmt.Println("\nexcluded (scripts/mutation-exclusions.txt):")
		for _, s := range excluded {
			fmt.Println("  " + s)
		}
	}
	for _, e := range eqs {
		if _, err := os.Stat(e.file); err != nil {
			continue // a package not measured in this run
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
			fmt.Printf("\n%s: stale equivalent, no line %q in %s\n", e.where, e.text, e.file)
			failed = true
		}
	}
	if failed {
		fmt.Printf("\nmutation: a package is under %.0f%% score or %.0f%% mutator coverage\n", *minScore, *minCoverage)
		os.Exit(1)
	}
}

func match(eqs []*exclusion, file, typ, text string, at int) *exclusion {
	for _, e := range eqs {
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

func readEquivalents(path string) ([]*exclusion, error) {
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
				return nil, fmt.Errorf("%s:%d: an equivalent needs its reason in comment lines above it", path, n)
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
