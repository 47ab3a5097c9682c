package redisadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/cluster"
	"github.com/vmihailenco/msgpack/v5"
)

// The encodings of WIRE.md. Broadcasts, broadcast-with-ack requests and
// their acks are msgpack (they carry binary); every other request and
// response is JSON, and a receiver tells them apart by the first byte.

func packMsgpack(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	// JavaScript has one number type: notepack.io writes integral numbers
	// as msgpack integers, and so must we for a Node server to read the
	// same values (1, not 1.0, in a packet id or a flag).
	enc.UseCompactInts(true)
	enc.UseCompactFloats(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unpackMsgpack(b []byte) (any, error) {
	var v any
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return plain(v), nil
}

// plain turns decoded msgpack into the cluster package's values: numbers
// float64, maps with string keys.
func plain(v any) any {
	switch x := v.(type) {
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint8:
		return float64(x)
	case uint16:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = plain(e)
		}
		return out
	}
	return v
}

func packetValue(p *cluster.Packet) map[string]any {
	m := map[string]any{"type": p.Type, "data": p.Data, "nsp": p.Nsp}
	if p.HasID {
		m["id"] = p.ID
	}
	return m
}

func flagsValue(f cluster.Flags) map[string]any {
	m := map[string]any{}
	if f.Volatile {
		m["volatile"] = true
	}
	if f.NoCompress {
		m["compress"] = false
	}
	if f.Local {
		m["local"] = true
	}
	if f.Timeout > 0 {
		m["timeout"] = f.Timeout.Milliseconds()
	}
	return m
}

func strs(s []string) []string {
	if s == nil {
		return []string{} // Node spreads them into Sets: an array, never nil
	}
	return s
}

func encodeBroadcast(b *cluster.Broadcast) ([]byte, error) {
	return packMsgpack([]any{b.UID, packetValue(&b.Packet), map[string]any{
		"rooms": strs(b.Rooms), "except": strs(b.Except), "flags": flagsValue(b.Flags),
	}})
}

func decodeBroadcast(b []byte) (*cluster.Broadcast, error) {
	v, err := unpackMsgpack(b)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) < 3 {
		return nil, errors.New("not a [uid, packet, opts] array")
	}
	uid, _ := arr[0].(string)
	pkt, err := decodePacket(arr[1])
	if err != nil {
		return nil, err
	}
	opts, _ := arr[2].(map[string]any)
	return &cluster.Broadcast{UID: uid, Packet: *pkt, Rooms: stringList(opts["rooms"]),
		Except: stringList(opts["except"]), Flags: decodeFlags(opts["flags"])}, nil
}

func decodePacket(v any) (*cluster.Packet, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("packet is not a map")
	}
	p := &cluster.Packet{Nsp: "/"}
	t, _ := m["type"].(float64)
	p.Type = int(t)
	if nsp, ok := m["nsp"].(string); ok {
		p.Nsp = nsp
	}
	if id, ok := m["id"].(float64); ok && id >= 0 {
		p.ID, p.HasID = uint64(id), true
	}
	data, ok := m["data"].([]any)
	if !ok {
		return nil, errors.New("packet data is not an array")
	}
	p.Data = data
	return p, nil
}

func decodeFlags(v any) cluster.Flags {
	m, _ := v.(map[string]any)
	var f cluster.Flags
	f.Volatile, _ = m["volatile"].(bool)
	if c, ok := m["compress"].(bool); ok && !c {
		f.NoCompress = true
	}
	f.Local, _ = m["local"].(bool)
	if t, ok := m["timeout"].(float64); ok && t > 0 {
		f.Timeout = time.Duration(t * float64(time.Millisecond))
	}
	return f
}

