package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
)

// lineWriter hands each log line to a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

// start runs the example on a free loopback port, prices moving every
// period.
func start(t *testing.T, every time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logged := make(lineWriter, 10)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", every, log.New(logged, "", 0)) }()
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
		url, ok := strings.CutPrefix(strings.TrimSpace(line), "ticker on ")
		if !ok {
			t.Fatalf("first log line %q", line)
		}
		return url
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no log line within 10s")
	}
	panic("unreachable")
}

// follower is a client that records the seq of every quote it receives,
// per symbol. Once stalled, its handler waits until reading is closed:
// until then the client stops reading.
type follower struct {
	s       *sioclient.Socket
	reading chan struct{}
	resumed sync.Once
	stalled atomic.Bool

	mu    sync.Mutex
	seqs  map[string][]uint64
	more  chan struct{}
	wrong []string
}

// follow connects over transport and subscribes to symbols; a stalled
// follower, once subscribed to all of them (so that each symbol has
// quotes on their way before the first is dropped), does not read until
// resume is called.
func follow(t *testing.T, url, transport string, stalled bool, symbols ...string) *follower {
	t.Helper()
	f := &follower{reading: make(chan struct{}), seqs: map[string][]uint64{}, more: make(chan struct{}, 1)}
	if !stalled {
		f.resume()
	}
	s, err := sioclient.New(url, &sioclient.Options{ForceNew: true, Transports: []string{transport}})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	s.On("price", func(e *sioclient.Event) {
		if f.stalled.Load() {
			<-f.reading // blocks while the test has the client stalled
		}
		var q quote
		err := e.Decode(0, &q)
		f.mu.Lock()
		if err != nil || q.Price <= 0 || q.Time <= 0 {
			f.wrong = append(f.wrong, string(e.Arg(0).Raw))
		}
		f.seqs[q.Symbol] = append(f.seqs[q.Symbol], q.Seq)
		f.mu.Unlock()
		select {
		case f.more <- struct{}{}:
		default:
		}
	})
	s.Connect()
	t.Cleanup(func() {
		f.resume() // a test that failed while it was stalled
		s.Disconnect()
	})
	for _, sym := range symbols {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		args, err := s.EmitWithAck(ctx, "subscribe", sym)
		cancel()
		if err != nil {
			t.Fatalf("subscribe %s: %v", sym, err)
		}
		var q quote
		if err := args.Decode(0, &q); err != nil || q.Symbol != sym || q.Price <= 0 {
			t.Fatalf("subscribe %s: ack %v %v", sym, args, err)
		}
	}
	f.stalled.Store(stalled)
	return f
}

func (f *follower) resume() { f.resumed.Do(func() { close(f.reading) }) }

// last is the highest seq received for symbol.
func (f *follower) last(symbol string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.seqs[symbol]; len(s) > 0 {
		return s[len(s)-1]
	}
	return 0
}

// waitSeq waits until the follower has a quote of symbol with seq >= seq.
func (f *follower) waitSeq(t *testing.T, who, symbol string, seq uint64) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for f.last(symbol) < seq {
		select {
		case <-f.more:
		case <-deadline:
			t.Fatalf("%s: no %s quote %d within 30s (last %d)", who, symbol, seq, f.last(symbol))
		}
	}
}

// gaps counts, per symbol, the quotes missing between the first and the
// last one received, and checks that they came in order.
func (f *follower) gaps(t *testing.T, who string) (received, missed map[string]uint64) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	received, missed = map[string]uint64{}, map[string]uint64{}
	for sym, seqs := range f.seqs {
		// The first quote may arrive twice (see subscribe).
		seqs = slices.Compact(seqs)
		if !slices.IsSorted(seqs) {
			t.Errorf("%s: %s quotes out of order", who, sym)
		}
		received[sym] = uint64(len(seqs))
		missed[sym] = seqs[len(seqs)-1] - seqs[0] + 1 - uint64(len(seqs))
	}
	if len(f.wrong) > 0 {
		t.Errorf("%s: malformed quotes: %v", who, f.wrong[:min(len(f.wrong), 3)])
	}
	return received, missed
}

