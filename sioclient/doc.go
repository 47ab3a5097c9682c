// Package sioclient is a Socket.IO v4 client (protocol v5 over Engine.IO
// v4) for Go programs: services, bots, load generators, tests and tools.
// It talks to any Socket.IO v4 server, the Node.js reference server and
// this module's server alike, and behaves as the reference JavaScript
// client (socket.io-client v4) does where this documentation is silent.
//
//	s, err := sioclient.New("http://localhost:3000/chat", nil)
//	if err != nil { ... }
//	s.OnConnect(func() { log.Print("connected as ", s.ID()) })
//	s.On("chat message", func(e *sioclient.Event) {
//		var text string
//		_ = e.Decode(0, &text)
//		log.Print(text)
//	})
//	s.Connect()
//	_ = s.Emit("chat message", "hello")
//
// # Managers and sockets
//
// A Manager owns one Engine.IO connection (long-polling upgraded to
// WebSocket by default) and multiplexes a Socket per namespace over it.
// Dial and New share one manager between the namespaces of a server, as
// io() does in JavaScript; NewManager and Manager.Socket give explicit
// control, and Options.ForceNew a connection of one's own.
//
// # Reconnection and buffering
//
// When the connection is lost ("transport close", "transport error",
// "ping timeout" — a server silent for longer than its pingInterval plus
// pingTimeout), the manager reconnects with exponential backoff and
// jitter (Options.ReconnectionDelay, ReconnectionDelayMax,
// RandomizationFactor, ReconnectionAttempts) and every active socket joins
// its namespace again, calling its AuthFunc anew. Emits made meanwhile are
// buffered per socket, up to Options.MaxBufferBytes, and sent in order on
// reconnection; volatile emits are dropped. A socket the server
// disconnects ("io server disconnect") or refuses does not reconnect.
// After a refusal (OnConnectError with FromServer, or a failed AuthFunc),
// the acknowledgements awaited and those asked for until the next
// Connect fail at once with ErrRefused, where the reference client lets
// them time out.
// With Options.Retries (and AckTimeout) emits become reliable, as with the
// reference client's retries option: sent one at a time and sent again
// until the server acknowledges them.
//
// # Connection state recovery
//
// With a server that has connection state recovery enabled (Node:
// connectionStateRecovery), a socket that reconnects after losing its
// connection asks for its session back, as socket.io-client does since
// 4.6: it sends the private session id the server gave it and the offset
// of the last event it received, which such a server appends as the last
// argument of its events (handlers see it there). If the server still
// has the session, it restores the socket's id, rooms and data, and
// sends the events the socket missed, which the handlers receive in
// order before OnConnect; Socket.Recovered then reports true. Otherwise
// the socket connects as a new one, and the application resynchronizes
// as after any disconnection. Only a lost connection is recovered: a
// socket disconnected on purpose (Socket.Disconnect, by the server,
// Manager.Close) starts a new session when it connects again. Nothing
// needs configuring on the client.
//
// # Concurrency
//
// Every method of Manager, Socket and Event is safe for concurrent use.
// The callbacks of a manager — event handlers, catch-all handlers,
// AckFuncs, OnConnect, OnConnectError, OnDisconnect and the manager's
// hooks — run one at a time, in the order the events happened, on a
// goroutine the manager starts when there is work (an idle manager has
// none). So the handlers of one socket never run concurrently, and an
// event handler never races its socket's disconnect handler. Handlers must
// not block: see Socket for the details.
package sioclient
