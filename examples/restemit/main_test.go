package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
)

const appOrigin = "http://app.example"

// lineWriter hands each log line to a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

// start runs the example on a free loopback port, with appOrigin allowed.
func start(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logged := make(lineWriter, 10)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", []string{appOrigin}, log.New(logged, "", 0)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run did not return within 10s")
		}
	})
	select {
	case line := <-logged:
		url, ok := strings.CutPrefix(strings.TrimSpace(line), "restemit on ")
		if !ok {
			t.Fatalf("first log line %q", line)
		}
		return url
	case <-time.After(10 * time.Second):
		t.Fatal("no log line within 10s")
		panic("unreachable")
	}
}

// client is a socket with every event it receives, as "event JSON-args".
type client struct {
	s      *sioclient.Socket
	events chan string
}

func dial(t *testing.T, url string, rooms ...string) client {
	t.Helper()
	c := client{events: make(chan string, 20)}
	s, err := sioclient.New(url, &sioclient.Options{ForceNew: true})
	if err != nil {
		t.Fatal(err)
	}
	c.s = s
	s.OnAny(func(e *sioclient.Event) {
		var raw []string
		for i := range e.Len() {
			raw = append(raw, string(e.Arg(i).Raw))
		}
		c.events <- e.Name + " [" + strings.Join(raw, ",") + "]"
	})
	connected := make(chan struct{}, 1)
	s.OnConnect(func() { connected <- struct{}{} })
	s.Connect()
	t.Cleanup(s.Disconnect)
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("no connect within 10s")
	}
	for _, room := range rooms {
		c.ack(t, "join", room, `"`+room+`"`)
	}
	return c
}

// ack emits event with arg and checks the acknowledgement's JSON.
func (c client) ack(t *testing.T, event, arg, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	args, err := c.s.EmitWithAck(ctx, event, arg)
	if err != nil {
		t.Fatalf("%s %q: %v", event, arg, err)
	}
	if got := string(args.Arg(0).Raw); got != want {
		t.Errorf("%s %q: ack %s, want %s", event, arg, got, want)
	}
}

func (c client) expect(t *testing.T, who, want string) {
	t.Helper()
	select {
	case got := <-c.events:
		if got != want {
			t.Errorf("%s got %s, want %s", who, got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing within 10s, want %s", who, want)
	}
}

// post sends body to /send and returns the status and the answer.
func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	res, err := http.Post(url+"/send", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, strings.TrimSpace(string(b))
}

func TestSend(t *testing.T) {
	url := start(t)
	a := dial(t, url, "sports")
	b := dial(t, url, "news", "sports")
	c := dial(t, url)
	all := map[string]client{"A": a, "B": b, "C": c}

	status, answer := post(t, url, `{"data": "hello"}`)
	if status != 200 || answer != `{"room":"","sent":"message"}` {
		t.Errorf("POST /send: %d %s", status, answer)
	}
	for name, x := range all {
		x.expect(t, name, `message ["hello"]`)
	}

	// To a room, with the data as it was posted (key order, spacing of
	// numbers), to members only.
	status, answer = post(t, url, `{"event": "score", "data": {"home": 2, "away": 1.50}, "room": "sports"}`)
	if status != 200 || answer != `{"room":"sports","sent":"score"}` {
		t.Errorf("POST /send to sports: %d %s", status, answer)
	}
	a.expect(t, "A", `score [{"home":2,"away":1.50}]`)
	b.expect(t, "B", `score [{"home":2,"away":1.50}]`)
	// A leaves sports: the next one reaches B alone.
	a.ack(t, "leave", "sports", `"sports"`)
	post(t, url, `{"event": "score", "data": 3, "room": "sports"}`)
	b.expect(t, "B", `score [3]`)
	// A room nobody is in.
	if status, _ := post(t, url, `{"data": null, "room": "empty"}`); status != 200 {
		t.Errorf("POST /send to an empty room: %d", status)
	}
	// Last, an event to all: it is everyone's next event, so nobody got
	// what was not for them.
	post(t, url, `{"event": "end", "data": [1, "two"]}`)
	for name, x := range all {
		x.expect(t, name, `end [[1,"two"]]`)
	}

	// A join without a room is refused in the acknowledgement.
	c.ack(t, "join", "", `{"error":"the room has no name"}`)
}

func TestSendRefusals(t *testing.T) {
	url := start(t)
	c := dial(t, url)
	c.ack(t, "join", "r", `"r"`) // connected
	for _, tc := range []struct {
		body   string
		status int
		error  string
	}{
		{`{"event": "x"}`, 400, "data is missing"},
		{`not json`, 400, "the body is not a JSON object"},
		{`{"data": 1, "extra": true}`, 400, "unknown field"},
		{`{"event": "connect", "data": 1}`, 400, "reserved"},
		{`{"event": "disconnect", "data": 1}`, 400, "reserved"},
		{`{"data": "` + strings.Repeat("x", 70<<10) + `"}`, 413, "over 64 KiB"},
	} {
		status, answer := post(t, url, tc.body)
		var got struct{ Error string }
		_ = json.Unmarshal([]byte(answer), &got)
		if status != tc.status || !strings.Contains(got.Error, tc.error) {
			t.Errorf("POST %.40s: %d %s, want %d and an error with %q", tc.body, status, answer, tc.status, tc.error)
		}
	}
	res, err := http.Get(url + "/send")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 || res.Header.Get("Allow") != "POST, OPTIONS" {
		t.Errorf("GET /send: %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
	// Nothing was emitted.
	post(t, url, `{"data": "only this"}`)
	c.expect(t, "C", `message ["only this"]`)
}

// CORS: the allowed origin's pages may POST and connect; others are not
// told they may.
func TestCORS(t *testing.T) {
	url := start(t)
	do := func(method, path, origin string, header ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	preflight := []string{"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"}
	res := do("OPTIONS", "/send", appOrigin, preflight...)
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != appOrigin ||
		res.Header.Get("Access-Control-Allow-Methods") != "POST" || res.Header.Get("Access-Control-Allow-Headers") != "Content-Type" {
		t.Errorf("preflight from %s: %d %v", appOrigin, res.StatusCode, res.Header)
	}
	res = do("OPTIONS", "/send", "http://evil.example", preflight...)
	if res.Header.Get("Access-Control-Allow-Origin") != "" || res.StatusCode == 204 {
		t.Errorf("preflight from another origin: %d %v", res.StatusCode, res.Header)
	}
	if res := do("POST", "/send", appOrigin); res.Header.Get("Access-Control-Allow-Origin") != appOrigin {
		t.Errorf("POST from %s: %v", appOrigin, res.Header)
	}
	// The Socket.IO handshake answers CORS too.
	if res := do("GET", "/socket.io/?EIO=4&transport=polling", appOrigin); res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != appOrigin {
		t.Errorf("handshake from %s: %d %v", appOrigin, res.StatusCode, res.Header)
	}
	if res := do("GET", "/socket.io/?EIO=4&transport=polling", "http://evil.example"); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("handshake from another origin: %d %v", res.StatusCode, res.Header)
	}
	// The page is an ordinary route beside them.
	res, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `<script src="/socket.io/socket.io.js"></script>`) {
		t.Errorf("GET /: %d", res.StatusCode)
	}
}