// stringList reads a list of room names. Node allows numeric room names
// in its API; they travel as numbers and become their decimal text here.
func stringList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		switch x := e.(type) {
		case string:
			out = append(out, x)
		case float64:
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

// wireOpts is the target selection of a request.
type wireOpts struct {
	Rooms  []string `json:"rooms"`
	Except []string `json:"except"`
}

// wireRequest is every JSON request's shape; the fields a type does not
// use are left out.
type wireRequest struct {
	UID       string              `json:"uid"`
	RequestID string              `json:"requestId,omitempty"`
	Type      cluster.RequestType `json:"type"`
	Opts      *wireOpts           `json:"opts,omitempty"`
	Rooms     []string            `json:"rooms,omitempty"`
	Close     *bool               `json:"close,omitempty"`
	Data      []any               `json:"data,omitempty"`
}

func encodeRequest(r *cluster.Request) ([]byte, error) {
	if r.Type == cluster.BroadcastWithAck {
		m := map[string]any{"uid": r.UID, "requestId": r.RequestID, "type": int(r.Type),
			"opts": map[string]any{"rooms": strs(r.Rooms), "except": strs(r.Except), "flags": flagsValue(r.Flags)}}
		if r.Packet != nil {
			m["packet"] = packetValue(r.Packet)
		}
		return packMsgpack(m)
	}
	w := wireRequest{UID: r.UID, RequestID: r.RequestID, Type: r.Type}
	switch r.Type {
	case cluster.RemoteJoin, cluster.RemoteLeave:
		w.Opts = &wireOpts{strs(r.Rooms), strs(r.Except)}
		w.Rooms = strs(r.JoinRooms)
	case cluster.RemoteDisconnect:
		w.Opts = &wireOpts{strs(r.Rooms), strs(r.Except)}
		w.Close = &r.Close
	case cluster.RemoteFetch:
		w.Opts = &wireOpts{strs(r.Rooms), strs(r.Except)}
	case cluster.Sockets:
		w.Rooms = strs(r.Rooms)
	case cluster.ServerSideEmit:
		w.Data = r.Data
	}
	return json.Marshal(w)
}

// decodeAny reads a JSON or msgpack message into plain values.
func decodeAny(b []byte) (map[string]any, error) {
	var v any
	var err error
	if len(b) > 0 && b[0] == '{' {
		err = json.Unmarshal(b, &v)
	} else {
		v, err = unpackMsgpack(b)
	}
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not an object")
	}
	return m, nil
}

// responseID reads the requestId of a JSON response without decoding the
// rest into values (msgpack responses, acks, are small: they are decoded
// whole).
func responseID(b []byte) (string, bool) {
	if len(b) == 0 || b[0] != '{' {
		return "", false
	}
	var r struct {
		RequestID string `json:"requestId"`
	}
	if json.Unmarshal(b, &r) != nil {
		return "", false
	}
	return r.RequestID, true
}

