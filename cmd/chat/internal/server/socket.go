package server

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/cmd/chat/internal/auth"
	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
	"github.com/switchboard-go/socketio/cmd/chat/internal/valid"
)

// The values a socket keeps (Socket.Set): they survive connection state
// recovery with the socket.
const (
	keyUser   = "user"
	keyOffset = "offset"
	keyCred   = "cred" // auth.CredentialKey of the session or token the socket authenticated with
)

// handshakeAuth is the auth payload a client may send: a token (API token
// or session token, for clients without the browser's cookie) and the id
// of the last message it saw.
type handshakeAuth struct {
	Token string `json:"token"`
	// LastID is the client's offset, absent on its first connection (it
	// loads history instead); 0 is an offset like any other: a client
	// that was told 0 (no message existed) and missed the first messages.
	// Not named "offset": the official clients put their recovery offset
	// (a string) and "pid" in the same payload, under those names.
	LastID *int64 `json:"lastId"`
}

// authenticate is the connection middleware: a socket is a user's, by the
// session cookie of its handshake request or by auth.token.
func (s *Server) authenticate(sock *socketio.Socket) error {
	hs := sock.Handshake()
	var a handshakeAuth
	if len(hs.Auth) > 0 {
		if err := json.Unmarshal(hs.Auth, &a); err != nil {
			s.log.Info("chat: bad auth payload", "addr", hs.Address, "err", err, "len", len(hs.Auth))
			return &socketio.ConnectError{Message: "bad auth payload: want {token, lastId}", Data: map[string]any{"code": "bad_auth"}}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.dbTimeout)
	defer cancel()
	var (
		u   store.User
		err error
	)
	var cred string
	if a.Token != "" {
		u, err = s.auth.UserFromToken(ctx, a.Token)
		cred = a.Token
	} else {
		r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
		r.Header = hs.Headers
		u, err = s.auth.UserFromRequest(r)
		if c, cerr := r.Cookie(auth.SessionCookie); cerr == nil {
			cred = c.Value
		}
	}
	if err != nil && !errors.Is(err, auth.ErrUnauthenticated) {
		// The store failed (or was too slow): not the client's fault, so
		// not "log in again". The client may retry.
		s.log.Error("chat: authenticating a socket", "addr", hs.Address, "err", err)
		return &socketio.ConnectError{
			Message: "the server is busy or failing; try again",
			Data:    map[string]any{"code": "unavailable"},
		}
	}
	if err != nil {
		s.log.Debug("chat: connection refused", "addr", hs.Address, "err", err)
		return &socketio.ConnectError{
			Message: "not logged in: sign in again, or send a valid auth.token",
			Data:    map[string]any{"code": "unauthenticated"},
		}
	}
	sock.Set(keyUser, u.Name)
	sock.Set(keyCred, auth.CredentialKey(cred))
	if a.LastID != nil {
		sock.Set(keyOffset, *a.LastID)
	}
	return nil
}

func socketUser(sock *socketio.Socket) string {
	v, _ := sock.Get(keyUser)
	name, _ := v.(string)
	return name
}

// sessionInfo is the first event a socket gets: who it is, its rooms and
// unread counts.
type sessionInfo struct {
	User string `json:"user"`
	// Offset is where the socket stands: every message after it reaches
	// the socket (live, or by the catch-up before this event). A client
	// keeps the highest of it and of the ids it received, and sends that
	// as auth.offset when it connects again.
	Offset int64          `json:"offset"`
	Rooms  []string       `json:"rooms"`
	Unread map[string]int `json:"unread"`
}

// credKey is the Socket.IO room of the sockets authenticated with one
// session or API token.
func credKey(k string) string { return "c:" + k }

// disconnectCredential closes the Socket.IO connections that authenticated
// with the session or API token of key (auth.CredentialKey), on every node
// of a cluster: the token was revoked, or the session logged out. A client
// that reconnects is refused, as its credential no longer works.
func (s *Server) disconnectCredential(key string) {
	if err := s.io.In(credKey(key)).DisconnectSockets(true); err != nil {
		s.log.Warn("chat: disconnecting the sockets of a revoked credential", "err", err)
	}
}

// onConnection sets up a socket: it joins the Socket.IO rooms of the
// user's chat rooms, catches it up from its offset, and registers the
// handlers. It waits for the store on the socket's dispatch goroutine on
// purpose: the socket's events queue behind it, so none is handled before
// the socket is in its rooms, and each client's messages are stored in
// the order it sent them.
func (s *Server) onConnection(sock *socketio.Socket) {
	user := socketUser(sock)
	ctx, cancel := context.WithTimeout(context.Background(), s.dbTimeout)
	defer cancel()
	rooms, err := s.st.UserRooms(ctx, user)
	if err != nil {
		s.log.Error("chat: rooms of user", "user", user, "err", err)
		sock.Disconnect(true)
		return
	}
	s.pubMu.Lock()
	// Every room is joined under pubMu, the user's own too (private
	// messages): a message published before is in the catch-up, one
	// published after arrives live, none both.
	sock.Join(userKey(user))
	if k, ok := sock.Get(keyCred); ok {
		// Revoking the token or logging the session out disconnects
		// the socket (disconnectCredential), on whichever node it is.
		sock.Join(credKey(k.(string)))
	}
	// A recovered socket has its old rooms; membership may have changed
	// meanwhile (another tab), so set them again.
	want := map[string]bool{}
	for _, r := range rooms {
		want[roomKey(r)] = true
		sock.Join(roomKey(r))
	}
	for _, r := range sock.Rooms() {
		if len(r) > 2 && r[:2] == "r:" && !want[r] {
			sock.Leave(r)
		}
	}
	// Under pubMu no message is being published: the catch-up ends exactly
	// where the live messages begin.
	resync := false
	offset := s.lastID
	if !sock.Recovered() {
		if v, ok := sock.Get(keyOffset); ok {
			after, _ := v.(int64)
			// A message stored but not published yet (publish.go) has
			// an id above lastID and reaches the socket live, now that it
			// is in its rooms: the catch-up stops before it.
			upTo := offset
			if s.cluster {
				// Another node's message reaches this node's sockets
				// through Redis, after this node's own: a client here may
				// have seen id 11 (ours) and not yet 10 (another node's,
				// on its way) when it dropped. Catching up from a little
				// earlier sends 10; what it has already, it drops by id.
				// Other nodes' ids are not counted in lastID: no bound.
				after = max(after-clusterCatchUpSlack, 0)
				upTo = math.MaxInt64
			}
			resync = s.catchUp(ctx, sock, user, after, upTo)
		}
	}
	s.pubMu.Unlock()

	s.emitPresence(s.hub.connect(user, rooms, nil)...)
	unread, err := s.st.Unread(ctx, user)
	if err != nil {
		s.log.Error("chat: unread", "user", user, "err", err)
	}
	if unread == nil {
		unread = map[string]int{}
	}
	_ = sock.Emit("session", sessionInfo{User: user, Offset: offset, Rooms: rooms, Unread: unread})
	if resync {
		_ = sock.Emit("resync")
	}

	sock.OnDisconnect(func(socketio.Reason) {
		s.emitPresence(s.hub.disconnect(user, nil)...)
	})
	h := &handlers{s: s, sock: sock, user: user}
	sock.On("rooms", func(e *socketio.Event) {
		// No argument: TypedAck1 would call a missing one an error.
		res, err := h.rooms()
		if err != nil {
			_ = e.Ack(map[string]string{"error": err.Error()})
			return
		}
		_ = e.Ack(res)
	})
	sock.On("create", socketio.TypedAck1(h.create))
	sock.On("join", socketio.TypedAck1(h.join))
	sock.On("leave", socketio.TypedAck1(h.leave))
	sock.On("members", socketio.TypedAck1(h.members))
	sock.On("message", socketio.TypedAck1(h.message))
	sock.On("history", socketio.TypedAck1(h.history))
	sock.On("read", socketio.TypedAck1(h.read))
	sock.On("typing", socketio.Typed1(h.typing))
	sock.OnError(func(err error) { s.log.Debug("chat: bad event", "user", user, "err", err) })
}

// catchUp sends a socket the messages after offset after, up to upTo, in
// id order. It reports whether there were more than catchUpMax (the client
// then reloads its history instead).
func (s *Server) catchUp(ctx context.Context, sock *socketio.Socket, user string, after, upTo int64) bool {
	sent := 0
	for sent < catchUpMax {
		ms, err := s.st.MessagesSince(ctx, user, after, 200)
		if err != nil {
			s.log.Error("chat: catch-up", "user", user, "err", err)
			return true
		}
		for _, m := range ms {
			if m.ID > upTo {
				return false
			}
			_ = sock.Emit("message", toWire(m))
			after = m.ID
		}
		sent += len(ms)
		if len(ms) < 200 {
			return false
		}
	}
	return true
}

// clusterCatchUpSlack is how many ids before its offset a client that
// comes back to a node of a cluster is caught up from (see onConnection).
const clusterCatchUpSlack = 100

// emitPresence tells each room who of its members is online, over the
// cluster.
func (s *Server) emitPresence(rooms ...string) {
	if len(rooms) == 0 {
		return
	}
	online := s.onlineIn(rooms...)
	for _, r := range rooms {
		s.sendPresence(r, online[r])
	}
}

func (s *Server) sendPresence(room string, online []string) {
	_ = s.io.To(roomKey(room)).Emit("presence", presence{Room: room, Online: online})
	if s.cluster {
		time.AfterFunc(presenceRecheck, func() { s.recheckPresence(room, online) })
	}
}

// presenceRecheck is how long after sending a room's presence a node of
// a cluster checks it again. Two nodes whose users change at once each
// ask the other, and the answers may cross the changes: the list that
// arrives last may be the older one. Each node asks again a moment later
// and sends the list again if it differs, so the last word is a fresh
// one.
const presenceRecheck = time.Second

func (s *Server) recheckPresence(room string, sent []string) {
	if s.closed.Load() {
		return
	}
	if now := s.onlineIn(room)[room]; !slices.Equal(now, sent) {
		s.sendPresence(room, now)
	}
}

type presence struct {
	Room   string   `json:"room"`
	Online []string `json:"online"`
}

type notice struct {
	Room  string `json:"room"`
	User  string `json:"user"`
	Event string `json:"event"` // "joined" or "left"
	At    int64  `json:"at"`
}

// handlers are one socket's event handlers; each answers through its
// acknowledgement: a result, or {"error": message}.
type handlers struct {
	s    *Server
	sock *socketio.Socket
	user string
}

type roomArg struct {
	Room string `json:"room"`
}

type roomInfo struct {
	Name      string `json:"name"`
	Member    bool   `json:"member"`
	CreatedBy string `json:"createdBy,omitempty"`
}

type roomsResult struct {
	Rooms  []roomInfo     `json:"rooms"`
	Unread map[string]int `json:"unread"`
}

func (h *handlers) rooms() (roomsResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), h.s.dbTimeout)
	defer cancel()
	all, err := h.s.st.Rooms(ctx)
	if err != nil {
		return roomsResult{}, h.s.internal("rooms", err)
	}
	mine, err := h.s.st.UserRooms(ctx, h.user)
	if err != nil {
		return roomsResult{}, h.s.internal("rooms", err)
	}
	unread, err := h.s.st.Unread(ctx, h.user)
	if err != nil {
		return roomsResult{}, h.s.internal("unread", err)
	}
	member := map[string]bool{}
	for _, r := range mine {
		member[r] = true
	}
	res := roomsResult{Rooms: make([]roomInfo, 0, len(all)), Unread: unread}
	for _, r := range all {
		res.Rooms = append(res.Rooms, roomInfo{Name: r.Name, Member: member[r.Name], CreatedBy: r.CreatedBy})
	}
	if res.Unread == nil {
		res.Unread = map[string]int{}
	}
	return res, nil
}

