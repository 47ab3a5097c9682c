package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestChatbench runs a very short bounded benchmark against the real chat,
// built from this repository, on SQLite and on the PostgreSQL at
// 127.0.0.1:5432 (CI has one; set CHATBENCH_PG for another URL), and
// checks what the report rests on: every message acknowledged, each
// delivered once to every member of its room, the history holding them,
// the chat's CPU read, and the temporary schema gone afterwards.
func TestChatbench(t *testing.T) {
	repo, err := findRepo(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "chat")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := buildChat(ctx, repo, bin); err != nil {
		t.Fatal(err)
	}
	pg := os.Getenv("CHATBENCH_PG")
	if pg == "" {
		pg = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			c := config{
				store: store, pg: pg, bin: bin,
				users: 12, rooms: 3, senders: 3, window: 2,
				messages: 200, duration: 60 * time.Second, text: 50,
			}
			var log bytes.Buffer
			r, err := bench(ctx, c, &log)
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			if r.Acked != 200 || r.Failed != 0 {
				t.Errorf("acked %d, failed %d; want 200 acked", r.Acked, r.Failed)
			}
			// 200 messages into rooms of 4 members each.
			if r.ExpectedDeliveries != 800 || r.Deliveries != 800 {
				t.Errorf("deliveries %d of %d expected; want 800", r.Deliveries, r.ExpectedDeliveries)
			}
			if r.Missing != 0 || r.Duplicates != 0 || r.Misrouted != 0 || !r.HistoryOK {
				t.Errorf("checks: %+v", r)
			}
			if r.ServerCPUSeconds <= 0 || r.MsgsPerSec <= 0 || r.AckP99ms <= 0 {
				t.Errorf("no measurement: %+v", r)
			}
			var out bytes.Buffer
			printSummary(&out, r)
			if !bytes.Contains(out.Bytes(), []byte("200 messages")) {
				t.Errorf("summary:\n%s", out.String())
			}
			if store == "postgres" {
				if r.PostgresCPUSeconds <= 0 {
					t.Errorf("PostgreSQL's CPU not read: %+v", r)
				}
				conn, err := pgx.Connect(ctx, pg)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				var n int
				prefix := fmt.Sprintf("chatbench\\_%d\\_%%", os.Getpid())
				if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE $1`, prefix).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("%d chatbench schemas of this process left behind", n)
				}
			}
		})
	}
}

// TestFindRepo finds the root from inside the bench module and fails
// outside any checkout.
func TestFindRepo(t *testing.T) {
	repo, err := findRepo(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repo, "cmd", "chat", "main.go")); err != nil {
		t.Errorf("findRepo = %s: %v", repo, err)
	}
	if r, err := findRepo(t.TempDir()); err == nil {
		t.Errorf("findRepo(temp dir) = %s, want an error", r)
	}
}
