// Command chat is Switchboard's chat application: accounts, rooms,
// private messages, history, files, on SQLite by default; several nodes
// with -redis and a PostgreSQL database (README.md shows two behind
// HAProxy).
//
//	go run ./cmd/chat            # then open http://127.0.0.1:8080
//	go run ./cmd/chat -h         # the flags and their environment variables
//
// The events of its Socket.IO API are in PROTOCOL.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/cmd/chat/internal/auth"
	"github.com/switchboard-go/socketio/cmd/chat/internal/server"
	"github.com/switchboard-go/socketio/cmd/chat/internal/store"
	"github.com/switchboard-go/socketio/prommetrics"
	"github.com/switchboard-go/socketio/redisadapter"
)

// config is what the flags and environment variables set.
type config struct {
	addr            string
	db              string
	tlsCert         string
	tlsKey          string
	origins         string
	logLevel        string
	logFormat       string
	shutdownTimeout time.Duration
	redis           string
	metrics         string
	redisKey        string
}

// flags defines the flags on fs; each defaults to its environment
// variable when set, so that a container is configured without a command
// line. A flag given on the command line wins.
func flags(fs *flag.FlagSet, getenv func(string) string) *config {
	c := &config{}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.addr, "addr", env("CHAT_ADDR", "127.0.0.1:8080"),
		"`host:port` to listen on; \":8080\" for every interface (env CHAT_ADDR)")
	fs.StringVar(&c.db, "db", env("CHAT_DB", "chat.db"),
		"the database: a SQLite file `path`, created if absent, or a PostgreSQL URL postgres://user@host/db (env CHAT_DB)")
	fs.StringVar(&c.tlsCert, "tls-cert", env("CHAT_TLS_CERT", ""),
		"TLS certificate `file` (PEM); with -tls-key serves HTTPS and marks cookies Secure (env CHAT_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", env("CHAT_TLS_KEY", ""),
		"TLS private key `file` (PEM) (env CHAT_TLS_KEY)")
	fs.StringVar(&c.origins, "origin", env("CHAT_ORIGIN", ""),
		"extra allowed `origins`, comma-separated (https://chat.example.com), when the page is served under another name than the Host header says, as behind a proxy; the page's own origin is always allowed (env CHAT_ORIGIN)")
	fs.StringVar(&c.logLevel, "log-level", env("CHAT_LOG_LEVEL", "info"),
		"`level` of the logs: debug, info, warn or error (env CHAT_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", env("CHAT_LOG_FORMAT", "text"),
		"`format` of the logs on stderr: text or json (env CHAT_LOG_FORMAT)")
	sd, err := time.ParseDuration(env("CHAT_SHUTDOWN_TIMEOUT", "10s"))
	if err != nil {
		sd = 10 * time.Second
	}
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", sd,
		"how long SIGINT/SIGTERM waits for clients to be told and connections to close (env CHAT_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.redis, "redis", env("CHAT_REDIS", ""),
		"Redis `URL` (redis://host:6379/0) that links several nodes of the chat: messages, notices, presence and typing reach the users of every node; needs -db postgres://... shared by the nodes, and a load balancer with sticky sessions in front of them (README.md) (env CHAT_REDIS)")
	// Not Node's default "socket.io": the nodes ask each other questions
	// (who is online) and wait for an answer from every server on the
	// channels, so another Socket.IO application on the same Redis and
	// prefix would be counted and never answer.
	fs.StringVar(&c.redisKey, "redis-key", env("CHAT_REDIS_KEY", "chat"),
		"`prefix` of the Redis channels; the nodes of one chat share it, any other Socket.IO application or chat on the same Redis must use another (env CHAT_REDIS_KEY)")
	fs.StringVar(&c.metrics, "metrics", env("CHAT_METRICS", "/metrics"),
		"`path` of the Prometheus metrics (prommetrics) on the chat's address; \"\" turns them off (env CHAT_METRICS)")
	return c
}

