package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// TestChat runs the chat's events on each transport: join, messages with
// acks, validation errors, private messages, typing, presence, history
// pages and unread counts.
func TestChat(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) {
		testChat(t, newEnv(t, nil, Config{HistoryPage: 5}), tr)
	})
}

func testChat(t *testing.T, e *env, tr socketiotest.Transport) {
	alice, bob, carol := e.signup("alice"), e.signup("bob"), e.signup("carol")
	a := e.connect(alice, tr.Options(), nil)
	b := e.connect(bob, tr.Options(), nil)
	c := e.connect(carol, tr.Options(), nil)
	for _, cl := range []*client{a, b, c} {
		socketiotest.WaitTransport(t, cl.s.Manager(), tr.Final)
	}

	// Everyone is in general from sign-up; presence shows the three.
	a.waitEvent("presence", func(raw json.RawMessage) bool {
		var p presence
		_ = json.Unmarshal(raw, &p)
		return p.Room == "general" && strings.Join(p.Online, ",") == "alice,bob,carol"
	})

	// A room of alice and bob; carol stays out.
	var jr joinResult
	if msg := a.ack("create", roomArg{Room: "team"}, &jr); msg != "" {
		t.Fatal(msg)
	}
	if msg := a.ack("create", roomArg{Room: "team"}, nil); !strings.Contains(msg, "exists") {
		t.Fatalf("second create: %q", msg)
	}
	if !slices.Equal(jr.Members, []string{"alice"}) {
		t.Fatalf("create: members %q", jr.Members)
	}
	if msg := b.ack("join", roomArg{Room: "team"}, &jr); msg != "" || jr.Room != "team" || !slices.Equal(jr.Members, []string{"alice", "bob"}) {
		t.Fatalf("join: %q %+v", msg, jr)
	}
	// Members lists who joined, online or not: dave signed up (and so
	// joined general) but never connected.
	e.signup("dave")
	var ml memberList
	if msg := c.ack("members", roomArg{Room: "general"}, &ml); msg != "" ||
		!slices.Equal(ml.Online, []string{"alice", "bob", "carol"}) || !slices.Equal(ml.Members, []string{"alice", "bob", "carol", "dave"}) {
		t.Fatalf("members of general: %q %+v", msg, ml)
	}
	a.waitEvent("notice", func(raw json.RawMessage) bool {
		var n notice
		_ = json.Unmarshal(raw, &n)
		return n.Room == "team" && n.User == "bob" && n.Event == "joined"
	})

	id := a.send("team", "  hello team  ")
	got := b.waitMsg("hello team") // trimmed
	if got.ID != id || got.From != "alice" || got.Room != "team" || got.Sent == 0 {
		t.Fatalf("bob got %+v, ack id %d", got, id)
	}
	a.waitMsg("hello team") // the sender's other tabs see it too

	// Validation errors come back in the acknowledgement.
	for _, bad := range []map[string]any{
		{"room": "team", "text": "   "},
		{"room": "team", "text": strings.Repeat("x", 2001)},
		{"room": "Bad Room", "text": "x"},
		{"room": "team", "to": "bob", "text": "x"},
		{"text": "nowhere"},
		{"to": "nobody", "text": "x"},
		{"room": "general", "text": "bad\x00char"},
	} {
		if msg := a.ack("message", bad, nil); msg == "" {
			t.Errorf("%v accepted", bad)
		}
	}
	if msg := a.ack("message", "not an object", nil); msg == "" {
		t.Error("a string argument was accepted")
	}
	if msg := c.ack("message", map[string]any{"room": "team", "text": "let me in"}, nil); !strings.Contains(msg, "join") {
		t.Errorf("a non-member posted: %q", msg)
	}
	if msg := c.ack("history", map[string]any{"room": "team"}, nil); !strings.Contains(msg, "join") {
		t.Errorf("a non-member read the history: %q", msg)
	}

	// Private messages reach the two only.
	var pr sentResult
	if msg := a.ack("message", map[string]any{"to": "bob", "text": "psst bob"}, &pr); msg != "" {
		t.Fatal(msg)
	}
	if m := b.waitMsg("psst bob"); m.To != "bob" || m.From != "alice" || m.Room != "" {
		t.Fatalf("private message %+v", m)
	}
	a.waitMsg("psst bob")

	// Typing reaches the others in the room, not the typist.
	if err := b.s.Volatile().Emit("typing", map[string]any{"room": "team", "typing": true}); err != nil {
		t.Fatal(err)
	}
	a.waitEvent("typing", func(raw json.RawMessage) bool {
		var ty typingOut
		_ = json.Unmarshal(raw, &ty)
		return ty.User == "bob" && ty.Room == "team" && ty.Typing
	})

	// History pages: 12 messages in team, pages of 5 (the test's size).
	ids := []int64{id}
	for i := range 11 {
		ids = append(ids, a.send("team", "m"+string(rune('a'+i))))
	}
	b.waitMsg("mk")
	var seen []int64
	before := int64(0)
	for {
		var h historyResult
		if msg := b.ack("history", map[string]any{"room": "team", "before": before}, &h); msg != "" {
			t.Fatal(msg)
		}
		if len(h.Messages) == 0 {
			break
		}
		for i := len(h.Messages) - 1; i >= 0; i-- {
			seen = append(seen, h.Messages[i].ID)
		}
		before = h.Messages[0].ID
	}
	if len(seen) != len(ids) {
		t.Fatalf("history has %d messages, want %d", len(seen), len(ids))
	}
	for i := range ids {
		if seen[len(seen)-1-i] != ids[i] {
			t.Fatalf("history order %v, want %v", seen, ids)
		}
	}

	// Unread: bob has read nothing of team; after read, nothing.
	var rr roomsResult
	if msg := b.ack("rooms", nil, &rr); msg != "" {
		t.Fatal(msg)
	}
	if rr.Unread["team"] != 12 || rr.Unread["@alice"] != 1 {
		t.Fatalf("unread %v", rr.Unread)
	}
	if msg := b.ack("read", map[string]any{"room": "team", "upTo": ids[len(ids)-1]}, nil); msg != "" {
		t.Fatal(msg)
	}
	var rr2 roomsResult
	if msg := b.ack("rooms", nil, &rr2); msg != "" || rr2.Unread["team"] != 0 || rr2.Unread["@alice"] != 1 {
		t.Fatalf("unread after read: %v %q", rr2.Unread, msg)
	}

	// Leaving: bob no longer gets team's messages; carol never did.
	if msg := b.ack("leave", roomArg{Room: "team"}, nil); msg != "" {
		t.Fatal(msg)
	}
	a.send("team", "after bob left")
	a.waitMsg("after bob left")
	a.send("general", "sync")
	b.waitMsg("sync") // general's message arrives after team's would have
	c.waitMsg("sync")
	if b.hasText("after bob left") {
		t.Error("bob got a message of a room he left")
	}
	for _, txt := range []string{"hello team", "psst bob", "after bob left"} {
		if c.hasText(txt) {
			t.Errorf("carol got %q", txt)
		}
	}
	// Nothing arrived twice.
	for _, cl := range []*client{a, b, c} {
		cl.mu.Lock()
		for id, n := range cl.ids {
			if n != 1 {
				t.Errorf("%s got message %d %d times", cl.u.name, id, n)
			}
		}
		cl.mu.Unlock()
	}
}

