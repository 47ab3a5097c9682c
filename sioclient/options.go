package sioclient

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/parser"
)

// Options configure a Manager (and the socket Dial returns). A nil
// *Options, and every zero field, means the default of the Node.js
// reference client (socket.io-client v4), named in each field's comment.
type Options struct {
	// Path is the server's endpoint; default "/socket.io/" (Node: path).
	Path string

	// Transports allowed, in order of preference; default {"polling",
	// "websocket"}: open on long-polling, then upgrade to WebSocket
	// (Node: transports). {"websocket"} connects over WebSocket only,
	// {"polling"} never upgrades.
	Transports []string

	// DisableUpgrade keeps the connection on its first transport (Node:
	// upgrade, default true).
	DisableUpgrade bool

	// Query is sent with every request (Node: query). Dial and New use the
	// URL's query when Query is nil.
	Query url.Values

	// ExtraHeaders are sent with every request, the WebSocket handshake
	// included (Node: extraHeaders).
	ExtraHeaders http.Header

	// TLSConfig is used for https and wss URLs; default the system roots.
	TLSConfig *tls.Config

	// Jar stores and sends cookies, which sticky load balancers need
	// (Node: withCredentials).
	Jar http.CookieJar

	// Timeout bounds each connection attempt, handshake included; default
	// 20s (Node: timeout).
	Timeout time.Duration

	// DisableReconnection turns automatic reconnection off (Node:
	// reconnection, default true).
	DisableReconnection bool
	// ReconnectionAttempts is how many attempts are made before giving up
	// (OnReconnectFailed); default 0, unlimited (Node:
	// reconnectionAttempts, default Infinity).
	ReconnectionAttempts int
	// ReconnectionDelay is the first delay between attempts, doubled after
	// each; default 1s (Node: reconnectionDelay).
	ReconnectionDelay time.Duration
	// ReconnectionDelayMax caps the delay; default 5s (Node:
	// reconnectionDelayMax).
	ReconnectionDelayMax time.Duration
	// RandomizationFactor spreads each delay by up to ± that fraction so
	// that clients of a restarted server do not all come back at once;
	// default 0.5 (Node: randomizationFactor). A negative value means no
	// jitter; values above 1 mean 1.
	RandomizationFactor float64

	// AckTimeout is the default timeout of acknowledgements asked for with
	// an AckFunc; default none (Node: ackTimeout). Socket.Timeout and the
	// context of EmitWithAck override it.
	AckTimeout time.Duration

	// Retries, when positive, makes emits reliable (Node: retries): a
	// socket sends its emits one at a time, each asking for an
	// acknowledgement, and sends an emit again when the acknowledgement
	// fails — after AckTimeout (or the emitter's Timeout), or because the
	// connection was lost — until it succeeds or has been retried Retries
	// times; its AckFunc then gets the answer or the last error. The
	// server may see an emit more than once. Volatile emits are not
	// retried. Without AckTimeout only a lost connection causes a retry.
	// The emits waiting count against MaxBufferBytes. Default 0: off.
	Retries int

	// MaxBufferBytes bounds, per socket, the emits kept while the socket
	// is disconnected and sent once it (re)connects; default 1 MiB. An
	// emit beyond it fails with ErrBufferFull. Node buffers without bound.
	MaxBufferBytes int

	// WriteTimeout, MaxPayload and MaxQueueBytes configure the Engine.IO
	// connection: see engineio.DialOptions (defaults 10s, 64 MiB, 1 MiB).
	WriteTimeout  time.Duration
	MaxPayload    int
	MaxQueueBytes int

	// Auth and AuthFunc give the payload of the CONNECT packet of the
	// socket that Dial and New return (Node: auth); see SocketOptions.
	Auth     any
	AuthFunc func() (any, error)

	// Parser is the packet encoding the server expects (Node: the parser
	// option of io()); default nil: socket.io-parser's. The module
	// msgpackparser provides socket.io-msgpack-parser's
	// (sioclient.Options{Parser: msgpackparser.Parser{}}), for a server
	// created with that parser. It applies to the whole connection: the
	// sockets that share it (Dial without ForceNew) use the encoding of the
	// first one's options.
	Parser parser.Codec

	// ForceNew makes Dial and New open a connection of their own instead
	// of sharing the one already open to the same server (Node:
	// forceNew).
	ForceNew bool

	// Logger receives handler panics and connection errors; default
	// slog.Default().
	Logger *slog.Logger
}

// SocketOptions configure one namespace socket.
type SocketOptions struct {
	// Auth is sent in the CONNECT packet; the server reads it as the
	// handshake's auth (Node: auth as an object). It must marshal to a
	// JSON object; nil sends none.
	Auth any

	// AuthFunc, when set, is called before every connection and
	// reconnection of the socket and its result is sent instead of Auth,
	// so that a token can be refreshed (Node: auth as a function). It runs
	// on the goroutine that connects, not on the handler goroutine, and
	// may block (to fetch a token, say), which delays the CONNECT packets
	// of the manager's sockets that follow. An error refuses the connection
	// locally: the socket gets OnConnectError with the error's text and
	// becomes inactive, as after a refusal by the server.
	AuthFunc func() (any, error)
}

// config is Options with the defaults filled in.
type config struct {
	Options
	engine engineio.DialOptions
}

func newConfig(o *Options) *config {
	c := &config{}
	if o != nil {
		c.Options = *o
	}
	if c.Path == "" {
		c.Path = "/socket.io/"
	}
	if c.Path[0] != '/' {
		c.Path = "/" + c.Path
	}
	if c.Timeout <= 0 {
		c.Timeout = 20 * time.Second
	}
	if c.ReconnectionDelay <= 0 {
		c.ReconnectionDelay = time.Second
	}
	if c.ReconnectionDelayMax <= 0 {
		c.ReconnectionDelayMax = 5 * time.Second
	}
	if c.ReconnectionDelayMax < c.ReconnectionDelay {
		c.ReconnectionDelayMax = c.ReconnectionDelay
	}
	switch {
	case c.RandomizationFactor == 0:
		c.RandomizationFactor = 0.5
	case c.RandomizationFactor < 0:
		c.RandomizationFactor = 0
	case c.RandomizationFactor > 1:
		c.RandomizationFactor = 1
	}
	if c.MaxBufferBytes <= 0 {
		c.MaxBufferBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.engine = engineio.DialOptions{
		Transports:     c.Transports,
		DisableUpgrade: c.DisableUpgrade,
		Query:          c.Query,
		Header:         c.ExtraHeaders,
		TLSConfig:      c.TLSConfig,
		Jar:            c.Jar,
		WriteTimeout:   c.WriteTimeout,
		MaxPayload:     c.MaxPayload,
		MaxQueueBytes:  c.MaxQueueBytes,
		Logger:         c.Logger,
	}
	return c
}
