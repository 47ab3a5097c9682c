package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

type typedUser struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

func TestTypedHandlers(t *testing.T) {
	srv, url := newTestServer(t, nil)
	calls := make(chan string, 8)
	errs := make(chan error, 8)
	srv.OnConnection(func(s *Socket) {
		s.OnError(func(err error) { errs <- err })
		s.On("join", Typed1(func(e *Event, room string) { calls <- "join " + room }))
		s.On("maybe", Typed1(func(e *Event, p *string) {
			if p == nil {
				calls <- "maybe nil"
			} else {
				calls <- "maybe " + *p
			}
		}))
		s.On("upload", Typed2(func(e *Event, u typedUser, file []byte) {
			calls <- "upload " + u.Name + " " + string(file)
		}))
		s.On("relay", Typed2(func(e *Event, room string, msg RawArg) {
			calls <- "relay " + room + " " + string(msg.Raw)
			_ = e.Ack(msg)
		}))
		s.On("three", Typed3(func(e *Event, a string, b int, c bool) {
			calls <- "three"
		}))
	})
	c := dialRaw(t, url)
	c.connect("/")

	c.send(`2["join","lobby",{"extra":"ignored"}]`)
	expectExactly(t, calls, "join lobby")
	c.send(`2["maybe",null]`)
	expectExactly(t, calls, "maybe nil")
	c.send(`51-["upload",{"name":"ann","age":7},{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte("pic"))
	expectExactly(t, calls, "upload ann pic")
	c.send(`21["relay","r",{"b":1,"a":2}]`)
	expectExactly(t, calls, `relay r {"b":1,"a":2}`)
	if p := c.recv(); p != `31[{"b":1,"a":2}]` {
		t.Fatalf("relay ack %s", p)
	}

	// Failures: the client's ack carries the error, OnError gets an
	// *ArgError, the handler is not called.
	failures := []struct{ send, ack string }{
		{`22["join",5]`, `invalid argument 0 of \"join\": expected string, got number`},
		{`23["join"]`, `invalid argument 0 of \"join\": missing`},
		{`24["join",null]`, `invalid argument 0 of \"join\": expected string, got null`},
		{`25["upload",{"name":"ann","age":"seven"},"AAAA"]`, `invalid argument 0 of \"upload\": age: expected integer, got string`},
		{`26["upload",{"name":"ann"},true]`, `invalid argument 1 of \"upload\": expected binary or base64 string, got boolean`},
		{`27["three","a",1.5,true]`, `invalid argument 1 of \"three\": expected integer, got number 1.5`},
		{`28["three","a",1]`, `invalid argument 2 of \"three\": missing`},
	}
	for _, f := range failures {
		c.send(f.send)
		id := f.send[1:strings.IndexByte(f.send, '[')]
		if p, want := c.recv(), `3`+id+`[{"error":"`+f.ack+`"}]`; p != want {
			t.Fatalf("sent %s, got %s, want %s", f.send, p, want)
		}
		err := recvWithin(t, errs)
		ae, ok := errors.AsType[*ArgError](err)
		if !ok || ae.Event == "" || !strings.Contains(strings.ReplaceAll(f.ack, `\"`, `"`), ae.Error()[len("socketio: "):]) {
			t.Fatalf("OnError got %v", err)
		}
	}
	if _, ok := errors.AsType[*json.UnmarshalTypeError](&ArgError{Err: &json.UnmarshalTypeError{}}); !ok {
		t.Fatal("ArgError does not unwrap")
	}
	// Without an ack, only OnError hears of it.
	c.send(`2["join",{}]`)
	if err := recvWithin(t, errs); !strings.Contains(err.Error(), "expected string, got object") {
		t.Fatalf("OnError got %v", err)
	}
	expectExactly(t, calls)
	_ = srv.Emit("end")
	if p := c.recv(); p != `2["end"]` {
		t.Fatalf("stray packet %s", p)
	}
}

func TestTypedAck(t *testing.T) {
	srv, url := newTestServer(t, nil)
	errs := make(chan error, 4)
	srv.OnConnection(func(s *Socket) {
		s.OnError(func(err error) { errs <- err })
		s.On("add", TypedAck2(func(e *Event, a, b int) (int, error) {
			if a < 0 {
				return 0, errors.New("no negatives")
			}
			return a + b, nil
		}))
		s.On("user", TypedAck1(func(e *Event, name string) (typedUser, error) {
			return typedUser{Name: name, Age: 3}, nil
		}))
		s.On("sum3", TypedAck3(func(e *Event, a, b, c float64) (float64, error) { return a + b + c, nil }))
	})
	c := dialRaw(t, url)
	c.connect("/")
	for _, tc := range []struct{ send, want string }{
		{`21["add",1,2]`, `31[3]`},
		{`22["add",-1,2]`, `32[{"error":"no negatives"}]`},
		{`23["add",1,"2"]`, `33[{"error":"invalid argument 1 of \"add\": expected integer, got string"}]`},
		{`24["user","bo"]`, `34[{"name":"bo","age":3}]`},
		{`25["sum3",0.5,1,2]`, `35[3.5]`},
	} {
		c.send(tc.send)
		if p := c.recv(); p != tc.want {
			t.Fatalf("sent %s, got %s, want %s", tc.send, p, tc.want)
		}
	}
	if err := recvWithin(t, errs); !strings.Contains(err.Error(), "expected integer, got string") {
		t.Fatalf("OnError got %v", err)
	}
	// No ack asked: the result is dropped, an error goes to OnError.
	c.send(`2["add",1,2]`)
	c.send(`2["add",-1,2]`)
	if err := recvWithin(t, errs); err.Error() != "no negatives" {
		t.Fatalf("OnError got %v", err)
	}
	_ = srv.Emit("end")
	if p := c.recv(); p != `2["end"]` {
		t.Fatalf("stray packet %s", p)
	}
}

// Without an OnError handler, a failed typed handler is logged: at info
// level when the client was not told, at debug level when its ack was.
func TestTypedArgErrorLogged(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	logged := make(chan struct{}, 1)
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		buf.Write(p)
		if strings.Contains(buf.String(), "event handler failed") {
			select {
			case logged <- struct{}{}:
			default:
			}
		}
		return len(p), nil
	}), nil))
	srv, url := newTestServer(t, &Options{Logger: logger})
	srv.OnConnection(func(s *Socket) {
		s.On("join", Typed1(func(e *Event, room string) { t.Error("handler called") }))
	})
	c := dialRaw(t, url)
	c.connect("/")
	c.send(`21["join",1]`)
	if p := c.recv(); !strings.Contains(p, "expected string, got number") {
		t.Fatalf("ack %s", p)
	}
	c.send(`2["join",false]`)
	recvWithin(t, logged)
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), `expected string, got boolean`) || strings.Count(buf.String(), "event handler failed") != 1 {
		t.Fatalf("log: %s", buf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
