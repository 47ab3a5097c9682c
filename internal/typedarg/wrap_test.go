package typedarg

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-go/socketio/parser"
)

// argsOf splits "a|b|c" into the raw JSON arguments a, b and c.
func argsOf(in string) parser.Args { return args(strings.Split(in, "|")...) }

// Wrap1, Wrap2 and Wrap3 call the handler with every argument decoded, or
// fail with the index of the first argument that does not decode, and
// then not the handler.
func TestWrapReportsTheFirstBadArgument(t *testing.T) {
	var got []string
	fail := func(e string, i int, err error) {
		got = append(got, fmt.Sprintf("%s fail %d: %s", e, i, Describe(err)))
	}
	h1 := Wrap1(func(e string) parser.Args { return argsOf(e) }, fail, func(e string, a int) {
		got = append(got, fmt.Sprintf("%s ok %d", e, a))
	})
	h2 := Wrap2(func(e string) parser.Args { return argsOf(e) }, fail, func(e string, a int, b string) {
		got = append(got, fmt.Sprintf("%s ok %d %s", e, a, b))
	})
	h3 := Wrap3(func(e string) parser.Args { return argsOf(e) }, fail, func(e string, a int, b string, c bool) {
		got = append(got, fmt.Sprintf("%s ok %d %s %v", e, a, b, c))
	})
	for _, tc := range []struct {
		h    func(string)
		in   string
		want string
	}{
		{h1, `1`, `1 ok 1`},
		{h1, `"x"`, `"x" fail 0: expected integer, got string`},
		{h2, `1|"b"`, `1|"b" ok 1 b`},
		{h2, `"x"|"b"`, `"x"|"b" fail 0: expected integer, got string`},
		{h2, `1|2`, `1|2 fail 1: expected string, got number`},
		{h3, `1|"b"|true`, `1|"b"|true ok 1 b true`},
		{h3, `"x"|"b"|true`, `"x"|"b"|true fail 0: expected integer, got string`},
		{h3, `1|2|true`, `1|2|true fail 1: expected string, got number`},
		{h3, `1|"b"|3`, `1|"b"|3 fail 2: expected boolean, got number`},
	} {
		got = nil
		tc.h(tc.in)
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A byte slice is described as what it accepts: binary, or base64 text.
func TestDescribeByteSlice(t *testing.T) {
	if _, err := For[[]byte]()(args("1"), 0); err == nil || Describe(err) != "expected binary or base64 string, got number" {
		t.Errorf("[]byte: %v", err)
	}
	if _, err := For[[]int]()(args("1"), 0); err == nil || Describe(err) != "expected array, got number" {
		t.Errorf("[]int: %v", err)
	}
}
