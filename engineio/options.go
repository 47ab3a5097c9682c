package engineio

import (
	"log/slog"
	"net/http"
	"time"
)

// Transport names as they appear in the "transport" query parameter.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Options configure a Server. A nil *Options, and every zero field, means
// the default of the Node.js reference server (engine.io v6), named in each
// field's comment.
type Options struct {
	// Path is where the server answers; default "/socket.io/" (Node: path).
	// Requests whose URL path is Path, with or without the trailing slash,
	// are served; others get 404.
	Path string

	// Transports accepted, in order of preference; default
	// {"polling", "websocket"} (Node: transports).
	Transports []string

	// DisallowUpgrades turns off the polling→WebSocket upgrade; the
	// default allows it (Node: allowUpgrades, default true).
	DisallowUpgrades bool

	// AllowEIO3 also serves clients of Engine.IO protocol v3 (EIO=3:
	// Socket.IO v2 clients); default false, which refuses them with code 5
	// "Unsupported protocol version" (Node: allowEIO3). As in Node, with
	// it set a request whose EIO is anything but "4" (or absent) is
	// taken for v3. Served to them: v3 long-polling payloads (length
	// prefixes counted in UTF-16 code units, binary messages as "b4"
	// base64 in text payloads, binary payloads for clients that do not
	// ask for base64 with "b64"), posted binary payloads, WebSocket with
	// the type byte in binary frames, the upgrade from polling, and the v3
	// heartbeat: the client pings, the server answers with a pong and
	// closes with "ping timeout" a client silent for PingInterval +
	// PingTimeout. Conn.Protocol tells the version. Not served: JSONP
	// polling (the "j" parameter of old browsers without XHR2); binary
	// WebSocket messages to v3 clients go without permessage-deflate.
	// Text a v3 client posts must be valid UTF-8 (Node would replace the
	// bad bytes).
	AllowEIO3 bool

	// PingInterval is how often the server pings; default 25s (Node:
	// pingInterval).
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong before closing
	// with "ping timeout"; default 20s (Node: pingTimeout).
	PingTimeout time.Duration
	// UpgradeTimeout bounds the upgrade handshake; default 10s (Node:
	// upgradeTimeout).
	UpgradeTimeout time.Duration

	// MaxPayload is the largest message (WebSocket) or POST body (polling)
	// accepted, in bytes; default 1e6 (Node: maxHttpBufferSize). A larger
	// one closes that connection: WebSocket close 1009, HTTP 413. A
	// permessage-deflate message counts once inflated, and its inflation
	// stops as soon as it passes the limit.
	MaxPayload int

	// MaxQueueBytes bounds each connection's outbound queue; default 1 MiB.
	// A non-volatile message that does not fit disconnects the client with
	// reason "queue overflow"; volatile messages are dropped once a quarter
	// of it is used. Before that, a client whose messages fill others'
	// queues past half is slowed: its next message waits until they drain
	// (at most WriteTimeout/2 for each receiver; one behind for longer is
	// left to overflow). Node has no such bound.
	MaxQueueBytes int

	// PostTimeout bounds how long receiving the body of one long-polling
	// POST may take; default PingInterval + PingTimeout (45s), past which
	// the session's heartbeat fails anyway, since the client's pong waits
	// behind that POST. A POST that takes longer closes its session with
	// "transport error", and closing a session ends a POST body still
	// being read at once, so a client that stops sending in the middle of
	// a body holds neither a goroutine nor its TCP connection past either
	// bound, whatever http.Server.ReadTimeout says. Node has no such
	// option (its http.Server's requestTimeout, 300s by default, bounds a
	// whole request).
	PostTimeout time.Duration

	// WriteTimeout bounds how long a WebSocket write may block; default
	// 10s. The deadline is moved forward once per half period, so a write
	// that makes no progress fails after between WriteTimeout/2 and
	// WriteTimeout, and the client is disconnected with "write timeout".
	// Through Serve it also bounds the write of a poll's answer, with the
	// same outcome.
	WriteTimeout time.Duration

	// DisablePoller keeps a reader goroutine for every WebSocket
	// connection. By default, on Linux, a WebSocket on plain TCP (with
	// permessage-deflate or without) is handed to an epoll poller after
	// the handshake and holds no goroutine while idle (about a third of
	// the memory); a TLS one is read by a goroutine only while its client
	// sends, and waits in the poller while it is quiet.
	DisablePoller bool

	// PerMessageDeflate enables WebSocket permessage-deflate; default off
	// (Node: perMessageDeflate, default false). The server negotiates no
	// context takeover either way and compresses messages of 1 KiB and
	// more (Node's threshold; see Message.NoCompress) at
	// flate.BestSpeed, unless compressing would not make them smaller. An
	// idle connection holds no compression state, so a compressed
	// connection takes the memory of a plain one; a broadcast message is
	// compressed once, whatever the number of its receivers, and a
	// message to one connection when it is written.
	PerMessageDeflate bool

	// HTTPCompressionThreshold is the smallest polling response compressed
	// with gzip or deflate when the client accepts it; default 1024 (Node:
	// httpCompression.threshold). DisableHTTPCompression turns it off.
	HTTPCompressionThreshold int
	DisableHTTPCompression   bool

	// CORS, when non-nil, answers preflight requests and sets the CORS
	// headers on every response (Node: cors). Nil sends no CORS headers, as
	// Node does without the option.
	CORS *CORSOptions

	// AllowRequest, when set, is called for every handshake and upgrade
	// request; a non-nil error rejects it with 403 and the error's text as
	// the message (Node: allowRequest).
	AllowRequest func(r *http.Request) error

	// OnConnectionError, when set, is called for every request refused
	// before it reaches a session: an unsupported protocol version, an
	// unknown transport or session id, a bad handshake, a refusal by
	// AllowRequest, a WebSocket upgrade that failed (Node: the engine's
	// "connection_error" event). code is one of the Code constants and
	// message what the client is told; for a failed WebSocket upgrade it
	// is the reason (a bad Sec-WebSocket-Key, an origin not allowed, a
	// ResponseWriter that cannot be hijacked), which is also logged. It
	// runs on the request's goroutine, before the answer is written; a
	// panic is logged and contained.
	OnConnectionError func(r *http.Request, code int, message string)

	// Cookie, when non-nil, sets a cookie holding the session id on the
	// handshake response (Node: cookie; off by default).
	Cookie *http.Cookie

	// InitialHeaders is called with the handshake response headers, to add
	// to them (Node: the "initial_headers" event). Headers is called for
	// every response (Node: the "headers" event).
	InitialHeaders func(h http.Header, r *http.Request)
	Headers        func(h http.Header, r *http.Request)

	// Observer, when set, hears of every session opened, upgraded and
	// closed, of refused requests and of dropped volatile messages, for
	// metrics (see Observer). Default nil: nothing is reported. More
	// observers can be attached later with Server.Observe.
	Observer Observer

	// Logger receives connection errors at debug level; default
	// slog.Default().
	Logger *slog.Logger
}

