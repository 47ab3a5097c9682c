// Package serve holds what every step of the tutorial does the same way:
// listen, say where, serve until told to stop, then stop cleanly. Each step
// keeps in its own main.go only what the tutorial's page adds.
package serve

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/switchboard-go/socketio"
)

// Run serves h on addr until ctx is done. It logs the tutorial's
// "server running at http://…" line once it listens, so a bind failure is
// the only message otherwise and a test can read the address from the
// line when addr has port 0. io, when not nil, is shut down first: its
// clients are told to go and reconnect elsewhere.
func Run(ctx context.Context, addr string, h http.Handler, io *socketio.Server, logf func(format string, args ...any)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: h,
		// A client that stalls mid-request or leaves a connection idle
		// does not hold it forever. No ReadTimeout or WriteTimeout: a
		// long-polling GET is answered up to 25 s later (the ping
		// interval), and WebSockets leave the server's hands.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if io != nil {
			_ = io.Shutdown(shutdown)
		}
		_ = srv.Shutdown(shutdown)
	}()
	logf("server running at http://%s", ln.Addr())
	err = srv.Serve(ln)
	if err != http.ErrServerClosed {
		return err
	}
	// Serve returns as soon as Shutdown starts; wait for it to finish so
	// that the caller may close what the handlers use (a database).
	<-stopped
	return nil
}

// Page serves one HTML page.
func Page(html []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(html)
	}
}
