// Command sio is a Socket.IO v4 client for the terminal, for debugging any
// Socket.IO server: it connects to a namespace, prints what happens as JSON
// lines on stdout, and emits the events typed on stdin.
//
//	sio [flags] URL
//
// URL names the server and the namespace: http://localhost:3000/chat is
// namespace /chat of the server at localhost:3000, and -ns overrides the
// namespace. A server that does not have the namespace refuses it ("Invalid
// namespace"): sio says so on stderr and exits with status 1.
//
// Input, one event per line (sio -h prints this with examples):
//
//	NAME [ARGS]                  the event name is the first word
//	"NAME WITH SPACES" [ARGS]    a JSON string first: the name may hold spaces
//	["NAME", ARG, ...]           a JSON array: the name, then each argument
//
// ARGS is a JSON array (the argument list), another JSON value (one
// argument), or text that is not JSON (one string argument).
// {"$binary":"<base64>"} sends bytes. Empty lines and lines starting with
// # are skipped. So `"chat message" hello` and `["chat message","hello"]`
// both emit the event "chat message" with the argument "hello", while
// `chat message hello` emits "chat" with "message hello".
//
// Output, one JSON object per line:
//
//	{"event":"connect","id":"<socket id>"}
//	{"event":"connect_error","message":"...","data":...}
//	{"event":"disconnect","reason":"transport close"}
//	{"event":"<name>","args":[...]}             an incoming event
//	{"event":"<name>","args":[...],"wantsAck":true}  one that asked for an ack (sio answers it, empty)
//	{"sent":"<name>","args":[...]}              a typed event, once sent to the server
//	{"ack":"<name>","args":[...]}               the answer to a typed event (with -ack)
//	{"ack":"<name>","error":"..."}              no answer: timeout, disconnection, refusal
//
// Binary arguments print as {"$binary":"<base64>"}.
//
// sio exits at the end of stdin (after waiting for the answers asked for
// with -ack, and for -wait), on interrupt, when the server disconnects the
// socket (status 0), and when the connection is refused or reconnection
// gives up (status 1).
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard-go/socketio/sioclient"
)

type headerFlag http.Header

func (h headerFlag) String() string { return "" }

func (h headerFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("want 'Name: value', got %q", v)
	}
	http.Header(h).Add(strings.TrimSpace(name), strings.TrimSpace(value))
	return nil
}

func main() {
	os.Exit(run())
}