func main() {
	fs := flag.NewFlagSet("chat", flag.ExitOnError)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: chat [flags]\n\n"+
			"Serves the chat: the web page at /, Socket.IO at /socket.io/, the HTTP API\n"+
			"under /api/, a plain WebSocket at /ws, files at /files/, /healthz and the\n"+
			"Prometheus metrics at /metrics (-metrics).\n"+
			"Every flag can be set by the environment variable named in its text.\n\n")
		fs.PrintDefaults()
	}
	c := flags(fs, os.Getenv)
	_ = fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func newLogger(c *config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", c.logLevel)
	}
	o := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", c.logFormat)
}

// run serves the chat until ctx ends, then shuts down: Socket.IO clients
// are told ("server shutting down", they reconnect), HTTP requests finish,
// the store is closed. ready, when set, gets the address listened on.
func run(ctx context.Context, c *config, logOut io.Writer, ready chan<- string) error {
	logger, err := newLogger(c, logOut)
	if err != nil {
		return err
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	var metrics *prommetrics.Metrics
	var observer socketio.Observer
	if c.metrics != "" {
		metrics = prommetrics.New()
		observer = metrics
	}
	var cluster adapter.Factory
	if c.redis != "" {
		if !store.IsPostgres(c.db) {
			return fmt.Errorf("-redis needs -db postgres://...: the nodes share their history and accounts through one database, and a SQLite file (%s) belongs to one process", c.db)
		}
		opts, err := redis.ParseURL(c.redis)
		if err != nil {
			return fmt.Errorf("-redis %q: %w", redact(c.redis), err)
		}
		rdb := redis.NewClient(opts)
		defer func() { _ = rdb.Close() }()
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = rdb.Ping(pctx).Err()
		cancel()
		if err != nil {
			return fmt.Errorf("-redis %s: %w", redact(c.redis), err)
		}
		ropts := &redisadapter.Options{Key: c.redisKey, Logger: logger}
		if metrics != nil {
			ropts.OnError = metrics.ClusterError
		}
		cluster = redisadapter.New(rdb, ropts)
	}
	st, err := store.Open(ctx, c.db)
	if err != nil {
		return fmt.Errorf("opening the database: %w", err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("closing the database", "err", err)
		}
	}()
	var origins []string
	for _, o := range strings.Split(c.origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	secure := c.tlsCert != ""
	a := auth.New(st, auth.Options{Secure: secure, AllowedOrigins: origins, Logger: logger,
		OnSignup: server.JoinGeneralOnSignup(st, logger)})
	defer a.Close() // before the store closes (defers run last first)
	chat := server.New(server.Config{Store: st, Auth: a, Logger: logger, Observer: observer, Adapter: cluster})
	handler := chat.Handler()
	if metrics != nil {
		reg := prometheus.NewRegistry()
		reg.MustRegister(metrics, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		mux := http.NewServeMux()
		mux.Handle(c.metrics, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.Handle("/", handler)
		handler = mux
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: handler,
		// No ReadTimeout or WriteTimeout: a long-polling GET is answered up
		// to a ping interval later and WebSockets live long. The header
		// and idle bounds keep stalled clients from holding connections.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if secure {
		scheme = "https"
	}
	logger.Info("chat is up", "url", scheme+"://"+displayAddr(ln.Addr().String()), "db", redact(c.db), "redis", redact(c.redis))
	fmt.Fprintf(logOut, "\n  Open %s://%s in a browser.\n\n", scheme, displayAddr(ln.Addr().String()))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() {
		if secure {
			errc <- srv.ServeTLS(ln, c.tlsCert, c.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", c.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := chat.Shutdown(sctx); err != nil {
		logger.Warn("socket.io shutdown", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// displayAddr turns a listening address into one a browser opens:
// 0.0.0.0 and :: become localhost.
func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// redact hides the password of a database URL in the logs.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			userinfo := dsn[i+3 : at]
			if colon := strings.IndexByte(userinfo, ':'); colon >= 0 {
				return dsn[:i+3] + userinfo[:colon] + ":xxx" + dsn[at:]
			}
		}
	}
	return dsn
}
