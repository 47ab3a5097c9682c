package server

import (
	"slices"
	"sync"
)

// hub is the chat's in-memory view of who is online and in which rooms.
// It holds only users with at least one connection (a Socket.IO socket or
// a /ws client); their room sets are loaded from the store when they come
// online and kept up to date by the join and leave handlers, which are the
// only ways membership changes. It is one node's view: in a cluster each
// node's hub holds that node's connections, and the cluster's view is the
// union of them (cluster.go).
type hub struct {
	mu    sync.Mutex
	users map[string]*userState
	// online[room] is the set of online members of room.
	online map[string]map[string]bool
}

type userState struct {
	conns int // Socket.IO sockets and /ws clients
	rooms map[string]bool
	ws    map[*wsClient]bool
}

func newHub() *hub {
	return &hub{users: map[string]*userState{}, online: map[string]map[string]bool{}}
}

// connect records a new connection of user, a member of rooms; it returns
// the rooms whose presence changed (user was offline before).
func (h *hub) connect(user string, rooms []string, ws *wsClient) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[user]
	if u == nil {
		u = &userState{rooms: map[string]bool{}, ws: map[*wsClient]bool{}}
		h.users[user] = u
	}
	u.conns++
	if ws != nil {
		u.ws[ws] = true
	}
	var changed []string
	for _, r := range rooms {
		if !u.rooms[r] {
			u.rooms[r] = true
		}
		if !h.isOnline(r, user) {
			h.setOnline(r, user, true)
			changed = append(changed, r)
		}
	}
	return changed
}

// disconnect is connect's reverse; rooms change presence only when the
// user's last connection ends.
func (h *hub) disconnect(user string, ws *wsClient) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[user]
	if u == nil {
		return nil
	}
	u.conns--
	if ws != nil {
		delete(u.ws, ws)
	}
	if u.conns > 0 {
		return nil
	}
	delete(h.users, user)
	var changed []string
	for r := range u.rooms {
		h.setOnline(r, user, false)
		changed = append(changed, r)
	}
	return changed
}

// drain takes every user offline at once, for a node that shuts down, and
// returns the rooms that had someone online, sorted. The connections
// closed afterwards change nothing (their users are gone from the hub).
func (h *hub) drain() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	rooms := make([]string, 0, len(h.online))
	for r := range h.online {
		rooms = append(rooms, r)
	}
	slices.Sort(rooms)
	h.users = map[string]*userState{}
	h.online = map[string]map[string]bool{}
	return rooms
}

// joined records that user became a member of room; it reports whether
// the room's presence changed.
func (h *hub) joined(user, room string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[user]
	if u == nil {
		return false
	}
	u.rooms[room] = true
	if h.isOnline(room, user) {
		return false
	}
	h.setOnline(room, user, true)
	return true
}

// left records that user is no longer a member of room.
func (h *hub) left(user, room string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[user]
	if u == nil {
		return false
	}
	delete(u.rooms, room)
	if !h.isOnline(room, user) {
		return false
	}
	h.setOnline(room, user, false)
	return true
}

// member reports whether an online user is a member of room; known is
// false when the user is offline (ask the store then).
func (h *hub) member(user, room string) (is, known bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[user]
	if u == nil {
		return false, false
	}
	return u.rooms[room], true
}

// onlineIn lists the online members of room, sorted.
func (h *hub) onlineIn(room string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]string, 0, len(h.online[room]))
	for n := range h.online[room] {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// wsFor returns the /ws clients that must see a message: the online
// members of room, or the two users of a private message.
func (h *hub) wsFor(room string, users ...string) []*wsClient {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*wsClient
	add := func(u *userState) {
		for c := range u.ws {
			out = append(out, c)
		}
	}
	if room != "" {
		for n := range h.online[room] {
			add(h.users[n])
		}
		return out
	}
	seen := map[string]bool{}
	for _, n := range users {
		if u := h.users[n]; u != nil && !seen[n] {
			seen[n] = true
			add(u)
		}
	}
	return out
}

func (h *hub) isOnline(room, user string) bool { return h.online[room][user] }

func (h *hub) setOnline(room, user string, on bool) {
	m := h.online[room]
	if on {
		if m == nil {
			m = map[string]bool{}
			h.online[room] = m
		}
		m[user] = true
		return
	}
	delete(m, user)
	if len(m) == 0 {
		delete(h.online, room)
	}
}
