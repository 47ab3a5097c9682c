package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// result is one run's numbers; the JSON names are the report's.
type result struct {
	Time      string `json:"time"`
	Label     string `json:"label,omitempty"`
	Store     string `json:"store"`
	Users     int    `json:"users"`
	Rooms     int    `json:"rooms"`
	Senders   int    `json:"senders"`
	Window    int    `json:"window"`
	TextBytes int    `json:"textBytes"`
	NumCPU    int    `json:"numCPU"`

	Acked       int     `json:"acked"`  // messages stored and acknowledged
	Failed      int     `json:"failed"` // sends answered with an error or not at all
	SendSeconds float64 `json:"sendSeconds"`
	MsgsPerSec  float64 `json:"msgsPerSec"`
	AckP50ms    float64 `json:"ackP50ms"`
	AckP99ms    float64 `json:"ackP99ms"`
	AckMaxms    float64 `json:"ackMaxms"`

	Deliveries         int64   `json:"deliveries"`
	ExpectedDeliveries int64   `json:"expectedDeliveries"`
	DeliverSeconds     float64 `json:"deliverSeconds"` // first send to last delivery
	DeliveriesPerSec   float64 `json:"deliveriesPerSec"`

	ServerCPUSeconds      float64 `json:"serverCPUSeconds"`
	ServerCores           float64 `json:"serverCores"` // CPU seconds per second of the run
	ServerCPUPerDeliverUs float64 `json:"serverCPUPerDeliveryUs"`
	ServerCPUPerMessageUs float64 `json:"serverCPUPerMessageUs"`
	ClientCPUSeconds      float64 `json:"clientCPUSeconds"`
	// PostgreSQL's processes, with -store postgres (all their work, other
	// users' included): the database's CPU, outside the chat process.
	PostgresCPUSeconds  float64 `json:"postgresCPUSeconds,omitempty"`
	PostgresCPUPerMsgUs float64 `json:"postgresCPUPerMessageUs,omitempty"`
	LoadBefore          string  `json:"loadBefore"`
	LoadAfter           string  `json:"loadAfter"`

	Missing    int  `json:"missing"`    // (member, acked message) pairs never delivered
	Duplicates int  `json:"duplicates"` // deliveries beyond the first
	Misrouted  int  `json:"misrouted"`  // messages of a room delivered to a non-member
	HistoryOK  bool `json:"historyOK"`  // each room's history ends with its last acked message
}

const ackTimeout = 15 * time.Second