func (h *handlers) create(e *socketio.Event, a roomArg) (joinResult, error) {
	if err := valid.Room(a.Room); err != nil {
		return joinResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.s.dbTimeout)
	defer cancel()
	if _, err := h.s.st.CreateRoom(ctx, a.Room, h.user); err != nil {
		if errors.Is(err, store.ErrExists) {
			return joinResult{}, errors.New("room " + a.Room + " exists already")
		}
		return joinResult{}, h.s.internal("create room", err)
	}
	_ = h.s.io.Emit("room", roomInfo{Name: a.Room, CreatedBy: h.user})
	return h.join(e, a)
}

type joinResult struct {
	Room    string    `json:"room"`
	History []wireMsg `json:"history"`
	Online  []string  `json:"online"`
	Members []string  `json:"members"` // everyone who joined the room, online or not
}

func (h *handlers) join(_ *socketio.Event, a roomArg) (joinResult, error) {
	if err := valid.Room(a.Room); err != nil {
		return joinResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.s.dbTimeout)
	defer cancel()
	if _, err := h.s.st.Room(ctx, a.Room); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return joinResult{}, errors.New("no room " + a.Room)
		}
		return joinResult{}, h.s.internal("room", err)
	}
	if err := h.s.st.JoinRoom(ctx, h.user, a.Room); err != nil {
		return joinResult{}, h.s.internal("join", err)
	}
	// The sockets join under pubMu, where the last id published tells
	// where their live messages begin; the history is read after the lock
	// (it is the slow part) and ends there: no message is in both.
	h.s.pubMu.Lock()
	err := h.s.io.In(userKey(h.user)).SocketsJoin(roomKey(a.Room))
	upTo := h.s.lastID
	h.s.pubMu.Unlock()
	if err != nil {
		return joinResult{}, h.s.internal("join", err)
	}
	hist, err := h.s.st.RoomHistory(ctx, a.Room, upTo+1, h.s.page)
	if err != nil {
		return joinResult{}, h.s.internal("history", err)
	}
	online, changed := h.s.memberChanged(memberChange{User: h.user, Room: a.Room, Joined: true})
	if changed {
		_ = h.s.io.To(roomKey(a.Room)).Emit("notice", notice{Room: a.Room, User: h.user, Event: "joined", At: time.Now().UnixMilli()})
		h.s.sendPresence(a.Room, online)
	}
	members, err := h.s.st.RoomMembers(ctx, a.Room)
	if err != nil {
		return joinResult{}, h.s.internal("members", err)
	}
	return joinResult{Room: a.Room, History: toWireList(hist), Online: online, Members: nonNil(members)}, nil
}

