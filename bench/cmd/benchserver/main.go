// Command benchserver is the Go side of the benchmark contract
// (bench/README.md), written the way an application would use the
// library: namespace "/", event "echo" acknowledged with its own
// arguments, event "broadcast" emitted with its arguments to every socket
// of "/".
//
//	benchserver -addr 127.0.0.1:3001 [-debug 127.0.0.1:6061] [-args value|raw] [-nopoller]
//	            [-redis redis://127.0.0.1:6379 -redis-key KEY] [-ratelimit RATE:BURST[:disconnect]]
//	            [-tls-cert cert.pem -tls-key key.pem] [-deflate] [-front] [-idle-timeout 5s]
//
// -ratelimit sets a per-socket event limit on "/" (Namespace.SetRateLimits):
// RATE events per second with bursts of BURST; the excess is refused with
// an error ack, or the socket disconnected with ":disconnect" (the flood
// scenario, bench/README.md).
//
// -tls-cert/-tls-key serve HTTPS and WSS the way an application does
// (http.Server.ServeTLS, as cmd/chat); -deflate enables WebSocket
// permessage-deflate (engineio.Options.PerMessageDeflate), for the
// deployment paths of bench/paths.sh.
//
// -redis makes the server one node of a cluster: the Redis adapter
// (redisadapter.New, wire-compatible with Node's @socket.io/redis-adapter)
// with channel prefix -redis-key, so a "broadcast" received on one node
// reaches the sockets of every node (bench/cluster.sh).
//
// -idle-timeout is the http.Server's IdleTimeout, which the library's
// front (-front) applies as net/http does: 5 s by default, as the Node.js
// server's keepAliveTimeout, so that a long-polling client's POST
// connection, idle between two heartbeats, is closed after the same time
// by both servers.
//
// -debug serves net/http/pprof and /debug/memstats (runtime figures as
// JSON) on a second listener, for the profiles in BENCHMARKS.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // registered on http.DefaultServeMux, served only on -debug
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/redisadapter"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3001", "listen address")
	debug := flag.String("debug", "", "pprof and /debug/memstats listen address (empty: off)")
	argsMode := flag.String("args", "value", "how handlers pass arguments on: value (decode to Go values and encode again, as Node does) or raw (relay the JSON text)")
	noPoller := flag.Bool("nopoller", false, "keep a reader goroutine per WebSocket (engineio.Options.DisablePoller), for comparison")
	memProfileRate := flag.Int("memprofilerate", 0, "runtime.MemProfileRate (0: the default; 1 records every allocation, for exact heap profiles)")
	redisURL := flag.String("redis", "", "Redis URL (e.g. redis://127.0.0.1:6379): join a cluster through the Redis adapter (empty: a single node)")
	redisKey := flag.String("redis-key", "socket.io", "with -redis: the adapter's channel prefix (Node: key)")
	rateLimit := flag.String("ratelimit", "", "per-socket event limit on \"/\": RATE:BURST, or RATE:BURST:disconnect (empty: none)")
	tlsCert := flag.String("tls-cert", "", "TLS certificate file (PEM); with -tls-key serves HTTPS/WSS")
	tlsKey := flag.String("tls-key", "", "TLS private key file (PEM)")
	deflate := flag.Bool("deflate", false, "enable WebSocket permessage-deflate (engineio.Options.PerMessageDeflate)")
	idleTimeout := flag.Duration("idle-timeout", 5*time.Second, "http.Server.IdleTimeout: how long a keep-alive connection waits for its next request (5s: Node's keepAliveTimeout default, which bench/node/server.js keeps; 0: net/http's default, no bound)")
	front := flag.Bool("front", false, "serve with the server's own HTTP front (Server.Serve, or ServeTLS with -tls-cert: long-polling and WebSocket upgrades read on the poller) instead of net/http alone")
	flag.Parse()
	if *memProfileRate > 0 {
		runtime.MemProfileRate = *memProfileRate
	}

	opts := &socketio.Options{
		Engine: engineio.Options{DisablePoller: *noPoller, PerMessageDeflate: *deflate},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if *redisURL != "" {
		ro, err := redis.ParseURL(*redisURL)
		if err != nil {
			log.Fatalf("-redis: %v", err)
		}
		rdb := redis.NewClient(ro)
		if err := rdb.Ping(context.Background()).Err(); err != nil {
			log.Fatalf("redis: %v", err)
		}
		opts.Adapter = redisadapter.New(rdb, &redisadapter.Options{Key: *redisKey, Logger: opts.Logger})
	}
	srv := socketio.NewServer(opts)
	if *rateLimit != "" {
		limits, err := parseRateLimit(*rateLimit)
		if err != nil {
			log.Fatalf("-ratelimit: %v", err)
		}
		srv.Of("/").SetRateLimits(limits)
	}
	args := func(e *socketio.Event) []any { return e.Values() }
	if *argsMode == "raw" {
		args = func(e *socketio.Event) []any {
			out := make([]any, len(e.Raw))
			for i, r := range e.Raw {
				out[i] = r
			}
			return out
		}
	}
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("echo", func(e *socketio.Event) {
			_ = e.Ack(args(e)...)
		})
		s.On("broadcast", func(e *socketio.Event) {
			_ = srv.Emit("broadcast", args(e)...)
		})
	})

	if *debug != "" {
		http.HandleFunc("/debug/memstats", serveMemStats)
		go func() { log.Fatal(http.ListenAndServe(*debug, nil)) }()
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	fmt.Printf("benchserver listening on %s pid %d GOMAXPROCS %d tls %v deflate %v\n", *addr, os.Getpid(), runtime.GOMAXPROCS(0), *tlsCert != "", *deflate)
	if (*tlsCert == "") != (*tlsKey == "") {
		log.Fatal("-tls-cert and -tls-key go together")
	}
	hs := &http.Server{Addr: *addr, Handler: mux, IdleTimeout: *idleTimeout}
	if *front {
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			log.Fatal(err)
		}
		if *tlsCert != "" {
			log.Fatal(srv.ServeTLS(ln, hs, *tlsCert, *tlsKey))
		}
		log.Fatal(srv.Serve(ln, hs))
	}
	if *tlsCert != "" {
		log.Fatal(hs.ListenAndServeTLS(*tlsCert, *tlsKey))
	}
	log.Fatal(hs.ListenAndServe())
}

