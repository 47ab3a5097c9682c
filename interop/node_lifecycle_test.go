package interop_test

// Interop with the official Node.js client, continued: the connection
// lifecycle — disconnect reasons, restart and reconnection, payload limit,
// server utilities, catch-all listeners, connect timeout — over the same
// transport matrix (see node_client_test.go).

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/engineio"
	"github.com/switchboard-go/socketio/socketiotest"
)

// 7. Disconnect reasons on both sides.
func TestNodeDisconnectReasons(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		url := startServer(t, nil, func(srv *socketio.Server) {
			track := func(s *socketio.Socket) {
				name := clientName(s)
				s.Join("room-" + name)
				s.OnDisconnecting(func(r socketio.Reason) {
					rec.add("disconnecting "+name, []any{string(r), sorted(s.Rooms()), s.ID()})
				})
				s.OnDisconnect(func(r socketio.Reason) {
					rec.add("disconnect "+name, []any{string(r), len(s.Rooms()), s.Connected(), s.Emit("late")})
				})
				s.On("ping", func(e *socketio.Event) { _ = e.Ack("pong") })
			}
			srv.OnConnection(func(s *socketio.Socket) {
				track(s)
				s.On("kick", func(*socketio.Event) { s.Disconnect(false) })
				s.On("kick-close", func(*socketio.Event) { s.Disconnect(true) })
			})
			srv.Of("/other").OnConnection(track)
		})

		out := runNode(t, "client_disconnect.js", url, mode)
		out.expectExit(t)

		client := map[string]string{
			"kick":             "io server disconnect",
			"kick-close":       "io server disconnect",
			"kick-close/other": "io server disconnect",
			"client":           "io client disconnect",
			"manager":          "forced close",
			"partial/other":    "io client disconnect",
		}
		for name, want := range client {
			wantEqual(t, "client reason "+name, out.one(t, "disconnect", "name", name)["reason"], any(want))
		}
		// "io server disconnect" means: do not reconnect.
		wantEqual(t, "kicked socket active", out.one(t, "disconnect", "name", "kick")["active"], any(false))
		wantEqual(t, "kicked (close) socket active", out.one(t, "disconnect", "name", "kick-close")["active"], any(false))
		wantJSON(t, "kicked socket reconnects by hand", out.one(t, "reconnected", "name", "kick"), `{"ev":"reconnected","name":"kick","newID":true,"pong":"pong"}`)
		wantJSON(t, "namespace reconnects on the same connection", out.one(t, "reconnected", "name", "partial/other"), `{"ev":"reconnected","name":"partial/other","pong":"pong"}`)
		wantJSON(t, "other namespace unaffected", out.one(t, "still-connected"), `{"ev":"still-connected","name":"partial","pong":"pong","connected":true}`)

		// Each socket's reasons, in order; the last ones are the script's
		// own cleanup (the reconnected sockets).
		server := map[string][]any{
			"kick":             {"server namespace disconnect", "client namespace disconnect"},
			"kick-close":       {"server namespace disconnect"},
			"kick-close/other": {"server namespace disconnect"},
			"client":           {"client namespace disconnect"},
			"manager":          {"transport close"},
			"partial/other":    {"client namespace disconnect", "transport close"},
			"partial":          {"client namespace disconnect"},
		}
		for name, want := range server {
			rec.waitFor(t, "disconnect "+name, len(want), 5*time.Second)
			var reasons, dreasons []any
			for _, v := range rec.get("disconnect " + name) {
				d := v.([]any)
				reasons = append(reasons, d[0])
				wantEqual(t, "rooms after disconnect "+name, d[1], any(0))
				wantEqual(t, "Connected() after disconnect "+name, d[2], any(false))
				wantEqual(t, "Emit after disconnect "+name, d[3], any(socketio.ErrDisconnected))
			}
			wantEqual(t, "server reasons "+name, reasons, want)
			for _, v := range rec.get("disconnecting " + name) {
				ding := v.([]any)
				dreasons = append(dreasons, ding[0])
				wantEqual(t, "rooms while disconnecting "+name, ding[1], any(sorted([]string{"room-" + name, str(ding[2])})))
			}
			wantEqual(t, "disconnecting reasons "+name, dreasons, want)
		}
	})
}

