package main

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
)

// In Chromium: what a page types while offline is delivered once it is
// back, to every page, once, and stored once, each with a client offset of
// its own.
func TestBrowserClientDelivery(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	srv := tt.Start(t, withDB(dbPath), "")
	b := tt.StartBrowser(t)
	b.Open("A", srv.URL, true)
	b.Open("B", srv.URL, true)
	b.Send("A", "online")
	b.WaitItems("B", "online")

	b.Offline("A", true)
	b.Disconnected("A")
	b.Send("A", "typed offline")
	b.Send("A", "typed offline too")
	b.Screenshot("A", "step8-A-offline.png")
	b.WaitItems("A", "online")
	b.Offline("A", false)
	b.Connected("A")
	want := []string{"online", "typed offline", "typed offline too"}
	b.WaitItems("B", want...)
	b.WaitItems("A", want...)
	// A message after them: had one come twice, it would show before this.
	b.Send("B", "after")
	want = append(want, "after")
	b.WaitItems("A", want...)
	b.WaitItems("B", want...)
	b.Reload("B")
	b.Connected("B")
	b.WaitItems("B", want...)
	b.Screenshot("B", "step8-B.png")

	srv.Stop(t)
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT client_offset, content FROM messages ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var contents []string
	offsets := map[string]bool{}
	for rows.Next() {
		var offset, content string
		if err := rows.Scan(&offset, &content); err != nil {
			t.Fatal(err)
		}
		contents = append(contents, content)
		offsets[offset] = true
		if strings.HasPrefix(offset, "undefined") {
			t.Errorf("client offset %q", offset)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(contents, want) || len(offsets) != len(want) {
		t.Errorf("stored %q with %d client offsets, want %q", contents, len(offsets), want)
	}
}
