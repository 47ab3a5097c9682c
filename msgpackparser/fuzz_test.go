package msgpackparser

import (
	"bytes"
	"errors"
	"testing"

	"github.com/switchboard-go/socketio/parser"
)

// FuzzDecode feeds one binary message. Decoding must never panic; an
// accepted packet must pass parser.Packet.Check, bound its attachments,
// and come back unchanged from Encode and a second decode.
func FuzzDecode(f *testing.F) {
	for _, msg := range loadGolden(f) {
		f.Add(msg)
	}
	for _, tc := range invalidMessages {
		f.Add(mustHex(tc.hex))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		in := bytes.Clone(msg)
		p, err := Parser{MaxDepth: 50}.NewDecoder(4).Add(in, true)
		if err != nil {
			if p != nil || !errors.Is(err, parser.ErrInvalidPacket) {
				t.Fatalf("got %v, %v; want nil and an error matching ErrInvalidPacket", p, err)
			}
			return
		}
		if err := p.Check(); err != nil {
			t.Fatalf("accepted a packet that fails Check: %v (data %s)", err, p.Data)
		}
		if len(p.Attachments) > 4 {
			t.Fatalf("%d attachments past the limit of 4", len(p.Attachments))
		}
		frames, err := Parser{}.Encode(p)
		if err != nil {
			t.Fatalf("cannot encode what was decoded: %v (data %s)", err, p.Data)
		}
		q, err := Parser{MaxDepth: 50}.NewDecoder(4).Add(frames[0].Data, true)
		if err != nil {
			t.Fatalf("cannot decode what was encoded: %v (data %s)", err, p.Data)
		}
		if q.Type != p.Type || q.Namespace != p.Namespace || q.ID != p.ID || q.HasID != p.HasID ||
			!bytes.Equal(q.Data, p.Data) || len(q.Attachments) != len(p.Attachments) {
			t.Fatalf("round trip changed the packet:\n%+v (data %s)\n%+v (data %s)", p, p.Data, q, q.Data)
		}
		for i := range p.Attachments {
			if !bytes.Equal(p.Attachments[i], q.Attachments[i]) {
				t.Fatalf("round trip changed attachment %d", i)
			}
		}
	})
}
