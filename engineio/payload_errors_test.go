package engineio_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-go/socketio/engineio"
)

// An empty record is reported as one, wherever it is, and not as a record
// starting with the separator byte (an "unknown packet type"): a body that
// starts with 0x1e, or has two in a row, has an empty record there.
func TestDecodePayloadEmptyRecordError(t *testing.T) {
	for _, c := range []struct {
		body   string
		record string
	}{
		{"\x1e4a", "record 0"},
		{"\x1e", "record 0"},
		{"4a\x1e\x1e4b", "record 1"},
		{"4a\x1e4b\x1e\x1e", "record 2"},
	} {
		got, err := codecCollect([]byte(c.body))
		if !errors.Is(err, engineio.ErrInvalidPacket) {
			t.Errorf("DecodePayload(%q) = %v, want a bad record", c.body, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.record+": ") || !strings.Contains(msg, "empty") || strings.Contains(msg, "unknown packet type") {
			t.Errorf("DecodePayload(%q) error %q, want %s named empty", c.body, msg, c.record)
		}
		if n := len(got); n != int(c.record[len(c.record)-1]-'0') {
			t.Errorf("DecodePayload(%q) delivered %d packets before the empty record", c.body, n)
		}
	}
}

// A line break is refused anywhere in a binary record, its first byte
// included, though encoding/base64 would skip it: each byte string has
// one spelling only.
func TestDecodePayloadLineBreakFirstInBase64(t *testing.T) {
	for _, body := range []string{"b\nAQID", "b\rAQID", "b\r\nAQID", "4a\x1eb\nAQID"} {
		if _, err := codecCollect([]byte(body)); !errors.Is(err, engineio.ErrInvalidPacket) || !strings.Contains(err.Error(), "line break") {
			t.Errorf("DecodePayload(%q) = %v, want a line break refused", body, err)
		}
	}
}
