package redisadapter

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard-go/socketio/adapter/cluster"
)

// The messages of the sharded adapter (WIRE.md, "The sharded adapter"):
// socket.io-adapter's ClusterAdapter messages {uid, nsp, type, data}, JSON
// unless a type that may carry binary does, then msgpack.

// shardedType numbers the sharded messages (socket.io-adapter's
// MessageType). They differ from the classic adapter's RequestType.
type shardedType int

const (
	stInitialHeartbeat  shardedType = 1 // not sent by the sharded adapter
	stHeartbeat         shardedType = 2 // idem
	stBroadcast         shardedType = 3 // with data.requestId: a broadcast with acks
	stSocketsJoin       shardedType = 4
	stSocketsLeave      shardedType = 5
	stDisconnectSockets shardedType = 6
	stFetchSockets      shardedType = 7
	stFetchResponse     shardedType = 8
	stServerSideEmit    shardedType = 9
	stServerSideResp    shardedType = 10
	stClientCount       shardedType = 11
	stBroadcastAck      shardedType = 12
	stAdapterClose      shardedType = 13 // idem
)

// errNoShardedRequest is returned for the classic requests the sharded
// protocol has no message for (ALL_ROOMS and SOCKETS).
var errNoShardedRequest = errors.New("redisadapter: the sharded adapter's protocol has no such request (Node's sharded adapter answers none)")

// mayCarryBinary lists the types Node encodes as msgpack when their data
// holds binary.
func mayCarryBinary(t shardedType) bool {
	switch t {
	case stBroadcast, stBroadcastAck, stFetchResponse, stServerSideEmit, stServerSideResp:
		return true
	}
	return false
}

