package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
)

// usersPerAddr is how many users sign up from one loopback address. The
// chat limits sign-ups per client address (a burst of 10, then one per 6
// seconds), as it should; a benchmark signing up 50 users at once comes
// from several addresses (127.0.0.2, .3, …: all of 127/8 is loopback on
// Linux), as 50 people would.
const usersPerAddr = 8

// signup creates user name with a session, as the web page does: GET
// /api/session for the CSRF cookie, then POST /api/signup with the token
// in X-CSRF-Token. It returns the session token, which the Socket.IO
// connection presents in its auth payload.
func signup(ctx context.Context, base, name, password string, local net.IP) (string, error) {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: local}}
	c := &http.Client{
		Jar:       jar,
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext},
	}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/session", nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	var sess struct {
		CSRF string `json:"csrfToken"`
	}
	err = json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	if err != nil || sess.CSRF == "" {
		return "", fmt.Errorf("GET /api/session: no csrfToken (%v)", err)
	}
	body, _ := json.Marshal(map[string]string{"username": name, "password": password})
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/signup", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", sess.CSRF)
	resp, err = c.Do(req)
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("sign-up of %s: %s: %s", name, resp.Status, b)
	}
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "chat_session" {
			return ck.Value, nil
		}
	}
	return "", fmt.Errorf("sign-up of %s: no chat_session cookie", name)
}

// member is one connected user and what it received.
type member struct {
	name string
	room string
	sock *sioclient.Socket

	mu    sync.Mutex
	got   map[int64]int // message id → times received
	wrong int           // messages of rooms the user is not in
}

// wireMsg is the part of the chat's message event that the count needs.
type wireMsg struct {
	ID   int64  `json:"id"`
	Room string `json:"room"`
	From string `json:"from"`
}

// connect opens user m's socket over WebSocket with its session token and
// waits for the connection; every message event is counted into m.got and
// reported to onMsg.
func (m *member) connect(ctx context.Context, base, token string, onMsg func()) error {
	s, err := sioclient.New(base, &sioclient.Options{
		Transports:          []string{"websocket"},
		Auth:                map[string]string{"token": token},
		ForceNew:            true,
		DisableReconnection: true, // a lost connection is a failure here, not something to hide
		Timeout:             20 * time.Second,
	})
	if err != nil {
		return err
	}
	m.sock = s
	m.got = make(map[int64]int, 1024)
	s.On("message", func(e *sioclient.Event) {
		var w wireMsg
		if err := e.Decode(0, &w); err != nil {
			return
		}
		m.mu.Lock()
		m.got[w.ID]++
		if w.Room != m.room {
			m.wrong++
		}
		m.mu.Unlock()
		onMsg()
	})
	up := make(chan error, 1)
	s.OnConnect(func() {
		select {
		case up <- nil:
		default:
		}
	})
	s.OnConnectError(func(ce *sioclient.ConnectError) {
		select {
		case up <- ce:
		default:
		}
	})
	s.Connect()
	select {
	case err := <-up:
		if err != nil {
			return fmt.Errorf("connecting %s: %w", m.name, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("connecting %s: %w", m.name, ctx.Err())
	}
}

// ackErr is an answer of the chat: a result or {error}.
type ackResult struct {
	ID    int64  `json:"id"`
	Error string `json:"error"`
}

// call emits event with arg and an acknowledgement, and decodes the answer.
func call(ctx context.Context, s *sioclient.Socket, event string, arg any) (ackResult, error) {
	args, err := s.EmitWithAck(ctx, event, arg)
	if err != nil {
		return ackResult{}, fmt.Errorf("%s: %w", event, err)
	}
	var r ackResult
	if err := args.Decode(0, &r); err != nil {
		return r, fmt.Errorf("%s: answer: %w", event, err)
	}
	if r.Error != "" {
		return r, fmt.Errorf("%s: %s", event, r.Error)
	}
	return r, nil
}
