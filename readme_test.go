package socketio_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The Go snippets of README.md are not written there: each one is a region
// of a Go file of this repository that the tests compile and run (an
// Example with an // Output: line, a test, or an example program with a
// test of its own), marked
//
//	// README: <name>
//	…the snippet…
//	// README end
//
// TestReadmeSnippetsAreTested fails when a ```go block of the README is
// not, after removing the region's common indentation, exactly such a
// region, and when a marked region is missing from the README, so that the
// two cannot drift apart.

const (
	readmeBegin = "// README: "
	readmeEnd   = "// README end"
)

type readmeRegion struct {
	where string // file:line of the begin marker
	name  string
	text  string
}

func TestReadmeSnippetsAreTested(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(string(readme))
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go block: the extraction is broken")
	}
	regions, err := markedRegions(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(regions) == 0 {
		t.Fatal("no // README: region in the repository")
	}
	used := make([]bool, len(regions))
	for _, b := range blocks {
		found := false
		for i, r := range regions {
			if r.text == b.text {
				used[i], found = true, true
			}
		}
		if !found {
			t.Errorf("README.md:%d: this ```go block is not a marked region of a tested Go file (%s): \n%s", b.line, closest(b.text, regions), b.text)
		}
	}
	for i, r := range regions {
		if !used[i] {
			t.Errorf("%s: region %q is marked for the README but the README does not show it as it is", r.where, r.name)
		}
	}
}

type readmeBlock struct {
	line int
	text string
}

// goBlocks returns the contents of the README's ```go fences.
func goBlocks(md string) []readmeBlock {
	var out []readmeBlock
	var cur []string
	in, start := false, 0
	for i, line := range strings.Split(md, "\n") {
		switch {
		case !in && strings.TrimSpace(line) == "```go":
			in, start, cur = true, i+2, nil
		case in && strings.TrimSpace(line) == "```":
			in = false
			out = append(out, readmeBlock{line: start, text: strings.Trim(strings.Join(cur, "\n"), "\n")})
		case in:
			cur = append(cur, line)
		}
	}
	return out
}

// markedRegions finds every README region in the Go files under root,
// skipping dependency and hidden directories.
func markedRegions(root string) ([]readmeRegion, error) {
	var out []readmeRegion
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		regions, err := regionsOf(path, src)
		out = append(out, regions...)
		return err
	})
	return out, err
}

func regionsOf(path string, src []byte) ([]readmeRegion, error) {
	var out []readmeRegion
	var cur *readmeRegion
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, readmeBegin):
			if cur != nil {
				return nil, fmt.Errorf("%s:%d: README region inside region %q", path, n, cur.name)
			}
			cur = &readmeRegion{where: fmt.Sprintf("%s:%d", path, n), name: strings.TrimPrefix(trimmed, readmeBegin)}
			lines = nil
		case trimmed == readmeEnd:
			if cur == nil {
				return nil, fmt.Errorf("%s:%d: %q without a region", path, n, readmeEnd)
			}
			cur.text = dedent(lines)
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			lines = append(lines, line)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s: region %q is not closed", cur.where, cur.name)
	}
	return out, sc.Err()
}

// dedent removes the leading tabs every non-empty line shares, and blank
// lines at either end.
func dedent(lines []string) string {
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		if common < 0 || n < common {
			common = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			out[i] = ""
		} else {
			out[i] = l[common:]
		}
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}

// closest names the region sharing the longest first line with text, to
// make a failure easy to act on.
func closest(text string, regions []readmeRegion) string {
	first, _, _ := strings.Cut(text, "\n")
	for _, r := range regions {
		rfirst, _, _ := strings.Cut(r.text, "\n")
		if rfirst == first {
			return "it differs from region " + r.name + " at " + r.where
		}
	}
	return "no region starts with its first line"
}

func TestDedent(t *testing.T) {
	got := dedent([]string{"\t\tif x {", "", "\t\t\ty()", "\t\t}"})
	want := "if x {\n\n\ty()\n}"
	if got != want {
		t.Fatalf("dedent = %q, want %q", got, want)
	}
}
