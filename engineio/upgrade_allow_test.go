package engineio

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// AllowRequest is asked for an upgrade's WebSocket too: refused, the
// client gets 403 with its reason and stays on polling; allowed, it
// upgrades.
func TestAllowRequestOnUpgrade(t *testing.T) {
	ts := startServer(t, &Options{
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("token") == "bad" {
				return errors.New("no upgrade for you")
			}
			return nil
		},
	}, false)
	op := handshake(t, ts)
	ts.nextConn(t)
	u := "ws" + strings.TrimPrefix(ts.url("transport=websocket&sid="+op.SID+"&token=bad"), "http")
	ws, res, err := websocket.DefaultDialer.Dial(u, nil)
	if err == nil {
		ws.Close()
		t.Fatal("upgrade refused by AllowRequest went through")
	}
	if res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("refused upgrade: %v, want 403", res)
	}
	ws = dialWS(t, ts, "sid="+op.SID)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if got := readText(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
}