// CORSOptions mirror the options of the Node "cors" package that
// socket.io users pass as the cors option.
type CORSOptions struct {
	// Origins allowed; "*" allows any. Empty with AllowOriginFunc nil
	// allows any origin.
	Origins []string
	// AllowOriginFunc, when set, decides instead of Origins.
	AllowOriginFunc func(origin string) bool
	// Credentials sets Access-Control-Allow-Credentials: true; the origin is
	// then always reflected rather than "*".
	Credentials bool
	// Methods allowed in preflight; default GET, HEAD, PUT, PATCH, POST, DELETE.
	Methods []string
	// AllowedHeaders; default reflects Access-Control-Request-Headers.
	AllowedHeaders []string
	// ExposedHeaders sets Access-Control-Expose-Headers.
	ExposedHeaders []string
	// MaxAge sets Access-Control-Max-Age (seconds) when positive.
	MaxAge int
}

type config struct {
	Options
	polling, websocket bool
}

func newConfig(o *Options) *config {
	c := &config{}
	if o != nil {
		c.Options = *o
	}
	if c.Path == "" {
		c.Path = "/socket.io/"
	}
	if c.Path[len(c.Path)-1] != '/' {
		c.Path += "/"
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{TransportPolling, TransportWebSocket}
	}
	for _, t := range c.Transports {
		switch t {
		case TransportPolling:
			c.polling = true
		case TransportWebSocket:
			c.websocket = true
		}
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = 10 * time.Second
	}
	if c.PostTimeout <= 0 {
		c.PostTimeout = c.PingInterval + c.PingTimeout
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = 1_000_000
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = 1 << 20
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.HTTPCompressionThreshold <= 0 {
		c.HTTPCompressionThreshold = 1024
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// upgrades lists what a client on transport may upgrade to.
func (c *config) upgrades(transport string) []string {
	if transport == TransportPolling && c.websocket && !c.DisallowUpgrades {
		return []string{TransportWebSocket}
	}
	return []string{}
}