// TestRefused: a socket without a session, or with a bad token, gets
// connect_error with a message and data.
func TestRefused(t *testing.T) {
	e := newEnv(t, nil, Config{})
	anon := &user{name: "anonymous"}
	for _, tc := range []struct {
		name string
		auth func() (any, error)
	}{
		{"no cookie", nil},
		{"bad token", func() (any, error) { return map[string]any{"token": "nope"}, nil }},
		{"bad payload", func() (any, error) { return map[string]any{"token": 42}, nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.newClient(anon, nil, tc.auth)
			c.s.Connect()
			err := socketiotest.Receive(t, c.life.ConnectErrors, "connect_error")
			if !err.FromServer() || err.Message == "" {
				t.Fatalf("connect error %+v", err)
			}
			var data struct {
				Code string `json:"code"`
			}
			if json.Unmarshal(err.Data, &data) != nil || data.Code == "" {
				t.Fatalf("connect_error data %s", err.Data)
			}
		})
	}
	// A foreign page's origin is refused at the handshake.
	req, _ := http.NewRequest("GET", e.url+"/socket.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %d", resp.StatusCode)
	}
}

// TestRecovery: a connection lost for a moment gets its session back with
// the messages sent meanwhile; a long absence is caught up by offset.
func TestRecovery(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) {
		e := newEnv(t, nil, Config{})
		alice, bob := e.signup("alice"), e.signup("bob")
		a := e.connect(alice, tr.Options(), nil)
		// Bob reconnects by hand once the server has noticed his drop: a
		// session is kept only then. (A long-polling client dropped
		// between two polls is noticed at the ping timeout; one that
		// came back sooner would find its old socket still there and get
		// a new session, caught up by offset instead: TestOffsetCatchUp.)
		bopts := tr.Options()
		bopts.DisableReconnection = true
		b := e.connect(bob, bopts, nil)
		socketiotest.WaitTransport(t, b.s.Manager(), tr.Final)
		a.send("general", "before")
		b.waitMsg("before")
		first := b.s.ID()

		b.s.Manager().Engine().CloseWithReason(sioclient.ReasonTransportClose)
		socketiotest.Receive(t, b.life.Disconnected, "bob's disconnect")
		for i := range 5 {
			a.send("general", "away "+string(rune('0'+i)))
		}
		deadline := time.Now().Add(wait)
		for {
			if _, still := e.chat.IO().Of("/").Socket(first); !still {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the server did not notice bob's drop")
			}
			time.Sleep(10 * time.Millisecond) // polling the server's state, not standing in for an event
		}
		b.s.Connect()
		socketiotest.Receive(t, b.life.Connected, "bob's reconnection")
		for i := range 5 {
			b.waitMsg("away " + string(rune('0'+i)))
		}
		if !b.s.Recovered() || b.s.ID() != first {
			t.Errorf("not recovered: %v %s/%s", b.s.Recovered(), b.s.ID(), first)
		}
		b.mu.Lock()
		for id, n := range b.ids {
			if n != 1 {
				t.Errorf("message %d arrived %d times", id, n)
			}
		}
		b.mu.Unlock()
	})
}