// decodeRequest returns nil, nil for requests this server does not serve
// (the per-socket forms older Node servers sent).
func decodeRequest(b []byte) (*cluster.Request, error) {
	m, err := decodeAny(b)
	if err != nil {
		return nil, err
	}
	t, ok := m["type"].(float64)
	if !ok {
		return nil, errors.New("request without a type")
	}
	r := &cluster.Request{Type: cluster.RequestType(t)}
	r.UID, _ = m["uid"].(string)
	r.RequestID, _ = m["requestId"].(string)
	opts, hasOpts := m["opts"].(map[string]any)
	r.Rooms, r.Except = stringList(opts["rooms"]), stringList(opts["except"])
	switch r.Type {
	case cluster.RemoteJoin, cluster.RemoteLeave:
		if !hasOpts {
			return nil, nil
		}
		r.JoinRooms = stringList(m["rooms"])
	case cluster.RemoteDisconnect:
		if !hasOpts {
			return nil, nil
		}
		r.Close, _ = m["close"].(bool)
	case cluster.Sockets:
		r.Rooms = stringList(m["rooms"])
	case cluster.ServerSideEmit:
		r.Data, _ = m["data"].([]any)
		if len(r.Data) == 0 {
			return nil, errors.New("server-side emit without an event")
		}
	case cluster.BroadcastWithAck:
		r.Flags = decodeFlags(opts["flags"])
		if r.Packet, err = decodePacket(m["packet"]); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func encodeResponse(r *cluster.Response) ([]byte, error) {
	switch r.Type {
	case cluster.BroadcastAck:
		return packMsgpack(map[string]any{"type": int(r.Type), "requestId": r.RequestID, "packet": r.Data})
	case cluster.BroadcastClientCount:
		return json.Marshal(map[string]any{"type": int(r.Type), "requestId": r.RequestID, "clientCount": r.ClientCount})
	case cluster.ServerSideEmit:
		return json.Marshal(map[string]any{"type": int(r.Type), "requestId": r.RequestID, "data": r.Data})
	case cluster.AllRooms:
		return json.Marshal(map[string]any{"requestId": r.RequestID, "rooms": strs(r.Rooms)})
	case cluster.RemoteFetch:
		socks := make([]map[string]any, len(r.Sockets))
		for i, s := range r.Sockets {
			socks[i] = socketValue(&s)
		}
		return json.Marshal(map[string]any{"requestId": r.RequestID, "sockets": socks})
	}
	return nil, fmt.Errorf("redisadapter: no response of type %d", r.Type)
}

func decodeResponse(b []byte) (*cluster.Response, error) {
	m, err := decodeAny(b)
	if err != nil {
		return nil, err
	}
	r := &cluster.Response{}
	r.RequestID, _ = m["requestId"].(string)
	if t, ok := m["type"].(float64); ok {
		r.Type = cluster.RequestType(t)
	}
	switch r.Type {
	case cluster.BroadcastAck:
		r.Data = m["packet"]
	case cluster.BroadcastClientCount:
		n, _ := m["clientCount"].(float64)
		r.ClientCount = int(n)
	case cluster.ServerSideEmit:
		r.Data = m["data"]
	}
	if rooms, ok := m["rooms"]; ok {
		r.Type = cluster.AllRooms
		r.Rooms = stringList(rooms)
	}
	if socks, ok := m["sockets"].([]any); ok {
		r.Type = cluster.RemoteFetch
		for _, s := range socks {
			if d, ok := socketDetails(s); ok {
				r.Sockets = append(r.Sockets, d)
			}
		}
	}
	return r, nil
}

// nodeTime is how Node prints handshake.time (Date.prototype.toString).
const nodeTime = "Mon Jan 02 2006 15:04:05 GMT-0700"

// socketValue is a socket as Node's fetchSockets answer describes it.
func socketValue(s *adapter.SocketDetails) map[string]any {
	h := &s.Handshake
	headers := map[string]any{}
	for k, v := range h.Headers {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	query := map[string]any{}
	for k, v := range h.Query {
		if len(v) > 0 {
			query[k] = v[0]
		}
	}
	var auth any = map[string]any{}
	if len(h.Auth) > 0 {
		auth = h.Auth
	}
	return map[string]any{
		"id": s.ID,
		"handshake": map[string]any{
			"headers": headers, "time": h.Time.Format(nodeTime), "address": h.Address,
			"xdomain": h.XDomain, "secure": h.Secure, "issued": h.Issued, "url": h.URL,
			"query": query, "auth": auth,
		},
		"rooms": strs(s.Rooms),
		"data":  s.Data,
	}
}

func socketDetails(v any) (adapter.SocketDetails, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return adapter.SocketDetails{}, false
	}
	var d adapter.SocketDetails
	d.ID, _ = m["id"].(string)
	d.Rooms = stringList(m["rooms"])
	d.Data = m["data"]
	h, _ := m["handshake"].(map[string]any)
	d.Handshake.Headers = http.Header{}
	if hs, ok := h["headers"].(map[string]any); ok {
		for k, v := range hs {
			if s, ok := v.(string); ok {
				d.Handshake.Headers.Set(k, s)
			}
		}
	}
	if t, ok := h["time"].(string); ok {
		// Node appends the zone's name in parentheses.
		if i := strings.Index(t, " ("); i >= 0 {
			t = t[:i]
		}
		d.Handshake.Time, _ = time.Parse(nodeTime, t)
	}
	d.Handshake.Address, _ = h["address"].(string)
	d.Handshake.XDomain, _ = h["xdomain"].(bool)
	d.Handshake.Secure, _ = h["secure"].(bool)
	if n, ok := h["issued"].(float64); ok {
		d.Handshake.Issued = int64(n)
	}
	d.Handshake.URL, _ = h["url"].(string)
	d.Handshake.Query = url.Values{}
	if q, ok := h["query"].(map[string]any); ok {
		for k, v := range q {
			if s, ok := v.(string); ok {
				d.Handshake.Query.Set(k, s)
			}
		}
	}
	if a, ok := h["auth"]; ok {
		d.Handshake.Auth, _ = json.Marshal(a)
	}
	return d, true
}
