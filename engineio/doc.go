// Package engineio implements Engine.IO v4, the transport layer under
// Socket.IO: server and client side in one package, as a WebSocket library
// offers Accept and Dial.
//
// The server ([Server], an http.Handler) answers handshakes, HTTP
// long-polling (GET drains, POST delivers), WebSocket connections and the
// upgrade from polling to WebSocket; it pings every PingInterval and closes
// a session whose pong is late. Each session ([Conn]) owns a byte-bounded
// outbound queue that survives the upgrade: sends never block, volatile
// messages are dropped when the client is behind, and a client whose queue
// overflows or that stops reading is disconnected with a named reason
// (ReasonQueueOverflow, ReasonWriteTimeout). A client whose messages make
// others fall behind (a flood of broadcasts) is slowed first: its next
// message is not read until their queues drain, for a bounded time, so
// only receivers that stay behind are disconnected. Messages reach the layer
// above through a [Handler], one at a time per connection. Malformed
// requests get the protocol's error answers (HTTP status and
// {"code","message"} body); malformed packets close only their session.
//
// With Options.AllowEIO3 the server also serves Engine.IO v3 clients
// (Socket.IO v2): their payload framing, binary frames and heartbeat (the
// client pings, the server answers); Conn.Protocol tells a session's
// version. The client side speaks v4 only.
//
// The upgrade from polling follows the reference server in its corner
// cases: a poll that arrives while an upgrade is in progress is answered
// after the probe WebSocket's input that arrived before it (so a poll sent
// after the upgrade packet gets 400, never a noop; on TLS, input the
// probe's reader is still decrypting is not waited for); a second WebSocket for
// a session that is upgrading or upgraded is accepted and closed with a
// close frame; a graceful close (Conn.Close, Server.Shutdown) lets an
// upgrade in progress finish and delivers what is queued over the new
// WebSocket, while a forced close drops the probe. A client that closes
// over polling gets its waiting poll answered with a noop; the close
// packet answers closes the server starts.
//
// WebSocket needs to take over the connection: mount the Server where
// the http.ResponseWriter implements http.Hijacker, or wrap it (logging or
// metrics middleware) in a writer that does or that offers
// Unwrap() http.ResponseWriter, as http.ResponseController expects. A
// failed upgrade is logged and reported to Options.OnConnectionError with
// its reason; the client then keeps to polling.
//
// WebSocket connections on plain TCP leave Go's goroutine-per-connection
// model after the handshake (Linux; Options.DisablePoller turns it off),
// with or without permessage-deflate: an epoll poller reads them, a pool
// of dispatchers runs their packets, sends to one connection are written
// by the sender without blocking and broadcasts by a few flusher
// goroutines, so an idle connection holds no goroutine and no buffer. TLS
// connections are read by a goroutine while the client sends, and parked
// in the poller while it is quiet (no goroutine, no read buffer), and
// have an on-demand writer goroutine. Either way the engine's own frame
// parser reads them and its own framing writes them (gorilla/websocket
// does the handshake), so the same protocol checks and limits hold on
// every path.
//
// With Options.PerMessageDeflate the engine compresses messages of 1 KiB
// and more itself (compress/flate at BestSpeed; Message.NoCompress opts
// out). It always negotiates no context takeover, so a message compresses
// to the same bytes for every connection: a broadcast (Prepare) is
// compressed once, by the first receiver that negotiated the extension,
// and the frame is shared by the others, and a connection holds no
// compressor between messages.
//
// # Deploying behind http.Server
//
// The engine bounds what it reads and writes itself: a POST body comes
// within Options.PostTimeout and ends when its session closes, a
// WebSocket write within Options.WriteTimeout, a silent client is dropped
// after PingInterval + PingTimeout. What net/http reads before the engine
// sees a request is the http.Server's to bound; set
//
//   - ReadHeaderTimeout (e.g. 10s): a client that opens a connection and
//     sends its request line and headers slowly, or never, otherwise holds
//     a goroutine and a connection for good;
//   - IdleTimeout (e.g. 60s, more than PingInterval so a polling client's
//     POST connection is reused between heartbeats; under it, as the
//     Node.js server's 5 s, the connection is closed between them, which
//     saves its memory for a new connection per heartbeat): how long a
//     keep-alive connection waits for its next request;
//   - MaxHeaderBytes if 1 MB is too generous (a handshake with more than
//     16 KiB of request URI and headers is refused anyway).
//
// Server.Serve and Server.ServeTLS apply ReadHeaderTimeout and
// IdleTimeout (each falling back to ReadTimeout) to the connections their
// front reads, as net/http does.
//
// Leave ReadTimeout and WriteTimeout at zero: they bound a whole request,
// and a long-polling GET waits up to PingInterval (25s) for something to
// send, while a WebSocket, hijacked, outlives any request: a WriteTimeout
// under PingInterval fails every idle poll, and net/http sets these
// deadlines on the connection before the engine takes it over.
//
// The client ([Dial], [ClientConn]) connects over polling, WebSocket, or
// polling upgraded to WebSocket, answers the server's pings and notices a
// silent server.
//
// The codec ([AppendText], [DecodeText], [AppendPayload], [DecodePayload])
// is pure and safe for concurrent use.
package engineio
