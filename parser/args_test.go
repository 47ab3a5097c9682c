package parser

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEncodeArgs(t *testing.T) {
	type point struct {
		X, Y int
		Blob []byte // left to encoding/json: base64
	}
	type blob []byte
	tests := []struct {
		name string
		args []any
		want string
		atts [][]byte
	}{
		{"no args", nil, `[]`, nil},
		{"scalars", []any{"ev", 1, int8(-2), uint64(math.MaxUint64), 1.5, float32(0.1), true, nil},
			`["ev",1,-2,18446744073709551615,1.5,0.1,true,null]`, nil},
		{"html not escaped", []any{"<a href='x'>&</a>"}, `["<a href='x'>&</a>"]`, nil},
		{"escapes", []any{"q\"b\\n\nr\rt\tc\x01\u2028é"}, `["q\"b\\n\nr\rt\tc\u0001\u2028é"]`, nil},
		{"invalid utf8", []any{"a\xffb"}, `["a\ufffdb"]`, nil},
		{"top-level bytes", []any{"ev", []byte{1, 2}}, `["ev",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2}}},
		{"nil and empty bytes", []any{[]byte(nil), []byte{}},
			`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, [][]byte{nil, {}}},
		{"nested bytes", []any{"ev", map[string]any{"b": []any{[]byte{1}}, "a": []byte{2}}},
			`["ev",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1}]}]`, [][]byte{{2}, {1}}},
		{"raw message verbatim", []any{json.RawMessage(`{"b": 1, "a": [ ]}`)}, `[{"b": 1, "a": [ ]}]`, nil},
		{"nil raw message", []any{json.RawMessage(nil)}, `[null]`, nil},
		{"nil slice and map", []any{[]any(nil), map[string]any(nil)}, `[null,null]`, nil},
		{"struct with bytes is base64", []any{point{1, 2, []byte{1, 2, 3}}}, `[{"X":1,"Y":2,"Blob":"AQID"}]`, nil},
		{"named byte slice is base64", []any{blob{1, 2, 3}}, `["AQID"]`, nil},
		{"slow path html", []any{map[string]string{"h": "<&>"}}, `[{"h":"<&>"}]`, nil},
		{"time", []any{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}, `["2024-01-02T03:04:05Z"]`, nil},
		{"exponent", []any{1e-7, 1e21, 123456789.0, math.Copysign(0, -1)}, `[1e-7,1e+21,123456789,-0]`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, atts, err := EncodeArgs(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tc.want {
				t.Errorf("data = %s\nwant   %s", data, tc.want)
			}
			if !reflect.DeepEqual(atts, tc.atts) {
				t.Errorf("attachments = %v, want %v", atts, tc.atts)
			}
			if !json.Valid(data) {
				t.Errorf("invalid JSON")
			}
		})
	}
}

func TestEncodeArgsErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	for name, args := range map[string][]any{
		"NaN":           {math.NaN()},
		"Inf32":         {float32(math.Inf(1))},
		"nested NaN":    {map[string]any{"x": []any{math.Inf(-1)}}},
		"invalid raw":   {json.RawMessage(`{`)},
		"channel":       {make(chan int)},
		"cyclic":        {cyclic},
		"func in slice": {[]any{func() {}}},
	} {
		if _, _, err := EncodeArgs(args); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestEncodeArgsMatchesEncodingJSON(t *testing.T) {
	// Without []byte, EncodeArgs must agree with encoding/json (HTML
	// escaping off) byte for byte, so that the fast paths are invisible.
	floats := []float64{0, 1, -1, 0.1, 1.0 / 3, 1e-6, 9.99999e-7, 1e20, 1e21, 1.7976931348623157e308,
		5e-324, 123456789012345678, -2.5e-10, 100, 1e6}
	f32 := []float32{0, 0.1, 1e-6, 9.99e-7, float32(math.SmallestNonzeroFloat32), math.MaxFloat32, 3.4e20, 1e21, 16777216}
	strs := []string{"", "plain", "\x00\x1f\x7f", "\"\\/", "é€😀", "\u2028\u2029", "a\xc3", "\xed\xa0\x80", "<>&"}
	var args []any
	for _, f := range floats {
		args = append(args, f, -f)
	}
	for _, f := range f32 {
		args = append(args, f, -f)
	}
	for _, s := range strs {
		args = append(args, s, map[string]any{s: s})
	}
	args = append(args, int64(math.MinInt64), uint8(255), int16(-300), uint32(1<<31), uint(7), int32(-1), uint16(9))

	got, _, err := EncodeArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(args); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSuffix(sb.String(), "\n")
	if string(got) == want {
		return
	}
	// Escape spellings may legitimately differ (\u0008 vs \b); the values
	// must not.
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("EncodeArgs = %s\nencoding/json = %s", got, want)
	}
	// Numbers have a single spelling: compare them exactly.
	for _, f := range floats {
		g, _, _ := EncodeArgs([]any{f})
		w, _ := json.Marshal([]any{f})
		if string(g) != string(w) {
			t.Errorf("float64 %v: %s, encoding/json %s", f, g, w)
		}
	}
	for _, f := range f32 {
		g, _, _ := EncodeArgs([]any{f})
		w, _ := json.Marshal([]any{f})
		if string(g) != string(w) {
			t.Errorf("float32 %v: %s, encoding/json %s", f, g, w)
		}
	}
}

