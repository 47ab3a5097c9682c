// Command sio is a Socket.IO v4 client for the terminal, for debugging any
// Socket.IO server: it connects to a namespace, prints what happens as JSON
// lines on stdout, and emits the events typed on stdin.
//
//	sio [flags] URL
//
// Output, one JSON object per line:
//
//	{"event":"connect","id":"<socket id>"}
//	{"event":"connect_error","message":"...","data":...}
//	{"event":"disconnect","reason":"transport close"}
//	{"event":"<name>","args":[...]}             an incoming event
//	{"event":"<name>","args":[...],"wantsAck":true}  one that asked for an ack (sio answers it, empty)
//	{"ack":"<name>","args":[...]}               the answer to an emit (with -ack)
//	{"ack":"<name>","error":"..."}
//
// Binary arguments print as {"$binary":"<base64>"}.
//
// Input, one event per line: the event name, then optionally its
// arguments: a JSON array is the argument list, any other JSON value is
// the one argument, and text that is not JSON is one string argument.
// {"$binary":"<base64>"} sends bytes. Empty lines and lines starting
// with # are ignored.
//
//	chat message "hello"
//	move {"x": 1, "y": 2}
//	add [1, 2]
//	ping
//
// sio exits at the end of stdin (after waiting for the answers asked for
// with -ack, and for -wait), on interrupt, when the server disconnects the socket, and
// when the connection is refused (status 1).
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
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
		fmt.Fprintf(flag.CommandLine.Output(), "usage: sio [flags] URL\n\n"+
			"Connects to a Socket.IO v4 server, prints events as JSON lines, emits the events typed on stdin.\n"+
			"URL names the server and the namespace: http://localhost:3000/chat (ws:, wss:, https: too).\n\n")
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
		if err.FromServer() || *noReconnect {
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
	s.OnAny(func(e *sioclient.Event) {
		out.print(line{Event: e.Name, Args: printableArgs(e.Args), WantsAck: e.WantsAck()})
		if e.WantsAck() {
			_ = e.Ack()
		}
	})
	s.Connect()

	var pending sync.WaitGroup
	go func() {
		readInput(s, out, *ack, &pending)
		// What was typed before the connection is buffered: give it the
		// chance to go out before leaving.
		if !s.Connected() {
			select {
			case <-connected:
			case <-time.After(20 * time.Second):
			}
		}
		pending.Wait()
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

// readInput emits one event per line of stdin until its end.
func readInput(s *sioclient.Socket, out *printer, ackTimeout time.Duration, pending *sync.WaitGroup) {
	in := bufio.NewReader(os.Stdin)
	for {
		text, err := in.ReadString('\n')
		if text == "" && err != nil {
			return
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, rest, _ := strings.Cut(text, " ")
		args := parseArgs(strings.TrimSpace(rest))
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
				pending.Done()
				out.print(line{Ack: name, Error: err.Error()})
			}
			continue
		}
		if err := s.Emit(name, args...); err != nil {
			fmt.Fprintf(os.Stderr, "sio: emit %s: %v\n", name, err)
		}
	}
}

// parseArgs reads the arguments of an input line: a JSON array is the
// list, another JSON value one argument, anything else one string.
func parseArgs(rest string) []any {
	if rest == "" {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(rest))
	d.UseNumber() // keep big integers exact
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return []any{rest}
	}
	v = fromPrintable(v)
	if list, ok := v.([]any); ok {
		return list
	}
	return []any{v}
}

// line is one line of output; the field order is the print order.
type line struct {
	Event    string          `json:"event,omitempty"`
	Ack      string          `json:"ack,omitempty"`
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

// printable replaces []byte values by {"$binary": base64}, recursively.
func printable(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"$binary": base64.StdEncoding.EncodeToString(x)}
	case []any:
		for i, e := range x {
			x[i] = printable(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = printable(e)
		}
	}
	return v
}

// fromPrintable is the inverse of printable, for input.
func fromPrintable(v any) any {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			x[i] = fromPrintable(e)
		}
	case map[string]any:
		if b64, ok := x["$binary"].(string); ok && len(x) == 1 {
			if b, err := base64.StdEncoding.DecodeString(b64); err == nil {
				return b
			}
		}
		for k, e := range x {
			x[k] = fromPrintable(e)
		}
	}
	return v
}

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