// 8. Server restart: the client reconnects to the new server by itself.
func TestNodeReconnectAfterRestart(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		ln := socketiotest.Listen(t, "")
		addr := ln.Addr().String()
		ts1 := startTestServer(t, nil, ln, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				rec.add("server1 conn", s.Conn())
				s.OnDisconnect(func(r socketio.Reason) { rec.add("server1 disconnect", string(r)) })
				s.On("hello", func(e *socketio.Event) { rec.add("server1 hello", e.Value(0)) })
			})
		})
		p := startNode(t, "client_reconnect.js", ts1.URL, mode)
		rec.waitFor(t, "server1 hello", 1, 10*time.Second)
		// Restart a session on its final transport: after the upgrade, for
		// a client that upgrades.
		conn, _ := rec.one(t, "server1 conn").(*engineio.Conn)
		deadline := time.Now().Add(10 * time.Second)
		for conn != nil && conn.Transport() != wantTransport(mode) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond) // polls the transport: the upgrade has no event
		}
		if conn == nil || conn.Transport() != wantTransport(mode) {
			t.Fatalf("the session did not reach %s", wantTransport(mode))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		wantEqual(t, "Shutdown", ts1.Srv.Shutdown(ctx), nil)
		ts1.HTTP.Close()

		startTestServer(t, nil, socketiotest.Listen(t, addr), func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.On("hello", func(e *socketio.Event) {
					rec.add("server2 hello", e.Value(0))
					_ = s.Emit("bye", "restarted")
				})
			})
		})
		out := p.Wait(t)
		out.expectExit(t)

		wantEqual(t, "server1 reason", rec.get("server1 disconnect"), []any{"server shutting down"})
		wantEqual(t, "server1 hellos", rec.get("server1 hello"), []any{1.0})
		wantEqual(t, "server2 hellos", rec.get("server2 hello"), []any{2.0})
		connects := out.all("connect")
		if len(connects) != 2 {
			t.Fatalf("client connected %d times, want 2:\n%s", len(connects), out)
		}
		if connects[0]["id"] == connects[1]["id"] {
			t.Errorf("same socket id after reconnection: %v", connects[0]["id"])
		}
		// The second disconnect is the script's own at the end.
		wantJSON(t, "client disconnects", out.all("disconnect"), `[
			{"ev":"disconnect","reason":"transport close","active":true},
			{"ev":"disconnect","reason":"io client disconnect","active":false}]`)
		if a, _ := out.one(t, "reconnect")["attempt"].(float64); a < 1 {
			t.Errorf("reconnect attempt = %v", a)
		}
		wantJSON(t, "bye", out.one(t, "bye")["args"], `["restarted"]`)
		wantEqual(t, "final transport", out.one(t, "transport")["name"], any(wantTransport(mode)))
	})
}

