package typedarg

import (
	"encoding/json"
	"errors"
	"net/netip"
	"testing"

	"github.com/switchboard-go/socketio/parser"
)

// selfDecoding decodes JSON itself, null included.
type selfDecoding struct{ null bool }

func (s *selfDecoding) UnmarshalJSON(b []byte) error {
	s.null = string(b) == "null"
	return nil
}

func args(raw ...string) parser.Args {
	var a parser.Args
	for _, r := range raw {
		a.Raw = append(a.Raw, json.RawMessage(r))
	}
	return a
}

func TestNull(t *testing.T) {
	a := args("null")
	if _, err := For[int]()(a, 0); err == nil || Describe(err) != "expected integer, got null" {
		t.Errorf("int: %v", err)
	}
	if _, err := For[struct{}]()(a, 0); err == nil || Describe(err) != "expected object, got null" {
		t.Errorf("struct: %v", err)
	}
	if v, err := For[selfDecoding]()(a, 0); err != nil || !v.null {
		t.Errorf("a type that decodes null itself: %v %v", v, err)
	}
	for name, f := range map[string]func() error{
		"pointer":   func() error { _, err := For[*int]()(a, 0); return err },
		"interface": func() error { _, err := For[any]()(a, 0); return err },
		"map":       func() error { _, err := For[map[string]int]()(a, 0); return err },
		"slice":     func() error { _, err := For[[]int]()(a, 0); return err },
		"raw":       func() error { _, err := For[parser.RawArg]()(a, 0); return err },
	} {
		if err := f(); err != nil {
			t.Errorf("%s refuses null: %v", name, err)
		}
	}
}

func TestMissing(t *testing.T) {
	if _, err := For[parser.RawArg]()(args(), 0); !errors.Is(err, ErrMissing) {
		t.Errorf("RawArg: %v", err)
	}
	if _, err := For[*int]()(args("1"), 1); !errors.Is(err, ErrMissing) {
		t.Errorf("pointer: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		raw  string
		dec  func(parser.Args) error
		want string
	}{
		{`"x"`, func(a parser.Args) error { _, err := For[float32]()(a, 0); return err }, "expected number, got string"},
		{`1`, func(a parser.Args) error { _, err := For[netip.Addr]()(a, 0); return err }, "expected string, got number"},
		{`{}`, func(a parser.Args) error { _, err := For[[2]int]()(a, 0); return err }, "expected array, got object"},
		{`[1]`, func(a parser.Args) error { _, err := For[map[string]int]()(a, 0); return err }, "expected object, got array"},
		{`{"a":{"b":true}}`, func(a parser.Args) error {
			_, err := For[struct{ A struct{ B *string } }]()(a, 0)
			return err
		}, "A.B: expected string, got boolean"},
		{`300`, func(a parser.Args) error { _, err := For[uint8]()(a, 0); return err }, "expected integer, got number 300"},
		{`"!"`, func(a parser.Args) error { _, err := For[[]byte]()(a, 0); return err }, "illegal base64 data at input byte 0"},
	}
	for _, tc := range tests {
		err := tc.dec(args(tc.raw))
		if err == nil || Describe(err) != tc.want {
			t.Errorf("%s: got %v (%q), want %q", tc.raw, err, Describe(err), tc.want)
		}
	}
}
