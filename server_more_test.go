package socketio

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-go/socketio/engineio"
)

// The engine logs to Options.Logger unless Options.Engine.Logger is set:
// then the engine's lines go there, and not to the server's logger.
func TestEngineLogsToTheServerLogger(t *testing.T) {
	// A WebSocket handshake without its key: the engine refuses it and
	// logs why, at debug level.
	refused := func(t *testing.T, url string) {
		t.Helper()
		req, err := http.NewRequest("GET", strings.Replace(url, "ws", "http", 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", res.StatusCode)
		}
	}
	const line = "engineio: WebSocket upgrade refused"

	logs, logger := newLogBuffer()
	_, url := newTestServer(t, &Options{Logger: logger})
	refused(t, url)
	logs.wait(t, line)

	serverLogs, serverLogger := newLogBuffer()
	engineLogs, engineLogger := newLogBuffer()
	_, url = newTestServer(t, &Options{Logger: serverLogger, Engine: engineio.Options{Logger: engineLogger}})
	refused(t, url)
	engineLogs.wait(t, line)
	if strings.Contains(serverLogs.String(), line) {
		t.Fatalf("the engine logged to the server's logger too:\n%s", serverLogs.String())
	}
}

// A middleware's ConnectError whose Data cannot be encoded refuses the
// connection with its message alone; a plain error's text is the message.
func TestConnectErrorDataNotEncodable(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.Of("/bad").Use(func(*Socket) error {
		return &ConnectError{Message: "no entry", Data: map[string]any{"f": func() {}}}
	})
	srv.Of("/plain").Use(func(*Socket) error { return errString("plain refusal") })
	c := dialRaw(t, url)
	c.send("0/bad,")
	if got := c.recv(); got != `4/bad,{"message":"no entry"}` {
		t.Fatalf("answer %q", got)
	}
	c.send("0/plain,")
	if got := c.recv(); got != `4/plain,{"message":"plain refusal"}` {
		t.Fatalf("answer %q", got)
	}
}