// 9. A message over MaxPayload closes the sender's connection only.
func TestNodeMaxPayload(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		opts := &socketio.Options{}
		opts.Engine.MaxPayload = 1000
		url := startServer(t, opts, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				name := clientName(s)
				s.OnDisconnect(func(r socketio.Reason) { rec.add("disconnect "+name, string(r)) })
				s.On("big", func(e *socketio.Event) { rec.add("big received", name) })
				s.On("echo", func(e *socketio.Event) {
					var str string
					_ = e.Decode(0, &str)
					_ = e.Ack(str)
				})
			})
		})
		out := runNode(t, "client_maxpayload.js", url, mode)
		out.expectExit(t)

		wantEqual(t, "maxPayload announced in the handshake", out.one(t, "maxPayload")["value"], any(1000.0))
		wantEqual(t, "message under the limit", out.one(t, "small")["len"], any(900.0))
		wantEqual(t, "oversized message dispatched", rec.get("big received"), []any(nil))
		v := out.one(t, "victim-disconnect")
		// As with the reference server (checked against socket.io 4.8.4): a
		// WebSocket is closed with 1009 and the client reports "transport
		// close". On polling the POST gets 413 and the session is closed,
		// so the pending GET returns the close packet: whichever response
		// the client handles first decides between "transport close" and
		// "transport error".
		switch r := v["reason"]; {
		case r == "transport close":
		case r == "transport error" && mode == modePolling:
		default:
			t.Errorf("victim's client reason = %v", r)
		}
		rec.waitFor(t, "disconnect victim", 1, 5*time.Second)
		wantEqual(t, "victim's server reason", rec.get("disconnect victim"), []any{"transport error"})
		b := out.one(t, "bystander")
		wantJSON(t, "bystander", b, `{"ev":"bystander","args":["still here"],"connected":true,"transport":"`+wantTransport(mode)+`"}`)
		rec.waitFor(t, "disconnect bystander", 1, 5*time.Second)
		wantEqual(t, "bystander's server reason", rec.get("disconnect bystander"), []any{"client namespace disconnect"})
	})
}

// 10. FetchSockets, SocketsJoin/Leave, RemoteSocket, DisconnectSockets.
func TestNodeFetchSockets(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		var g *readyGroup
		url := startServer(t, nil, func(srv *socketio.Server) {
			g = newReadyGroup(3, func(c map[string]*socketio.Socket) {
				check := func(what string, err error) {
					if err != nil {
						rec.add("error", what+": "+err.Error())
					}
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				names := func(rs []*socketio.RemoteSocket, err error) []string {
					check("fetch", err)
					var out []string
					for _, r := range rs {
						m, _ := r.Data.(map[string]any)
						name, _ := m["name"].(string)
						out = append(out, name)
					}
					slices.Sort(out)
					return out
				}
				all, err := srv.FetchSockets(ctx)
				check("fetch all", err)
				for _, r := range all {
					rec.add("remote", map[string]any{
						"id": r.ID, "data": r.Data, "rooms": r.Rooms, "auth": string(r.Handshake.Auth),
					})
				}
				check("join X", srv.In(c["c0"].ID()).SocketsJoin("X"))
				check("join all", srv.SocketsJoin("all"))
				rec.add("in X", names(srv.In("X").FetchSockets(ctx)))
				rec.add("except X", names(srv.Except("X").FetchSockets(ctx)))
				rec.add("in all", names(srv.In("all").FetchSockets(ctx)))
				check("leave all", srv.In("X").SocketsLeave("all"))
				rec.add("c0 rooms", sorted(c["c0"].Rooms()))
				check("to-all", srv.To("all").Emit("to-all"))

				var c1 *socketio.RemoteSocket
				for _, r := range all {
					if r.ID == c["c1"].ID() {
						c1 = r
					}
				}
				if c1 == nil {
					rec.add("error", "c1 not fetched")
					return
				}
				check("direct", c1.Emit("direct", "hi c1", []byte{1}))
				check("remote join", c1.Join("Y"))
				check("to-y", srv.To("Y").Emit("to-y"))
				check("remote leave", c1.Leave("Y"))
				check("to-y2", srv.To("Y").Emit("to-y2"))
				// Everything above has been handled once all have answered.
				answers, err := srv.Timeout(3*time.Second).EmitWithAck(ctx, "sync")
				rec.add("sync", []any{ackNames(answers), err})

				check("disconnect X", srv.In("X").DisconnectSockets(false))
				check("after", srv.Emit("after"))
				check("disconnect all", srv.DisconnectSockets(true))
			})
			srv.OnConnection(func(s *socketio.Socket) {
				name := clientName(s)
				s.Set("name", name)
				s.OnDisconnect(func(r socketio.Reason) { rec.add("disconnect "+name, string(r)) })
				g.add(s)
			})
		})
		out := runNode(t, "client_fetch.js", url, mode, "3")
		out.expectExit(t)
		wantEqual(t, "server errors", rec.get("error"), []any(nil))

		ids := map[string]string{}
		for _, l := range out.all("connect") {
			ids[str(l["client"])] = str(l["id"])
			wantEqual(t, "transport", l["transport"], any(wantTransport(mode)))
		}
		remotes := rec.get("remote")
		wantEqual(t, "FetchSockets count", len(remotes), 3)
		for _, r := range remotes {
			m := obj(r)
			name := str(obj(m["data"])["name"])
			wantEqual(t, "fetched id of "+name, m["id"], any(ids[name]))
			wantEqual(t, "fetched rooms of "+name, m["rooms"], any([]string{ids[name]}))
			wantEqual(t, "fetched auth of "+name, m["auth"], any(`{"name":"`+name+`"}`))
		}
		wantEqual(t, "In(X)", rec.one(t, "in X"), any([]string{"c0"}))
		wantEqual(t, "Except(X)", rec.one(t, "except X"), any([]string{"c1", "c2"}))
		wantEqual(t, "In(all)", rec.one(t, "in all"), any([]string{"c0", "c1", "c2"}))
		wantEqual(t, "c0 rooms", rec.one(t, "c0 rooms"), any(sorted([]string{"X", ids["c0"]})))

		wantEqual(t, "sync", rec.one(t, "sync"), any([]any{[]string{"c0", "c1", "c2"}, nil}))
		got := receivers(out)
		wantEqual(t, "receivers", got, map[string][]string{
			"sync":   {"c0", "c1", "c2"},
			"to-all": {"c1", "c2"},
			"direct": {"c1"},
			"to-y":   {"c1"},
			"after":  {"c1", "c2"},
		})
		wantJSON(t, "direct args", out.one(t, "recv", "event", "direct")["args"], `["hi c1",{"$bin":"01","$type":"Buffer"}]`)
		for _, name := range []string{"c0", "c1", "c2"} {
			d := out.one(t, "disconnect", "client", name)
			wantEqual(t, name+" client reason", d["reason"], any("io server disconnect"))
			wantEqual(t, name+" client active", d["active"], any(false))
			rec.waitFor(t, "disconnect "+name, 1, 5*time.Second)
			wantEqual(t, name+" server reason", rec.get("disconnect "+name), []any{"server namespace disconnect"})
		}
	})
}