// nonNil makes an empty list a JSON array, not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type okResult struct {
	OK bool `json:"ok"`
}

func (h *handlers) leave(_ *socketio.Event, a roomArg) (okResult, error) {
	if err := valid.Room(a.Room); err != nil {
		return okResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.s.dbTimeout)
	defer cancel()
	if err := h.s.st.LeaveRoom(ctx, h.user, a.Room); err != nil {
		return okResult{}, h.s.internal("leave", err)
	}
	h.s.pubMu.Lock()
	err := h.s.io.In(userKey(h.user)).SocketsLeave(roomKey(a.Room))
	h.s.pubMu.Unlock()
	if err != nil {
		return okResult{}, h.s.internal("leave", err)
	}
	if online, changed := h.s.memberChanged(memberChange{User: h.user, Room: a.Room}); changed {
		_ = h.s.io.To(roomKey(a.Room)).Emit("notice", notice{Room: a.Room, User: h.user, Event: "left", At: time.Now().UnixMilli()})
		h.s.sendPresence(a.Room, online)
	}
	return okResult{OK: true}, nil
}

type memberList struct {
	Room    string   `json:"room"`
	Online  []string `json:"online"`
	Members []string `json:"members"`
}

func (h *handlers) members(_ *socketio.Event, a roomArg) (memberList, error) {
	if err := valid.Room(a.Room); err != nil {
		return memberList{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.s.dbTimeout)
	defer cancel()
	members, err := h.s.st.RoomMembers(ctx, a.Room)
	if err != nil {
		return memberList{}, h.s.internal("members", err)
	}
	return memberList{Room: a.Room, Online: nonNil(h.s.onlineIn(a.Room)[a.Room]), Members: nonNil(members)}, nil
}

// outFile is an attachment as a client sends it: its bytes as a binary
// attachment.
type outFile struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

type messageArg struct {
	Room     string   `json:"room"`
	To       string   `json:"to"`
	Text     string   `json:"text"`
	File     *outFile `json:"file"`
	ClientID string   `json:"clientId"`
}

type sentResult struct {
	ID   int64 `json:"id"`
	Sent int64 `json:"sent"`
}

func (h *handlers) message(_ *socketio.Event, a messageArg) (sentResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), h.s.dbTimeout)
	defer cancel()
	m, err := h.s.newMessage(ctx, h.user, a)
	if err != nil {
		return sentResult{}, err
	}
	stored, err := h.s.publish(ctx, m)
	if err != nil {
		return sentResult{}, h.s.internal("message", err)
	}
	return sentResult{ID: stored.ID, Sent: stored.Sent.UnixMilli()}, nil
}

