package adapter_test

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/parser"
)

// A binary event is logged like a text one: its offset goes after its
// arguments, and a restored session gets it with its attachments, in order.
func TestRecoveryBinaryEvent(t *testing.T) {
	h, a := newRecovering(t, adapter.RecoveryConfig{})
	h.Connect("s1")
	if err := a.Broadcast(eventPacket(t, "before"), adapter.Options{}); err != nil {
		t.Fatal(err)
	}
	_, offset := split(t, deliveredTo(h, "s1")[0])
	a.PersistSession(adapter.Session{SID: "s1", PID: "p1", Rooms: []string{"s1"}})
	h.Disconnect("s1")

	data, attachments, err := parser.EncodeArgs([]any{"file", []byte{1, 2}, []byte{3}})
	if err != nil {
		t.Fatal(err)
	}
	pkt := &parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: data, Attachments: attachments}
	if err := a.Broadcast(pkt, adapter.Options{}); err != nil {
		t.Fatal(err)
	}
	r, ok := a.RestoreSession("p1", offset)
	if !ok {
		t.Fatal("not restored")
	}
	if len(r.Missed) != 1 {
		t.Fatalf("missed %d packets, want the binary event", len(r.Missed))
	}
	frames := r.Missed[0]
	next, _ := strconv.ParseUint(offset, 36, 64)
	want := `52-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},"` + strconv.FormatUint(next+1, 36) + `"]`
	if len(frames) != 3 || string(frames[0].Data) != want || frames[0].Binary ||
		!frames[1].Binary || !bytes.Equal(frames[1].Data, []byte{1, 2}) ||
		!frames[2].Binary || !bytes.Equal(frames[2].Data, []byte{3}) {
		t.Fatalf("missed frames %+v, want %s and its two attachments", frames, want)
	}
}

// After the log dropped its oldest packets, a client that saw exactly the
// last dropped one missed nothing that is gone: it is restored with every
// packet kept. One that saw the packet before missed a dropped packet.
func TestRecoveryFromTheEdgeOfTheLog(t *testing.T) {
	// Every packet is 2["x","<one base-36 digit>"]: 10 bytes, 5 fit.
	h, a := newRecovering(t, adapter.RecoveryConfig{MaxLogBytes: 50})
	h.Connect("s1")
	var offsets []string
	for range 8 {
		if err := a.Broadcast(eventPacket(t, "x"), adapter.Options{}); err != nil {
			t.Fatal(err)
		}
		frames := deliveredTo(h, "s1")
		if n := len(frames[len(frames)-1]); n != 10 {
			t.Fatalf("frame %q is %d bytes, want 10", frames[len(frames)-1], n)
		}
		_, off := split(t, frames[len(frames)-1])
		offsets = append(offsets, off)
	}
	// Packets 3 to 7 are kept.
	for _, tc := range []struct {
		seen   int
		ok     bool
		missed int
	}{{1, false, 0}, {2, true, 5}, {3, true, 4}, {6, true, 1}, {7, true, 0}} {
		a.PersistSession(adapter.Session{SID: "s1", PID: "p", Rooms: []string{"s1"}})
		r, ok := a.RestoreSession("p", offsets[tc.seen])
		if ok != tc.ok || len(r.Missed) != tc.missed {
			t.Errorf("after packet %d: restored %v with %d missed, want %v with %d", tc.seen, ok, len(r.Missed), tc.ok, tc.missed)
		}
	}
	// An offset not issued yet, the next one included, is refused.
	for _, offset := range []string{"8", "9", "a"} {
		a.PersistSession(adapter.Session{SID: "s1", PID: "p", Rooms: []string{"s1"}})
		if _, ok := a.RestoreSession("p", offset); ok {
			t.Errorf("restored from offset %s, which was never issued", offset)
		}
	}
}

// The offset is appended to any argument array, an empty one included;
// data that is not an array cannot carry one, and goes out as it is,
// unlogged.
func TestRecoveryOffsetPlacement(t *testing.T) {
	h, a := newRecovering(t, adapter.RecoveryConfig{})
	h.Connect("s1")
	for _, data := range []string{`[]`, `["a"]`, `{}`, `"a"`, `[`, `]`, ``} {
		h.Reset()
		pkt := &parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(data)}
		if err := a.Broadcast(pkt, adapter.Options{}); err != nil {
			t.Fatal(err)
		}
		got := string(deliveredTo(h, "s1")[0])
		switch data {
		case `[]`:
			if !regexp.MustCompile(`^2\["[0-9a-z]+"\]$`).MatchString(got) {
				t.Errorf("%s delivered as %s, want the offset alone", data, got)
			}
		case `["a"]`:
			if pkt, _ := split(t, []byte(got)); pkt != `["a"]` {
				t.Errorf("%s delivered as %s", data, got)
			}
		default:
			if got != "2"+data {
				t.Errorf("%s delivered as %s, want it unchanged", data, got)
			}
		}
	}
}

// The sweep that drops expired sessions keeps the others: a session
// persisted after the sweep was set up is still there once it has run.
// The sweep is a timer with no event to wait on, so the test waits on the
// clock; it only fails when a session still within its window is gone,
// however late the timer or the test runs.
func TestRecoverySweepKeepsFreshSessions(t *testing.T) {
	const maxAge = 500 * time.Millisecond
	h, a := newRecovering(t, adapter.RecoveryConfig{MaxDisconnectionDuration: maxAge})
	h.Connect("s1")
	start := time.Now()
	_ = a.Broadcast(eventPacket(t, "e"), adapter.Options{}) // sets up the sweep, due at start+maxAge
	time.Sleep(maxAge / 2)
	persisted := time.Now()
	a.PersistSession(adapter.Session{SID: "s1", PID: "p", Rooms: []string{"s1"}})
	// Past the sweep, with the session still well within its window.
	time.Sleep(time.Until(start.Add(maxAge + maxAge/4)))
	_, ok := a.SessionSID("p")
	if age := time.Since(persisted); age < maxAge && !ok {
		t.Fatalf("a session %v old, within its %v window, was dropped", age, maxAge)
	}
}