func run() int {
	var (
		ns          = flag.String("ns", "", "namespace (default: the URL's path, else /)")
		transport   = flag.String("transport", "upgrade", "polling, websocket, or upgrade (polling, then WebSocket)")
		auth        = flag.String("auth", "", "auth payload of the CONNECT packet, a JSON object")
		path        = flag.String("path", "/socket.io/", "the server's Engine.IO path")
		ack         = flag.Duration("ack", 0, "ask for an acknowledgement of every emit, waiting up to this long (0: none)")
		insecure    = flag.Bool("insecure", false, "do not verify the server's TLS certificate")
		noReconnect = flag.Bool("no-reconnect", false, "exit when the connection is lost instead of reconnecting")
		linger      = flag.Duration("wait", 0, "after the end of stdin, keep printing events for this long before leaving")
		headers     = headerFlag{}
	)
	flag.Var(headers, "H", "extra request header 'Name: value' (repeatable)")
	flag.Usage = func() {
		w := flag.CommandLine.Output()
		fmt.Fprint(w, usageHead)
		fmt.Fprint(w, inputSyntax)
		fmt.Fprint(w, usageOutput)
		fmt.Fprint(w, "\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		return 2
	}
	rawURL := flag.Arg(0)

	opts := &sioclient.Options{Path: *path, ExtraHeaders: http.Header(headers), DisableReconnection: *noReconnect}
	switch *transport {
	case "polling":
		opts.Transports = []string{"polling"}
	case "websocket":
		opts.Transports = []string{"websocket"}
	case "upgrade":
	default:
		fmt.Fprintf(os.Stderr, "sio: -transport must be polling, websocket or upgrade\n")
		return 2
	}
	if *insecure {
		opts.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	}
	if *auth != "" {
		var a map[string]any
		if err := json.Unmarshal([]byte(*auth), &a); err != nil {
			fmt.Fprintf(os.Stderr, "sio: -auth must be a JSON object: %v\n", err)
			return 2
		}
		opts.Auth = a
	}
	if *ns != "" {
		u, err := url.Parse(rawURL)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sio: %v\n", err)
			return 2
		}
		u.Path = "/" + strings.TrimPrefix(*ns, "/")
		rawURL = u.String()
	}
	s, err := sioclient.New(rawURL, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sio: %v\n", err)
		return 2
	}

	out := &printer{enc: json.NewEncoder(os.Stdout)}
	out.enc.SetEscapeHTML(false)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	exit := make(chan int, 1)
	end := func(code int) {
		select {
		case exit <- code:
		default:
		}
	}

	connected := make(chan struct{}, 1)
	s.OnConnect(func() {
		out.print(line{Event: "connect", ID: s.ID()})
		select {
		case connected <- struct{}{}:
		default:
		}
	})
	s.OnConnectError(func(err *sioclient.ConnectError) {
		out.print(line{Event: "connect_error", Message: err.Message, Data: err.Data})
		switch {
		case err.FromServer():
			fmt.Fprintf(os.Stderr, "sio: %s\n", refusal(s.Namespace(), err))
			end(1)
		case *noReconnect:
			fmt.Fprintf(os.Stderr, "sio: cannot connect to %s: %s\n", rawURL, err.Message)
			end(1)
		}
	})
	s.OnDisconnect(func(reason string) {
		out.print(line{Event: "disconnect", Reason: reason})
		if reason == sioclient.ReasonIOServerDisconnect || *noReconnect {
			end(0)
		}
	})
	s.Manager().OnReconnectFailed(func() { end(1) })
	var unsent sync.WaitGroup // typed events not yet sent
	s.OnAnyOutgoing(func(event string, args []any) {
		out.print(line{Sent: event, Args: printableValues(args)})
		unsent.Done()
	})
	s.OnAny(func(e *sioclient.Event) {
		out.print(line{Event: e.Name, Args: printableArgs(e.Args), WantsAck: e.WantsAck()})
		if e.WantsAck() {
			_ = e.Ack()
		}
	})
	s.Connect()

	var pending sync.WaitGroup // acknowledgements awaited
	go func() {
		readInput(s, out, *ack, &pending, &unsent)
		// What was typed before the connection is buffered: give it the
		// chance to go out before leaving.
		const grace = 20 * time.Second
		if !s.Connected() {
			select {
			case <-connected:
			case <-time.After(grace):
			}
		}
		wait(&unsent, grace)
		pending.Wait() // the acknowledgements time out on their own
		time.Sleep(*linger)
		end(0)
	}()
	code := 0
	select {
	case code = <-exit:
	case <-ctx.Done():
	}
	// Disconnect flushes and closes the connection in the background; wait
	// for that (briefly) so that the last emits are not lost on exit.
	c := s.Manager().Engine()
	s.Disconnect()
	if c != nil {
		closed := make(chan struct{})
		go func() { c.Wait(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
		}
	}
	return code
}

// readInput emits one event per line of stdin until its end. unsent
// counts the emits whose "sent" line has yet to print, pending the
// acknowledgements awaited.
func readInput(s *sioclient.Socket, out *printer, ackTimeout time.Duration, pending, unsent *sync.WaitGroup) {
	in := bufio.NewReader(os.Stdin)
	for n := 1; ; n++ {
		text, err := in.ReadString('\n')
		if text == "" && err != nil {
			return
		}
		name, args, skip, perr := parseLine(text)
		if skip {
			continue
		}
		if perr != nil {
			fmt.Fprintf(os.Stderr, "sio: input line %d not sent: %v (sio -h explains the input syntax)\n", n, perr)
			continue
		}
		unsent.Add(1)
		if ackTimeout > 0 {
			pending.Add(1)
			args = append(args, sioclient.AckFunc(func(a sioclient.Args, err error) {
				defer pending.Done()
				if err != nil {
					out.print(line{Ack: name, Error: err.Error()})
					return
				}
				out.print(line{Ack: name, Args: printableArgs(a)})
			}))
			if err := s.Timeout(ackTimeout).Emit(name, args...); err != nil {
				unsent.Done()
				pending.Done()
				out.print(line{Ack: name, Error: err.Error()})
			}
			continue
		}
		if err := s.Emit(name, args...); err != nil {
			unsent.Done()
			fmt.Fprintf(os.Stderr, "sio: emit %s: %v\n", name, err)
		}
	}
}

// wait waits for wg, at most d.
func wait(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// refusal explains a server's refusal of the socket's namespace.
func refusal(nsp string, err *sioclient.ConnectError) string {
	msg := fmt.Sprintf("the server refused namespace %s: %s", nsp, err.Message)
	if len(err.Data) > 0 {
		msg += fmt.Sprintf(" (data: %s)", err.Data)
	}
	if err.Message == "Invalid namespace" {
		msg += fmt.Sprintf("\nsio: the server has no namespace %s; the namespace is the URL's path or -ns, / when neither gives one", nsp)
	}
	return msg
}

// line is one line of output; the field order is the print order.
type line struct {
	Event    string          `json:"event,omitempty"`
	Ack      string          `json:"ack,omitempty"`
	Sent     string          `json:"sent,omitempty"`
	ID       string          `json:"id,omitempty"`
	Args     *[]any          `json:"args,omitempty"`
	WantsAck bool            `json:"wantsAck,omitempty"`
	Message  string          `json:"message,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Error    string          `json:"error,omitempty"`
}

func printableArgs(a sioclient.Args) *[]any {
	v := a.Values()
	for i := range v {
		v[i] = printable(v[i])
	}
	return &v
}

// printableValues is printableArgs for the arguments of an emit, which it
// leaves as they are.
func printableValues(args []any) *[]any {
	v := make([]any, len(args))
	for i, a := range args {
		v[i] = printable(copyValue(a))
	}
	return &v
}

// copyValue copies the slices and maps of an argument that printable
// would change.
func copyValue(v any) any {
	switch x := v.(type) {
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = copyValue(e)
		}
		return c
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = copyValue(e)
		}
		return c
	}
	return v
}

const usageHead = `usage: sio [flags] URL

Connects to a Socket.IO v4 server, prints what happens as JSON lines on
stdout, and emits the events typed on stdin.

URL names the server and the namespace (ws:, wss:, https: too):
  sio http://127.0.0.1:3000            namespace /
  sio http://127.0.0.1:3000/chat       namespace /chat
  sio -ns /chat http://127.0.0.1:3000  the same
A server without the namespace refuses it ("Invalid namespace"): sio says
so on stderr and exits with status 1.

`

const usageOutput = `
Output, one JSON object per line:
  {"event":"connect","id":"..."}         connected
  {"event":"NAME","args":[...]}          an event from the server; with
                                         "wantsAck":true sio answers it, empty
  {"sent":"NAME","args":[...]}           a typed event, once sent
  {"ack":"NAME","args":[...]}            its acknowledgement (with -ack), or
  {"ack":"NAME","error":"..."}           why none came
  {"event":"connect_error","message":"...","data":...}
  {"event":"disconnect","reason":"..."}
Binary arguments print as {"$binary":"<base64>"}.
`

// printer writes JSON lines from several goroutines.
type printer struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (p *printer) print(v line) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.enc.Encode(v); err != nil {
		fmt.Fprintf(os.Stderr, "sio: %v\n", err)
	}
}
