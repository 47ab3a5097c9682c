package parser

import (
	"encoding/json"
	"errors"
	"testing"
)

// Check applies the decoder's rules to a packet built by another Codec.
func TestPacketCheck(t *testing.T) {
	att := [][]byte{{1}}
	ph := json.RawMessage(`["e",{"_placeholder":true,"num":0}]`)
	valid := []Packet{
		{Type: Connect, Namespace: "/"},
		{Type: Connect, Namespace: "/a b~", Data: json.RawMessage(`{"x":1}`)},
		{Type: Disconnect, Namespace: "/chat"},
		{Type: Event, Namespace: "/", Data: json.RawMessage(`["e",1]`)},
		{Type: Event, Namespace: "/\x20", Data: json.RawMessage(`[1]`)},
		{Type: Ack, Namespace: "/", ID: 3, HasID: true, Data: json.RawMessage(`[]`)},
		{Type: ConnectError, Namespace: "/", Data: json.RawMessage(`"no"`)},
		{Type: BinaryEvent, Namespace: "/", Data: ph, Attachments: att},
		{Type: BinaryAck, Namespace: "/", ID: 1, HasID: true, Data: ph, Attachments: att},
		{Type: Event, Namespace: "/", Data: json.RawMessage(`["e",{"_placeholder":true,"num":0}]`)}, // not binary: an ordinary object
	}
	for _, p := range valid {
		if err := p.Check(); err != nil {
			t.Errorf("%+v (data %s): %v", p, p.Data, err)
		}
	}
	invalid := map[string]Packet{
		"empty namespace":                 {Type: Connect, Namespace: ""},
		"namespace without slash":         {Type: Connect, Namespace: "chat"},
		"control character 0x1f":          {Type: Connect, Namespace: "/a\x1f"},
		"control character 0x00 first":    {Type: Connect, Namespace: "/\x00"},
		"DEL":                             {Type: Connect, Namespace: "/\x7f"},
		"type 7":                          {Type: BinaryAck + 1, Namespace: "/", Data: json.RawMessage(`[]`)},
		"binary without attachments":      {Type: BinaryEvent, Namespace: "/", Data: json.RawMessage(`["e"]`)},
		"attachments on an event":         {Type: Event, Namespace: "/", Data: ph, Attachments: att},
		"attachments on connect":          {Type: Connect, Namespace: "/", Attachments: att},
		"placeholders short":              {Type: BinaryEvent, Namespace: "/", Data: ph, Attachments: [][]byte{{1}, {2}}},
		"ack without id":                  {Type: Ack, Namespace: "/", Data: json.RawMessage(`[]`)},
		"event without a name":            {Type: Event, Namespace: "/", Data: json.RawMessage(`[]`)},
		"reserved name":                   {Type: Event, Namespace: "/", Data: json.RawMessage(`["connect"]`)},
		"bad JSON":                        {Type: Event, Namespace: "/", Data: json.RawMessage(`["e",]`)},
		"disconnect with a payload":       {Type: Disconnect, Namespace: "/", Data: json.RawMessage(`{}`)},
		"connect_error without a payload": {Type: ConnectError, Namespace: "/"},
	}
	for name, p := range invalid {
		if err := p.Check(); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%s: %v, want ErrInvalidPacket", name, err)
		}
	}
}

// *Decoder is a PacketDecoder: Add is AddText or AddBinary.
func TestDecoderAdd(t *testing.T) {
	var d PacketDecoder = &Decoder{}
	p, err := d.Add([]byte(`51-["e",{"_placeholder":true,"num":0}]`), false)
	if p != nil || err != nil {
		t.Fatalf("header: %v, %v; want the packet waiting", p, err)
	}
	p, err = d.Add([]byte{7}, true)
	if err != nil || p == nil || p.Type != BinaryEvent || len(p.Attachments) != 1 || p.Attachments[0][0] != 7 {
		t.Fatalf("attachment: %+v, %v", p, err)
	}
	if _, err := d.Add([]byte{7}, true); err == nil {
		t.Fatal("a binary message with no packet waiting was accepted")
	}
	if p, err := d.Add([]byte(`2["e"]`), false); err != nil || p.Type != Event {
		t.Fatalf("text: %+v, %v", p, err)
	}
	d.Add([]byte(`51-["e",{"_placeholder":true,"num":0}]`), false)
	d.Reset()
	if p, err := d.Add([]byte(`2["e"]`), false); err != nil || p == nil {
		t.Fatalf("after Reset: %+v, %v", p, err)
	}
}
