//go:build ignore

// The mutators of scripts/mutscore.go and scripts/mutrun.go, and how
// both hand a mutated file to go: each is run together with this file:
//
//	go run scripts/mutscore.go scripts/mutators.go ...
//	go run scripts/mutrun.go scripts/mutators.go ...
package main

import (
	"encoding/json"
	"go/token"
	"os"
	"path/filepath"
)

// mutations is gremlins' table (internal/engine/mappings.go, v0.6.0) for
// the mutators it enables by default.
var mutations = map[string]map[token.Token]token.Token{
	"ARITHMETIC_BASE": {token.ADD: token.SUB, token.MUL: token.QUO, token.QUO: token.MUL,
		token.REM: token.MUL, token.SUB: token.ADD},
	"CONDITIONALS_BOUNDARY": {token.GEQ: token.GTR, token.GTR: token.GEQ, token.LEQ: token.LSS,
		token.LSS: token.LEQ},
	"CONDITIONALS_NEGATION": {token.EQL: token.NEQ, token.GEQ: token.LSS, token.GTR: token.LEQ,
		token.LEQ: token.GTR, token.LSS: token.GEQ, token.NEQ: token.EQL},
	"INCREMENT_DECREMENT": {token.DEC: token.INC, token.INC: token.DEC},
	"INVERT_NEGATIVES":    {token.SUB: token.ADD},
}

// overlay writes mutated, the new content of file, to a temporary
// directory with a go build overlay that puts it in file's place (the
// tree is never touched) and returns the directory (the caller removes
// it) and the overlay's path.
func overlay(file string, mutated []byte) (dir, overlayPath string) {
	dir, err := os.MkdirTemp("", "mutation")
	if err != nil {
		fatal(err)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		fatal(err)
	}
	copyPath := filepath.Join(dir, filepath.Base(file))
	raw, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: copyPath}})
	overlayPath = filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(copyPath, mutated, 0o644); err != nil {
		fatal(err)
	}
	if err := os.WriteFile(overlayPath, raw, 0o644); err != nil {
		fatal(err)
	}
	return dir, overlayPath
}
