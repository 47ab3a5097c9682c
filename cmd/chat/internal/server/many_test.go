package server

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// sessionFor makes an account and a session straight in the store, with
// a token of the auth package's form (43 characters of base64url, stored
// as its SHA-256): sign-up's argon2id and rate limits would make hundreds
// of accounts take minutes, and they are tested in internal/auth.
func (e *env) sessionFor(name string) string {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.st.CreateUser(ctx, name, "$argon2id$v=19$m=65536,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA")
	if err != nil {
		e.t.Fatal(err)
	}
	b := make([]byte, 32)
	_, _ = crand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(tok))
	if err := e.st.CreateSession(ctx, h[:], u.ID, time.Now().Add(time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// sentMsg is an acknowledged message and the window in which it was sent:
// from the first emit to the acknowledgement.
type sentMsg struct {
	id          int64
	room, to    string
	from        string
	start, done time.Time
}

// span is a client's membership of a room: from its join's
// acknowledgement to its leave's emit (zero: still a member).
type span struct{ from, to time.Time }

// TestManyClients: clients in rooms join, leave, reconnect (a dropped
// connection, recovered; or a new session caught up by offset) and send
// room and private messages, retrying unacknowledged sends with their
// clientId. Every acknowledged message reaches every user who was in its
// room for the whole of its sending exactly once, reaches nobody who never
// was, and is stored once. CHAT_MANY_CLIENTS sets the number of clients
// (default 200).
func TestManyClients(t *testing.T) {
	n := 200
	if v := os.Getenv("CHAT_MANY_CLIENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 2 {
			t.Fatalf("CHAT_MANY_CLIENTS=%q", v)
		}
	}
	const rooms = 20
	const opsPer = 12
	// The production heartbeat: hundreds of clients under the race
	// detector on a small machine must not miss a pong and reconnect.
	e := newEnv(t, nil, Config{PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second})
	ctx := context.Background()
	roomName := func(i int) string { return fmt.Sprintf("room-%02d", i) }
	for i := range rooms {
		if _, err := e.st.CreateRoom(ctx, roomName(i), ""); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()

	type member struct {
		c     *client
		name  string
		rng   *rand.Rand
		spans map[string][]span
		ever  map[string]bool
		sent  []sentMsg
		log   []string
	}
	ms := make([]*member, n)
	for i := range n {
		name := fmt.Sprintf("user%03d", i)
		tok := e.sessionFor(name)
		m := &member{name: name, rng: rand.New(rand.NewPCG(uint64(i), 17)), spans: map[string][]span{}, ever: map[string]bool{}}
		// Two rooms to begin with, joined before connecting.
		for _, r := range []int{i % rooms, (i*7 + 3) % rooms} {
			if err := e.st.JoinRoom(ctx, name, roomName(r)); err != nil {
				t.Fatal(err)
			}
			if _, ok := m.spans[roomName(r)]; !ok {
				m.spans[roomName(r)] = []span{{from: time.Now()}}
			}
			m.ever[roomName(r)] = true
		}
		opts := &sioclient.Options{Transports: []string{"websocket"}}
		switch i % 10 {
		case 0:
			opts = socketiotest.Polling.Options()
		case 1:
			opts = nil // polling, upgraded
		}
		u := &user{name: name}
		var c *client
		c = e.newClient(u, opts, func() (any, error) {
			if !c.hasSession() {
				return map[string]any{"token": tok}, nil
			}
			return map[string]any{"token": tok, "lastId": c.maxID()}, nil
		})
		m.c = c
		ms[i] = m
	}
	// In waves of 50, as clients arrive in practice (a restart's
	// reconnections are spread by the clients' backoff jitter).
	for lo := 0; lo < n; lo += 50 {
		wave := ms[lo:min(lo+50, n)]
		for _, m := range wave {
			m.c.s.Connect()
		}
		for _, m := range wave {
			select {
			case <-m.c.life.Connected:
			case err := <-m.c.life.ConnectErrors:
				t.Fatalf("%s: %v", m.name, err)
			case <-time.After(60 * time.Second):
				t.Fatalf("%s did not connect", m.name)
			}
			m.c.waitEvent("session", func(json.RawMessage) bool { return true })
		}
	}
	connected := time.Since(began)

	var wg sync.WaitGroup
	var reconnects, drops, recovered, joins, leaves, privates, roomMsgs, retries sync.Map
	count := func(m *sync.Map, name string) {
		v, _ := m.LoadOrStore(name, new(int))
		*(v.(*int))++
	}
	var mu sync.Mutex
	fail := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		t.Errorf(format, a...)
	}
	// sendReliably emits a message until it is acknowledged, with the same
	// clientId every time.
	sendReliably := func(m *member, arg map[string]any) (sentResult, time.Time, bool) {
		arg["clientId"] = fmt.Sprintf("%s-%d", m.name, len(m.sent))
		start := time.Now()
		for try := range 20 {
			cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			res, err := m.c.s.EmitWithAck(cctx, "message", arg)
			cancel()
			if err != nil {
				count(&retries, m.name)
				time.Sleep(time.Duration(50*(try+1)) * time.Millisecond) // back off before the retry, not a wait for an event
				continue
			}
			var r sentResult
			var er struct {
				Error string `json:"error"`
			}
			_ = res.Decode(0, &er)
			if er.Error != "" {
				fail("%s: %v: %s", m.name, arg, er.Error)
				return r, start, false
			}
			if err := res.Decode(0, &r); err != nil || r.ID == 0 {
				fail("%s: ack %v", m.name, err)
				return r, start, false
			}
			return r, start, true
		}
		fail("%s: no ack after 20 tries", m.name)
		return sentResult{}, start, false
	}
	for _, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for op := range opsPer {
				m.log = append(m.log, fmt.Sprintf("%s op%d maxID=%d", time.Now().Format("05.000"), op, m.c.maxID()))
				current := []string{}
				for r, sp := range m.spans {
					if len(sp) > 0 && sp[len(sp)-1].to.IsZero() {
						current = append(current, r)
					}
				}
				switch k := m.rng.IntN(20); {
				case k < 10 && len(current) > 0: // a room message
					room := current[m.rng.IntN(len(current))]
					r, start, ok := sendReliably(m, map[string]any{"room": room, "text": fmt.Sprintf("%s says %d", m.name, op)})
					if ok {
						m.sent = append(m.sent, sentMsg{id: r.ID, room: room, from: m.name, start: start, done: time.Now()})
						count(&roomMsgs, m.name)
					}
				case k < 13: // a private message
					to := ms[m.rng.IntN(len(ms))].name
					if to == m.name {
						continue
					}
					r, start, ok := sendReliably(m, map[string]any{"to": to, "text": fmt.Sprintf("%s whispers %d", m.name, op)})
					if ok {
						m.sent = append(m.sent, sentMsg{id: r.ID, to: to, from: m.name, start: start, done: time.Now()})
						count(&privates, m.name)
					}
				case k < 16: // join
					room := roomName(m.rng.IntN(rooms))
					if sp := m.spans[room]; len(sp) > 0 && sp[len(sp)-1].to.IsZero() {
						continue
					}
					var jr joinResult
					if msg := m.c.ackWithin(30*time.Second, "join", roomArg{Room: room}, &jr); msg != "" {
						fail("%s join: %s", m.name, msg)
						return
					}
					m.spans[room] = append(m.spans[room], span{from: time.Now()})
					m.ever[room] = true
					count(&joins, m.name)
				case k < 18 && len(current) > 1: // leave
					room := current[m.rng.IntN(len(current))]
					sp := m.spans[room]
					sp[len(sp)-1].to = time.Now()
					if msg := m.c.ackWithin(30*time.Second, "leave", roomArg{Room: room}, nil); msg != "" {
						fail("%s leave: %s", m.name, msg)
						return
					}
					count(&leaves, m.name)
				case k == 18: // the connection drops; recovery
					if eng := m.c.s.Manager().Engine(); eng != nil {
						eng.CloseWithReason(sioclient.ReasonTransportClose)
						count(&drops, m.name)
						m.log = append(m.log, "drop")
						select {
						case <-m.c.life.Disconnected:
						case <-time.After(30 * time.Second):
							fail("%s: no disconnect after a drop", m.name)
							return
						}
						select {
						case <-m.c.life.Connected:
						case <-time.After(30 * time.Second):
							fail("%s: no reconnection after a drop", m.name)
							return
						}
						if m.c.s.Recovered() {
							count(&recovered, m.name)
						}
					}
				default: // leaves for a while; back as a new session with its offset
					m.c.s.Disconnect()
					// OnDisconnect runs after the handlers of every event
					// received before: the offset sent next counts them.
					select {
					case <-m.c.life.Disconnected:
					case <-time.After(30 * time.Second):
						fail("%s: no disconnect", m.name)
						return
					}
					m.c.s.Connect()
					select {
					case <-m.c.life.Connected:
					case err := <-m.c.life.ConnectErrors:
						fail("%s: reconnect: %v", m.name, err)
						return
					case <-time.After(30 * time.Second):
						fail("%s: no reconnection", m.name)
						return
					}
					count(&reconnects, m.name)
					m.log = append(m.log, "new session, recovered="+strconv.FormatBool(m.c.s.Recovered()))
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	sent := time.Since(began) - connected

	// What each user must have: the messages of its rooms sent entirely
	// within one of its spans, and the private messages to or from it.
	all := map[int64]sentMsg{}
	for _, m := range ms {
		for _, s := range m.sent {
			if _, dup := all[s.id]; dup {
				t.Fatalf("id %d acknowledged twice", s.id)
			}
			all[s.id] = s
		}
	}
	byName := map[string]*member{}
	for _, m := range ms {
		byName[m.name] = m
	}
	within := func(m *member, s sentMsg) bool {
		for _, sp := range m.spans[s.room] {
			if !sp.from.After(s.start) && (sp.to.IsZero() || sp.to.After(s.done)) {
				return true
			}
		}
		return false
	}
	deliveries := 0
	for _, m := range ms {
		want := map[int64]bool{}
		for id, s := range all {
			if s.room != "" && within(m, s) || s.room == "" && (s.from == m.name || s.to == m.name) {
				want[id] = true
			}
		}
		deliveries += len(want)
		missing := func() []int64 {
			m.c.mu.Lock()
			defer m.c.mu.Unlock()
			var out []int64
			for id := range want {
				if m.c.ids[id] == 0 {
					out = append(out, id)
				}
			}
			return out
		}
		deadline := time.Now().Add(wait)
		for len(missing()) > 0 && time.Now().Before(deadline) {
			m.c.mu.Lock()
			ch := m.c.changed
			m.c.mu.Unlock()
			select {
			case <-ch:
			case <-time.After(time.Until(deadline)):
			}
		}
		if miss := missing(); len(miss) > 0 {
			for _, id := range miss {
				s := all[id]
				t.Errorf("%s (%s) did not get message %d %+v; its spans of %s: %+v", m.name, m.c.s.ID(), id, s, s.room, m.spans[s.room])
			}
			t.Logf("%s log: %v", m.name, m.log)
		}
	}
	if t.Failed() {
		return
	}
	// Late duplicates would arrive behind a last message: send one to
	// everyone in a fresh room and wait for it.
	for _, m := range ms {
		m.c.ack("join", roomArg{Room: "general"}, nil)
	}
	last := ms[0].c.send("general", "the end")
	for _, m := range ms {
		m.c.waitFor("the last message", func() bool { return m.c.ids[last] == 1 })
		m.c.mu.Lock()
		for id, k := range m.c.ids {
			if k != 1 {
				t.Errorf("%s received message %d %d times; log %v", m.name, id, k, m.log)
			}
			if id == last {
				continue
			}
			s, ok := all[id]
			switch {
			case !ok:
				t.Errorf("%s received message %d, which nobody sent", m.name, id)
			case s.room != "" && !m.ever[s.room]:
				t.Errorf("%s received message %d of %s, never its room", m.name, id, s.room)
			case s.room == "" && s.from != m.name && s.to != m.name:
				t.Errorf("%s received a private message %d of %s to %s", m.name, id, s.from, s.to)
			}
		}
		m.c.mu.Unlock()
	}

	// Stored once: every room's history holds exactly its acknowledged
	// messages.
	stored := 0
	for i := range rooms {
		ids := map[int64]bool{}
		before := int64(0)
		for {
			page, err := e.st.RoomHistory(ctx, roomName(i), before, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				if ids[p.ID] {
					t.Errorf("%d stored twice", p.ID)
				}
				ids[p.ID] = true
				if s, ok := all[p.ID]; !ok || s.room != roomName(i) {
					t.Errorf("%s stores %d, not acknowledged there", roomName(i), p.ID)
				}
			}
			before = page[0].ID
		}
		stored += len(ids)
	}
	privStored := map[int64]bool{}
	for _, s := range all {
		if s.room != "" {
			continue
		}
		page, err := e.st.PrivateHistory(ctx, s.from, s.to, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			privStored[p.ID] = true
		}
	}
	stored += len(privStored)
	if stored != len(all) {
		t.Errorf("stored %d messages, %d acknowledged", stored, len(all))
	}
	sum := func(m *sync.Map) int {
		total := 0
		m.Range(func(_, v any) bool { total += *(v.(*int)); return true })
		return total
	}
	t.Logf("%d clients, %d rooms: connected in %v; %d room messages, %d private, %d joins, %d leaves, %d drops (%d recovered), %d new sessions (offset catch-up), %d send retries, in %v; %d deliveries checked, %d messages stored",
		n, rooms, connected.Round(time.Millisecond), sum(&roomMsgs), sum(&privates), sum(&joins), sum(&leaves), sum(&drops), sum(&recovered), sum(&reconnects), sum(&retries), sent.Round(time.Millisecond), deliveries, stored)
}

// maxID is the client's offset: the highest message id it received or
// was told in "session".
func (c *client) maxID() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	mx := c.offset
	for _, m := range c.msgs {
		mx = max(mx, m.ID)
	}
	return mx
}

func (c *client) hasSession() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}
