package adapter_test

import (
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/adaptertest"
	"github.com/switchboard-go/socketio/parser"
)

func newRecovering(t *testing.T, cfg adapter.RecoveryConfig) (*adaptertest.Host, *adapter.InMemoryWithRecovery) {
	t.Helper()
	h := adaptertest.NewHost("/")
	a := adapter.NewInMemoryWithRecovery(cfg)(h).(*adapter.InMemoryWithRecovery)
	h.Bind(a)
	t.Cleanup(func() { _ = a.Close() })
	return h, a
}

func eventPacket(t testing.TB, args ...any) *parser.Packet {
	t.Helper()
	data, _, err := parser.EncodeArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: data}
}

var logged = regexp.MustCompile(`^2(\[.*),"([0-9a-z]+)"\]$`)

// split returns the packet without its offset, and the offset.
func split(t testing.TB, frame []byte) (string, string) {
	t.Helper()
	m := logged.FindSubmatch(frame)
	if m == nil {
		t.Fatalf("frame %q: want an event with an offset", frame)
	}
	return string(m[1]) + "]", string(m[2])
}

// deliveredTo returns the frames delivered to id, in order.
func deliveredTo(h *adaptertest.Host, id string) [][]byte {
	var out [][]byte
	for _, d := range h.Deliveries() {
		if slices.Contains(d.IDs, id) {
			out = append(out, d.Frames[0].Data)
		}
	}
	return out
}

// What a session missed is what its rooms selected: not what excluded it,
// went to other rooms, was volatile or wanted an ack.
func TestRecoveryMissedFollowsRooms(t *testing.T) {
	h, a := newRecovering(t, adapter.RecoveryConfig{})
	h.Connect("s1", "r1")
	h.Connect("s2", "r2")
	if err := a.Broadcast(eventPacket(t, "first"), adapter.Options{}); err != nil {
		t.Fatal(err)
	}
	got := deliveredTo(h, "s1")
	if len(got) != 1 {
		t.Fatalf("delivered %q", got)
	}
	_, offset := split(t, got[0])

	a.PersistSession(adapter.Session{SID: "s1", PID: "p1", Rooms: a.SocketRooms("s1"), Data: map[string]any{"k": 1}})
	h.Disconnect("s1")
	bc := func(pkt *parser.Packet, opts adapter.Options) {
		t.Helper()
		if err := a.Broadcast(pkt, opts); err != nil {
			t.Fatal(err)
		}
	}
	bc(eventPacket(t, "to r1"), adapter.Options{Rooms: []string{"r1"}})
	bc(eventPacket(t, "to r2"), adapter.Options{Rooms: []string{"r2"}})
	bc(eventPacket(t, "to s1"), adapter.Options{Rooms: []string{"s1"}})
	bc(eventPacket(t, "all but r1"), adapter.Options{Except: []string{"r1"}})
	bc(eventPacket(t, "r1 or r2 but not r2"), adapter.Options{Rooms: []string{"r1", "r2"}, Except: []string{"r2"}})
	bc(eventPacket(t, "volatile"), adapter.Options{Flags: adapter.Flags{Volatile: true}})
	withAck := eventPacket(t, "ack")
	withAck.ID, withAck.HasID = 7, true
	bc(withAck, adapter.Options{})
	if err := a.BroadcastWithAck(eventPacket(t, "ack2"), adapter.Options{}, func(int) {}, func(adapter.Args) {}); err != nil {
		t.Fatal(err)
	}
	bc(eventPacket(t, "all"), adapter.Options{})

	if sid, ok := a.SessionSID("p1"); !ok || sid != "s1" {
		t.Fatalf("SessionSID = %q, %v", sid, ok)
	}
	r, ok := a.RestoreSession("p1", offset)
	if !ok {
		t.Fatal("not restored")
	}
	var missed []string
	for _, frames := range r.Missed {
		pkt, _ := split(t, frames[0].Data)
		missed = append(missed, pkt)
	}
	want := []string{`["to r1"]`, `["to s1"]`, `["r1 or r2 but not r2"]`, `["all"]`}
	if !slices.Equal(missed, want) {
		t.Fatalf("missed %q, want %q", missed, want)
	}
	if r.SID != "s1" || r.Data["k"] != 1 {
		t.Fatalf("session %+v", r.Session)
	}
	rooms := a.SocketRooms("s1")
	slices.Sort(rooms)
	if !slices.Equal(rooms, []string{"r1", "s1"}) {
		t.Fatalf("rooms after restore %q", rooms)
	}
	if _, ok := a.RestoreSession("p1", offset); ok {
		t.Fatal("a session restored twice")
	}
	if _, ok := a.SessionSID("p1"); ok {
		t.Fatal("a restored session is still kept")
	}
}

