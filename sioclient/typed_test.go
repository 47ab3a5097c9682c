package sioclient_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The client's typed handlers: decoded arguments, results as
// acknowledgements, {"error": ...} for an argument that does not decode
// or a handler's error, and a log line when the server asked for no
// acknowledgement.
func TestTypedHandlers(t *testing.T) {
	acks := make(chan string, 8)
	srv := startServer(t, "", func(srv *socketio.Server) {
		srv.OnConnection(func(s *socketio.Socket) {
			s.On("go", func(e *socketio.Event) {
				ack := func(a socketio.Args, err error) {
					if err != nil {
						acks <- err.Error()
						return
					}
					acks <- string(a.Raw[0])
				}
				_ = s.Emit("add", 1, 2, socketio.AckFunc(ack))
				_ = s.Emit("add", 1, "2", socketio.AckFunc(ack))
				_ = s.Emit("add", -1, 2, socketio.AckFunc(ack))
				_ = s.Emit("three", "a", []byte("b"), map[string]any{"c": 1}, socketio.AckFunc(ack))
				_ = s.Emit("three", "a", []byte("b"), socketio.AckFunc(ack))
				_ = s.Emit("name", nil)  // no ack: logged
				_ = s.Emit("add", -1, 2) // no ack: the handler's error is logged
				_ = s.Emit("add", 1, 2)  // no ack, no error: nothing logged
			})
		})
	})
	var log lockedBuffer
	opts := socketiotest.WebSocket.Options()
	opts.Logger = slog.New(slog.NewTextHandler(&log, nil))
	seen := make(chan string, 4)
	c, _ := socketiotest.Connect(t, srv.URL+"/", opts, func(c *sioclient.Socket) {
		c.On("add", sioclient.TypedAck2(func(e *sioclient.Event, a, b int) (int, error) {
			if a < 0 {
				return 0, errors.New("no negatives")
			}
			return a + b, nil
		}))
		c.On("three", sioclient.TypedAck3(func(e *sioclient.Event, a string, b []byte, c sioclient.RawArg) (string, error) {
			return a + string(b) + string(c.Raw), nil
		}))
		c.On("name", sioclient.Typed1(func(e *sioclient.Event, name string) { seen <- name }))
		c.On("done", sioclient.Typed1(func(e *sioclient.Event, s string) { seen <- s }))
	})
	_ = c.Emit("go")
	for _, want := range []string{
		`3`,
		`{"error":"invalid argument 1 of \"add\": expected integer, got string"}`,
		`{"error":"no negatives"}`,
		`"ab{\"c\":1}"`,
		`{"error":"invalid argument 2 of \"three\": missing"}`,
	} {
		if got := socketiotest.Receive(t, acks, "ack"); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	_ = srv.IO.Emit("done", "end")
	if got := socketiotest.Receive(t, seen, "done"); got != "end" {
		t.Fatalf("handler called with %q", got) // the "name" handler ran
	}
	// At info level: the failures nobody else hears of, the argument of
	// "name" and the error of "add" without an acknowledgement.
	if l := log.String(); !strings.Contains(l, `invalid argument 0 of \"name\": expected string, got null`) ||
		!strings.Contains(l, `level=INFO msg="sioclient: event handler failed" namespace=/ event=add err="no negatives"`) ||
		strings.Count(l, "event handler failed") != 2 {
		t.Fatalf("log: %s", l)
	}
}
