package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync/atomic"
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
	"github.com/switchboard-go/socketio/internal/leakcheck"
	"github.com/switchboard-go/socketio/sioclient"
)

// The step leaves no goroutine behind: servers, clients, proxies.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// withDB is run with its database file.
func withDB(path string) tt.RunFunc {
	return func(ctx context.Context, addr string, logf func(string, ...any)) error {
		return run(ctx, addr, path, logf)
	}
}

// expect reads a client's next message and checks its text and offset
// (the row id, a JSON number); the recovery offset may follow.
func expect(t *testing.T, c *tt.Client, msg string, id int) {
	t.Helper()
	got := c.Next(t)
	if len(got) < 2 || got[0] != msg || got[1] != float64(id) {
		t.Fatalf("got %v, want [%s %d …]", got, msg, id)
	}
}

func connect(t *testing.T, url string, offset int) *tt.Client {
	return tt.Connect(t, url, &sioclient.Options{Auth: map[string]any{"serverOffset": offset}})
}

// Messages are stored with increasing ids and sent with them; a client
// that connects gets those after the offset it sends, also from a
// restarted server; one that reconnects after a restart gets what it
// missed, once.
func TestServerDelivery(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	srv := tt.Start(t, withDB(dbPath), "")
	a := connect(t, srv.URL, 0)
	b := connect(t, srv.URL, 0)
	say := func(from *tt.Client, msg string, id int, to ...*tt.Client) {
		t.Helper()
		if err := from.Emit("chat message", msg); err != nil {
			t.Fatal(err)
		}
		for _, c := range to {
			expect(t, c, msg, id)
		}
	}
	say(a, "one", 1, a, b)
	say(b, "two", 2, a, b)

	// A client that has seen message 1 gets message 2 only, then what
	// follows.
	c := connect(t, srv.URL, 1)
	expect(t, c, "two", 2)
	say(a, "three", 3, a, b, c)

	// e reconnects after a restart and sends the offset of the last
	// message it got, as the page does.
	proxy := tt.NewProxy(t, srv.Addr)
	var offset atomic.Int64
	e := tt.Connect(t, proxy.URL, &sioclient.Options{AuthFunc: func() (any, error) {
		return map[string]any{"serverOffset": offset.Load()}, nil
	}})
	for i, msg := range []string{"one", "two", "three"} {
		expect(t, e, msg, i+1)
		offset.Store(int64(i + 1))
	}
	proxy.Cut()
	e.WaitDisconnected(t)
	srv.Stop(t)
	srv = tt.Start(t, withDB(dbPath), srv.Addr)

	// History survives the restart.
	f := connect(t, srv.URL, 0)
	for i, msg := range []string{"one", "two", "three"} {
		expect(t, f, msg, i+1)
	}
	say(f, "four", 4, f)
	proxy.Restore()
	if e.WaitConnected(t) {
		t.Fatal("e recovered its session from a new server")
	}
	expect(t, e, "four", 4)
	say(f, "five", 5, f, e)
	e.None(t)

	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, maxID int
	if err := db.QueryRow("SELECT count(*), max(id) FROM messages").Scan(&n, &maxID); err != nil {
		t.Fatal(err)
	}
	if n != 5 || maxID != 5 {
		t.Errorf("%d rows, last id %d; want 5, 5", n, maxID)
	}
}

// send is the page's emit.
func send(c *tt.Client, msg string) error { return c.Emit("chat message", msg) }

// A client that connects while messages are being stored and sent gets
// each one after its offset once, in order: from the catch-up or as it is
// broadcast, never both, never neither.
func TestConnectDuringMessages(t *testing.T) {
	srv := tt.Start(t, withDB(filepath.Join(t.TempDir(), "chat.db")), "")
	tt.ConnectDuringMessages(t, srv, srv, 300, 12, send)
}

// A client whose connection is lost while messages are being sent gets
// its socket back with the messages it missed, and not a second time from
// a catch-up.
func TestRecoveredDuringMessages(t *testing.T) {
	srv := tt.Start(t, withDB(filepath.Join(t.TempDir(), "chat.db")), "")
	tt.RecoverDuringMessages(t, srv, 300, send)
}
