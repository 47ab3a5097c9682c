// Package adminui lets the official Socket.IO Admin UI
// (https://admin.socket.io, the npm package @socket.io/admin-ui) watch and
// operate a Switchboard server, as Node's instrument(io, options) does for
// a Node.js one. The UI is unchanged: it connects to the server's admin
// namespace with the official client and sees the same protocol.
//
//	hash, _ := bcrypt.GenerateFromPassword([]byte("changeit"), bcrypt.DefaultCost)
//	admin, err := adminui.Instrument(srv, adminui.Options{
//		Auth: &adminui.BasicAuth{Username: "admin", PasswordHash: string(hash)},
//	})
//	if err != nil { ... }
//	defer admin.Close()
//
// The UI can be the hosted one (https://admin.socket.io, which needs the
// server's CORS to allow that origin with credentials) or served by the Go
// server itself from the npm package's built files, which this module does
// not ship:
//
//	npm i @socket.io/admin-ui
//
//	dist := os.DirFS("node_modules/@socket.io/admin-ui/ui/dist")
//	http.Handle("/admin-ui/", http.StripPrefix("/admin-ui/", adminui.UIHandler(dist)))
//
// The page loads its icons (Material Design Icons) from cdn.jsdelivr.net
// and its font (Roboto) from fonts.googleapis.com: offline it shows no
// icons. UIHandlerWithFonts serves them from the npm packages @mdi/font and
// @fontsource/roboto instead, rewriting the page's links:
//
//	npm i @socket.io/admin-ui @mdi/font @fontsource/roboto
//
//	nm := "node_modules/"
//	ui := adminui.UIHandlerWithFonts(os.DirFS(nm+"@socket.io/admin-ui/ui/dist"), adminui.Fonts{
//		Icons:  os.DirFS(nm + "@mdi/font"),
//		Roboto: os.DirFS(nm + "@fontsource/roboto"),
//	})
//	http.Handle("/admin-ui/", http.StripPrefix("/admin-ui/", ui))
//
// In the UI's connection form, the server URL is the server's origin
// (http://localhost:3000), the namespace "/admin" (Options.NamespaceName)
// and the path the server's Engine.IO path.
//
// # What is reported
//
// As instrument() in @socket.io/admin-ui 0.5.1, whose protocol this
// package follows:
//
//   - Authentication, in the admin namespace's middleware: the username
//     and the bcrypt-checked password of the UI's form, or a session id
//     that an earlier login received (the "session" event); a wrong login
//     is refused with "invalid credentials". NoAuth turns it off.
//   - On connection, "config" with the features the UI may use (its
//     operations unless ReadOnly), and in development mode "all_sockets":
//     every socket of every namespace, through FetchSockets, so a cluster
//     adapter's other servers are included.
//   - Every StatsInterval (2 s), "server_stats": serverId, hostname, pid,
//     uptime, the engine's clientsCount and pollingClientsCount, the
//     aggregatedEvents since the previous one, and each namespace with its
//     socketsCount. The aggregated events, which the dashboard charts, are
//     the connections opened and closed (rawConnection,
//     rawDisconnection), and the traffic: packetsIn and packetsOut count
//     the Engine.IO messages that carry data (a packet's text, and each of
//     its binary attachments; not the handshake's open packet, pings,
//     pongs or upgrade packets), bytesIn and bytesOut their data's bytes
//     (without the Engine.IO type character), as instrument() counts its
//     connections' "packet" and "packetCreate" events. Each delivery of a
//     broadcast counts.
//   - In development mode (Options.Mode, the default): "socket_connected",
//     "socket_updated" (when a connection upgrades to WebSocket, as soon as
//     the engine reports it),
//     "socket_disconnected", "room_joined", "room_left", "event_received"
//     and "event_sent", for every namespace, those created later
//     included (Server.OnNewNamespace). Production mode sends the
//     statistics only.
//   - The UI's operations, refused in read-only mode: "emit" (an event to
//     a namespace, or a room of it), "join" and "leave" (sockets join or
//     leave a room), and "_disconnect"; the UI names one socket by its
//     id, the room each socket is in. An operation that names a namespace
//     that does not exist does nothing (instrument() would create it).
//
// Instrument hears the server through an observer it attaches with
// Server.Observe (beside Options.Observer, which stays the application's),
// and Close detaches it.
//
// Differences from instrument(): the aggregated events of one
// StatsInterval are reported under the second of the server_stats that
// carries them (instrument() puts each in the second it happened: the
// total per period is the same), and rawDisconnection carries no close
// reason; changes of a socket's data (Socket.Set) after its connection
// are not reported, since the core has no hook for them (the UI shows the
// data as it was at the connection, or at its next refresh). The session
// ids live in memory, as with instrument()'s default store.
//
// A socket's "_admin" data key holds its client id and transport for the
// UI, as instrument() keeps it in socket.data._admin.
package adminui
