package tutorialtest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/switchboard-go/socketio/sioclient"
)

// SendFunc sends one chat message from c as the step's page does. It may
// wait for the server's acknowledgement.
type SendFunc func(c *Client, msg string) error

// window is how many messages the sender of a stream has sent and not yet
// received back at most: enough to keep the server storing and sending
// all along, and the clients' buffers never full.
const window = 8

// stream has a sender, connected to srv with offset 0, send n messages,
// "m0" to "m<n-1>", as fast as the server takes them, then "end". at(k)
// runs in the test's goroutine after the sender has received its k-th
// message back (k from 1 to n), while the following ones are being sent
// and stored. The server's database must be empty: the sender checks that
// the ids are 1, 2, 3 … It returns the messages in the order the sender
// received them, "end" last.
func stream(t *testing.T, srv *Server, n int, send SendFunc, at func(k int)) []Message {
	t.Helper()
	sender := Connect(t, srv.URL, &sioclient.Options{Auth: map[string]any{"serverOffset": 0}})
	var got []Message
	receive := func() {
		t.Helper()
		m := sender.Next(t)
		if len(m) < 2 || m[1] != float64(len(got)+1) {
			t.Fatalf("the sender received %v as message %d", m, len(got)+1)
		}
		got = append(got, m)
	}
	sent := 0
	for len(got) < n {
		if sent < n && sent-len(got) < window {
			if err := send(sender, fmt.Sprintf("m%d", sent)); err != nil {
				t.Fatalf("m%d: %v", sent, err)
			}
			sent++
			continue
		}
		receive()
		at(len(got))
	}
	if err := send(sender, "end"); err != nil {
		t.Fatalf("end: %v", err)
	}
	receive()
	if got[n][0] != "end" {
		t.Fatalf("the sender received %v, want end", got[n])
	}
	return got
}

// expectAll reads len(want) messages from c and fails unless they are
// want's, in order (text and id; the recovery offset is not compared),
// and nothing more has come.
func expectAll(t *testing.T, name string, c *Client, want []Message) {
	t.Helper()
	for i, w := range want {
		m := c.Next(t)
		if len(m) < 2 || m[0] != w[0] || m[1] != w[1] {
			t.Fatalf("%s: message %d is %v, want %v (message %d of %d after its offset)", name, i+1, m, w[:2], i+1, len(want))
		}
	}
	c.None(t)
}

// ConnectDuringMessages checks a step's catch-up against its broadcasts.
// While one client sends n messages to srv (empty database) as fast as
// the server stores them, late clients connect to lateSrv (srv, or
// another server of the same chat) one after another, each with the
// offset of a message already sent (auth.serverOffset, as the page sends
// it). Each must get every message after its offset, once, in order: those
// stored before it connected from the catch-up, the others as they are
// broadcast, none twice and none missing in between.
func ConnectDuringMessages(t *testing.T, srv, lateSrv *Server, n, late int, send SendFunc) {
	t.Helper()
	type lateClient struct {
		c      *Client
		offset int
	}
	var clients []lateClient
	next := 1
	got := stream(t, srv, n, send, func(k int) {
		if next > late || k < next*n/(late+1) {
			return
		}
		// Offsets vary: the last message, one further back, none.
		offset := []int{k, k / 2, 0}[next%3]
		next++
		// Not waited for: the stream goes on while it connects. Its
		// buffer holds every message it can get.
		c := open(t, lateSrv.URL, &sioclient.Options{Auth: map[string]any{"serverOffset": offset}}, n+10)
		clients = append(clients, lateClient{c, offset})
	})
	if len(clients) != late {
		t.Fatalf("%d late clients connected, want %d", len(clients), late)
	}
	for i, lc := range clients {
		if lc.c.WaitConnected(t) {
			t.Fatalf("late client %d recovered a session it never had", i)
		}
		expectAll(t, fmt.Sprintf("late client %d (offset %d)", i, lc.offset), lc.c, got[lc.offset:])
	}
}

// RecoverDuringMessages checks a step's connection state recovery against
// its broadcasts. While one client sends n messages to srv (empty
// database), another, connected from the start through a proxy, loses its
// connection and comes back while the messages go on, with its session
// recovered. It must have every message once, in order: those sent while
// it was away from the recovery, not again from the catch-up of a new
// socket.
func RecoverDuringMessages(t *testing.T, srv *Server, n int, send SendFunc) {
	t.Helper()
	proxy := NewProxy(t, srv.Addr)
	// The offset of the last message received goes with every
	// connection, as in the page.
	var last atomic.Int64
	c := open(t, proxy.URL, &sioclient.Options{AuthFunc: func() (any, error) {
		return map[string]any{"serverOffset": last.Load()}, nil
	}}, n+10)
	c.WaitConnected(t)
	c.WaitUpgraded(t) // the cut comes after the upgrade: see WaitUpgraded
	c.Socket.On("chat message", func(e *sioclient.Event) {
		if v := e.Values(); len(v) > 1 {
			if id, ok := v[1].(float64); ok {
				last.Store(int64(id))
			}
		}
	})
	recovered, back := false, 0 // back: how many messages the sender had then
	got := stream(t, srv, n, send, func(k int) {
		switch k {
		case n / 4:
			proxy.Cut()
		case n / 2:
			proxy.Restore()
		}
		if k <= n/4 || back != 0 {
			return
		}
		if k < n*3/4 {
			select {
			case recovered = <-c.connected:
				back = k
			default:
			}
			return
		}
		// Back before the last quarter is sent (it usually is
		// already): it comes back while messages are sent.
		recovered, back = c.WaitConnected(t), k
	})
	if !recovered {
		t.Fatal("the client's session was not recovered")
	}
	if reason := c.WaitDisconnected(t); reason != "transport close" && reason != "transport error" {
		t.Errorf("disconnected for %q", reason)
	}
	t.Logf("back after message %d of %d", back, n)
	expectAll(t, "the recovered client", c, got)
}
