package cluster

import (
	"fmt"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/parser"
)

// ToPacket turns an encoded event packet into the form servers exchange:
// the arguments decoded, binary attachments put back in place.
func ToPacket(pkt *parser.Packet) (Packet, error) {
	out := Packet{Type: int(parser.Event), Nsp: pkt.Namespace, ID: pkt.ID, HasID: pkt.HasID}
	if pkt.Type != parser.Event && pkt.Type != parser.BinaryEvent {
		return out, fmt.Errorf("cluster: cannot relay a packet of type %d", pkt.Type)
	}
	v, err := parser.Reconstruct(pkt.Data, pkt.Attachments)
	if err != nil {
		return out, err
	}
	data, ok := v.([]any)
	if !ok {
		return out, fmt.Errorf("cluster: event data is not an array")
	}
	out.Data = data
	return out, nil
}

// FromPacket encodes a relayed event packet for this server's sockets. The
// packet is binary when its data holds any []byte, whatever type the
// sender gave it.
func FromPacket(p *Packet) (parser.Packet, error) {
	if p.Type != int(parser.Event) && p.Type != int(parser.BinaryEvent) {
		return parser.Packet{}, fmt.Errorf("cluster: cannot deliver a packet of type %d", p.Type)
	}
	if len(p.Data) == 0 {
		return parser.Packet{}, fmt.Errorf("cluster: event without a name")
	}
	data, atts, err := parser.EncodeArgs(normalize(p.Data).([]any))
	if err != nil {
		return parser.Packet{}, err
	}
	t := parser.Event
	if len(atts) > 0 {
		t = parser.BinaryEvent
	}
	return parser.Packet{Type: t, Namespace: p.Nsp, ID: p.ID, HasID: p.HasID, Data: data, Attachments: atts}, nil
}

// normalize makes a decoded value encodable by encoding/json: maps with
// non-string keys (which some msgpack decoders produce) get string keys.
func normalize(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	}
	return v
}

// PlainValues turns event arguments (any Go values) into plain values:
// each is encoded as it would be for a client, then decoded. Emitters and
// server-side emits use it.
func PlainValues(args []any) ([]any, error) {
	data, atts, err := parser.EncodeArgs(args)
	if err != nil {
		return nil, err
	}
	v, err := parser.Reconstruct(data, atts)
	if err != nil {
		return nil, err
	}
	return v.([]any), nil
}

// valuesArgs wraps plain values as an argument list.
func valuesArgs(vs []any) (adapter.Args, error) {
	data, atts, err := parser.EncodeArgs(normalize(vs).([]any))
	if err != nil {
		return adapter.Args{}, err
	}
	raw, err := parser.SplitArray(data)
	if err != nil {
		return adapter.Args{}, err
	}
	return adapter.Args{Raw: raw, Attachments: atts}, nil
}

// ValueArgs wraps one plain value as an argument list (an acknowledgement
// relayed from another server).
func ValueArgs(v any) (adapter.Args, error) { return valuesArgs([]any{v}) }
