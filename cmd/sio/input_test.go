package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line  string
		event string
		args  []any // nil: no argument
	}{
		{"ping", "ping", nil},
		{"  ping  \n", "ping", nil},
		{"say hello there", "say", []any{"hello there"}},
		{"say\thello", "say", []any{"hello"}},
		{`say "hello there"`, "say", []any{"hello there"}},
		{`say "42"`, "say", []any{"42"}},
		{"say 42", "say", []any{json.Number("42")}},
		{"say 9007199254740993", "say", []any{json.Number("9007199254740993")}},
		{"say true", "say", []any{true}},
		{"say null", "say", []any{nil}},
		{"say 42 apples", "say", []any{"42 apples"}},
		{`move {"x": 1, "y": 2}`, "move", []any{map[string]any{"x": json.Number("1"), "y": json.Number("2")}}},
		{"add [1, 2]", "add", []any{json.Number("1"), json.Number("2")}},
		{"add [[1, 2]]", "add", []any{[]any{json.Number("1"), json.Number("2")}}},
		{"add []", "add", []any{}},
		{"add [1, 2] more", "add", []any{"[1, 2] more"}},
		{`file {"$binary": "AQID"}`, "file", []any{[]byte{1, 2, 3}}},
		{`file [{"$binary": "AQID"}, {"nested": {"$binary": ""}}]`, "file", []any{[]byte{1, 2, 3}, map[string]any{"nested": []byte{}}}},
		{`file {"$binary": "AQID", "other": 1}`, "file", []any{map[string]any{"$binary": "AQID", "other": json.Number("1")}}},
		// The first word is the name: a name with a space needs quoting.
		{"chat message hello", "chat", []any{"message hello"}},
		{`"chat message" hello`, "chat message", []any{"hello"}},
		{`"chat message" "hello"`, "chat message", []any{"hello"}},
		{`"chat message"`, "chat message", nil},
		{`"chat message"   ["a", 1]`, "chat message", []any{"a", json.Number("1")}},
		{`"say \"hi\" \u00e9"	x`, `say "hi" é`, []any{"x"}},
		{`["chat message", "hello"]`, "chat message", []any{"hello"}},
		{`["chat message"]`, "chat message", nil},
		{` [ "add", 1, [2, 3], {"$binary": "AQ=="} ] `, "add", []any{json.Number("1"), []any{json.Number("2"), json.Number("3")}, []byte{1}}},
	} {
		event, args, skip, err := parseLine(tc.line)
		if err != nil || skip {
			t.Errorf("%q: error %v, skip %v", tc.line, err, skip)
			continue
		}
		if event != tc.event || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("%q: event %q args %#v, want %q %#v", tc.line, event, args, tc.event, tc.args)
		}
	}

	for _, line := range []string{"", "   ", "\n", "# a comment", "  #ping"} {
		if _, _, skip, err := parseLine(line); !skip || err != nil {
			t.Errorf("%q: skip %v, error %v; want skipped", line, skip, err)
		}
	}

	for _, tc := range []struct{ line, why string }{
		{`"chat message`, "JSON string"},
		{`"chat message"hello`, "space must follow"},
		{`""`, "empty"},
		{`"" hello`, "empty"},
		{`["chat message", "hello"`, "JSON array"},
		{`["chat message"] extra`, "JSON array"},
		{`[]`, "empty"},
		{`[1, 2]`, "must start with the event name"},
		{`[""]`, "empty"},
		{`[not json]`, "JSON array"},
	} {
		event, args, skip, err := parseLine(tc.line)
		if err == nil || skip || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%q: event %q args %v skip %v error %v; want an error saying %q", tc.line, event, args, skip, err, tc.why)
		}
	}
}

// The usage text documents the syntax parseLine implements: each example
// parses as its description says.
func TestUsageExamples(t *testing.T) {
	want := map[string]struct {
		event string
		args  []any
	}{
		`"chat message" hello`:      {"chat message", []any{"hello"}},
		`["chat message", "hello"]`: {"chat message", []any{"hello"}},
		`chat message hello`:        {"chat", []any{"message hello"}},
		`move {"x": 1, "y": 2}`:     {"move", []any{map[string]any{"x": json.Number("1"), "y": json.Number("2")}}},
		`add [1, 2]`:                {"add", []any{json.Number("1"), json.Number("2")}},
		`add [[1, 2]]`:              {"add", []any{[]any{json.Number("1"), json.Number("2")}}},
		`say "42"`:                  {"say", []any{"42"}},
		`file {"$binary": "AQID"}`:  {"file", []any{[]byte{1, 2, 3}}},
		`ping`:                      {"ping", nil},
	}
	_, examples, ok := strings.Cut(inputSyntax, "Examples:\n")
	if !ok {
		t.Fatal("no examples in the usage text")
	}
	n := 0
	for ex := range strings.Lines(examples) {
		// An example, then at least two spaces, then its description.
		line, _, _ := strings.Cut(strings.TrimSpace(ex), "   ")
		w, ok := want[line]
		if !ok {
			t.Errorf("usage example %q is not checked here", line)
			continue
		}
		n++
		event, args, _, err := parseLine(line)
		if err != nil || event != w.event || !reflect.DeepEqual(args, w.args) {
			t.Errorf("usage example %q: event %q args %#v error %v, want %q %#v", line, event, args, err, w.event, w.args)
		}
	}
	if n != len(want) {
		t.Errorf("%d of the %d examples found in the usage text", n, len(want))
	}
}
