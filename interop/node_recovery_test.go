package interop_test

import (
	"testing"

	socketio "github.com/switchboard-go/socketio"
)

// The official client recovers its socket from the Go server: the same id,
// socket.recovered, the events it missed (with the offset it reports back
// as their last argument) and not those meant for others, then live ones.
func TestNodeClientRecovery(t *testing.T) {
	t.Parallel()
	eachMode(t, func(t *testing.T, mode string) {
		rec := newRecorder()
		opts := &socketio.Options{ConnectionStateRecovery: &socketio.Recovery{}}
		url := startServer(t, opts, func(srv *socketio.Server) {
			srv.OnConnection(func(s *socketio.Socket) {
				rec.add("connection", s.Recovered())
				s.On("ready", func(*socketio.Event) {
					s.Join("room1")
					s.Set("name", "rec")
					_ = srv.To("room1").Emit("news", 1)
				})
				s.OnDisconnect(func(r socketio.Reason) {
					rec.add("disconnect", string(r))
					// The client is away: this is what it must get back.
					_ = srv.To("room1").Emit("news", 2)
					_ = srv.To(s.ID()).Emit("direct", "x", map[string]any{"n": 1})
					_ = srv.Except("room1").Emit("elsewhere")
				})
				s.On("transport", func(e *socketio.Event) { _ = e.Ack(s.Conn().Transport()) })
				s.On("back", func(*socketio.Event) {
					name, _ := s.Get("name")
					rec.add("back", name)
					_ = srv.To("room1").Emit("live", s.Rooms())
				})
			})
		})
		p := startNode(t, "client_recovery.js", url, mode)
		out := p.Wait(t)
		out.expectExit(t)

		wantEqual(t, "server side", rec.get("connection"), []any{false, true})
		wantEqual(t, "disconnect reason", rec.get("disconnect")[0], any("transport close"))
		wantEqual(t, "data kept", rec.get("back"), []any{"rec"})
		connects := out.all("connect")
		if len(connects) != 2 {
			t.Fatalf("connected %d times, want 2:\n%s", len(connects), out)
		}
		wantEqual(t, "first recovered", connects[0]["recovered"], any(false))
		wantEqual(t, "second recovered", connects[1]["recovered"], any(true))
		wantEqual(t, "same id", connects[1]["id"], connects[0]["id"])

		news := out.all("news")
		if len(news) != 2 {
			t.Fatalf("news %v, want 2", news)
		}
		offsets := make([]string, 0, 3)
		for i, want := range []float64{1, 2} {
			args := news[i]["args"].([]any)
			if len(args) != 2 || args[0] != want {
				t.Fatalf("news %d: args %v, want [%v offset]", i, args, want)
			}
			offsets = append(offsets, args[1].(string))
		}
		direct := out.one(t, "direct")["args"].([]any)
		if len(direct) != 3 || direct[0] != "x" {
			t.Fatalf("direct args %v, want [x {n:1} offset]", direct)
		}
		offsets = append(offsets, direct[2].(string))
		if offsets[0] == offsets[1] || offsets[1] == offsets[2] {
			t.Errorf("offsets %v: want distinct", offsets)
		}
		if got := out.all("elsewhere"); len(got) != 0 {
			t.Errorf("got events meant for others: %v", got)
		}
		live := out.one(t, "live")["args"].([]any)
		if rooms, _ := live[0].([]any); len(rooms) != 2 {
			t.Errorf("rooms after recovery %v, want the socket's id and room1", live[0])
		}
		wantEqual(t, "server's transport before the cut", out.one(t, "before-cut")["transport"], any(wantTransport(mode)))
		wantEqual(t, "final transport", out.one(t, "transport")["name"], any(wantTransport(mode)))
	})
}
