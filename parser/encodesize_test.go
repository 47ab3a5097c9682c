package parser

import (
	"encoding/json"
	"math"
	"testing"
)

// Encode allocates its result once, at its exact size, for every length
// of type, attachment count and ack id, the powers of ten included.
func TestEncodeExactSize(t *testing.T) {
	var packets []Packet
	for _, typ := range []PacketType{Event, 9, 10, 42, 99, 100, 255} {
		packets = append(packets, Packet{Type: typ, Data: json.RawMessage(`["a"]`)})
	}
	for _, id := range []uint64{0, 9, 10, 11, 99, 100, 12345, math.MaxUint64} {
		packets = append(packets, Packet{Type: Ack, Namespace: "/n", ID: id, HasID: true, Data: json.RawMessage(`[]`)})
	}
	for _, n := range []int{1, 9, 10, 11, 99, 100} {
		packets = append(packets, Packet{Type: BinaryEvent, Attachments: make([][]byte, n), Data: json.RawMessage(`["a"]`)})
	}
	for _, p := range packets {
		out := p.Encode()
		if len(out) != cap(out) {
			t.Errorf("%s: Encode() = %q, capacity %d", p.Type, out, cap(out))
		}
	}
}