// TestOffsetCatchUp: a client back after a long absence (a new session)
// gets what it missed after its offset, in order, once.
func TestOffsetCatchUp(t *testing.T) {
	testOffsetCatchUp(t, newEnv(t, nil, Config{}))
}

func testOffsetCatchUp(t *testing.T, e *env) {
	alice, bob := e.signup("alice"), e.signup("bob")
	a := e.connect(alice, nil, nil)
	b := e.connect(bob, nil, nil)
	a.send("general", "seen")
	last := b.waitMsg("seen").ID
	b.s.Disconnect() // on purpose: no recovery
	var want []int64
	for i := range 7 {
		want = append(want, a.send("general", "missed "+string(rune('0'+i))))
	}
	a.ack("message", map[string]any{"to": "bob", "text": "missed dm"}, nil)
	// Bob's next page load knows the last id it saw.
	b2 := e.connect(bob, nil, func() (any, error) { return map[string]any{"lastId": last}, nil })
	b2.waitMsg("missed dm")
	b2.mu.Lock()
	defer b2.mu.Unlock()
	var got []int64
	for _, m := range b2.msgs {
		if m.Room == "general" {
			got = append(got, m.ID)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("caught up %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("caught up %v, want %v", got, want)
		}
	}
}

// TestRetryDedup: a message sent again with the same clientId (its ack was
// lost) is stored and delivered once and acknowledged with the same id.
func TestRetryDedup(t *testing.T) {
	e := newEnv(t, nil, Config{})
	alice, bob := e.signup("alice"), e.signup("bob")
	a := e.connect(alice, nil, nil)
	b := e.connect(bob, nil, nil)
	var r1, r2 sentResult
	m := map[string]any{"room": "general", "text": "once", "clientId": "c-1"}
	a.ack("message", m, &r1)
	a.ack("message", m, &r2)
	if r1.ID != r2.ID {
		t.Fatalf("ids %d and %d", r1.ID, r2.ID)
	}
	a.send("general", "sync")
	b.waitMsg("sync")
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ids[r1.ID] != 1 {
		t.Fatalf("delivered %d times", b.ids[r1.ID])
	}
	hist, err := e.st.RoomHistory(context.Background(), "general", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 {
		t.Fatalf("stored %d messages", len(hist))
	}
}

// TestFiles: an image sent as a binary attachment is stored and served to
// the members of its room only.
func TestFiles(t *testing.T) {
	socketiotest.EachTransport(t, func(t *testing.T, tr socketiotest.Transport) {
		// A frame must arrive within the heartbeat; under the race
		// detector the client masks 5 MiB slowly, so the heartbeat is the
		// production one here.
		e := newEnv(t, nil, Config{PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second})
		alice, bob, carol := e.signup("alice"), e.signup("bob"), e.signup("carol")
		a := e.connect(alice, tr.Options(), nil)
		b := e.connect(bob, tr.Options(), nil)
		a.ack("create", roomArg{Room: "pics"}, nil)
		b.ack("join", roomArg{Room: "pics"}, nil)
		png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 300<<10)...)
		var r sentResult
		if msg := a.ack("message", map[string]any{"room": "pics", "file": map[string]any{"name": "cat.png", "data": png}}, &r); msg != "" {
			t.Fatal(msg)
		}
		var m wireMsg
		b.waitFor("the file", func() bool {
			for _, x := range b.msgs {
				if x.ID == r.ID {
					m = x
					return true
				}
			}
			return false
		})
		if m.File == nil || m.File.Name != "cat.png" || m.File.Type != "image/png" || m.File.Size != int64(len(png)) {
			t.Fatalf("file %+v", m.File)
		}
		get := func(u *user) (int, []byte) {
			hc := http.DefaultClient
			if u != nil {
				hc = u.hc
			}
			resp, err := hc.Get(e.url + m.File.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, body
		}
		if code, body := get(bob); code != 200 || !bytes.Equal(body, png) {
			t.Fatalf("bob: %d, %d bytes", code, len(body))
		}
		if code, _ := get(carol); code != http.StatusNotFound {
			t.Fatalf("carol: %d", code)
		}
		if code, _ := get(nil); code != http.StatusUnauthorized {
			t.Fatalf("anonymous: %d", code)
		}
		// Too big, and a name with a path.
		big := make([]byte, 5<<20+1)
		// 7 MB of base64 over long-polling: slow under the race detector.
		if msg := a.ackWithin(60*time.Second, "message", map[string]any{"room": "pics", "file": map[string]any{"name": "big.bin", "data": big}}, nil); !strings.Contains(msg, "MiB") {
			t.Fatalf("big file: %q", msg)
		}
		if msg := a.ack("message", map[string]any{"room": "pics", "file": map[string]any{"name": "../x", "data": png}}, nil); msg == "" {
			t.Fatal("a path was accepted as a file name")
		}
	})
}

// TestBridges: the REST API and the plain WebSocket post into the same
// rooms as Socket.IO, with the same rules.
func TestBridges(t *testing.T) {
	e := newEnv(t, nil, Config{})
	alice, bot := e.signup("alice"), e.signup("bot")
	tok := e.apiToken(bot)
	a := e.connect(alice, nil, nil)

	post := func(token, room, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", e.url+"/api/rooms/"+room+"/messages", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, out := post(tok, "general", `{"text":"from rest"}`); code != http.StatusCreated || out["id"] == nil {
		t.Fatalf("post: %d %v", code, out)
	}
	if m := a.waitMsg("from rest"); m.From != "bot" {
		t.Fatalf("%+v", m)
	}
	for _, tc := range []struct {
		tok, room, body string
		code            int
	}{
		{"", "general", `{"text":"x"}`, 401},
		{"wrong", "general", `{"text":"x"}`, 401},
		{tok, "general", `{"text":""}`, 400},
		{tok, "general", `not json`, 400},
		{tok, "nope", `{"text":"x"}`, 404},
		{tok, "Bad_Room", `{"text":"x"}`, 400},
	} {
		if code, out := post(tc.tok, tc.room, tc.body); code != tc.code || out["error"] == nil {
			t.Errorf("%+v: %d %v", tc, code, out)
		}
	}

	// /ws: text in, JSON out.
	wsURL := "ws" + strings.TrimPrefix(e.url, "http") + "/ws?room=general&token=" + queryEscape(tok)
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("dial /ws: %v %v", err, resp)
	}
	defer conn.Close()
	if err := conn.WriteMessage(websocket.TextMessage, []byte("from ws")); err != nil {
		t.Fatal(err)
	}
	if m := a.waitMsg("from ws"); m.From != "bot" || m.Room != "general" {
		t.Fatalf("%+v", m)
	}
	a.send("general", "to ws")
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	for _, want := range []string{"from ws", "to ws"} {
		var m wireMsg
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		if m.Text != want {
			t.Fatalf("ws got %+v, want %q", m, want)
		}
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte("   ")); err != nil {
		t.Fatal(err)
	}
	var em map[string]any
	if err := conn.ReadJSON(&em); err != nil || em["error"] == nil {
		t.Fatalf("empty text over ws: %v %v", em, err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(strings.Replace(wsURL, "token=", "token=x", 1), nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("bad token: %v", err)
	}

	// Shutdown: the WebSocket is closed with 1001, Socket.IO clients are
	// disconnected.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.chat.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("ws after shutdown: %v", err)
	}
	socketiotest.Receive(t, a.life.Disconnected, "alice's disconnect")
}

// A new account is a member of general under the name auth stored, not the
// one typed: " Sam " signs up as sam, and sam is in general.
func TestSignupJoinsGeneralUnderStoredName(t *testing.T) {
	e := newEnv(t, nil, Config{})
	jar, _ := cookiejar.New(nil)
	u := &user{name: "sam", jar: jar, hc: &http.Client{Jar: jar, Timeout: wait}}
	var s struct {
		CSRF string `json:"csrfToken"`
	}
	e.do(u, "GET", "/api/session", nil, &s)
	u.csrf = s.CSRF
	if code := e.do(u, "POST", "/api/signup", map[string]string{"username": " Sam ", "password": "password-sam"}, nil); code != http.StatusCreated {
		t.Fatalf("signup: %d", code)
	}
	rooms, err := e.st.UserRooms(context.Background(), "sam")
	if err != nil || len(rooms) != 1 || rooms[0] != "general" {
		t.Fatalf("sam's rooms: %v (%v), want [general]", rooms, err)
	}
}