func hasBinary(v any) bool {
	switch x := v.(type) {
	case []byte:
		return true
	case []any:
		for _, e := range x {
			if hasBinary(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasBinary(e) {
				return true
			}
		}
	case []map[string]any:
		for _, e := range x {
			if hasBinary(e) {
				return true
			}
		}
	}
	return false
}

func encodeSharded(uid, nsp string, t shardedType, data map[string]any) ([]byte, error) {
	m := map[string]any{"uid": uid, "nsp": nsp, "type": int(t), "data": data}
	if mayCarryBinary(t) && hasBinary(data) {
		return packMsgpack(m)
	}
	return json.Marshal(m)
}

func optsValue(rooms, except []string, f cluster.Flags) map[string]any {
	return map[string]any{"rooms": strs(rooms), "except": strs(except), "flags": flagsValue(f)}
}

func encodeShardedBroadcast(nsp string, b *cluster.Broadcast) ([]byte, error) {
	return encodeSharded(b.UID, nsp, stBroadcast, map[string]any{
		"packet": packetValue(&b.Packet), "opts": optsValue(b.Rooms, b.Except, b.Flags),
	})
}

func encodeShardedRequest(nsp string, r *cluster.Request) ([]byte, error) {
	var t shardedType
	data := map[string]any{}
	switch r.Type {
	case cluster.BroadcastWithAck:
		t = stBroadcast
		if r.Packet == nil {
			return nil, errors.New("redisadapter: broadcast without a packet")
		}
		data["packet"] = packetValue(r.Packet)
		data["requestId"] = r.RequestID
		data["opts"] = optsValue(r.Rooms, r.Except, r.Flags)
	case cluster.RemoteJoin, cluster.RemoteLeave:
		t = stSocketsJoin
		if r.Type == cluster.RemoteLeave {
			t = stSocketsLeave
		}
		data["opts"] = optsValue(r.Rooms, r.Except, cluster.Flags{})
		data["rooms"] = strs(r.JoinRooms)
	case cluster.RemoteDisconnect:
		t = stDisconnectSockets
		data["opts"] = optsValue(r.Rooms, r.Except, cluster.Flags{})
		data["close"] = r.Close
	case cluster.RemoteFetch:
		t = stFetchSockets
		data["opts"] = optsValue(r.Rooms, r.Except, cluster.Flags{})
		data["requestId"] = r.RequestID
	case cluster.ServerSideEmit:
		t = stServerSideEmit
		data["packet"] = r.Data
		if r.RequestID != "" {
			data["requestId"] = r.RequestID
		}
	default:
		return nil, fmt.Errorf("%w: request type %d", errNoShardedRequest, r.Type)
	}
	return encodeSharded(r.UID, nsp, t, data)
}

// encodeShardedResponse encodes r, sent by uid, an answer to a request.
func encodeShardedResponse(uid, nsp string, r *cluster.Response) ([]byte, error) {
	var t shardedType
	data := map[string]any{"requestId": r.RequestID}
	switch r.Type {
	case cluster.RemoteFetch:
		t = stFetchResponse
		socks := make([]map[string]any, len(r.Sockets))
		for i, s := range r.Sockets {
			socks[i] = socketValue(&s)
		}
		data["sockets"] = socks
	case cluster.ServerSideEmit:
		t = stServerSideResp
		data["packet"] = r.Data
	case cluster.BroadcastClientCount:
		t = stClientCount
		data["clientCount"] = r.ClientCount
	case cluster.BroadcastAck:
		t = stBroadcastAck
		data["packet"] = r.Data
	default:
		return nil, fmt.Errorf("redisadapter: the sharded adapter has no response of type %d", r.Type)
	}
	return encodeSharded(uid, nsp, t, data)
}

// shardedMsg is a decoded message: one of br, req and resp is set, or
// none for the messages a server ignores (heartbeats).
type shardedMsg struct {
	uid  string
	nsp  string
	br   *cluster.Broadcast
	req  *cluster.Request
	resp *cluster.Response
}

func decodeSharded(b []byte) (*shardedMsg, error) {
	m, err := decodeAny(b)
	if err != nil {
		return nil, err
	}
	out := &shardedMsg{nsp: "/"}
	out.uid, _ = m["uid"].(string)
	if nsp, ok := m["nsp"].(string); ok {
		out.nsp = nsp
	}
	tf, ok := m["type"].(float64)
	if !ok {
		return nil, errors.New("message without a type")
	}
	t := shardedType(tf)
	data, _ := m["data"].(map[string]any)
	requestID, _ := data["requestId"].(string)
	opts, _ := data["opts"].(map[string]any)
	rooms, except := stringList(opts["rooms"]), stringList(opts["except"])
	req := func(rt cluster.RequestType) *cluster.Request {
		return &cluster.Request{UID: out.uid, RequestID: requestID, Type: rt, Rooms: rooms, Except: except}
	}
	resp := func(rt cluster.RequestType) *cluster.Response {
		return &cluster.Response{RequestID: requestID, Type: rt, From: out.uid}
	}
	switch t {
	case stBroadcast:
		pkt, err := decodePacket(data["packet"])
		if err != nil {
			return nil, err
		}
		flags := decodeFlags(opts["flags"])
		if _, withAck := data["requestId"]; withAck {
			out.req = req(cluster.BroadcastWithAck)
			out.req.Packet, out.req.Flags = pkt, flags
		} else {
			out.br = &cluster.Broadcast{UID: out.uid, Packet: *pkt, Rooms: rooms, Except: except, Flags: flags}
		}
	case stSocketsJoin, stSocketsLeave:
		out.req = req(cluster.RemoteJoin)
		if t == stSocketsLeave {
			out.req.Type = cluster.RemoteLeave
		}
		out.req.JoinRooms = stringList(data["rooms"])
	case stDisconnectSockets:
		out.req = req(cluster.RemoteDisconnect)
		out.req.Close, _ = data["close"].(bool)
	case stFetchSockets:
		out.req = req(cluster.RemoteFetch)
	case stServerSideEmit:
		out.req = req(cluster.ServerSideEmit)
		out.req.Data, _ = data["packet"].([]any)
		if len(out.req.Data) == 0 {
			return nil, errors.New("server-side emit without an event")
		}
	case stFetchResponse:
		out.resp = resp(cluster.RemoteFetch)
		socks, _ := data["sockets"].([]any)
		for _, s := range socks {
			if d, ok := socketDetails(s); ok {
				out.resp.Sockets = append(out.resp.Sockets, d)
			}
		}
	case stServerSideResp:
		out.resp = resp(cluster.ServerSideEmit)
		out.resp.Data = data["packet"]
	case stClientCount:
		out.resp = resp(cluster.BroadcastClientCount)
		n, _ := data["clientCount"].(float64)
		out.resp.ClientCount = int(n)
	case stBroadcastAck:
		out.resp = resp(cluster.BroadcastAck)
		out.resp.Data = data["packet"]
	case stInitialHeartbeat, stHeartbeat, stAdapterClose:
	default:
		return nil, fmt.Errorf("unknown message type %d", t)
	}
	return out, nil
}
