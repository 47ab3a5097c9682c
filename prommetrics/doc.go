// Package prommetrics exports the metrics of a Switchboard Socket.IO
// server for Prometheus. It is a module of its own, so that the library's
// module depends on nothing but gorilla/websocket: the server reports
// through the socketio.Observer interface, and this package's Metrics
// implements it with prometheus/client_golang.
//
//	m := prommetrics.New()
//	srv := socketio.NewServer(&socketio.Options{Observer: m})
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(m)
//	http.Handle("/socket.io/", srv)
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// One Metrics observes one server. With metrics off (Options.Observer
// nil, the default) the server pays nothing; with them on it pays one call
// per connection event, per packet and per broadcast, never per socket a
// broadcast reaches (BENCHMARKS.md has the measured cost).
//
// # Metrics
//
// Connections (the Engine.IO layer):
//
//	socketio_connections{transport}              gauge    open now, by current transport ("polling", "websocket")
//	socketio_connections_opened_total{transport} counter  handshakes accepted, by the transport the connection started on
//	socketio_upgrades_total                      counter  connections upgraded from polling to WebSocket
//	socketio_handshakes_refused_total{code}      counter  requests refused before reaching a session, by Engine.IO
//	                                                      error code: 0 unknown transport, 1 unknown session id,
//	                                                      2 bad handshake method, 3 bad request (a failed WebSocket
//	                                                      upgrade included), 4 forbidden (AllowRequest),
//	                                                      5 unsupported protocol version
//	socketio_disconnects_total{reason}           counter  connections closed, by reason: "transport close",
//	                                                      "transport error", "ping timeout", "parse error",
//	                                                      "forced close", "forced server close",
//	                                                      "queue overflow", "write timeout"
//	socketio_connection_duration_seconds         histogram how long closed connections lasted
//	socketio_queue_peak_bytes                    histogram high-water mark of each closed connection's
//	                                                      outbound queue (engineio Options.MaxQueueBytes bounds it)
//	socketio_volatile_dropped_total              counter  volatile messages dropped for clients behind or upgrading
//
// Sockets, rooms and packets (the Socket.IO layer):
//
//	socketio_sockets{namespace}                  gauge    sockets connected now
//	socketio_socket_disconnects_total{namespace,reason} counter sockets disconnected, by Socket.IO reason
//	                                                      (the connection's reasons above, "client namespace
//	                                                      disconnect", "server namespace disconnect",
//	                                                      "server shutting down")
//	socketio_middleware_refusals_total{namespace} counter connections refused by the namespace's middleware
//	socketio_rate_limited_total{namespace,event,action} counter events refused by Namespace.SetRateLimits: event is the
//	                                              limited event's name (empty when the per-socket limit refused), action drop or disconnect
//	socketio_rooms{namespace}                    gauge    rooms with a socket on this server, not counting the
//	                                                      room each socket has under its own id
//	socketio_packets_received_total{type}        counter  packets received, by type: "connect", "disconnect",
//	                                                      "event", "ack", "connect_error", "binary_event",
//	                                                      "binary_ack"
//	socketio_received_bytes_total{type}          counter  their bytes: the Socket.IO packet's text and binary
//	                                                      attachments, without the Engine.IO framing
//	socketio_packets_sent_total{type}            counter  packets queued for clients; a broadcast counts once
//	                                                      per socket it reaches
//	socketio_sent_bytes_total{type}              counter  their bytes, counted the same way
//	socketio_broadcasts_total{namespace}         counter  broadcasts delivered to local sockets (with a cluster
//	                                                      adapter, those of other servers too; with connection
//	                                                      state recovery, a socket's own emits, which go through
//	                                                      the adapter)
//	socketio_deliveries_total{namespace}         counter  sockets those broadcasts reached
//	socketio_ack_rtt_seconds{namespace}          histogram time from an emit asking for an acknowledgement to
//	                                                      the client's answer
//
// The cluster adapter (Redis), counted when Metrics.ClusterError is its
// OnError (redisadapter.Options.OnError, cluster.Config.OnError):
//
//	socketio_cluster_errors_total{namespace,kind} counter failures by kind: "setup" (no bus: every cluster
//	                                                      operation fails), "publish" (Redis refused or unreachable),
//	                                                      "timeout" (a server did not answer a request in time),
//	                                                      "respond" (an answer not published), "malformed" (a
//	                                                      message that did not decode, dropped)
//
// A namespace label takes the names of the namespaces clients join: with
// dynamic namespaces (Server.OfRegexp, OfFunc) each one gets its series.
// Packets are not labelled by namespace, since a client may name any.
//
// grafana-dashboard.json, beside this file, is a Grafana dashboard on
// these metrics.
package prommetrics
