package redisadapter

import (
	"encoding/hex"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter/cluster"
)

// A broadcast as Node's notepack.io encodes it (from `notepack.encode(["abc",
// {type: 2, data: ["ev", Buffer.from([1, 2]), 1.5, 3], nsp: "/"}, {rooms:
// ["r"], except: [], flags: {volatile: true}}])`, bytes written out by
// hand from the msgpack spec) decodes to the same message.
func TestDecodeNodeBroadcast(t *testing.T) {
	b, _ := hex.DecodeString("93" + "a3616263" +
		"83" + "a474797065" + "02" + "a464617461" + "94" + "a26576" + "c4020102" + "cb3ff8000000000000" + "03" + "a36e7370" + "a12f" +
		"83" + "a5726f6f6d73" + "91" + "a172" + "a6657863657074" + "90" + "a5666c616773" + "81" + "a8766f6c6174696c65" + "c3")
	got, err := decodeBroadcast(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &cluster.Broadcast{UID: "abc", Packet: cluster.Packet{Type: 2, Nsp: "/", Data: []any{"ev", []byte{1, 2}, 1.5, 3.0}},
		Rooms: []string{"r"}, Except: []string{}, Flags: cluster.Flags{Volatile: true}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// Every message survives its encoding, and integers go out as msgpack
// integers (JavaScript's notepack.io writes 3, not 3.0).
func TestCodecRoundTrip(t *testing.T) {
	br := &cluster.Broadcast{UID: "u", Packet: cluster.Packet{Type: 2, Nsp: "/chat", Data: []any{"ev", 3.0, []byte{9}, map[string]any{"k": "v"}}, ID: 7, HasID: true},
		Rooms: []string{"a", "b"}, Except: []string{"c"}, Flags: cluster.Flags{NoCompress: true, Timeout: 1500 * time.Millisecond}}
	b, err := encodeBroadcast(br)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0x93 { // a fixarray of three
		t.Fatalf("not a [uid, packet, opts] array: %x", b)
	}
	got, err := decodeBroadcast(b)
	if err != nil || !reflect.DeepEqual(got, br) {
		t.Fatalf("broadcast: got %+v, %v\nwant %+v", got, err, br)
	}
	for _, r := range []*cluster.Request{
		{UID: "u", Type: cluster.RemoteJoin, Rooms: []string{"a"}, Except: []string{}, JoinRooms: []string{"x"}},
		{UID: "u", Type: cluster.RemoteLeave, Rooms: []string{}, Except: []string{"e"}, JoinRooms: []string{"x", "y"}},
		{UID: "u", Type: cluster.RemoteDisconnect, Rooms: []string{"a"}, Except: []string{}, Close: true},
		{UID: "u", RequestID: "q", Type: cluster.RemoteFetch, Rooms: []string{"a"}, Except: []string{}},
		{UID: "u", RequestID: "q", Type: cluster.ServerSideEmit, Rooms: []string{}, Except: []string{}, Data: []any{"ev", 1.0}},
		{UID: "u", RequestID: "q", Type: cluster.BroadcastWithAck, Rooms: []string{}, Except: []string{},
			Packet: &cluster.Packet{Type: 2, Nsp: "/", Data: []any{"ask", []byte{1}}}, Flags: cluster.Flags{Timeout: time.Second}},
	} {
		b, err := encodeRequest(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRequest(b)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("request %d: got %+v, %v\nwant %+v (%q)", r.Type, got, err, r, b)
		}
	}
	for _, r := range []*cluster.Response{
		{RequestID: "q", Type: cluster.BroadcastClientCount, ClientCount: 4},
		{RequestID: "q", Type: cluster.BroadcastAck, Data: []byte{1, 2}},
		{RequestID: "q", Type: cluster.ServerSideEmit, Data: "yes"},
		{RequestID: "q", Type: cluster.AllRooms, Rooms: []string{"a"}},
	} {
		b, err := encodeResponse(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeResponse(b)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("response %d: got %+v, %v\nwant %+v", r.Type, got, err, r)
		}
	}
	// A packet id and an integral argument are msgpack integers.
	b, _ = packMsgpack(map[string]any{"id": uint64(7), "n": 3.0})
	if v, _ := unpackMsgpack(b); !reflect.DeepEqual(v, map[string]any{"id": 7.0, "n": 3.0}) || len(b) != 1+3+1+2+1 {
		t.Fatalf("compact numbers: %x", b)
	}
}
