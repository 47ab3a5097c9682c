package parser

import (
	"encoding/json"
	"strings"
	"testing"
)

// The scanner must accept exactly what json.Valid accepts; these cases
// cover each grammar rule, the fuzz targets cover the rest.
var scanCases = []string{
	``, ` `, `null`, `nul`, `nulll`, `true`, `tru`, `false`, `fals`, `True`,
	`0`, `-0`, `-`, `01`, `-01`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1e+5`, `1E-5`, `1.5e10`, `-1.5E+10`, `1x`, `+1`, `0x10`,
	`""`, `"`, `"a`, `"\"`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\a"`, `"\u12"`, `"\u12g4"`, `"\u00e9"`, `"\uD83D\uDE00"`,
	"\"\t\"", "\"\x7f\"", "\"\xff\"", "\"é\"",
	`"\uaAfF"`, `"\u09Fa"`, `"\u00G0"`, `"\u00g0"`, `"\u00@0"`, "\"\\u00`0\"", `"\u00/0"`, `"\u00:0"`, `"\`, `"a\`,
	`[]`, `[`, `]`, `[1`, `[1,]`, `[,]`, `[1 2]`, `[[[]]]`, `[1,[2,[3,{}]]]`,
	`{}`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":1}}`, `{1:2}`, `{"a":[{"b":{}}]}`,
	" \t\n\r[ 1 , 2 ] \n", "\v1", "1\x00",
}

func TestScannerMatchesJSONValid(t *testing.T) {
	for _, in := range scanCases {
		s := scanner{data: []byte(in), collect: true}
		got := s.whole() == nil
		if want := json.Valid([]byte(in)); got != want {
			t.Errorf("scanner(%q) valid = %v, json.Valid = %v", in, got, want)
		}
	}
}

func TestScannerNestingLimit(t *testing.T) {
	for _, depth := range []int{maxNesting - 1, maxNesting, maxNesting + 1} {
		for _, kind := range []string{"array", "object"} {
			in := []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
			if kind == "object" {
				in = []byte(strings.Repeat(`{"k":`, depth-1) + "{}" + strings.Repeat("}", depth-1))
			}
			s := scanner{data: in}
			got := s.whole() == nil
			if want := json.Valid(in); got != want || got != (depth <= maxNesting) {
				t.Errorf("%s depth %d: scanner %v, json.Valid %v", kind, depth, got, want)
			}
		}
	}
}

func TestScannerPlaceholders(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nums of the placeholders found, "" for a missing num
	}{
		{`[1,"_placeholder",{"_placeholder":"true","num":0}]`, nil},
		{`[{"_placeholder":true,"num":0},{"num":7,"_placeholder":true}]`, []string{"0", "7"}},
		{`{"_placeholder":true}`, []string{""}},
		{`{"_placeholder":true,"num":"1"}`, []string{""}},
		{`{"_placeholder":true,"num":1,"num":2}`, []string{"2"}},
		{`{"_placeholder":true,"num":1,"num":null}`, []string{""}},
		{`{"_placeholder":false,"_placeholder":true,"num":3}`, []string{"3"}},
		{`{"_placeholder":true,"_placeholder":1,"num":3}`, nil},
		{`{"\u005fplaceholder":true,"n\u0075m":4}`, []string{"4"}},
		{`{"_Placeholder":true,"num":4}`, nil},
		{`[{"a":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":0,"in":{"_placeholder":true,"num":9}}]`, []string{"1", "0"}},
		{`{"_placeholder" : true , "num" : -1.5e3 }`, []string{"-1.5e3"}},
	}
	for _, tc := range tests {
		s := scanner{data: []byte(tc.in), collect: true}
		if err := s.whole(); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		var got []string
		for _, h := range s.holes {
			got = append(got, string(h.num))
			if c := tc.in[h.start]; c != '{' || tc.in[h.end-1] != '}' {
				t.Errorf("%s: hole span %d:%d is not an object", tc.in, h.start, h.end)
			}
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("%s: placeholders %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Nesting is depth, not count: a closed container gives its level back,
// so any number of empty siblings is accepted, as by json.Valid.
func TestScannerSiblingsDoNotNest(t *testing.T) {
	for _, empty := range []string{`[]`, `{}`, `[1]`, `{"k":1}`} {
		in := []byte("[" + strings.Repeat(empty+",", maxNesting+1) + empty + "]")
		s := scanner{data: in, collect: true}
		if err := s.whole(); err != nil {
			t.Errorf("%d sibling %s: %v", maxNesting+2, empty, err)
		}
		if _, err := new(Decoder).AddText(append([]byte(`2["e",`), in[1:]...)); err != nil {
			t.Errorf("event with %d sibling %s: %v", maxNesting+2, empty, err)
		}
	}
}
