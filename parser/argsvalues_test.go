package parser

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Args gives each received argument as the caller asks: decoded into a
// typed variable, or as a generic value with attachments as []byte.
func TestArgsAccessors(t *testing.T) {
	raw, attachments, err := EncodeArgs([]any{"text", 1.5, []byte{1, 2}, map[string]any{"file": []byte{3}, "n": 2.0}})
	if err != nil {
		t.Fatal(err)
	}
	elems, err := SplitArray(raw)
	if err != nil {
		t.Fatal(err)
	}
	a := Args{Raw: elems, Attachments: attachments}
	if a.Len() != 4 {
		t.Fatalf("Len() = %d, want 4", a.Len())
	}

	var s string
	if err := a.Decode(0, &s); err != nil || s != "text" {
		t.Errorf("Decode(0) = %q, %v", s, err)
	}
	var b []byte
	if err := a.Decode(2, &b); err != nil || !reflect.DeepEqual(b, []byte{1, 2}) {
		t.Errorf("Decode(2) = %v, %v", b, err)
	}
	var file struct {
		File []byte
		N    int
	}
	if err := a.Decode(3, &file); err != nil || !reflect.DeepEqual(file.File, []byte{3}) || file.N != 2 {
		t.Errorf("Decode(3) = %+v, %v", file, err)
	}
	for _, i := range []int{-1, 4} {
		if err := a.Decode(i, &s); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("Decode(%d) = %v, want out of range", i, err)
		}
	}
	var n int
	if err := a.Decode(0, &n); err == nil {
		t.Error("Decode of a string into an int succeeded")
	}

	want := []any{"text", 1.5, []byte{1, 2}, map[string]any{"file": []byte{3}, "n": 2.0}}
	for i, w := range want {
		if got := a.Value(i); !reflect.DeepEqual(got, w) {
			t.Errorf("Value(%d) = %#v, want %#v", i, got, w)
		}
	}
	if got := a.Values(); !reflect.DeepEqual(got, want) {
		t.Errorf("Values() = %#v, want %#v", got, want)
	}
	for _, i := range []int{-1, 4} {
		if got := a.Value(i); got != nil {
			t.Errorf("Value(%d) = %#v, want nil", i, got)
		}
	}

	// An argument that does not decode is nil among the others.
	bad := Args{Raw: []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`{`), json.RawMessage(`"x"`)}}
	if got := bad.Values(); !reflect.DeepEqual(got, []any{1.0, nil, "x"}) {
		t.Errorf("Values() with an undecodable argument = %#v", got)
	}
	if (Args{}).Len() != 0 || len((Args{}).Values()) != 0 {
		t.Error("empty Args is not empty")
	}
}