// The log is bounded by bytes: a session that missed a dropped packet is
// not restored, one that missed only kept packets is.
func TestRecoveryLogBound(t *testing.T) {
	h, a := newRecovering(t, adapter.RecoveryConfig{MaxLogBytes: 1000})
	h.Connect("s1")
	var offsets []string
	for i := range 100 {
		if err := a.Broadcast(eventPacket(t, "e", i), adapter.Options{}); err != nil {
			t.Fatal(err)
		}
		frames := deliveredTo(h, "s1")
		_, off := split(t, frames[len(frames)-1])
		offsets = append(offsets, off)
	}
	// Each packet is about 12 bytes: about 80 fit in 1,000.
	for _, tc := range []struct {
		after int
		ok    bool
		n     int
	}{{0, false, 0}, {50, true, 49}, {98, true, 1}, {99, true, 0}} {
		pid := fmt.Sprint("p", tc.after)
		a.PersistSession(adapter.Session{SID: "s1", PID: pid, Rooms: []string{"s1"}})
		r, ok := a.RestoreSession(pid, offsets[tc.after])
		if ok != tc.ok || len(r.Missed) != tc.n {
			t.Errorf("after event %d: restored %v with %d missed, want %v with %d", tc.after, ok, len(r.Missed), tc.ok, tc.n)
		}
	}
	for _, bad := range []string{"", "-1", "zz", "ZZ", strconv.Itoa(1 << 40)} {
		a.PersistSession(adapter.Session{SID: "s1", PID: "bad", Rooms: []string{"s1"}})
		if _, ok := a.RestoreSession("bad", bad); ok {
			t.Errorf("restored with offset %q", bad)
		}
	}
}

// Sessions and packets expire after MaxDisconnectionDuration, on their own.
func TestRecoveryExpiry(t *testing.T) {
	h, a := newRecovering(t, adapter.RecoveryConfig{MaxDisconnectionDuration: 30 * time.Millisecond})
	h.Connect("s1")
	_ = a.Broadcast(eventPacket(t, "e"), adapter.Options{})
	_, off := split(t, deliveredTo(h, "s1")[0])
	a.PersistSession(adapter.Session{SID: "s1", PID: "p", Rooms: []string{"s1"}})
	// The point of the sleep: the window under test is real time, and
	// nothing signals its end; 100 ms is past the 30 ms window however
	// late this goroutine wakes.
	time.Sleep(100 * time.Millisecond)
	if _, ok := a.SessionSID("p"); ok {
		t.Fatal("session kept past the window")
	}
	if _, ok := a.RestoreSession("p", off); ok {
		t.Fatal("restored past the window")
	}
}

// Restores during broadcasts lose nothing and repeat nothing: each event
// reaches the socket once, before it left, among the missed, or after its
// return, in order. Many restores, each racing a few broadcasts, make the
// race a lapse in the locking would lose.
func TestRecoveryRestoreDuringBroadcasts(t *testing.T) {
	h, a := newRecovering(t, adapter.RecoveryConfig{})
	h.Connect("s1", "r")
	h.Connect("s2", "r")
	tokens := make(chan struct{}, 16)
	var sent atomic.Int64
	issued := int64(0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		i := 0
		for range tokens {
			_ = a.Broadcast(eventPacket(t, "e", i), adapter.Options{Rooms: []string{"r"}})
			i++
			sent.Store(int64(i))
		}
	}()
	allow := func(n int) {
		for range n {
			tokens <- struct{}{}
			issued++
		}
	}
	settle := func() {
		for sent.Load() < issued {
			runtime.Gosched()
		}
	}
	allow(2)
	settle()
	type restore struct {
		at     int // deliveries to s1 before it
		missed [][]adapter.Frame
	}
	var restores []restore
	// The client's offset is its last event, delivered or missed.
	var clientLast uint64
	seen := func(frame []byte) {
		_, off := split(t, frame)
		if n, _ := strconv.ParseUint(off, 36, 64); n > clientLast {
			clientLast = n
		}
	}
	for cycle := range 300 {
		pid := fmt.Sprint("p", cycle)
		a.PersistSession(adapter.Session{SID: "s1", PID: pid, Rooms: a.SocketRooms("s1")})
		if !h.Disconnect("s1") {
			t.Fatal("s1 was not connected")
		}
		allow(cycle % 3) // some cycles miss nothing
		settle()
		before := deliveredTo(h, "s1")
		seen(before[len(before)-1])
		allow(3) // these race the restore
		r, ok := a.RestoreSession(pid, strconv.FormatUint(clientLast, 36))
		if !ok {
			t.Fatalf("cycle %d: not restored", cycle)
		}
		h.Connect("s1") // the host's side of it: already in its rooms
		settle()
		restores = append(restores, restore{len(before), r.Missed})
		if len(r.Missed) > 0 {
			seen(r.Missed[len(r.Missed)-1][0].Data)
		}
	}
	close(tokens)
	<-done
	all := deliveredTo(h, "s1")
	var seq [][]byte
	for i := 0; i <= len(all); i++ {
		for len(restores) > 0 && restores[0].at == i {
			for _, frames := range restores[0].missed {
				seq = append(seq, frames[0].Data)
			}
			restores = restores[1:]
		}
		if i < len(all) {
			seq = append(seq, all[i])
		}
	}
	for i, f := range seq {
		pkt, _ := split(t, f)
		if want := fmt.Sprintf(`["e",%d]`, i); pkt != want {
			t.Fatalf("event %d seen by s1 is %s", i, pkt)
		}
	}
	if int64(len(seq)) != sent.Load() {
		t.Fatalf("s1 saw %d of %d events", len(seq), sent.Load())
	}
}
