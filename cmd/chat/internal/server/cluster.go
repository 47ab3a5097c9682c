package server

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/switchboard-go/socketio"
)

// Several nodes (Config.Adapter set, issue 19).
//
// What crosses nodes, and how:
//
//   - Messages, notices, typing, presence events and new rooms are
//     Socket.IO broadcasts to rooms: the cluster adapter carries them to
//     the sockets of every node. Joining and leaving a room moves the
//     user's sockets on every node (SocketsJoin/SocketsLeave are cluster
//     operations).
//   - History, memberships, unread counts, accounts and sessions are in
//     the shared database (PostgreSQL): every node reads the same.
//   - Who is online is per-node state, and stays so: each node's hub
//     knows the connections it holds, and a node that needs a room's list
//     asks the others for theirs (ServerSideEmitWithAck) and merges them
//     with its own. The alternative, a shared set in Redis or the
//     database, would outlive a node that crashes (its users would stay
//     "online" until some expiry swept them); asking the live nodes
//     cannot, since a dead node no longer answers, and it costs one
//     request per presence change, which is rare next to messages. A node
//     that dies sends no presence event of its own: its clients reconnect
//     to another node, whose presence event then lists whoever is online;
//     a user who does not come back shows offline at the room's next
//     presence event (a join, a leave, a connection), and at once to
//     whoever asks ("members", "join").
//   - A node's hub also knows the rooms of its online users (for typing
//     and membership checks): a join or leave done on one node is sent to
//     the others in the same request that asks for their online lists, so
//     each applies it before answering.
//   - The plain WebSocket clients of /ws are not Socket.IO sockets: a
//     message is sent to the other nodes (ServerSideEmit) and each hands
//     it to its own /ws clients. Server-side events are handled on a
//     goroutine each, so across nodes a /ws client may see two messages
//     sent within the same instant out of id order; /ws clients have no
//     offset to lose anything by that.
//
// Typing indicators are volatile broadcasts and need nothing more. The
// sign-in rate limits of package auth stay per node: behind a sticky load
// balancer a client meets one node's limiter.

// The server-side events of the chat's nodes.
const (
	evOnline = "chat:online" // [rooms] -> {room: [users]} of the answering node
	evMember = "chat:member" // memberChange -> memberAnswer
	evWS     = "chat:ws"     // wireMsg for the node's /ws clients
)

// memberChange is a join or leave applied on every node's hub.
type memberChange struct {
	User   string `json:"user"`
	Room   string `json:"room"`
	Joined bool   `json:"joined"`
}

// memberAnswer is a node's presence in the room after the change, and
// whether the change altered it.
type memberAnswer struct {
	Online  []string `json:"online"`
	Changed bool     `json:"changed"`
}

// clusterHandlers answers the other nodes. Without a cluster adapter no
// server-side event arrives and these never run.
func (s *Server) clusterHandlers() {
	s.io.OnServerSideEmit(evOnline, func(e *socketio.ServerSideEvent) {
		var rooms []string
		if e.Decode(0, &rooms) != nil {
			_ = e.Ack(nil)
			return
		}
		out := map[string][]string{}
		for _, r := range rooms {
			out[r] = s.hub.onlineIn(r)
		}
		_ = e.Ack(plain(out))
	})
	s.io.OnServerSideEmit(evMember, func(e *socketio.ServerSideEvent) {
		var c memberChange
		if e.Decode(0, &c) != nil {
			_ = e.Ack(nil)
			return
		}
		_ = e.Ack(plain(s.applyMember(c)))
	})
	s.io.OnServerSideEmit(evWS, func(e *socketio.ServerSideEvent) {
		var w wireMsg
		if e.Decode(0, &w) != nil {
			return
		}
		for _, c := range s.hub.wsFor(w.Room, w.From, w.To) {
			c.send(w)
		}
	})
}

// applyMember applies a join or leave to this node's hub.
func (s *Server) applyMember(c memberChange) memberAnswer {
	var changed bool
	if c.Joined {
		changed = s.hub.joined(c.User, c.Room)
	} else {
		changed = s.hub.left(c.User, c.Room)
	}
	return memberAnswer{Online: s.hub.onlineIn(c.Room), Changed: changed}
}

// plain turns v into the generic values of encoding/json, which every
// cluster encoding carries as they are (a struct would be encoded by its
// Go field names by some).
func plain(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// ask sends a server-side event to the other nodes and returns their
// answers' first arguments; a node that does not answer in time is left
// out (and logged): what is missing is its users, never a failure.
func (s *Server) ask(event string, arg any) []socketio.Args {
	if !s.cluster {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.clusterTimeout)
	defer cancel()
	answers, err := s.io.ServerSideEmitWithAck(ctx, event, arg)
	if err != nil {
		s.log.Warn("chat: asking the other nodes", "event", event, "answers", len(answers), "err", err)
	}
	return answers
}

// onlineIn lists the online members of each room over the cluster:
// this node's and every other node's, merged and sorted.
func (s *Server) onlineIn(rooms ...string) map[string][]string {
	sets := map[string]map[string]bool{}
	add := func(room string, users []string) {
		m := sets[room]
		if m == nil {
			m = map[string]bool{}
			sets[room] = m
		}
		for _, u := range users {
			m[u] = true
		}
	}
	for _, r := range rooms {
		add(r, s.hub.onlineIn(r))
	}
	for _, a := range s.ask(evOnline, rooms) {
		var theirs map[string][]string
		if a.Len() == 0 || a.Decode(0, &theirs) != nil {
			continue
		}
		for _, r := range rooms {
			add(r, theirs[r])
		}
	}
	out := make(map[string][]string, len(rooms))
	for r, m := range sets {
		out[r] = sortedKeys(m)
	}
	return out
}

// memberChanged applies a join or leave on every node and returns the
// room's presence over the cluster and whether it changed anywhere.
func (s *Server) memberChanged(c memberChange) ([]string, bool) {
	mine := s.applyMember(c)
	set := map[string]bool{}
	for _, u := range mine.Online {
		set[u] = true
	}
	changed := mine.Changed
	for _, a := range s.ask(evMember, c) {
		var theirs memberAnswer
		if a.Len() == 0 || a.Decode(0, &theirs) != nil {
			continue
		}
		changed = changed || theirs.Changed
		for _, u := range theirs.Online {
			set[u] = true
		}
	}
	return sortedKeys(set), changed
}

// wsToOthers hands a message to the /ws clients of the other nodes.
func (s *Server) wsToOthers(ctx context.Context, w wireMsg) {
	if !s.cluster {
		return
	}
	if err := s.io.ServerSideEmit(ctx, evWS, w); err != nil {
		s.log.Warn("chat: sending a message to the other nodes' /ws clients", "err", err)
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