func TestSplitArray(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`[]`, nil},
		{` [ ] `, nil},
		{`["ev"]`, []string{`"ev"`}},
		{`[ "ev" , 1 ,{"a":[1,2]}, [ ] ,null]`, []string{`"ev"`, `1`, `{"a":[1,2]}`, `[ ]`, `null`}},
		{`[[1],[2,[3]]]`, []string{`[1]`, `[2,[3]]`}},
		{`["a,b]","c\"]"]`, []string{`"a,b]"`, `"c\"]"`}},
	}
	for _, tc := range tests {
		got, err := SplitArray([]byte(tc.in))
		if err != nil {
			t.Errorf("SplitArray(%s): %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("SplitArray(%s) = %q, want %q", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Errorf("SplitArray(%s)[%d] = %s, want %s", tc.in, i, got[i], tc.want[i])
			}
			if cap(got[i]) != len(got[i]) {
				t.Errorf("element %d has spare capacity", i)
			}
		}
	}
	for _, in := range []string{``, `{}`, `"a"`, `1`, `null`, `[`, `[1,]`, `[1]x`, `[1][2]`, `[,1]`, ` `, `[1 2]`} {
		if _, err := SplitArray([]byte(in)); err == nil || !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("SplitArray(%q) error = %v", in, err)
		}
	}
}

func TestReconstruct(t *testing.T) {
	atts := [][]byte{{1}, {2}}
	v, err := Reconstruct(json.RawMessage(
		`["a",{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}],"y":{"_placeholder":false,"num":0}}]`), atts)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"a", []byte{2}, map[string]any{
		"x": []any{[]byte{1}},
		"y": map[string]any{"_placeholder": false, "num": float64(0)},
	}}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("Reconstruct = %#v", v)
	}

	// Without attachments, placeholders are ordinary objects.
	v, err = Reconstruct(json.RawMessage(`[{"_placeholder":true,"num":3}]`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, []any{map[string]any{"_placeholder": true, "num": float64(3)}}) {
		t.Errorf("Reconstruct without attachments = %#v", v)
	}

	// Shared and unused attachments are fine here (only the decoder is strict).
	if _, err := Reconstruct(json.RawMessage(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`), atts); err != nil {
		t.Error(err)
	}

	for _, in := range []string{
		`[{"_placeholder":true,"num":2}]`,
		`[{"_placeholder":true,"num":-1}]`,
		`[{"_placeholder":true,"num":1.5}]`,
		`[{"_placeholder":true}]`,
		`[{"_placeholder":true,"num":"0"}]`,
		`[`,
		``,
	} {
		if _, err := Reconstruct(json.RawMessage(in), atts); err == nil || !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("Reconstruct(%s) error = %v", in, err)
		}
	}
	if _, err := Reconstruct(json.RawMessage(`[`), nil); !errors.Is(err, ErrInvalidPacket) {
		t.Errorf("Reconstruct without attachments, bad JSON: %v", err)
	}
}

func TestUnmarshal(t *testing.T) {
	atts := [][]byte{[]byte("one"), []byte("two")}
	raw := json.RawMessage(`{"a":{"_placeholder":true,"num":1},"b":[{"_placeholder":true,"num":0}],"c":"text"}`)

	var s struct {
		A []byte
		B [][]byte
		C string
	}
	if err := Unmarshal(raw, atts, &s); err != nil {
		t.Fatal(err)
	}
	if string(s.A) != "two" || len(s.B) != 1 || string(s.B[0]) != "one" || s.C != "text" {
		t.Errorf("Unmarshal into struct = %+v", s)
	}

	// *any gets real []byte values through Reconstruct.
	var g any
	if err := Unmarshal(raw, atts, &g); err != nil {
		t.Fatal(err)
	}
	if m, ok := g.(map[string]any); !ok || !reflect.DeepEqual(m["a"], []byte("two")) {
		t.Errorf("Unmarshal into *any = %#v", g)
	}

	// Nested interfaces see the base64 form (documented).
	var m map[string]any
	if err := Unmarshal(raw, atts, &m); err != nil {
		t.Fatal(err)
	}
	if m["a"] != "dHdv" {
		t.Errorf("nested interface = %#v", m["a"])
	}

	// No attachments: plain json.Unmarshal.
	var plain map[string]any
	if err := Unmarshal(raw, nil, &plain); err != nil {
		t.Fatal(err)
	}
	if _, ok := plain["a"].(map[string]any); !ok {
		t.Errorf("without attachments the placeholder should stay an object: %#v", plain["a"])
	}

	// No placeholders in this element: fast path even with attachments.
	var n int
	if err := Unmarshal(json.RawMessage(`42`), atts, &n); err != nil || n != 42 {
		t.Errorf("n = %d, %v", n, err)
	}

	// Errors.
	var typeErr *json.UnmarshalTypeError
	if err := Unmarshal(raw, atts, &n); !errors.As(err, &typeErr) || errors.Is(err, ErrInvalidPacket) {
		t.Errorf("type mismatch error = %v", err)
	}
	var syntaxErr *json.SyntaxError
	if err := Unmarshal(json.RawMessage(`{`), nil, &g); !errors.Is(err, ErrInvalidPacket) || !errors.As(err, &syntaxErr) {
		t.Errorf("syntax error without attachments = %v", err)
	}
	for _, in := range []string{`{`, `[{"_placeholder":true,"num":5}]`} {
		if err := Unmarshal(json.RawMessage(in), atts, &s); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("Unmarshal(%s) error = %v", in, err)
		}
	}
	if err := Unmarshal(raw, atts, nil); err == nil {
		t.Error("Unmarshal into nil succeeded")
	}
	if err := Unmarshal(raw, atts, (*any)(nil)); err == nil {
		t.Error("Unmarshal into nil *any succeeded")
	}
}
