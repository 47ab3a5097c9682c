package sioclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/sioclient"
	"github.com/switchboard-go/socketio/socketiotest"
)

// A refused namespace fails the acknowledgements at once instead of at
// their deadline: those awaited when the refusal comes (their emits were
// buffered before the CONNECT was answered) and those asked for
// afterwards, until Connect tries again. The deadlines here are far longer
// than the test may take.
func TestEmitWithAckRefused(t *testing.T) {
	srv := startServer(t, "", func(srv *socketio.Server) {
		echoServer(srv.Of("/"))
		srv.Of("/private").Use(func(s *socketio.Socket) error {
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
		})
	})
	const deadline = 30 * time.Second
	for _, tc := range []struct {
		name, nsp, message string
		retries            int
	}{
		{"unknown namespace", "/nope", "Invalid namespace", 0},
		{"middleware", "/private", "unauthorized", 0},
		{"with retries", "/nope", "Invalid namespace", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			s, err := sioclient.New(srv.URL+tc.nsp, &sioclient.Options{ForceNew: true, Retries: tc.retries})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Manager().Close()
			l := socketiotest.Watch(s)
			isRefusal := func(what string, err error) {
				t.Helper()
				var ce *sioclient.ConnectError
				switch {
				case !errors.Is(err, sioclient.ErrRefused):
					t.Errorf("%s: %v, want ErrRefused", what, err)
				case !errors.As(err, &ce) || ce.Message != tc.message:
					t.Errorf("%s: %v does not wrap the ConnectError %q", what, err, tc.message)
				case !strings.Contains(err.Error(), "namespace "+tc.nsp+" refused: "+tc.message):
					t.Errorf("%s: message %q does not say which namespace refused and why", what, err)
				}
			}

			// Awaited when the refusal comes: an AckFunc (emitted before
			// Connect, so surely buffered) and an EmitWithAck (waiting
			// already, or asking after the refusal: either must fail at
			// once).
			answers := make(chan error, 1)
			if err := s.Timeout(deadline).Emit("echo", 1, sioclient.AckFunc(func(_ sioclient.Args, err error) { answers <- err })); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			waited := make(chan error, 1)
			go func() {
				_, err := s.EmitWithAck(ctx, "echo", 2)
				waited <- err
			}()
			s.Connect()
			ce := socketiotest.Receive(t, l.ConnectErrors, "connect_error")
			if !ce.FromServer() || ce.Message != tc.message {
				t.Fatalf("connect error %+v", ce)
			}
			isRefusal("AckFunc of an emit buffered before the refusal", socketiotest.Receive(t, answers, "the AckFunc's error"))
			isRefusal("EmitWithAck", socketiotest.Receive(t, waited, "EmitWithAck's error"))

			// Asked for after the refusal.
			_, err = s.EmitWithAck(ctx, "echo", 3)
			isRefusal("EmitWithAck after the refusal", err)
			err = s.Emit("echo", 4, sioclient.AckFunc(func(sioclient.Args, error) { t.Error("AckFunc called for an emit that failed") }))
			isRefusal("Emit with an AckFunc after the refusal", err)
			if err := s.Emit("echo", 5); err != nil {
				t.Errorf("Emit without an acknowledgement after the refusal: %v (it waits in the buffer, as in the reference client)", err)
			}

			// Connect tries again: its emits wait for the outcome, then fail
			// with the new refusal.
			s.Connect()
			_, err = s.EmitWithAck(ctx, "echo", 6)
			isRefusal("EmitWithAck during a second attempt", err)
			socketiotest.Receive(t, l.ConnectErrors, "second connect_error")
			if elapsed := time.Since(start); elapsed > deadline/2 {
				t.Errorf("took %v", elapsed)
			}
		})
	}
}