func stats(t *testing.T, url string) (clients int, dropped uint64) {
	t.Helper()
	res, err := http.Get(url + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st struct {
		Clients int
		Dropped uint64
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Clients, st.Dropped
}

// A client that stops reading misses quotes (they are volatile: dropped
// for it, not queued) and is live again when it reads again; meanwhile a
// client that keeps reading gets every quote. The slow client is on
// WebSocket, where the kernel's buffers fill before the server's queue
// does (on loopback the server's send buffer grows to about 4 MB: some 20 s
// of quotes here), or on long-polling, where it stops asking for more and
// the queue fills at once.
func TestSlowClientMissesQuotes(t *testing.T) {
	for _, transport := range []string{"websocket", "polling"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			slowClientMissesQuotes(t, transport)
		})
	}
}

func slowClientMissesQuotes(t *testing.T, transport string) {
	url := start(t, time.Millisecond)
	all := slices.Sorted(maps.Keys(symbols))
	fast := follow(t, url, "websocket", false, all...)
	// The slow client does not read: its handler waits from the first
	// quote after its subscriptions on, its backlog fills, its connection stops reading, and the
	// server's queue for it passes the volatile limit: quotes are dropped
	// for it.
	slow := follow(t, url, transport, true, all...)
	stalledAt := fast.last("AAPL")
	const enough = 600 // quotes dropped, all symbols together
	deadline := time.Now().Add(120 * time.Second)
	for {
		_, dropped := stats(t, url)
		if dropped >= enough {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d quotes dropped within 120s; the fast client got %d AAPL quotes meanwhile", dropped, fast.last("AAPL")-stalledAt)
		}
		time.Sleep(20 * time.Millisecond) // polling the counter, not standing in for it
	}
	resumedAt := fast.last("AAPL")
	slow.resume()

	// Both are live: they get the quotes sent after the slow one resumed.
	target := resumedAt + 200
	slow.waitSeq(t, "slow", "AAPL", target)
	fast.waitSeq(t, "fast", "AAPL", target)

	fastGot, fastMissed := fast.gaps(t, "fast")
	slowGot, slowMissed := slow.gaps(t, "slow")
	// Every tick drops the quotes of every symbol alike.
	for _, sym := range all {
		if fastMissed[sym] != 0 {
			t.Errorf("the fast client missed %d of the %s quotes (got %d)", fastMissed[sym], sym, fastGot[sym])
		}
		if slowMissed[sym] == 0 {
			t.Errorf("the slow client missed no %s quote (got %d)", sym, slowGot[sym])
		}
	}
	_, dropped := stats(t, url)
	t.Logf("stalled for %d AAPL quotes; the server dropped %d quotes; fast got %v, missed none; slow got %v, missed %v",
		resumedAt-stalledAt, dropped, fastGot, slowGot, slowMissed)
}

func TestSubscribe(t *testing.T) {
	url := start(t, 10*time.Millisecond)
	f := follow(t, url, "websocket", false, "MSFT")
	f.waitSeq(t, "client", "MSFT", f.last("MSFT")+3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	args, err := f.s.EmitWithAck(ctx, "subscribe", "NOPE")
	if err != nil || string(args.Arg(0).Raw) != `{"error":"unknown symbol NOPE"}` {
		t.Errorf("subscribe NOPE: %v %v", args, err)
	}
	// Unsubscribed, then an event to all (here, a second subscription)
	// shows what still comes: only GOOG.
	if err := f.s.Emit("unsubscribe", "MSFT"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.EmitWithAck(ctx, "subscribe", "GOOG"); err != nil {
		t.Fatal(err)
	}
	f.waitSeq(t, "client", "GOOG", f.last("GOOG")+3)
	msft := f.last("MSFT")
	f.waitSeq(t, "client", "GOOG", f.last("GOOG")+20)
	if got := f.last("MSFT"); got != msft {
		t.Errorf("MSFT quotes after unsubscribe: %d, then %d", msft, got)
	}
	f.mu.Lock()
	for sym := range f.seqs {
		if sym != "MSFT" && sym != "GOOG" {
			t.Errorf("quotes of %s, never subscribed", sym)
		}
	}
	f.mu.Unlock()

	if clients, dropped := stats(t, url); clients != 1 || dropped != 0 {
		t.Errorf("stats: %d clients, %d dropped", clients, dropped)
	}
	res, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `const symbols = ["AAPL","AMZN","GOOG","MSFT","NVDA","TSLA"];`) {
		t.Errorf("GET /: %d\n%s", res.StatusCode, body)
	}
}

func TestBindFailure(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	err = run(context.Background(), taken.Addr().String(), time.Second, log.New(io.Discard, "", 0))
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("run on a taken address: %v, want EADDRINUSE", err)
	}
}
