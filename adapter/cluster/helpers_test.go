package cluster_test

import (
	"testing"

	"github.com/switchboard-go/socketio/parser"
)

func adaptertestEvent(t *testing.T) *parser.Packet {
	t.Helper()
	data, atts, err := parser.EncodeArgs([]any{"ev", "x"})
	if err != nil {
		t.Fatal(err)
	}
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: data, Attachments: atts}
}
