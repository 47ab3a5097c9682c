package redisadapter

import (
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter/cluster"
)

// Messages as Node's sharded adapter writes them with JSON.stringify
// (socket.io-adapter 2.5's ClusterAdapter message shape) decode to the
// cluster's.
func TestDecodeNodeShardedMessages(t *testing.T) {
	for _, tc := range []struct {
		json string
		want *shardedMsg
	}{
		{`{"type":3,"data":{"packet":{"type":2,"data":["ev","x",1],"nsp":"/chat"},"opts":{"rooms":["r1"],"except":[],"flags":{"volatile":true}}},"uid":"n1","nsp":"/chat"}`,
			&shardedMsg{uid: "n1", nsp: "/chat", br: &cluster.Broadcast{UID: "n1", Rooms: []string{"r1"}, Except: []string{},
				Packet: cluster.Packet{Type: 2, Nsp: "/chat", Data: []any{"ev", "x", 1.0}}, Flags: cluster.Flags{Volatile: true}}}},
		{`{"type":3,"data":{"packet":{"type":2,"data":["ask"],"nsp":"/","id":4},"requestId":"q","opts":{"rooms":[],"except":["e"],"flags":{"timeout":3000}}},"uid":"n1","nsp":"/"}`,
			&shardedMsg{uid: "n1", nsp: "/", req: &cluster.Request{UID: "n1", RequestID: "q", Type: cluster.BroadcastWithAck, Rooms: []string{}, Except: []string{"e"},
				Packet: &cluster.Packet{Type: 2, Nsp: "/", Data: []any{"ask"}, ID: 4, HasID: true}, Flags: cluster.Flags{Timeout: 3 * time.Second}}}},
		{`{"type":4,"data":{"opts":{"rooms":["r2"],"except":[]},"rooms":["r3"]},"uid":"n1","nsp":"/"}`,
			&shardedMsg{uid: "n1", nsp: "/", req: &cluster.Request{UID: "n1", Type: cluster.RemoteJoin, Rooms: []string{"r2"}, Except: []string{}, JoinRooms: []string{"r3"}}}},
		{`{"type":6,"data":{"opts":{"rooms":["r1"],"except":[]},"close":false},"uid":"n1","nsp":"/"}`,
			&shardedMsg{uid: "n1", nsp: "/", req: &cluster.Request{UID: "n1", Type: cluster.RemoteDisconnect, Rooms: []string{"r1"}, Except: []string{}}}},
		{`{"type":9,"data":{"requestId":"q","packet":["sseack","hey"]},"uid":"n1","nsp":"/"}`,
			&shardedMsg{uid: "n1", nsp: "/", req: &cluster.Request{UID: "n1", RequestID: "q", Type: cluster.ServerSideEmit, Rooms: []string{}, Except: []string{}, Data: []any{"sseack", "hey"}}}},
		{`{"type":10,"data":{"requestId":"q","packet":"node:yo"},"uid":"n1","nsp":"/"}`,
			&shardedMsg{uid: "n1", nsp: "/", resp: &cluster.Response{RequestID: "q", Type: cluster.ServerSideEmit, Data: "node:yo", From: "n1"}}},
		{`{"type":11,"data":{"requestId":"q","clientCount":3},"uid":"n1","nsp":"/"}`,
			&shardedMsg{uid: "n1", nsp: "/", resp: &cluster.Response{RequestID: "q", Type: cluster.BroadcastClientCount, ClientCount: 3, From: "n1"}}},
		{`{"type":2,"uid":"n1","nsp":"/"}`, &shardedMsg{uid: "n1", nsp: "/"}},
	} {
		got, err := decodeSharded([]byte(tc.json))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\ngot  %+v, %v\nwant %+v", tc.json, got, err, tc.want)
		}
	}
}

// Every message survives its encoding; JSON unless the data holds binary
// (then msgpack, as Node does), and ALL_ROOMS has no sharded form.
func TestShardedCodecRoundTrip(t *testing.T) {
	for _, bin := range []bool{false, true} {
		arg := any("plain")
		if bin {
			arg = []byte{1, 2}
		}
		br := &cluster.Broadcast{UID: "u", Packet: cluster.Packet{Type: 2, Nsp: "/", Data: []any{"ev", arg}},
			Rooms: []string{"a"}, Except: []string{}, Flags: cluster.Flags{NoCompress: true}}
		b, err := encodeShardedBroadcast("/", br)
		if err != nil {
			t.Fatal(err)
		}
		if isJSON := b[0] == '{'; isJSON == bin {
			t.Fatalf("binary %v: encoded as %q", bin, b)
		}
		got, err := decodeSharded(b)
		if err != nil || !reflect.DeepEqual(got.br, br) {
			t.Fatalf("broadcast: got %+v, %v\nwant %+v", got, err, br)
		}
	}
	for _, r := range []*cluster.Request{
		{UID: "u", Type: cluster.RemoteLeave, Rooms: []string{}, Except: []string{"e"}, JoinRooms: []string{"x", "y"}},
		{UID: "u", RequestID: "q", Type: cluster.RemoteFetch, Rooms: []string{"a"}, Except: []string{}},
		{UID: "u", Type: cluster.ServerSideEmit, Rooms: []string{}, Except: []string{}, Data: []any{"ev", []byte{1}}},
		{UID: "u", RequestID: "q", Type: cluster.BroadcastWithAck, Rooms: []string{}, Except: []string{},
			Packet: &cluster.Packet{Type: 2, Nsp: "/", Data: []any{"ask"}}, Flags: cluster.Flags{Timeout: time.Second}},
	} {
		b, err := encodeShardedRequest("/", r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeSharded(b)
		if err != nil || !reflect.DeepEqual(got.req, r) {
			t.Fatalf("request %d: got %+v, %v\nwant %+v (%q)", r.Type, got.req, err, r, b)
		}
	}
	for _, r := range []*cluster.Response{
		{RequestID: "q", Type: cluster.BroadcastAck, Data: []byte{1, 2}, From: "u"},
		{RequestID: "q", Type: cluster.ServerSideEmit, Data: "yes", From: "u"},
	} {
		b, err := encodeShardedResponse("u", "/", r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeSharded(b)
		if err != nil || !reflect.DeepEqual(got.resp, r) {
			t.Fatalf("response %d: got %+v, %v\nwant %+v", r.Type, got.resp, err, r)
		}
	}
	if _, err := encodeShardedRequest("/", &cluster.Request{UID: "u", Type: cluster.AllRooms}); err == nil {
		t.Fatal("ALL_ROOMS encoded")
	}
}

// hashSlot agrees with Redis Cluster (values from CLUSTER KEYSLOT of a
// redis-server 7 in cluster mode).
func TestHashSlot(t *testing.T) {
	for key, want := range map[string]int{"foo": 12182, "bar": 5061, "{user1000}.following": 3443, "{user1000}.followers": 3443, "socket.io#/#": 13868, "foo{}{bar}": 8363} {
		if got := hashSlot(key); got != want {
			t.Errorf("hashSlot(%q) = %d, want %d", key, got, want)
		}
	}
}
