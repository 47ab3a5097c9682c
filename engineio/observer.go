package engineio

import "time"

// Observer hears what happens to a server's connections, for metrics
// (Options.Observer, or Server.Observe after the start). The engine calls it from the connections' own
// goroutines, concurrently: a method must be quick, must not block and
// must not call back into the server. A nil Observer, the default, costs
// nothing: the engine checks for it before building any argument.
//
// Each method takes a small value, so that a later field adds to it
// without breaking implementations.
type Observer interface {
	// ConnOpened: a handshake was accepted and its session started.
	ConnOpened(ConnOpen)
	// ConnUpgraded: a session moved from long-polling to WebSocket.
	ConnUpgraded(ConnUpgrade)
	// ConnRefused: a request was refused before it reached a session,
	// with one of the Code constants (Options.OnConnectionError hears the
	// same requests).
	ConnRefused(ConnRefusal)
	// ConnClosed: a session opened by ConnOpened ended; exactly once for
	// each.
	ConnClosed(ConnClose)
	// VolatileDropped: a volatile message was dropped for a client that
	// was behind or upgrading.
	VolatileDropped()
}

// ConnOpen describes a new session.
type ConnOpen struct {
	Transport string // TransportPolling or TransportWebSocket
}

// ConnUpgrade describes a finished transport upgrade.
type ConnUpgrade struct {
	ID       string // the session's id (Conn.ID); its Transport is To already
	From, To string
}

// ConnRefusal describes a refused request.
type ConnRefusal struct {
	Code    int    // CodeUnknownTransport … CodeUnsupportedProtocol
	Message string // what the client was told
}

// ConnClose describes the end of a session.
type ConnClose struct {
	Transport string        // the transport the session was on
	Reason    string        // one of the Reason constants
	Duration  time.Duration // since the handshake
	// QueuePeak is the most bytes the session's outbound queue held at
	// once during its life (its high-water mark; Options.MaxQueueBytes
	// bounds it).
	QueuePeak int
}
