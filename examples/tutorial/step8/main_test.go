package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
	"github.com/switchboard-go/socketio/internal/leakcheck"
	"github.com/switchboard-go/socketio/sioclient"
)

// The step leaves no goroutine behind: servers, clients, proxies.
func TestMain(m *testing.M) { leakcheck.Main(m) }

func withDB(path string) tt.RunFunc {
	return func(ctx context.Context, addr string, logf func(string, ...any)) error {
		return run(ctx, addr, path, logf)
	}
}

func expect(t *testing.T, c *tt.Client, msg string, id int) {
	t.Helper()
	got := c.Next(t)
	if len(got) < 2 || got[0] != msg || got[1] != float64(id) {
		t.Fatalf("got %v, want [%s %d …]", got, msg, id)
	}
}

// send emits a chat message with its client offset and waits for the
// server's acknowledgement.
func send(t *testing.T, c *tt.Client, msg, clientOffset string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), tt.Wait)
	defer cancel()
	if _, err := c.EmitWithAck(ctx, "chat message", msg, clientOffset); err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

// A message is acknowledged once stored and sent to everyone; sent again
// with the same client offset, it is acknowledged and neither stored nor
// shown again; sent while the client is disconnected, it is delivered
// once the client is back, once.
func TestClientDelivery(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	srv := tt.Start(t, withDB(dbPath), "")
	proxy := tt.NewProxy(t, srv.Addr)
	// a retries as the page does (with a shorter timeout: the test
	// waits for nothing that long).
	a := tt.Connect(t, proxy.URL, &sioclient.Options{
		Auth: map[string]any{"serverOffset": 0}, AckTimeout: 2 * time.Second, Retries: 3,
	})
	b := tt.Connect(t, srv.URL, &sioclient.Options{Auth: map[string]any{"serverOffset": 0}})

	send(t, a, "one", "a-0")
	expect(t, a, "one", 1)
	expect(t, b, "one", 1)

	// The same message again, as when its acknowledgement was lost.
	send(t, a, "one", "a-0")
	send(t, a, "two", "a-1")
	expect(t, b, "two", 2) // and not "one" again before it
	expect(t, a, "two", 2)

	// Sent while a's network is down: queued by the client, sent when it
	// is back.
	proxy.Cut()
	a.WaitDisconnected(t)
	acked := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), tt.Wait)
		defer cancel()
		_, err := a.EmitWithAck(ctx, "chat message", "three", "a-2")
		acked <- err
	}()
	// b sends meanwhile: a gets it once back (recovery or catch-up).
	send(t, b, "from b", "b-0")
	expect(t, b, "from b", 3)
	proxy.Restore()
	a.WaitConnected(t)
	select {
	case err := <-acked:
		if err != nil {
			t.Fatalf("three: %v", err)
		}
	case <-time.After(tt.Wait):
		t.Fatal("three was not acknowledged")
	}
	expect(t, b, "three", 4)
	expect(t, a, "from b", 3)
	expect(t, a, "three", 4)
	send(t, b, "last", "b-1")
	expect(t, a, "last", 5)
	expect(t, b, "last", 5)
	a.None(t)
	b.None(t)

	// A message without its client offset (the page of step 7) is not
	// what this step's page sends: neither stored nor acknowledged.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := b.EmitWithAck(ctx, "chat message", "no offset"); err == nil {
		t.Error("a message without a client offset was acknowledged")
	}

	srv.Stop(t)
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT id, client_offset, content FROM messages ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int
		var offset, content string
		if err := rows.Scan(&id, &offset, &content); err != nil {
			t.Fatal(err)
		}
		got = append(got, offset+" "+content)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"a-0 one", "a-1 two", "b-0 from b", "a-2 three", "b-1 last"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored %q, want %q", got, want)
	}
}

// sender returns the page's emit: with a client offset of its own, and
// waiting for the server's acknowledgement.
func sender(name string) tt.SendFunc {
	var counter atomic.Int64
	return func(c *tt.Client, msg string) error {
		ctx, cancel := context.WithTimeout(context.Background(), tt.Wait)
		defer cancel()
		_, err := c.EmitWithAck(ctx, "chat message", msg, fmt.Sprintf("%s-%d", name, counter.Add(1)))
		return err
	}
}

// A client that connects while messages are being stored and sent gets
// each one after its offset once, in order: from the catch-up or as it is
// broadcast, never both, never neither.
func TestConnectDuringMessages(t *testing.T) {
	srv := tt.Start(t, withDB(filepath.Join(t.TempDir(), "chat.db")), "")
	tt.ConnectDuringMessages(t, srv, srv, 300, 12, sender("s"))
}

// A client whose connection is lost while messages are being sent gets
// its socket back with the messages it missed, and not a second time from
// a catch-up.
func TestRecoveredDuringMessages(t *testing.T) {
	srv := tt.Start(t, withDB(filepath.Join(t.TempDir(), "chat.db")), "")
	tt.RecoverDuringMessages(t, srv, 300, sender("s"))
}
