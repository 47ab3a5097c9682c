package hostile

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
)

// observer is the well-behaved client: this module's sioclient, connected
// for the whole run (long-polling upgraded to WebSocket, as by default).
type observer struct {
	s           *sioclient.Socket
	disconnects atomic.Int64
	lastReason  atomic.Value // string

	mu      sync.Mutex
	waiting map[string]chan struct{} // broadcast nonces awaited
	seq     int
}

func newObserver(t *Target) (*observer, error) {
	o := &observer{waiting: make(map[string]chan struct{})}
	s, err := sioclient.New(t.URL(), &sioclient.Options{
		Path:              t.path,
		ForceNew:          true,
		ReconnectionDelay: 100 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	o.s = s
	connected := make(chan struct{}, 1)
	s.OnConnect(func() {
		select {
		case connected <- struct{}{}:
		default:
		}
	})
	s.OnDisconnect(func(reason string) {
		o.disconnects.Add(1)
		o.lastReason.Store(reason)
	})
	s.On(evBcast, func(e *sioclient.Event) {
		var nonce string
		if e.Decode(0, &nonce) != nil {
			return
		}
		o.mu.Lock()
		ch := o.waiting[nonce]
		delete(o.waiting, nonce)
		o.mu.Unlock()
		if ch != nil {
			close(ch)
		}
	})
	s.Connect()
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		_ = s.Close()
		return nil, fmt.Errorf("well-behaved client: no connection to %s within 10s", t.base)
	}
	// Let the upgrade to WebSocket finish, so that the client is on the
	// reader path under test before the first baseline.
	deadline := time.Now().Add(5 * time.Second)
	for s.Manager().Engine() == nil || s.Manager().Engine().Transport() != "websocket" {
		if time.Now().After(deadline) {
			_ = s.Close()
			return nil, fmt.Errorf("well-behaved client: not upgraded to WebSocket within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return o, nil
}

func (o *observer) close() { _ = o.s.Close() }

// check emits an echo with an acknowledgement and a broadcast, and waits
// up to d for both answers; it returns "" when both came.
func (o *observer) check(d time.Duration) string {
	o.mu.Lock()
	o.seq++
	nonce := "n" + strconv.Itoa(o.seq)
	ch := make(chan struct{})
	o.waiting[nonce] = ch
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		delete(o.waiting, nonce)
		o.mu.Unlock()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	args, err := o.s.EmitWithAck(ctx, evEcho, nonce)
	if err != nil {
		return "echo: " + err.Error()
	}
	var got string
	if args.Decode(0, &got) != nil || got != nonce {
		return fmt.Sprintf("echo answered %v, want %q", args.Values(), nonce)
	}
	if err := o.s.Emit(evBroadcast, nonce); err != nil {
		return "broadcast: " + err.Error()
	}
	select {
	case <-ch:
		return ""
	case <-ctx.Done():
		return "broadcast not received within " + d.String()
	}
}