// parseRateLimit reads RATE:BURST[:disconnect].
func parseRateLimit(v string) (*socketio.RateLimits, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "disconnect") {
		return nil, fmt.Errorf("%q: want RATE:BURST or RATE:BURST:disconnect", v)
	}
	rate, err := strconv.ParseFloat(parts[0], 64)
	if err != nil || rate <= 0 {
		return nil, fmt.Errorf("%q: rate must be a positive number", v)
	}
	burst, err := strconv.Atoi(parts[1])
	if err != nil || burst < 1 {
		return nil, fmt.Errorf("%q: burst must be a positive integer", v)
	}
	return &socketio.RateLimits{PerSocket: socketio.EventLimit{Rate: rate, Burst: burst}, Disconnect: len(parts) == 3}, nil
}

// serveMemStats answers the runtime figures that explain memory per
// connection: goroutines, heap and stack in use, and what the runtime holds
// from the OS.
func serveMemStats(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("gc") == "1" {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"goroutines":     runtime.NumGoroutine(),
		"heap_alloc":     m.HeapAlloc,
		"heap_inuse":     m.HeapInuse,
		"heap_idle":      m.HeapIdle,
		"heap_released":  m.HeapReleased,
		"heap_objects":   m.HeapObjects,
		"stack_inuse":    m.StackInuse,
		"sys":            m.Sys,
		"next_gc":        m.NextGC,
		"num_gc":         m.NumGC,
		"total_alloc":    m.TotalAlloc,
		"mallocs":        m.Mallocs,
		"gc_cpu_percent": 100 * m.GCCPUFraction,
	})
}