// 11. Catch-all listeners on both sides.
func TestNodeCatchAll(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		url := startServer(t, nil, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				s.OnAny(func(e *socketio.Event) {
					rec.add("any", []any{e.Name, e.Values(), e.WantsAck()})
				})
				s.OnAnyOutgoing(func(event string, args []any) {
					rec.add("out", []any{event, args})
				})
				s.On("a", func(e *socketio.Event) { rec.add("on a", e.Values()) })
				s.On("c", func(e *socketio.Event) { _ = e.Ack("c-ack") })
				s.On("finish", func(e *socketio.Event) {
					_ = srv.Emit("bcast", "not outgoing of a socket")
					_ = s.Emit("e1", "x", []byte{9})
					s.OffAny()
					_ = s.Emit("done")
				})
				s.On("z", func(e *socketio.Event) { _ = e.Ack("z-ack") })
				_ = s.Emit("hello", 1)
			})
		})
		out := runNode(t, "client_catchall.js", url, mode)
		out.expectExit(t)

		wantEqual(t, "server OnAny", rec.get("any"), []any{
			[]any{"a", []any{1.0}, false},
			[]any{"b", []any{map[string]any{"x": 2.0}, []byte{3}}, false},
			[]any{"c", []any{"with-ack"}, true},
			[]any{"finish", []any{}, false},
		})
		wantEqual(t, "specific handler after OnAny", rec.get("on a"), []any{[]any{1.0}})
		wantEqual(t, "server OnAnyOutgoing", rec.get("out"), []any{
			[]any{"hello", []any{1}},
			[]any{"e1", []any{"x", []byte{9}}},
			[]any{"done", []any(nil)},
		})
		wantJSON(t, "client onAny", out.all("any"), `[
			{"ev":"any","event":"hello","args":[1]},
			{"ev":"any","event":"bcast","args":["not outgoing of a socket"]},
			{"ev":"any","event":"e1","args":["x",{"$bin":"09","$type":"Buffer"}]},
			{"ev":"any","event":"done","args":[]}]`)
		wantJSON(t, "client onAnyOutgoing", out.all("anyOut"), `[
			{"ev":"anyOut","event":"a","args":[1]},
			{"ev":"anyOut","event":"b","args":[{"x":2},{"$bin":"03","$type":"Buffer"}]},
			{"ev":"anyOut","event":"c","args":["with-ack"]},
			{"ev":"anyOut","event":"finish","args":[]},
			{"ev":"anyOut","event":"z","args":["after OffAny"]}]`)
		wantJSON(t, "acks", out.all("ack"), `[{"ev":"ack","args":["c-ack"]},{"ev":"ack","args":["z-ack"]}]`)
		wantEqual(t, "final transport", out.one(t, "transport")["name"], any(wantTransport(mode)))
	})
}

