package adminui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	socketio "github.com/switchboard-go/socketio"
)

// adminKey is the socket data key that keeps what the UI shows of a
// socket's connection, as instrument() keeps socket.data._admin: with a
// cluster adapter it travels with the socket's data to the other servers.
// The UI never shows it among the data.
const adminKey = "_admin"

// serializedSocket is a socket as the UI lists it.
type serializedSocket struct {
	ID        string              `json:"id"`
	ClientID  string              `json:"clientId,omitempty"`
	Transport string              `json:"transport,omitempty"`
	Nsp       string              `json:"nsp"`
	Data      map[string]any      `json:"data"`
	Handshake serializedHandshake `json:"handshake"`
	Rooms     []string            `json:"rooms"`
}

// serializedHandshake is Node's socket.handshake, without auth.
type serializedHandshake struct {
	Address string         `json:"address"`
	Headers map[string]any `json:"headers"`
	Query   map[string]any `json:"query"`
	Issued  int64          `json:"issued"`
	Secure  bool           `json:"secure"`
	Time    string         `json:"time"`
	URL     string         `json:"url"`
	XDomain bool           `json:"xdomain"`
}

// serializeLocal serializes a socket of this server. Its data is only
// reachable key by key, so it is fetched as FetchSockets returns it, from
// this server only; a socket gone meanwhile shows its connection alone.
func serializeLocal(s *socketio.Socket, ns *socketio.Namespace) serializedSocket {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var out serializedSocket
	if r, err := ns.In(s.ID()).Local().FetchSockets(ctx); err == nil && len(r) == 1 {
		out = serializeRemote(r[0], ns)
	} else {
		var data map[string]any
		if v, ok := s.Get(adminKey); ok {
			data = map[string]any{adminKey: v}
		}
		out = serialize(s.ID(), ns.Name(), s.Handshake(), s.Rooms(), data)
	}
	addHost(&out, s)
	return out
}

// addHost adds the host header, which net/http keeps apart from the
// others, to the headers of a local socket (Node lists it with them).
func addHost(out *serializedSocket, s *socketio.Socket) {
	if r := s.Conn().Request(); r != nil && r.Host != "" {
		out.Handshake.Headers["host"] = r.Host
	}
}

func serializeRemote(r *socketio.RemoteSocket, ns *socketio.Namespace) serializedSocket {
	data, _ := r.Data.(map[string]any)
	return serialize(r.ID, ns.Name(), r.Handshake, r.Rooms, data)
}

func serialize(id, nsp string, h socketio.Handshake, rooms []string, data map[string]any) serializedSocket {
	out := serializedSocket{ID: id, Nsp: nsp, Data: map[string]any{}, Rooms: rooms}
	if out.Rooms == nil {
		out.Rooms = []string{}
	}
	for k, v := range data {
		if k != adminKey {
			out.Data[k] = v
			continue
		}
		if m, ok := v.(map[string]any); ok {
			out.ClientID, _ = m["clientId"].(string)
			out.Transport, _ = m["transport"].(string)
		}
	}
	address := h.Address
	if v := h.Headers.Get("Cf-Connecting-Ip"); v != "" {
		address = v
	} else if v := h.Headers.Get("X-Forwarded-For"); v != "" {
		address = v
	}
	out.Handshake = serializedHandshake{
		Address: address,
		Headers: nodeHeaders(h.Headers),
		Query:   nodeQuery(h.Query),
		Issued:  h.Issued,
		Secure:  h.Secure,
		Time:    h.Time.Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"),
		URL:     h.URL,
		XDomain: h.XDomain,
	}
	return out
}

// nodeHeaders writes headers as Node's request.headers: lower-case names,
// repeated values joined with ", " (set-cookie stays a list).
func nodeHeaders(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		k = strings.ToLower(k)
		switch {
		case k == "set-cookie":
			out[k] = vs
		case k == "cookie":
			out[k] = strings.Join(vs, "; ")
		default:
			out[k] = strings.Join(vs, ", ")
		}
	}
	return out
}

// nodeQuery writes a query as Node's parsed query: a string per name, a
// list for a repeated one.
func nodeQuery(q url.Values) map[string]any {
	out := make(map[string]any, len(q))
	for k, vs := range q {
		if len(vs) == 1 {
			out[k] = vs[0]
		} else {
			out[k] = vs
		}
	}
	return out
}
