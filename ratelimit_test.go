package socketio

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// A bucket starts full, refills at its rate up to its burst, and a
// refused event spends nothing. Times are given, not slept.
func TestEventLimiterBuckets(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	l := &eventLimiter{cfg: cloneLimits(&RateLimits{
		PerSocket: EventLimit{Rate: 10, Burst: 4},                    // one token per 100 ms
		PerEvent:  map[string]EventLimit{"msg": {Rate: 2, Burst: 2}}, // one per 500 ms
	})}
	steps := []struct {
		ms    int
		event string
		want  bool
	}{
		{0, "msg", true}, {0, "msg", true}, // msg's burst of 2
		{0, "msg", false},                      // msg empty: refused, the socket's bucket untouched (2 left)
		{0, "other", true}, {0, "other", true}, // the socket's last two
		{0, "other", false},  // the socket's bucket is empty
		{99, "other", false}, // 0.99 of a token
		{100, "other", true}, // one token after 100 ms
		{100, "other", false},
		{500, "msg", true},  // msg earned one token in 500 ms, the socket 4 (capped at 4)
		{500, "msg", false}, // msg empty again
		{500, "other", true}, {500, "other", true}, {500, "other", true},
		{500, "other", false},                    // the socket's 4 spent (1 by msg, 3 by other)
		{5000, "msg", true}, {5000, "msg", true}, // refilled, capped at the burst
		{5000, "msg", false},
	}
	for i, s := range steps {
		if got := l.allow(s.event, at(s.ms)); got != s.want {
			t.Fatalf("step %d (%s at %d ms): allowed %v, want %v", i, s.event, s.ms, got, s.want)
		}
	}

	// Burst below 1 counts as 1; a limit without a rate is no limit.
	l = &eventLimiter{cfg: cloneLimits(&RateLimits{
		PerSocket: EventLimit{Rate: 1},
		PerEvent:  map[string]EventLimit{"free": {Burst: 1}},
	})}
	if !l.allow("x", at(0)) || l.allow("x", at(500)) || !l.allow("x", at(1000)) {
		t.Fatal("a zero burst is not a burst of one")
	}
	if _, kept := l.cfg.PerEvent["free"]; kept {
		t.Fatal("a per-event limit without a rate was kept")
	}
}

