package store

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The crash test re-runs this test binary as a child that adds messages
// and prints the ID of each one AddMessage acknowledged, and kills it
// (SIGKILL: no deferred code, no Close) in the middle of that. Every ID
// it printed must be in the database afterwards: the store acknowledges
// only what is committed.

const crashEnv = "CHAT_STORE_CRASH_CHILD" // the database the child writes to

func TestMain(m *testing.M) {
	if dsn := os.Getenv(crashEnv); dsn != "" {
		crashChild(dsn)
		os.Exit(3) // crashChild returns only when it was not killed in time
	}
	os.Exit(m.Run())
}

// crashChild writes until it is killed (or for 60 s at most, so that a
// parent that died does not leave it running).
func crashChild(dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := 0; ctx.Err() == nil; j++ {
				m, _, err := s.AddMessage(ctx, Message{Room: "general", From: "writer", Text: fmt.Sprint(i, " ", j)})
				if err != nil {
					fmt.Fprintln(os.Stderr, "crash child:", err)
					return
				}
				mu.Lock()
				// os.Stdout is unbuffered: the line is the parent's as
				// soon as Fprintf returns.
				fmt.Fprintf(os.Stdout, "%d\n", m.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestCrashLosesNothingAcknowledged(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			db := k.make(t)
			s := db.open(t)
			mustUser(t, s, "writer")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashEnv+"="+db.dsn)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			const killAfter = 300
			var acked []int64
			sc := bufio.NewScanner(out)
			killed := false
			for sc.Scan() {
				id, err := strconv.ParseInt(sc.Text(), 10, 64)
				if err != nil {
					t.Errorf("child printed %q", sc.Text())
					continue
				}
				acked = append(acked, id)
				if len(acked) == killAfter && !killed {
					// Messages are in flight now: eight writers, each
					// waiting for its next commit.
					if err := cmd.Process.Kill(); err != nil {
						t.Fatal(err)
					}
					killed = true
				}
			}
			err = cmd.Wait()
			if !killed {
				t.Fatalf("the child stopped after %d messages by itself: %v", len(acked), err)
			}
			// Lines the child wrote before it died are still read above
			// (the pipe keeps them): those were acknowledged too.

			s = db.open(t)
			defer s.Close()
			stored, err := s.RoomHistory(ctxT(t), "general", 0, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			have := map[int64]bool{}
			for _, m := range stored {
				have[m.ID] = true
			}
			for _, id := range acked {
				if !have[id] {
					t.Errorf("message %d was acknowledged and is lost", id)
				}
			}
			t.Logf("%s: %d acknowledged before the kill, %d stored", k.name, len(acked), len(stored))
			// The store still works after the crash (SQLite: the WAL is
			// recovered on open).
			mustAdd(t, s, Message{Room: "general", From: "writer", Text: "after the crash"})
		})
	}
}

// What makes a commit durable on SQLite is in the connection settings:
// check them on the writer and on the readers, since a crash test that
// kills only the process cannot tell FULL from OFF (the OS keeps the
// written pages).
func TestSQLiteSettings(t *testing.T) {
	s := newSQLiteDB(t).open(t).(*sqlStore)
	defer s.Close()
	for _, c := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "10000"},
		{"foreign_keys", "1"},
	} {
		for role, db := range map[string]*sql.DB{"writer": s.w, "reader": s.r} {
			var got string
			if err := db.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", role, c.pragma, got, c.want)
			}
		}
	}
}