// maxClientID bounds the client's id of a message.
const maxClientID = 64

// newMessage checks a message from user, the same way for every way in
// (Socket.IO, HTTP, /ws), and stores its file.
func (s *Server) newMessage(ctx context.Context, user string, a messageArg) (store.Message, error) {
	m := store.Message{From: user, ClientID: a.ClientID}
	if len(a.ClientID) > maxClientID {
		return m, &valid.Error{Msg: "a clientId has at most 64 bytes"}
	}
	switch {
	case a.Room != "" && a.To != "":
		return m, &valid.Error{Msg: "a message goes to a room or to a user, not both"}
	case a.Room != "":
		if err := valid.Room(a.Room); err != nil {
			return m, err
		}
		ok, err := s.isMember(ctx, user, a.Room)
		if err != nil {
			return m, s.internal("membership", err)
		}
		if !ok {
			return m, &valid.Error{Msg: "join room " + a.Room + " first"}
		}
		m.Room = a.Room
	case a.To != "":
		if err := valid.Username(a.To); err != nil {
			return m, err
		}
		if a.To == user {
			return m, &valid.Error{Msg: "a private message goes to someone else"}
		}
		if _, err := s.st.UserByName(ctx, a.To); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return m, &valid.Error{Msg: "no user " + a.To}
			}
			return m, s.internal("user", err)
		}
		m.To = a.To
	default:
		return m, &valid.Error{Msg: "a message needs a room or a user to go to"}
	}
	if a.File == nil || a.Text != "" {
		text, err := valid.Text(a.Text)
		if err != nil {
			return m, err
		}
		m.Text = text
	}
	if a.File != nil {
		if err := valid.FileName(a.File.Name); err != nil {
			return m, err
		}
		if err := valid.FileSize(len(a.File.Data)); err != nil {
			return m, err
		}
		// The type is the content's, never the sender's claim: the page
		// shows images inline and offers the rest as downloads.
		typ := http.DetectContentType(a.File.Data)
		fi, err := s.st.SaveFile(ctx, user, a.File.Name, typ, a.File.Data)
		if err != nil {
			return m, s.internal("save file", err)
		}
		m.File = &fi
	}
	return m, nil
}