// Events over the limit reach no handler, not even OnAny or the socket
// middleware; one that asked for an acknowledgement gets
// {"error":"rate limit exceeded"}; other event names pass.
func TestRateLimitsDrop(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Of("/").SetRateLimits(&RateLimits{PerEvent: map[string]EventLimit{"msg": {Rate: 0.001, Burst: 2}}})
	seen := make(chan string, 32)
	srv.OnConnection(func(s *Socket) {
		s.OnAny(func(e *Event) { seen <- "any " + e.Name })
		s.Use(func(e *Event) error { seen <- "mw " + e.Name; return nil })
		s.On("msg", func(e *Event) { seen <- "msg"; _ = e.Ack("ok") })
		s.On("other", func(e *Event) { _ = e.Ack("other ok") })
	})
	c := dialRaw(t, url)
	c.connect("/")
	for i := range 4 {
		c.send(fmt.Sprintf(`2%d["msg",%d]`, i, i))
	}
	c.send(`2["msg","no ack wanted"]`)
	c.send(`29["other"]`)
	for _, want := range []string{
		`30["ok"]`, `31["ok"]`,
		`32[{"error":"rate limit exceeded"}]`, `33[{"error":"rate limit exceeded"}]`,
		`39["other ok"]`,
	} {
		if got := c.recv(); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	expectExactly(t, seen, "any msg", "mw msg", "msg", "any msg", "mw msg", "msg", "any other", "mw other")

	// Removed, the limits stop counting.
	srv.Of("/").SetRateLimits(nil)
	c.send(`27["msg"]`)
	if got := c.recv(); got != `37["ok"]` {
		t.Fatalf("after SetRateLimits(nil): %s", got)
	}
}

// With Disconnect, a socket over the limit is disconnected: the client
// gets a DISCONNECT packet, the server's handlers ReasonRateLimited, and
// the socket's other namespaces stay connected.
func TestRateLimitsDisconnect(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Of("/strict").SetRateLimits(&RateLimits{PerSocket: EventLimit{Rate: 0.001, Burst: 1}, Disconnect: true})
	reasons := make(chan Reason, 2)
	srv.Of("/strict").OnConnection(func(s *Socket) {
		s.OnDisconnect(func(r Reason) { reasons <- r })
	})
	srv.OnConnection(func(s *Socket) {
		s.On("ping", func(e *Event) { _ = e.Ack("pong") })
	})
	c := dialRaw(t, url)
	c.connect("/")
	c.connect("/strict")
	c.send(`2/strict,["a"]`)
	c.send(`2/strict,["b"]`)
	if got := c.recv(); got != `1/strict,` {
		t.Fatalf("got %s, want the DISCONNECT of /strict", got)
	}
	if r := recvWithin(t, reasons); r != ReasonRateLimited {
		t.Fatalf("reason %q", r)
	}
	c.send(`25["ping"]`)
	if got := c.recv(); got != `35["pong"]` {
		t.Fatalf("the main namespace: %s", got)
	}
}

// A dynamic namespace's children count against the parent's limits unless
// they have their own.
func TestRateLimitsParentNamespace(t *testing.T) {
	srv, url := newTestServer(t, nil)
	parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	parent.SetRateLimits(&RateLimits{PerSocket: EventLimit{Rate: 0.001, Burst: 1}})
	parent.OnConnection(func(s *Socket) {
		s.On("e", func(e *Event) { _ = e.Ack("ok") })
	})
	c := dialRaw(t, url)
	c.connect("/room-1")
	c.send(`2/room-1,1["e"]`)
	c.send(`2/room-1,2["e"]`)
	for _, want := range []string{`3/room-1,1["ok"]`, `3/room-1,2[{"error":"rate limit exceeded"}]`} {
		if got := c.recv(); got != want {
			t.Fatalf("parent's limits: got %s, want %s", got, want)
		}
	}
	child := parent.Children()[0]
	child.SetRateLimits(&RateLimits{PerSocket: EventLimit{Rate: 0.001, Burst: 3}})
	for i := 3; i <= 6; i++ {
		c.send(fmt.Sprintf(`2/room-1,%d["e"]`, i))
	}
	for _, want := range []string{`3/room-1,3["ok"]`, `3/room-1,4["ok"]`, `3/room-1,5["ok"]`, `3/room-1,6[{"error":"rate limit exceeded"}]`} {
		if got := c.recv(); got != want {
			t.Fatalf("the child's own limits: got %s, want %s", got, want)
		}
	}
}

// A client flooding a limited event does not hold up the others: the
// flood's handler (a broadcast to everyone) runs at the limit's rate, the
// rest of the flood is refused before any handler, and every other
// client's round trips complete. The p99 of those round trips, alone and
// under the flood, is logged (a figure, not a bound: timings are not
// asserted in tests; BENCHMARKS.md has the measured comparison).
func TestRateLimitsFloodDoesNotStarveOthers(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Of("/").SetRateLimits(&RateLimits{PerEvent: map[string]EventLimit{"flood": {Rate: 50, Burst: 10}}})
	handled := make(chan struct{}, 1<<16)
	srv.OnConnection(func(s *Socket) {
		s.On("flood", func(e *Event) {
			handled <- struct{}{}
			_ = s.Broadcast().Emit("news", "x")
		})
		s.On("echo", func(e *Event) { _ = e.Ack("ok") })
	})
	const echoers, trips = 5, 100
	p99 := func() time.Duration {
		errs := make(chan error, echoers)
		rtts := make(chan time.Duration, echoers*trips)
		for range echoers {
			c := dialRaw(t, url)
			c.connect("/")
			go func() {
				for i := range trips {
					start := time.Now()
					if err := c.ws.WriteMessage(1, []byte(fmt.Sprintf(`42%d["echo"]`, i))); err != nil {
						errs <- err
						return
					}
					want := fmt.Sprintf(`43%d["ok"]`, i)
					for {
						_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
						_, data, err := c.ws.ReadMessage()
						if err != nil {
							errs <- err
							return
						}
						if string(data) == "2" {
							_ = c.ws.WriteMessage(1, []byte("3"))
						}
						if string(data) == want {
							break
						}
					}
					rtts <- time.Since(start)
				}
				errs <- nil
			}()
		}
		for range echoers {
			if err := recvWithin(t, errs); err != nil {
				t.Fatal(err)
			}
		}
		close(rtts)
		var all []time.Duration
		for d := range rtts {
			all = append(all, d)
		}
		if len(all) != echoers*trips {
			t.Fatalf("%d round trips, want %d", len(all), echoers*trips)
		}
		slices.Sort(all)
		return all[len(all)*99/100]
	}
	alone := p99()

	flooder := dialRaw(t, url)
	flooder.connect("/")
	stop := make(chan struct{})
	sent := make(chan int)
	go func() {
		n := 0
		defer func() { sent <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if flooder.ws.WriteMessage(1, []byte(`42["flood"]`)) != nil {
				return
			}
			n++
		}
	}()
	flooded := p99()
	close(stop)
	n := <-sent
	ran := len(handled)
	t.Logf("echo p99 alone %v, under a flood of %d events (%d handled) %v", alone, n, ran, flooded)
	if ran == 0 || ran >= n {
		t.Fatalf("the flood's handler ran %d times for %d events: the limit did not refuse", ran, n)
	}
}

// A client that keeps sending past its socket's limit is read no faster
// than the limit: from the second refusal in a row on, the connection's
// input waits in the kernel for a token's time per refused event, so an
// event sent right after two refusals is read only once the bucket has
// refilled, and passes. (Without the hold it would be read at once and
// refused: a flooder would cost the server a read and a refusal per
// event; BENCHMARKS.md "Flood isolation".) A single refusal holds nothing.
func TestRateLimitsHoldTheFlooder(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Of("/").SetRateLimits(&RateLimits{PerSocket: EventLimit{Rate: 0.5, Burst: 1}})
	srv.OnConnection(func(s *Socket) {
		s.On("e", func(e *Event) { _ = e.Ack("ok") })
	})
	c := dialRaw(t, url)
	c.connect("/")
	refused := `[{"error":"rate limit exceeded"}]`

	// One refusal: no hold; the next event, at once, is refused too.
	c.send(`21["e"]`)
	c.send(`22["e"]`)
	for _, want := range []string{`31["ok"]`, `32` + refused} {
		if got := c.recv(); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	// That was the second refusal within a token's time: reads are held
	// for 2 tokens' time (4 s) from the first; the client's next event
	// waits for them, and by then the bucket has a token.
	c.send(`23["e"]`)
	if got := c.recv(); got != `33`+refused {
		t.Fatalf("got %s, want the third event refused", got)
	}
	c.send(`24["e"]`)
	if got := c.recv(); got != `34["ok"]` {
		t.Fatalf("the event after the refusals: got %s, want it read after the hold and accepted", got)
	}
}

// The observer hears which limit refused an event: the event's name when
// its own configured limit did (a name the server chose to limit), none
// when the socket's limit did (any name a client sends).
func TestRateLimitStatNamesConfiguredEventsOnly(t *testing.T) {
	rec := &recorder{}
	srv, url := newTestServer(t, &Options{Observer: rec})
	srv.Of("/").SetRateLimits(&RateLimits{
		PerSocket: EventLimit{Rate: 0.001, Burst: 3},
		PerEvent:  map[string]EventLimit{"limited": {Rate: 0.001, Burst: 1}},
	})
	srv.OnConnection(func(s *Socket) {
		s.OnAny(func(e *Event) { _ = e.Ack("ok") })
	})
	c := dialRaw(t, url)
	c.connect("/")
	for i, name := range []string{"limited", "limited", "free", "free", "free"} {
		c.send(fmt.Sprintf(`2%d["%s"]`, i, name))
		c.recv()
	}
	var got []string
	for _, e := range rec.waitFor(t, `ratelimited / "limited" false`, `ratelimited / "" false`) {
		if strings.HasPrefix(e, "ratelimited") {
			got = append(got, e)
		}
	}
	if want := []string{`ratelimited / "limited" false`, `ratelimited / "" false`}; !slices.Equal(got, want) {
		t.Fatalf("heard %q, want %q", got, want)
	}
}