// load runs the benchmark against the chat p.
func load(ctx context.Context, c config, p *chatProc, logw io.Writer) (*result, error) {
	res := &result{
		Time: time.Now().UTC().Format(time.RFC3339), Users: c.users, Rooms: c.rooms,
		Senders: c.senders, Window: c.window, TextBytes: c.text, NumCPU: runtime.NumCPU(),
	}
	setupCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	// Sign-ups, a few at a time: each costs the chat an argon2id hash.
	const password = "chatbench-password"
	members := make([]*member, c.users)
	tokens := make([]string, c.users)
	if err := parallel(4, c.users, func(i int) error {
		members[i] = &member{name: fmt.Sprintf("bench%03d", i), room: fmt.Sprintf("bench-%d", i%c.rooms)}
		local := net.IPv4(127, 0, byte(1+i/usersPerAddr/250), byte(2+i/usersPerAddr%250))
		tok, err := signup(setupCtx, p.url, members[i].name, password, local)
		tokens[i] = tok
		return err
	}); err != nil {
		return nil, err
	}
	fmt.Fprintf(logw, "%d users signed up\n", c.users)

	var delivered atomic.Int64
	var lastDelivery atomic.Int64 // unix nanoseconds
	onMsg := func() {
		delivered.Add(1)
		lastDelivery.Store(time.Now().UnixNano())
	}
	defer func() {
		for _, m := range members {
			if m != nil && m.sock != nil {
				_ = m.sock.Close()
			}
		}
	}()
	if err := parallel(8, c.users, func(i int) error {
		return members[i].connect(setupCtx, p.url, tokens[i], onMsg)
	}); err != nil {
		return nil, err
	}
	// The first member of each room creates it, then the others join.
	roomSize := map[string]int{}
	for i, m := range members {
		roomSize[m.room]++
		if i < c.rooms {
			if _, err := call(setupCtx, m.sock, "create", map[string]string{"room": m.room}); err != nil {
				return nil, err
			}
		}
	}
	if err := parallel(8, c.users-c.rooms, func(i int) error {
		m := members[c.rooms+i]
		_, err := call(setupCtx, m.sock, "join", map[string]string{"room": m.room})
		return err
	}); err != nil {
		return nil, err
	}
	if n := delivered.Load(); n != 0 {
		return nil, fmt.Errorf("%d messages delivered before any was sent", n)
	}
	fmt.Fprintf(logw, "%d users connected over WebSocket, in %d rooms; sending\n", c.users, c.rooms)

	// The measured part: senders, then the wait for the last delivery.
	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, c.messages)
		acked     = map[string][]int64{} // room → ids acknowledged
		sendErr   error
		next      atomic.Int64
		stop      atomic.Bool
	)
	text := strings.Repeat("x", c.text)
	res.LoadBefore = loadAvg()
	cpu0, err := procCPU(p.pid())
	if err != nil {
		return nil, err
	}
	self0 := selfCPU()
	var pg0 time.Duration
	if c.store == "postgres" {
		pg0 = postgresCPU()
	}
	start := time.Now()
	deadline := start.Add(c.duration)
	var wg sync.WaitGroup
	for s := range c.senders {
		m := members[s]
		for range c.window {
			wg.Go(func() {
				for !stop.Load() && time.Now().Before(deadline) {
					n := next.Add(1)
					if n > int64(c.messages) {
						return
					}
					arg := map[string]string{"room": m.room, "text": text, "clientId": fmt.Sprintf("%s-%d", m.name, n)}
					actx, cancel := context.WithTimeout(ctx, ackTimeout)
					t0 := time.Now()
					r, err := call(actx, m.sock, "message", arg)
					d := time.Since(t0)
					cancel()
					mu.Lock()
					if err != nil {
						res.Failed++
						if sendErr == nil {
							sendErr = fmt.Errorf("%s: %w", m.name, err)
						}
						stop.Store(true) // an error under load is the finding: stop there
					} else {
						latencies = append(latencies, d)
						acked[m.room] = append(acked[m.room], r.ID)
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	sendEnd := time.Now()
	for room, ids := range acked {
		res.Acked += len(ids)
		res.ExpectedDeliveries += int64(len(ids) * roomSize[room])
	}
	// Every acknowledged message is on its way to every member: wait for
	// the count (or give up after a bound, and report what is missing).
	drainBy := time.Now().Add(30 * time.Second)
	for delivered.Load() < res.ExpectedDeliveries && time.Now().Before(drainBy) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	cpu1, err := procCPU(p.pid())
	if err != nil {
		return nil, err
	}
	res.LoadAfter = loadAvg()
	if c.store == "postgres" {
		res.PostgresCPUSeconds = (postgresCPU() - pg0).Seconds()
		if res.Acked > 0 {
			res.PostgresCPUPerMsgUs = res.PostgresCPUSeconds * 1e6 / float64(res.Acked)
		}
	}
	res.ClientCPUSeconds = (selfCPU() - self0).Seconds()
	res.Deliveries = delivered.Load()
	last := time.Unix(0, lastDelivery.Load())
	if last.Before(start) {
		last = sendEnd
	}

	res.SendSeconds = sendEnd.Sub(start).Seconds()
	res.DeliverSeconds = last.Sub(start).Seconds()
	res.MsgsPerSec = float64(res.Acked) / res.SendSeconds
	if res.DeliverSeconds > 0 {
		res.DeliveriesPerSec = float64(res.Deliveries) / res.DeliverSeconds
	}
	slices.Sort(latencies)
	res.AckP50ms = ms(percentile(latencies, 0.50))
	res.AckP99ms = ms(percentile(latencies, 0.99))
	if len(latencies) > 0 {
		res.AckMaxms = ms(latencies[len(latencies)-1])
	}
	cpu := cpu1 - cpu0
	res.ServerCPUSeconds = cpu.Seconds()
	if res.DeliverSeconds > 0 {
		res.ServerCores = res.ServerCPUSeconds / res.DeliverSeconds
	}
	if res.Deliveries > 0 {
		res.ServerCPUPerDeliverUs = float64(cpu.Microseconds()) / float64(res.Deliveries)
	}
	if res.Acked > 0 {
		res.ServerCPUPerMessageUs = float64(cpu.Microseconds()) / float64(res.Acked)
	}

	// The checks: exactly once to every member of the room, to no one else.
	members2 := map[string][]*member{}
	for _, m := range members {
		members2[m.room] = append(members2[m.room], m)
	}
	ackedSet := map[int64]bool{}
	for room, ids := range acked {
		for _, id := range ids {
			ackedSet[id] = true
		}
		for _, m := range members2[room] {
			m.mu.Lock()
			for _, id := range ids {
				if m.got[id] == 0 {
					res.Missing++
				}
			}
			m.mu.Unlock()
		}
	}
	for _, m := range members {
		m.mu.Lock()
		for _, n := range m.got {
			if n > 1 {
				res.Duplicates += n - 1
			}
		}
		res.Misrouted += m.wrong
		m.mu.Unlock()
	}
	res.HistoryOK = true
	for room, ids := range acked {
		want := slices.Max(ids)
		hctx, cancel := context.WithTimeout(ctx, ackTimeout)
		args, err := members2[room][0].sock.EmitWithAck(hctx, "history", map[string]any{"room": room, "limit": 1})
		cancel()
		var h struct {
			Messages []wireMsg `json:"messages"`
		}
		if err == nil {
			err = args.Decode(0, &h)
		}
		if err != nil || len(h.Messages) != 1 || h.Messages[0].ID != want {
			res.HistoryOK = false
			fmt.Fprintf(logw, "history of %s: %+v (%v), want last id %d\n", room, h.Messages, err, want)
		}
	}

	var errs []error
	if sendErr != nil {
		errs = append(errs, fmt.Errorf("a send failed: %w", sendErr))
	}
	if res.Missing > 0 || res.Duplicates > 0 || res.Misrouted > 0 {
		errs = append(errs, fmt.Errorf("delivery check failed: %d missing, %d duplicates, %d misrouted", res.Missing, res.Duplicates, res.Misrouted))
	}
	if res.Deliveries != res.ExpectedDeliveries && sendErr == nil {
		errs = append(errs, fmt.Errorf("%d deliveries, want %d", res.Deliveries, res.ExpectedDeliveries))
	}
	if !res.HistoryOK {
		errs = append(errs, errors.New("a room's history does not end with its last acknowledged message"))
	}
	if res.Acked == 0 {
		errs = append(errs, errors.New("no message was acknowledged"))
	}
	return res, errors.Join(errs...)
}

// parallel runs fn(0..n-1) on at most k goroutines and returns the first
// error.
func parallel(k, n int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		once  sync.Once
		first error
	)
	for range min(k, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n)) // the others stop at their next item
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// percentile of sorted ds (nearest rank).
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(q*float64(len(ds))+0.5) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func printSummary(w io.Writer, r *result) {
	fmt.Fprintf(w, "chat end to end, %s: %d users in %d rooms (%d members each), %d senders × %d in flight, %d-byte messages, %d CPUs\n",
		r.Store, r.Users, r.Rooms, r.Users/max(1, r.Rooms), r.Senders, r.Window, r.TextBytes, r.NumCPU)
	fmt.Fprintf(w, "  stored+acked  %d messages in %.2f s = %.0f msg/s (%d failed); ack p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		r.Acked, r.SendSeconds, r.MsgsPerSec, r.Failed, r.AckP50ms, r.AckP99ms, r.AckMaxms)
	fmt.Fprintf(w, "  delivered     %d of %d in %.2f s = %.0f deliveries/s\n",
		r.Deliveries, r.ExpectedDeliveries, r.DeliverSeconds, r.DeliveriesPerSec)
	fmt.Fprintf(w, "  chat CPU      %.2f s (%.2f cores): %.1f µs per delivery, %.1f µs per stored message; generator CPU %.2f s\n",
		r.ServerCPUSeconds, r.ServerCores, r.ServerCPUPerDeliverUs, r.ServerCPUPerMessageUs, r.ClientCPUSeconds)
	if r.PostgresCPUSeconds > 0 {
		fmt.Fprintf(w, "  PostgreSQL    %.2f s CPU in its processes: %.1f µs per stored message\n", r.PostgresCPUSeconds, r.PostgresCPUPerMsgUs)
	}
	fmt.Fprintf(w, "  checks        missing %d, duplicates %d, misrouted %d, history ok %v\n",
		r.Missing, r.Duplicates, r.Misrouted, r.HistoryOK)
	fmt.Fprintf(w, "  load average  %s before, %s after\n", r.LoadBefore, r.LoadAfter)
}
