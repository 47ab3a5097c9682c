package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/cmd/chat/internal/auth"
	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
	"github.com/switchboard-go/socketio/cmd/chat/internal/valid"
)

// postMessage is POST /api/rooms/{room}/messages with an API token: the
// REST way in for scripts and bots. Posting into a room joins it. No
// cookie is read, so no CSRF check is needed: a page of another site
// cannot set the Authorization header.
func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	tok, _ := auth.BearerToken(r)
	if tok == "" {
		auth.WriteError(w, http.StatusUnauthorized, "an API token is needed: Authorization: Bearer <token>")
		return
	}
	u, err := s.auth.UserFromToken(r.Context(), tok)
	if err != nil {
		auth.WriteError(w, http.StatusUnauthorized, "invalid or expired token")
		return
	}
	room := r.PathValue("room")
	if err := valid.Room(room); err != nil {
		auth.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	var body struct {
		Text     string `json:"text"`
		ClientID string `json:"clientId"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	if err := dec.Decode(&body); err != nil {
		auth.WriteError(w, http.StatusBadRequest, "the body is JSON: {\"text\": \"...\"}")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.dbTimeout)
	defer cancel()
	if err := s.joinUser(ctx, u.Name, room); err != nil {
		s.httpFail(w, err)
		return
	}
	m, err := s.newMessage(ctx, u.Name, messageArg{Room: room, Text: body.Text, ClientID: body.ClientID})
	if err != nil {
		s.httpFail(w, err)
		return
	}
	stored, err := s.publish(ctx, m)
	if err != nil {
		s.httpFail(w, s.internal("message", err))
		return
	}
	auth.WriteJSON(w, http.StatusCreated, sentResult{ID: stored.ID, Sent: stored.Sent.UnixMilli()})
}

func (s *Server) httpFail(w http.ResponseWriter, err error) {
	switch {
	case valid.IsError(err):
		auth.WriteError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, errNoRoom):
		auth.WriteError(w, http.StatusNotFound, err.Error())
	default:
		auth.WriteError(w, http.StatusInternalServerError, errInternal.Error())
	}
}

var errNoRoom = errors.New("no such room")

// joinUser makes user a member of an existing room (for the HTTP API and
// /ws), telling the room when that is news.
func (s *Server) joinUser(ctx context.Context, user, room string) error {
	if _, err := s.st.Room(ctx, room); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errNoRoom
		}
		return s.internal("room", err)
	}
	ok, err := s.isMember(ctx, user, room)
	if err != nil {
		return s.internal("membership", err)
	}
	if ok {
		return nil
	}
	if err := s.st.JoinRoom(ctx, user, room); err != nil {
		return s.internal("join", err)
	}
	s.pubMu.Lock()
	err = s.io.In(userKey(user)).SocketsJoin(roomKey(room))
	s.pubMu.Unlock()
	if err != nil {
		return s.internal("join", err)
	}
	if online, changed := s.memberChanged(memberChange{User: user, Room: room, Joined: true}); changed {
		_ = s.io.To(roomKey(room)).Emit("notice", notice{Room: room, User: user, Event: "joined", At: time.Now().UnixMilli()})
		s.sendPresence(room, online)
	}
	return nil
}

// serveFile is GET /files/{id}: to a user who may see the message the
// file came with. Images are shown inline, anything else is a download;
// the sandbox keeps an HTML or SVG file from running as the site's page.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	u, err := s.auth.UserFromRequest(r)
	if err != nil {
		if tok, ok := auth.BearerToken(r); ok {
			u, err = s.auth.UserFromToken(r.Context(), tok)
		}
	}
	if err != nil {
		auth.WriteError(w, http.StatusUnauthorized, "log in to see files")
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		auth.WriteError(w, http.StatusNotFound, "no such file")
		return
	}
	ok, err := s.st.FileVisible(r.Context(), u.Name, id)
	if err != nil {
		auth.WriteError(w, http.StatusInternalServerError, s.internal("file visible", err).Error())
		return
	}
	if !ok {
		// Not "forbidden": whether a file exists is not told either.
		auth.WriteError(w, http.StatusNotFound, "no such file")
		return
	}
	fi, data, err := s.st.File(r.Context(), id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			auth.WriteError(w, http.StatusNotFound, "no such file")
			return
		}
		auth.WriteError(w, http.StatusInternalServerError, s.internal("file", err).Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", fi.Type)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'")
	h.Set("Cache-Control", "private, max-age=86400")
	disp := "attachment"
	if isImage(fi.Type) {
		disp = "inline"
	}
	h.Set("Content-Disposition", disp+"; filename*=UTF-8''"+urlEscape(fi.Name))
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

func isImage(t string) bool {
	switch t {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// urlEscape percent-encodes a file name for filename* (RFC 5987).
func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
	}
	return b.String()
}

// wsClient is a plain WebSocket client of /ws: text frames in become
// messages to its room, every message it may see goes out as JSON.
type wsClient struct {
	conn *websocket.Conn
	out  chan any
	done chan struct{}
	once chan struct{} // closed when the writer must send 1001 and stop
}

// wsQueue bounds a /ws client's outbound messages; one that does not keep
// up is disconnected rather than growing the server's memory.
const wsQueue = 256

func (c *wsClient) send(v any) {
	select {
	case c.out <- v:
	case <-c.done:
	default:
		// Too slow: close it (the writer sees done).
		c.close()
	}
}

func (c *wsClient) close() {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
}

func (c *wsClient) goingAway() {
	select {
	case <-c.once:
	default:
		close(c.once)
	}
}

// serveWS is GET /ws?room=NAME with a token (?token= or Authorization:
// Bearer).
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		tok, _ = auth.BearerToken(r)
	}
	if tok == "" {
		auth.WriteError(w, http.StatusUnauthorized, "a token is needed: ?token= or Authorization: Bearer")
		return
	}
	u, err := s.auth.UserFromToken(r.Context(), tok)
	if err != nil {
		auth.WriteError(w, http.StatusUnauthorized, "invalid or expired token")
		return
	}
	room := r.URL.Query().Get("room")
	if room == "" {
		room = "general"
	}
	if err := valid.Room(room); err != nil {
		auth.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.dbTimeout)
	defer cancel()
	if err := s.joinUser(ctx, u.Name, room); err != nil {
		s.httpFail(w, err)
		return
	}
	rooms, err := s.st.UserRooms(ctx, u.Name)
	if err != nil {
		s.httpFail(w, s.internal("rooms", err))
		return
	}
	up := websocket.Upgrader{CheckOrigin: s.auth.CheckOrigin}
	s.wsMu.Lock()
	if s.wsClosed {
		s.wsMu.Unlock()
		auth.WriteError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	s.wsWG.Add(1)
	s.wsMu.Unlock()
	defer s.wsWG.Done()
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	conn.SetReadLimit(16 << 10)
	c := &wsClient{conn: conn, out: make(chan any, wsQueue), done: make(chan struct{}), once: make(chan struct{})}
	s.wsMu.Lock()
	s.wsConns[c] = true
	s.wsMu.Unlock()
	s.emitPresence(s.hub.connect(u.Name, rooms, c)...)
	defer func() {
		s.wsMu.Lock()
		delete(s.wsConns, c)
		s.wsMu.Unlock()
		s.emitPresence(s.hub.disconnect(u.Name, c)...)
	}()
	go c.writeLoop()
	for {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			break
		}
		if typ != websocket.TextMessage {
			c.send(map[string]string{"error": "send text"})
			continue
		}
		mctx, mcancel := context.WithTimeout(context.Background(), s.dbTimeout)
		m, err := s.newMessage(mctx, u.Name, messageArg{Room: room, Text: string(data)})
		if err == nil {
			_, err = s.publish(mctx, m)
			if err != nil {
				err = s.internal("message", err)
			}
		}
		mcancel()
		if err != nil {
			c.send(map[string]string{"error": err.Error()})
		}
	}
	c.close()
	_ = conn.Close()
}

func (c *wsClient) writeLoop() {
	defer c.conn.Close()
	for {
		select {
		case v := <-c.out:
			_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.conn.WriteJSON(v); err != nil {
				c.close()
				return
			}
		case <-c.once:
			_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
			return
		case <-c.done:
			return
		}
	}
}
