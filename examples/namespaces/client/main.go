// Command client chats with the namespaces example from a terminal: it
// connects to /chat and /test over one connection, joins a room in /chat,
// sends each line it reads to that room (a line starting with "/test " goes
// to /test instead, with send()), and prints what it receives. Start the
// server, then one client per terminal:
//
//	go run ./examples/namespaces
//	go run ./examples/namespaces/client [-url http://127.0.0.1:5000] [-room lobby]
//
// End with Ctrl-D (or Ctrl-C).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:5000", "the server")
	room := flag.String("room", "lobby", "the room to join in /chat")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *url, *room, os.Stdin, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run chats in room until in ends or ctx is done.
func run(ctx context.Context, url, room string, in io.Reader, out io.Writer) error {
	var mu sync.Mutex // handlers and the input loop share out
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}

	chat, err := sioclient.New(url+"/chat", nil)
	if err != nil {
		return err
	}
	test, err := sioclient.New(url+"/test", nil) // shares chat's connection
	if err != nil {
		return err
	}
	ready := make(chan struct{})
	var once sync.Once
	chat.OnConnect(func() {
		say("connected to /chat as %s", chat.ID())
		// After each (re)connection: the server forgets the rooms of a
		// socket that is gone.
		_ = chat.Emit("join_room", map[string]string{"room": room})
		once.Do(func() { close(ready) })
	})
	test.OnConnect(func() { say("connected to /test as %s", test.ID()) })
	for _, s := range []*sioclient.Socket{chat, test} {
		s.OnConnectError(func(err *sioclient.ConnectError) { say("%s: cannot connect: %v", s.Namespace(), err) })
		s.OnDisconnect(func(reason string) { say("disconnected from %s (%s)", s.Namespace(), reason) })
	}
	chat.On("message", func(e *sioclient.Event) { say("/chat: %s", text(e)) })
	chat.On("response", func(e *sioclient.Event) {
		var m struct {
			From string          `json:"from"`
			Data json.RawMessage `json:"data"`
		}
		if e.Decode(0, &m) != nil {
			say("/chat: a malformed response: %s", text(e))
			return
		}
		say("/chat: %s: %s", m.From, unquote(m.Data))
	})
	test.On("response", func(e *sioclient.Event) { say("/test: %s", text(e)) })
	chat.Connect()
	test.Connect()
	defer hangUp(chat, test)

	// Lines wait for the join, so that the first ones reach the room with
	// us in it.
	select {
	case <-ready:
	case <-ctx.Done():
		return nil
	}
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			return err
		case line := <-lines:
			var err error
			if msg, ok := strings.CutPrefix(line, "/test "); ok {
				err = test.Send(msg)
			} else if line != "" {
				err = chat.Emit("message", map[string]string{"room": room, "data": line})
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				say("not sent: %v", err)
			}
		}
	}
}

// hangUp disconnects the sockets and waits (a little) until the
// connection they share has sent what they queued and closed, so that the
// last lines are not lost when the program exits.
func hangUp(sockets ...*sioclient.Socket) {
	conn := sockets[0].Manager().Engine()
	for _, s := range sockets {
		s.Disconnect() // the last one closes the connection
	}
	if conn != nil {
		select {
		case <-conn.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

// text renders an event's first argument: a string as it is, anything else
// as JSON.
func text(e *sioclient.Event) string {
	if len(e.RawArgs()) == 0 {
		return ""
	}
	return unquote(e.Arg(0).Raw)
}

func unquote(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
