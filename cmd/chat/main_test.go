package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRun starts the program as main does, checks /healthz and the page,
// and stops it as SIGINT does.
func TestRun(t *testing.T) {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	c := flags(fs, func(string) string { return "" })
	if err := fs.Parse([]string{"-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "c.db"), "-log-format", "json"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() { done <- run(ctx, c, &syncWriter{w: &logs}, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("not ready")
	}
	for path, want := range map[string]string{"/healthz": "ok", "/": "<title>Switchboard chat</title>", "/socket.io/socket.io.js": "io", "/metrics": "socketio_connections"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d %.80q", path, resp.StatusCode, body)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no shutdown")
	}
}

func TestFlagsFromEnv(t *testing.T) {
	env := map[string]string{"CHAT_ADDR": ":9999", "CHAT_DB": "postgres://x@h/db", "CHAT_SHUTDOWN_TIMEOUT": "3s"}
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	c := flags(fs, func(k string) string { return env[k] })
	if err := fs.Parse([]string{"-addr", ":1"}); err != nil {
		t.Fatal(err)
	}
	if c.addr != ":1" || c.db != "postgres://x@h/db" || c.shutdownTimeout != 3*time.Second {
		t.Fatalf("%+v", c)
	}
	if got := redact("postgres://u:secret@h/db"); got != "postgres://u:xxx@h/db" {
		t.Fatal(got)
	}
	for _, bad := range []*config{
		{logLevel: "loud", logFormat: "text"},
		{logLevel: "info", logFormat: "xml"},
		{logLevel: "info", logFormat: "text", redis: "redis://x"},
		{logLevel: "info", logFormat: "text", tlsCert: "c.pem"},
	} {
		if err := run(context.Background(), bad, io.Discard, nil); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestRedisNeedsPostgres: nodes cannot share a SQLite file, so -redis
// with one is refused before anything is opened, with an error that says
// what to use instead.
func TestRedisNeedsPostgres(t *testing.T) {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	c := flags(fs, func(string) string { return "" })
	db := filepath.Join(t.TempDir(), "c.db")
	if err := fs.Parse([]string{"-redis", "redis://127.0.0.1:6379", "-db", db}); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), c, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "-redis needs -db postgres://") {
		t.Fatalf("run: %v", err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("the SQLite file was made: %v", err)
	}
}

// TestRedisUnreachable: a node whose Redis does not answer does not start
// (it would run cut off from the others) and says which Redis.
func TestRedisUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	c := &config{logLevel: "info", logFormat: "text", db: "postgres://u@127.0.0.1:1/db", redis: "redis://" + addr}
	err = run(context.Background(), c, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "-redis redis://"+addr) {
		t.Fatalf("run: %v", err)
	}
}

// syncWriter serialises the logger's writes (the server's goroutines
// log concurrently).
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// String returns what was written, when w is a *bytes.Buffer.
func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.w.(*bytes.Buffer); ok {
		return b.String()
	}
	return ""
}
