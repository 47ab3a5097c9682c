//go:build ignore

// The mutators of scripts/mutscore.go and scripts/mutrun.go, which are
// each run together with this file:
//
//	go run scripts/mutscore.go scripts/mutators.go ...
//	go run scripts/mutrun.go scripts/mutators.go ...
package main

import "go/token"

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
