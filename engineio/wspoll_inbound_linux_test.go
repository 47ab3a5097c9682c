package engineio

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// The poller stops reading a connection once more than inboundLimit bytes
// of packets (each counted with its type byte, as it came in its frame)
// wait for a busy handler: exactly inboundLimit still reads on, one byte
// more pauses, and the reads resume once the handler caught up. (The
// poller is Linux's: the file is built there only.)
func TestPollerInboundLimitExact(t *testing.T) {
	rec := newRecorder(false)
	rec.msgs = make(chan Message, 64)
	br := &blockingRecorder{recorder: rec, release: make(chan struct{})}
	opts := testOptions(nil)
	opts.DisablePoller = false
	eng := NewServer(opts, func(c *Conn) Handler { rec.conns <- c; return br })
	ts := &testServer{eng: eng, rec: rec, Server: httptest.NewServer(eng)}
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(br.release) }) }
	t.Cleanup(func() {
		release() // a failed test leaves the handler blocked otherwise
		_ = eng.Close()
		ts.Server.Close()
	})
	ws := dialWS(t, ts, "")
	readText(t, ws)
	c := ts.nextConn(t)
	pw, ok := transportOf(c).(*pollWS)
	if !ok {
		t.Fatalf("transport %T, want the poller's", transportOf(c))
	}
	state := func() (held int, paused, dispatching bool, waiting int) {
		pw.inMu.Lock()
		defer pw.inMu.Unlock()
		return pw.inBytes, pw.paused, pw.dispatching, len(pw.in)
	}
	// The first message keeps the handler busy.
	if err := ws.WriteMessage(websocket.TextMessage, []byte("4first")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, _, d, n := state(); return d && n == 0 })
	// 16 messages of 65,535 bytes and their type byte: inboundLimit.
	const each = 64 << 10
	for i := 0; i < inboundLimit/each; i++ {
		msg := fmt.Sprintf("4%02d%s", i, strings.Repeat("x", each-3))
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { held, _, _, _ := state(); return held >= inboundLimit })
	if held, paused, _, _ := state(); held != inboundLimit || paused {
		t.Fatalf("%d bytes held (want %d), paused %v: at the limit reads go on", held, inboundLimit, paused)
	}
	// An empty message is its type byte alone: one past the limit.
	if err := ws.WriteMessage(websocket.TextMessage, []byte("4")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, paused, _, _ := state(); return paused })
	if held, _, _, _ := state(); held != inboundLimit+1 {
		t.Fatalf("%d bytes held, want %d", held, inboundLimit+1)
	}
	release()
	if m := receive(t, rec.msgs, "first message"); string(m.Data) != "first" {
		t.Fatalf("first message %q", m.Data)
	}
	for i := 0; i < inboundLimit/each; i++ {
		m := receive(t, rec.msgs, "message")
		if want := fmt.Sprintf("%02d", i); len(m.Data) != each-1 || string(m.Data[:2]) != want {
			t.Fatalf("message %d: %d bytes, starts %q", i, len(m.Data), m.Data[:min(2, len(m.Data))])
		}
	}
	if m := receive(t, rec.msgs, "empty message"); len(m.Data) != 0 {
		t.Fatalf("last message %q", m.Data)
	}
	waitFor(t, func() bool { _, paused, d, _ := state(); return !paused && !d })
	// Reading resumed.
	if err := ws.WriteMessage(websocket.TextMessage, []byte("4after")); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, rec.msgs, "message after the pause"); string(m.Data) != "after" {
		t.Fatalf("message %q", m.Data)
	}
}
