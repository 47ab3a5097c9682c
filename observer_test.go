package socketio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/socketio/engineio"
)

// recorder is an Observer that writes down what it hears.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) ConnOpened(e engineio.ConnOpen)        { r.add("open %s", e.Transport) }
func (r *recorder) ConnUpgraded(e engineio.ConnUpgrade)   { r.add("upgrade %s %s", e.From, e.To) }
func (r *recorder) ConnRefused(e engineio.ConnRefusal)    { r.add("refused %d %s", e.Code, e.Message) }
func (r *recorder) VolatileDropped()                      { r.add("volatile dropped") }
func (r *recorder) SocketConnected(e SocketConnect)       { r.add("socket %s %v", e.Namespace, e.Recovered) }
func (r *recorder) MiddlewareRefused(e MiddlewareRefusal) { r.add("middleware %s", e.Namespace) }
func (r *recorder) EventRateLimited(e RateLimitStat) {
	r.add("ratelimited %s %q %v", e.Namespace, e.Event, e.Disconnected)
}
func (r *recorder) RoomsChanged(e RoomsChange) { r.add("rooms %s %+d", e.Namespace, e.Delta) }
func (r *recorder) PacketIn(e PacketStat)      { r.add("in %v %s %d", e.Type, e.Namespace, e.Bytes) }
func (r *recorder) PacketOut(e PacketStat)     { r.add("out %v %s %d", e.Type, e.Namespace, e.Bytes) }
func (r *recorder) ConnClosed(e engineio.ConnClose) {
	r.add("close %s %s peak>0:%v", e.Transport, e.Reason, e.QueuePeak > 0)
}
func (r *recorder) SocketDisconnected(e SocketDisconnect) {
	r.add("socket gone %s %s", e.Namespace, e.Reason)
}
func (r *recorder) Broadcast(e BroadcastStat) {
	r.add("broadcast %s %v %d×%d", e.Namespace, e.Type, e.Deliveries, e.Bytes)
}
func (r *recorder) AckReceived(e AckStat) { r.add("ack %s rtt>0:%v", e.Namespace, e.RTT > 0) }

// take returns what was heard so far and forgets it.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// waitFor waits until want has been heard (among other events) and
// returns everything heard.
func (r *recorder) waitFor(t *testing.T, want ...string) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		got = append(got, r.take()...)
		missing := ""
		for _, w := range want {
			if !slices.Contains(got, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("never heard %q; heard %q", missing, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestObserver follows one connection through the server and checks what
// the observer hears, in the core module (prommetrics checks the
// Prometheus side).
func TestObserver(t *testing.T) {
	rec := &recorder{}
	srv, url := newTestServer(t, &Options{Observer: rec})
	acked := make(chan error, 1)
	srv.OnConnection(func(s *Socket) {
		s.Join("lobby")
		s.On("hi", func(*Event) {
			_ = srv.Emit("news", 1)
			go func() {
				_, err := s.EmitWithAck(context.Background(), "q")
				acked <- err
			}()
		})
	})
	srv.Of("/closed").Use(func(*Socket) error { return errors.New("no") })

	c := dialRaw(t, url)
	c.connect("/")
	rec.waitFor(t, "open websocket", "socket / false", "rooms / +1", "in CONNECT / 1", "out CONNECT / 31")

	c.send(`2["hi"]`)
	if got := c.recv(); got != `2["news",1]` {
		t.Fatalf("got %q", got)
	}
	if got := c.recv(); got != `20["q"]` {
		t.Fatalf("got %q", got)
	}
	c.send(`30[]`)
	if err := recvWithin(t, acked); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, `in EVENT / 7`, `broadcast / EVENT 1×11`, `out EVENT / 7`, `in ACK / 4`, `ack / rtt>0:true`)

	c.send(`0/closed,`)
	if got := c.recv(); got != `4/closed,{"message":"no"}` {
		t.Fatalf("got %q", got)
	}
	rec.waitFor(t, "middleware /closed", `out CONNECT_ERROR /closed 25`)

	res, err := http.Get(strings.Replace(strings.Replace(url, "ws", "http", 1), "EIO=4", "EIO=3", 1))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	rec.waitFor(t, "refused 5 Unsupported protocol version")

	c.send(`1`)
	got := rec.waitFor(t, "socket gone / client namespace disconnect", "rooms / -1")
	_ = c.ws.Close()
	got = append(got, rec.waitFor(t, "close websocket transport close peak>0:true")...)
	for _, e := range got {
		if strings.HasPrefix(e, "upgrade") || strings.HasPrefix(e, "volatile") {
			t.Errorf("heard %q", e)
		}
	}
}
