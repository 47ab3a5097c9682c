package parser

import (
	"encoding/json"
	"strings"
	"testing"
)

// A map argument with a "_placeholder" key in a packet that has
// attachments would be read back as a placeholder by every decoder: the
// encoder refuses it instead of sending a packet that means something
// else. Without attachments the same map is plain data.
func TestEncodeArgsRefusesPlaceholderShapedMap(t *testing.T) {
	fake := map[string]any{"_placeholder": true, "num": 0}
	if _, _, err := EncodeArgs([]any{fake, []byte("x")}); err == nil || !strings.Contains(err.Error(), "placeholder") {
		t.Fatalf("EncodeArgs of a placeholder-shaped map beside an attachment: err %v, want a placeholder error", err)
	}
	data, atts, err := EncodeArgs([]any{fake})
	if err != nil || len(atts) != 0 || string(data) != `[{"_placeholder":true,"num":0}]` {
		t.Fatalf("without attachments: %s %d %v", data, len(atts), err)
	}
	// Other keys never trigger the check.
	if _, _, err := EncodeArgs([]any{map[string]any{"num": 0, "x": true}, []byte("x")}); err != nil {
		t.Fatalf("a plain map beside an attachment: %v", err)
	}
}

// Arg and RawArgs at the edges of the list: the last argument is there,
// the one past it is the zero RawArg, sent as null.
func TestArgAtTheEdges(t *testing.T) {
	a := Args{Raw: []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`"two"`)}}
	if got := string(a.Arg(1).Raw); got != `"two"` {
		t.Fatalf("Arg(1) = %q", got)
	}
	for _, i := range []int{-1, 2} {
		if r := a.Arg(i); r.Raw != nil || r.Attachments != nil {
			t.Fatalf("Arg(%d) = %+v, want the zero RawArg", i, r)
		}
	}
	if data, _, err := EncodeArgs([]any{a.Arg(2)}); err != nil || string(data) != `[null]` {
		t.Fatalf("the zero RawArg encodes as %s, %v; want [null]", data, err)
	}
}