// 12. ConnectTimeout closes a connection that joins no namespace.
func TestNodeConnectTimeout(t *testing.T) {
	t.Parallel()
	opts := &socketio.Options{ConnectTimeout: 300 * time.Millisecond}
	setup := func(srv *socketio.Server) {
		srv.OnConnection(func(s *socketio.Socket) {
			s.On("ping", func(e *socketio.Event) { _ = e.Ack("pong") })
		})
	}
	t.Run("raw-polling", func(t *testing.T) {
		t.Parallel()
		ts := startTestServer(t, opts, nil, setup)
		base := ts.URL + "/socket.io/?EIO=4&transport=polling"
		status, body := httpGet(t, base)
		if status != 200 || !strings.HasPrefix(body, "0{") {
			t.Fatalf("handshake: %d %q", status, body)
		}
		var open struct {
			SID string `json:"sid"`
		}
		if err := json.Unmarshal([]byte(body[1:]), &open); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		status, body = httpGet(t, base+"&sid="+open.SID)
		elapsed := time.Since(start)
		wantEqual(t, "poll after the timeout", fmt.Sprint(status, " ", body), "200 1")
		if elapsed < 250*time.Millisecond || elapsed > 3*time.Second {
			t.Errorf("closed after %v, want about 300ms", elapsed)
		}
		status, body = httpGet(t, base+"&sid="+open.SID)
		wantEqual(t, "session gone", fmt.Sprint(status, " ", body), `400 {"code":1,"message":"Session ID unknown"}`)
		wantEqual(t, "engine sessions", ts.Srv.Engine().Count(), 0)
	})
	t.Run("raw-websocket", func(t *testing.T) {
		t.Parallel()
		ts := startTestServer(t, opts, nil, setup)
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+ts.Addr+"/socket.io/?EIO=4&transport=websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := ws.ReadMessage()
		if err != nil || !strings.HasPrefix(string(msg), "0{") {
			t.Fatalf("open packet: %q %v", msg, err)
		}
		start := time.Now()
		_, msg, err = ws.ReadMessage()
		elapsed := time.Since(start)
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Errorf("after the timeout: message %q, error %v; want a normal close", msg, err)
		}
		if elapsed < 250*time.Millisecond || elapsed > 3*time.Second {
			t.Errorf("closed after %v, want about 300ms", elapsed)
		}
	})
	eachMode(t, func(t *testing.T, mode string) {
		url := startServer(t, opts, setup)
		out := runNode(t, "client_connect_timeout.js", url, mode)
		out.expectExit(t)
		idle := out.one(t, "idle-closed")
		wantEqual(t, "idle manager close reason", idle["reason"], any("transport close"))
		if ms, _ := idle["afterMs"].(float64); ms < 250 || ms > 3000 {
			t.Errorf("idle manager closed after %vms, want about 300", ms)
		}
		wantJSON(t, "connected socket survives", out.one(t, "ack"), `{"ev":"ack","args":["pong"],"connected":true}`)
		wantEqual(t, "final transport", out.one(t, "transport")["name"], any(wantTransport(mode)))
	})
}
