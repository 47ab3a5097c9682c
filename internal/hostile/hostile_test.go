package hostile

import (
	"slices"
	"testing"
	"time"
)

// TestAttacks runs every attack on every reader path against an in-process
// server. An attack that fails must be listed in expectedToFail (with its
// issue item); one listed there must still fail, so that the list shrinks
// as the fixes land.
func TestAttacks(t *testing.T) {
	if testing.Short() {
		t.Skip("about 40 s of attacks; not in -short mode")
	}
	start := time.Now()
	results, err := Run(Config{Report: func(r Result) { t.Log(r) }})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(map[string]bool)
	for _, r := range results {
		ran[r.Key()] = true
		listed := r.Expected != ""
		switch {
		case r.Skipped != "":
			t.Errorf("%s skipped: %s", r.Key(), r.Skipped)
		case r.Pass && listed:
			t.Errorf("%s passes now: remove it from expectedToFail (issue %s)\n%s", r.Key(), r.Expected, r)
		case !r.Pass && !listed:
			t.Errorf("%s fails:\n%s", r.Key(), r)
		}
	}
	for k := range expectedToFail {
		if !ran[k] {
			t.Errorf("expectedToFail lists %s, which names no attack on a path it runs on", k)
		}
	}
	t.Logf("%d attack runs in %s", len(results), time.Since(start).Round(time.Millisecond))
}

// TestExpectedToFailNamesAttacks keeps the list's keys spelled right even
// when TestAttacks is skipped.
func TestExpectedToFailNamesAttacks(t *testing.T) {
	for k := range expectedToFail {
		found := false
		for _, a := range Attacks() {
			for _, p := range AllPaths {
				if a.applies(p) && a.Name+"@"+string(p) == k {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("expectedToFail: %q is no attack@path", k)
		}
	}
	if !slices.Contains(AllPaths, PathDeflate) {
		t.Fatal("AllPaths lost the compression path")
	}
}
