package engineio

import (
	"fmt"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/switchboard-go/socketio/internal/netpoll"
)

// A broadcast's flushers write with io_uring rounds where the kernel
// allows it and connection by connection where it does not (or with
// -norings): both ways every target gets every message, in order. The
// mutation run passes no -norings, so the ring-less way is run here too.
func TestBroadcastWithAndWithoutRings(t *testing.T) {
	if !netpoll.Supported {
		t.Skip("no poller on this platform")
	}
	for _, rings := range []bool{true, false} {
		t.Run(fmt.Sprint("rings=", rings), func(t *testing.T) {
			netpoll.SetRings(rings && !*noRings)
			t.Cleanup(func() { netpoll.SetRings(!*noRings) })
			ts := startServerRaw(t, nil, false)
			const n, msgs = 3, 5
			var conns []*Conn
			var clients []*websocket.Conn
			for range n {
				ws := dialWS(t, ts, "")
				readText(t, ws) // the open packet
				conns = append(conns, ts.nextConn(t))
				clients = append(clients, ws)
			}
			for j := range msgs {
				p := Prepare([]Message{{Data: []byte(fmt.Sprint("m", j))}})
				for _, c := range conns {
					if err := c.SendPrepared(p, false); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i, ws := range clients {
				for j := range msgs {
					if got, want := readText(t, ws), fmt.Sprint("4m", j); got != want {
						t.Fatalf("target %d: %q, want %q", i, got, want)
					}
				}
			}
		})
	}
}
