package main

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"
)

// deflateMessages compresses msgs as a permessage-deflate sender does:
// one stream (context takeover) or a fresh one per message, each message
// flushed and its 00 00 ff ff tail stripped.
func deflateMessages(t *testing.T, takeover bool, msgs ...string) [][]byte {
	t.Helper()
	var out [][]byte
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	for _, m := range msgs {
		if !takeover {
			w.Reset(&buf)
		}
		buf.Reset()
		_, _ = w.Write([]byte(m))
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		b := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
		out = append(out, append([]byte(nil), b...))
	}
	return out
}

func TestInflate(t *testing.T) {
	msgs := []string{
		`42["broadcast",1,2,"` + strings.Repeat("x", 2048) + `"]`,
		`42["broadcast",2,3,"` + strings.Repeat("x", 2048) + `"]`,
		`43 1["y"]`,
	}
	for _, takeover := range []bool{false, true} {
		z := &inflate{takeover: takeover}
		for i, c := range deflateMessages(t, takeover, msgs...) {
			got, err := z.message(c)
			if err != nil {
				t.Fatalf("takeover %v, message %d: %v", takeover, i, err)
			}
			if string(got) != msgs[i] {
				t.Fatalf("takeover %v, message %d: got %q", takeover, i, got)
			}
		}
	}
}
