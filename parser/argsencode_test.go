package parser

import (
	"fmt"
	"strings"
	"testing"
)

// EncodeArgs walks arrays and maps itself down to the depth the decoder
// accepts, and refuses one level more, whichever kind of container nests.
func TestEncodeArgsNestingLimit(t *testing.T) {
	nest := map[string]func(levels int) any{
		"array": func(levels int) any {
			v := []any{}
			for range levels - 1 {
				v = []any{v}
			}
			return v
		},
		"map": func(levels int) any {
			v := map[string]any{}
			for range levels - 1 {
				v = map[string]any{"k": v}
			}
			return v
		},
	}
	for kind, build := range nest {
		data, _, err := EncodeArgs([]any{"e", build(maxArgDepth)})
		if err != nil {
			t.Errorf("%s nested %d deep: %v", kind, maxArgDepth, err)
		} else if _, err := new(Decoder).AddText(append([]byte("2"), data...)); err != nil {
			t.Errorf("%s nested %d deep: the decoder refuses what EncodeArgs wrote: %v", kind, maxArgDepth, err)
		}
		_, _, err = EncodeArgs([]any{"e", build(maxArgDepth + 1)})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprint(maxArgDepth)) {
			t.Errorf("%s nested %d deep: error %v, want the nesting refused", kind, maxArgDepth+1, err)
		}
	}
}

// A cyclic map is refused like a cyclic array, instead of recursing until
// the stack runs out.
func TestEncodeArgsCyclicMap(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	if _, _, err := EncodeArgs([]any{cyclic}); err == nil {
		t.Error("cyclic map encoded")
	}
}

// Strings are written as valid UTF-8 whatever they hold: each byte that is
// not part of a valid sequence becomes U+FFFD, as encoding/json writes it.
func TestEncodeArgsInvalidUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"\x80":         `"\ufffd"`,
		"a\x80b":       `"a\ufffdb"`,
		"\xff\xfe":     `"\ufffd\ufffd"`,
		"\xed\xa0\x80": `"\ufffd\ufffd\ufffd"`,
		"é\xc3":        `"é\ufffd"`,
	} {
		data, _, err := EncodeArgs([]any{in})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(data); got != "["+want+"]" {
			t.Errorf("%q encoded as %s, want [%s]", in, got, want)
		}
	}
}