// isMember asks the hub for an online user, the store otherwise.
func (s *Server) isMember(ctx context.Context, user, room string) (bool, error) {
	if is, known := s.hub.member(user, room); known {
		return is, nil
	}
	rooms, err := s.st.UserRooms(ctx, user)
	if err != nil {
		return false, err
	}
	for _, r := range rooms {
		if r == room {
			return true, nil
		}
	}
	return false, nil
}

type historyArg struct {
	Room   string `json:"room"`
	With   string `json:"with"`
	Before int64  `json:"before"`
	Limit  int    `json:"limit"`
}

type historyResult struct {
	Room     string    `json:"room,omitempty"`
	With     string    `json:"with,omitempty"`
	Messages []wireMsg `json:"messages"`
}

func (h *handlers) history(_ *socketio.Event, a historyArg) (historyResult, error) {
	limit := a.Limit
	if limit <= 0 {
		limit = h.s.page
	}
	if limit > valid.PageMax {
		return historyResult{}, &valid.Error{Msg: "a history page has at most 100 messages"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.s.dbTimeout)
	defer cancel()
	var (
		ms  []store.Message
		err error
	)
	switch {
	case a.Room != "":
		if err := valid.Room(a.Room); err != nil {
			return historyResult{}, err
		}
		ok, err := h.s.isMember(ctx, h.user, a.Room)
		if err != nil {
			return historyResult{}, h.s.internal("membership", err)
		}
		if !ok {
			return historyResult{}, &valid.Error{Msg: "join room " + a.Room + " first"}
		}
		ms, err = h.s.st.RoomHistory(ctx, a.Room, a.Before, limit)
		if err != nil {
			return historyResult{}, h.s.internal("history", err)
		}
	case a.With != "":
		if err := valid.Username(a.With); err != nil {
			return historyResult{}, err
		}
		ms, err = h.s.st.PrivateHistory(ctx, h.user, a.With, a.Before, limit)
		if err != nil {
			return historyResult{}, h.s.internal("history", err)
		}
	default:
		return historyResult{}, &valid.Error{Msg: "history of a room or of a conversation with a user"}
	}
	return historyResult{Room: a.Room, With: a.With, Messages: toWireList(ms)}, nil
}

type readArg struct {
	Room string `json:"room"`
	With string `json:"with"`
	UpTo int64  `json:"upTo"`
}

func (h *handlers) read(_ *socketio.Event, a readArg) (okResult, error) {
	key := a.Room
	switch {
	case a.Room != "":
		if err := valid.Room(a.Room); err != nil {
			return okResult{}, err
		}
	case a.With != "":
		if err := valid.Username(a.With); err != nil {
			return okResult{}, err
		}
		key = "@" + a.With
	default:
		return okResult{}, &valid.Error{Msg: "read a room or a conversation with a user"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.s.dbTimeout)
	defer cancel()
	if err := h.s.st.MarkRead(ctx, h.user, key, a.UpTo); err != nil {
		return okResult{}, h.s.internal("mark read", err)
	}
	return okResult{OK: true}, nil
}

type typingArg struct {
	Room   string `json:"room"`
	To     string `json:"to"`
	Typing bool   `json:"typing"`
}

type typingOut struct {
	Room   string `json:"room,omitempty"`
	User   string `json:"user"`
	To     string `json:"to,omitempty"`
	Typing bool   `json:"typing"`
}

// typing is volatile both ways: a lost indicator is replaced by the next.
// A client that asks for an acknowledgement (one with retries on sends
// everything that way) gets an empty one.
func (h *handlers) typing(e *socketio.Event, a typingArg) {
	if e.WantsAck() {
		_ = e.Ack()
	}
	switch {
	case a.Room != "":
		if valid.Room(a.Room) != nil {
			return
		}
		if is, _ := h.s.hub.member(h.user, a.Room); !is {
			return
		}
		_ = h.sock.To(roomKey(a.Room)).Except(userKey(h.user)).Volatile().Emit("typing", typingOut{Room: a.Room, User: h.user, Typing: a.Typing})
	case a.To != "":
		if valid.Username(a.To) != nil || a.To == h.user {
			return
		}
		_ = h.s.io.To(userKey(a.To)).Volatile().Emit("typing", typingOut{User: h.user, To: a.To, Typing: a.Typing})
	}
}
