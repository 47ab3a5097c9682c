package engineio

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// During the probe exchange a noop is harmless (some clients send one
// while upgrading) and the upgrade goes on; any other packet ends the
// probe, and the session carries on over polling. On the poller and on a
// reader goroutine.
func TestProbeTakesNoopsOnly(t *testing.T) {
	for _, mode := range []struct {
		name     string
		disabled bool
	}{{"poller", false}, {"goroutine", true}} {
		t.Run(mode.name+"/noop", func(t *testing.T) {
			ts := startServerRaw(t, &Options{DisablePoller: mode.disabled}, true)
			op := handshake(t, ts)
			ts.nextConn(t)
			u := ts.url("transport=polling&sid=" + op.SID)
			pending := make(chan string, 1)
			go func() { _, _, b := do(t, "GET", u, ""); pending <- b }()
			ws := dialWS(t, ts, "sid="+op.SID)
			_ = ws.WriteMessage(websocket.TextMessage, []byte("6"))
			_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
			if got := readText(t, ws); got != "3probe" {
				t.Fatalf("probe answer %q", got)
			}
			if b := <-pending; b != "6" {
				t.Fatalf("pending poll released with %q, want noop", b)
			}
			_ = ws.WriteMessage(websocket.TextMessage, []byte("6"))
			_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
			_ = ws.WriteMessage(websocket.TextMessage, []byte("4upgraded"))
			if got := readText(t, ws); got != "4upgraded" {
				t.Fatalf("echo over websocket %q", got)
			}
		})
		t.Run(mode.name+"/message", func(t *testing.T) {
			ts := startServerRaw(t, &Options{DisablePoller: mode.disabled}, true)
			op := handshake(t, ts)
			ts.nextConn(t)
			u := ts.url("transport=polling&sid=" + op.SID)
			ws := dialWS(t, ts, "sid="+op.SID)
			_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
			if got := readText(t, ws); got != "3probe" {
				t.Fatalf("probe answer %q", got)
			}
			// A message before the upgrade packet: the probe is dropped.
			_ = ws.WriteMessage(websocket.TextMessage, []byte("4early"))
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := ws.ReadMessage(); err == nil {
				t.Fatal("the probe was not closed")
			}
			do(t, "POST", u, "4polling")
			if _, _, b := do(t, "GET", u, ""); b != "4polling" {
				t.Fatalf("polling after the dropped probe: %q", b)
			}
		})
	}
}

// On a reader goroutine the probe exchange is read frame by frame, each at
// most a control frame's size (probeFrameMax): a noop of 125 bytes is taken,
// one of 126 drops the probe and the session carries on over polling.
func TestProbeFrameSizeOnReaderGoroutine(t *testing.T) {
	for _, size := range []int{125, 126} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			ts := startServerRaw(t, &Options{DisablePoller: true}, true)
			op := handshake(t, ts)
			ts.nextConn(t)
			u := ts.url("transport=polling&sid=" + op.SID)
			ws := dialWS(t, ts, "sid="+op.SID)
			noop := append([]byte("6"), bytes.Repeat([]byte("n"), size-1)...)
			_ = ws.WriteMessage(websocket.TextMessage, noop)
			_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, got, err := ws.ReadMessage()
			if size > 125 {
				if err == nil {
					t.Fatalf("a %d-byte probe frame was taken: %q", size, got)
				}
				do(t, "POST", u, "4polling")
				if _, _, b := do(t, "GET", u, ""); b != "4polling" {
					t.Fatalf("polling after the dropped probe: %q", b)
				}
				return
			}
			if err != nil || string(got) != "3probe" {
				t.Fatalf("probe answer %q, %v", got, err)
			}
		})
	}
}
