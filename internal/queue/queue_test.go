package queue

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

func item(s string) Item { return Item{Kind: 4, Data: []byte(s)} }

func TestFIFOAndDrainLimit(t *testing.T) {
	q := New(1000)
	for i := 0; i < 10; i++ { // 10 items of 10+1 bytes, through several ring growths
		if err := q.Push(item(fmt.Sprintf("message-%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if n, b := q.Len(); n != 10 || b != 110 {
		t.Fatalf("Len = %d items, %d bytes", n, b)
	}
	got := q.Drain(nil, 30) // 30 bytes: two items (22), not a third (33)
	if len(got) != 2 || string(got[0].Data) != "message-00" || string(got[1].Data) != "message-01" {
		t.Fatalf("first drain %v", got)
	}
	got = q.Drain(got[:0], 1) // a limit below one item still takes one
	if len(got) != 1 || string(got[0].Data) != "message-02" {
		t.Fatalf("second drain %v", got)
	}
	got = q.Drain(got[:0], 0)
	if len(got) != 7 || string(got[6].Data) != "message-09" {
		t.Fatalf("rest %d", len(got))
	}
	if n, b := q.Len(); n != 0 || b != 0 {
		t.Fatalf("after drain: %d %d", n, b)
	}
}

func TestByteBound(t *testing.T) {
	q := New(100)
	big := Item{Data: bytes.Repeat([]byte("x"), 500)}
	if err := q.Push(big); err != nil { // an empty queue takes one oversized item
		t.Fatalf("oversized item into empty queue: %v", err)
	}
	if err := q.Push(item("a")); err != ErrFull {
		t.Fatalf("push past the bound: %v", err)
	}
	q.Drain(nil, 0)
	for i := 0; i < 9; i++ {
		if err := q.Push(item("123456789")); err != nil { // 10 bytes each
			t.Fatal(err)
		}
	}
	if err := q.Push(item("123456789")); err != nil {
		t.Fatalf("exactly at the bound: %v", err)
	}
	if err := q.Push(item("")); err != ErrFull {
		t.Fatalf("one byte past the bound: %v", err)
	}
	if err := q.PushControl(item("ping")); err != nil {
		t.Fatalf("control items bypass the bound: %v", err)
	}
}

func TestVolatileDroppedPastSoftMark(t *testing.T) {
	q := New(400) // soft mark 100
	v := Item{Data: bytes.Repeat([]byte("v"), 49), Volatile: true}
	for i := 0; i < 5; i++ {
		if err := q.Push(v); err != nil && (i < 2 || err != ErrDropped) {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	if n, _ := q.Len(); n != 2 || q.Dropped() != 3 {
		t.Fatalf("kept %d, dropped %d", n, q.Dropped())
	}
	if err := q.Push(item("reliable")); err != nil {
		t.Fatalf("reliable after volatile: %v", err)
	}
	if err := q.PushAll([]Item{v, v}, true); err != ErrDropped || q.Dropped() != 4 {
		t.Fatalf("volatile batch: %v, dropped %d", err, q.Dropped())
	}
}

func TestPushAllIsAtomic(t *testing.T) {
	q := New(1 << 20)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				tag := byte('a' + g)
				_ = q.PushAll([]Item{{Data: []byte{tag, 0}}, {Data: []byte{tag, 1}}, {Data: []byte{tag, 2}}}, false)
			}
		}()
	}
	wg.Wait()
	got := q.Drain(nil, 0)
	if len(got) != 8*200*3 {
		t.Fatalf("%d items", len(got))
	}
	for i := 0; i < len(got); i += 3 {
		tag := got[i].Data[0]
		for j := 0; j < 3; j++ {
			if got[i+j].Data[0] != tag || got[i+j].Data[1] != byte(j) {
				t.Fatalf("batch split at %d: %v %v %v", i, got[i].Data, got[i+1].Data, got[i+2].Data)
			}
		}
	}
	_ = q.Push(item("x"))
	if err := q.PushAll([]Item{item("y"), {Data: make([]byte, 2<<20)}}, false); err != ErrFull {
		t.Fatalf("oversized batch into a non-empty queue: %v", err)
	}
}

func TestCloseAndReady(t *testing.T) {
	q := New(100)
	<-q.Ready() // made on first use with one token: the first wait re-checks
	select {
	case <-q.Ready():
		t.Fatal("ready before anything happened")
	default:
	}
	_ = q.Push(item("a"))
	_ = q.Push(item("b"))
	<-q.Ready() // one signal for both
	select {
	case <-q.Ready():
		t.Fatal("signal not coalesced")
	default:
	}
	got := q.Drain(nil, 2) // takes "a", "b" remains: the queue signals again
	if len(got) != 1 {
		t.Fatalf("drained %d", len(got))
	}
	<-q.Ready()
	q.Close()
	if !q.Closed() || q.Push(item("c")) != ErrClosed || q.PushControl(item("c")) != ErrClosed || q.PushAll([]Item{item("c")}, false) != ErrClosed {
		t.Fatal("closed queue accepted an item")
	}
	<-q.Ready()
	if got := q.Drain(nil, 0); len(got) != 1 || string(got[0].Data) != "b" {
		t.Fatalf("queued item lost on close: %v", got)
	}
	q.Close() // idempotent
}

func TestRingShrinksAfterBurst(t *testing.T) {
	q := New(1 << 20)
	for i := 0; i < 1000; i++ {
		_ = q.Push(item("burst"))
	}
	q.Drain(nil, 0)
	if len(q.items) > 64 {
		t.Fatalf("ring kept %d slots after draining", len(q.items))
	}
}

func BenchmarkPushDrain(b *testing.B) {
	q := New(1 << 20)
	data := []byte(`42["message",{"text":"hello"}]`)
	buf := make([]Item, 0, 64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = q.Push(Item{Kind: 4, Data: data})
		if i%32 == 31 {
			buf = q.Drain(buf[:0], 0)
		}
	}
}

func TestCongestion(t *testing.T) {
	q := New(100)
	if ch, since := q.Below(); q.Congested() || !since.IsZero() || !isClosed(ch) {
		t.Fatal("an empty queue is congested")
	}
	// Volatile items never congest: they are dropped first.
	for q.Push(Item{Kind: 4, Volatile: true, Data: bytes.Repeat([]byte("v"), 9)}) == nil {
	}
	if q.Congested() {
		t.Fatal("volatile items congested the queue")
	}
	q.Drain(nil, 0)
	for range 5 { // 5 × 11 bytes: past half of 100
		if err := q.Push(item("0123456789")); err != nil {
			t.Fatal(err)
		}
	}
	ch, since := q.Below()
	if !q.Congested() || since.IsZero() || isClosed(ch) {
		t.Fatalf("55 of 100 bytes: congested %v since %v", q.Congested(), since)
	}
	q.Drain(nil, 1) // 44 bytes left: at half or under
	if q.Congested() || !isClosed(ch) {
		t.Fatal("drained under half, still congested")
	}
	for range 2 {
		_ = q.Push(item("0123456789"))
	}
	ch, _ = q.Below()
	q.Close()
	if q.Congested() || !isClosed(ch) {
		t.Fatal("a closed queue is congested")
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestPeak: the high-water mark follows the most bytes held at once,
// control items included, and stays when the queue drains.
func TestPeak(t *testing.T) {
	q := New(100)
	if p := q.Peak(); p != 0 {
		t.Fatalf("new queue: Peak = %d", p)
	}
	_ = q.Push(item("123456789"))   // 10 bytes
	_ = q.PushControl(item("1234")) // 5
	if p := q.Peak(); p != 15 {
		t.Fatalf("Peak = %d, want 15", p)
	}
	q.Drain(nil, 0)
	_ = q.Push(item("12")) // 3: below the mark
	if p := q.Peak(); p != 15 {
		t.Fatalf("after a drain: Peak = %d, want 15", p)
	}
	_ = q.Push(item("1234567890123456789")) // 3 + 20 = 23
	if p := q.Peak(); p != 23 {
		t.Fatalf("Peak = %d, want 23", p)
	}
}
