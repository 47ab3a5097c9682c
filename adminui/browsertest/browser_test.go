// Package browsertest drives the official Socket.IO Admin UI in headless
// Chromium against a Go server instrumented by adminui: see e2e.js. It
// needs Node.js, this directory's npm packages (npm ci: the UI's built
// files come from @socket.io/admin-ui) and Chromium
// (SWITCHBOARD_CHROMIUM, default /usr/bin/chromium).
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/adminui"
	"github.com/switchboard-go/socketio/sioclient"
	"golang.org/x/crypto/bcrypt"
)

const dist = "node_modules/@socket.io/admin-ui/ui/dist"

// member is an application client of the test: its namespace, the
// rooms the server puts it in, and its transports.
type member struct {
	Name       string   `json:"name"`
	Nsp        string   `json:"nsp"`
	Rooms      []string `json:"rooms"`
	transports []string
	ID         string `json:"id"`
	Transport  string `json:"transport"`
}

// TestAdminUI serves the UI's built files and an instrumented server,
// attaches clients to it, and runs e2e.js: it logs in through the UI's
// connection form, finds the clients' sockets and rooms, and disconnects
// one from the UI, which must disconnect it on the server. Screenshots go
// to $ADMINUI_SCREENSHOTS when set (kept), else to a temporary directory.
func TestAdminUI(t *testing.T) {
	if _, err := os.Stat("node_modules/playwright-core"); err != nil {
		t.Fatal("adminui/browsertest has no node_modules: run 'npm ci' in it (scripts/test.sh does)")
	}
	if _, err := os.Stat(dist + "/index.html"); err != nil {
		t.Fatalf("no admin UI build at %s: run 'npm ci' here: %v", dist, err)
	}
	chromium := os.Getenv("SWITCHBOARD_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	shots := os.Getenv("ADMINUI_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	hash, err := bcrypt.GenerateFromPassword([]byte("browser-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	srv := socketio.NewServer(nil)
	admin, err := adminui.Instrument(srv, adminui.Options{
		Auth:          &adminui.BasicAuth{Username: "admin", PasswordHash: string(hash)},
		ServerID:      "switchboard-browsertest",
		StatsInterval: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	members := []*member{
		{Name: "alice", Nsp: "/", Rooms: []string{"lobby"}, transports: []string{"websocket"}},
		{Name: "bob", Nsp: "/", Rooms: []string{"lobby", "games"}, transports: []string{"polling"}},
		{Name: "carol", Nsp: "/chat", Rooms: []string{"room-1"}},
	}
	rooms := map[string][]string{}
	for _, m := range members {
		rooms[m.Name] = m.Rooms
	}
	var mu sync.Mutex
	serverGone := map[string]string{} // socket id → reason, as the server saw it
	join := func(s *socketio.Socket) {
		var auth struct{ Name string }
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		s.Set("name", auth.Name)
		s.Join(rooms[auth.Name]...)
		s.On("chat message", func(e *socketio.Event) { _ = s.Emit("chat message", "echo", e.Values()) })
		s.OnDisconnect(func(r socketio.Reason) {
			mu.Lock()
			serverGone[s.ID()] = string(r)
			mu.Unlock()
		})
	}
	srv.OnConnection(join)
	srv.Of("/chat").OnConnection(join)
	srv.Of("/visitors")

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ui := adminui.UIHandlerWithFonts(os.DirFS(dist), adminui.Fonts{
		Icons:  os.DirFS("node_modules/@mdi/font"),
		Roboto: os.DirFS("node_modules/@fontsource/roboto"),
	})
	mux.Handle("/admin-ui/", http.StripPrefix("/admin-ui/", ui))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	defer srv.Close()
	url := "http://" + ln.Addr().String()

	clientGone := map[string]chan string{}
	talkers := map[string]*sioclient.Socket{}
	for _, m := range members {
		s, err := sioclient.New(url+m.Nsp, &sioclient.Options{
			Auth: map[string]string{"name": m.Name}, ForceNew: true,
			DisableReconnection: true, Transports: m.transports,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ok := make(chan struct{}, 1)
		gone := make(chan string, 1)
		s.OnConnect(func() { ok <- struct{}{} })
		s.OnDisconnect(func(reason string) { gone <- reason })
		s.Connect()
		select {
		case <-ok:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not connect", m.Name)
		}
		m.ID = s.ID()
		clientGone[m.Name] = gone
		talkers[m.Name] = s
		_ = s.Emit("chat message", "hello from "+m.Name)
	}
	for _, m := range members {
		m.Transport = "websocket"
		if len(m.transports) == 1 {
			m.Transport = m.transports[0]
		}
	}
	victim := members[1] // bob

	// While the UI looks: carol talks, and visitors come and go (the
	// dashboard's connection chart and the events page show them).
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(700 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = talkers["carol"].Emit("chat message", fmt.Sprintf("message %d from carol", i))
			if i%2 == 0 {
				v, err := sioclient.Dial(url+"/visitors", &sioclient.Options{ForceNew: true, DisableReconnection: true, Transports: []string{"websocket"}})
				if err == nil {
					time.AfterFunc(time.Second, func() { _ = v.Close() })
				}
			}
		}
	}()

	cfg, _ := json.Marshal(map[string]any{
		"url": url, "page": url + "/admin-ui/", "shots": shots, "chromium": chromium,
		"username": "admin", "password": "browser-pass", "serverId": "switchboard-browsertest",
		"members": members, "victim": victim.ID,
		"namespaces": map[string]int{"/": 2, "/chat": 1, "/admin": 1},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 170*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "node", "e2e.js", string(cfg)).CombinedOutput()
	t.Logf("e2e.js:\n%s", out)
	if err != nil {
		t.Fatalf("e2e.js: %v (screenshots in %s)", err, shots)
	}
	t.Logf("screenshots in %s", shots)

	// The disconnect issued from the UI reached the server and the client.
	select {
	case reason := <-clientGone[victim.Name]:
		if reason != "io server disconnect" {
			t.Errorf("%s's client: reason %q", victim.Name, reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s's client was not disconnected", victim.Name)
	}
	mu.Lock()
	reason, ok := serverGone[victim.ID]
	others := len(serverGone)
	mu.Unlock()
	if !ok || reason != string(socketio.ReasonServerNamespaceDisconnect) {
		t.Errorf("the server saw %s leave with %q (%v)", victim.ID, reason, ok)
	}
	if others != 1 {
		t.Errorf("%d sockets disconnected, want 1", others)
	}
	if _, ok := srv.Of("/").Socket(victim.ID); ok {
		t.Errorf("%s is still on the server", victim.ID)
	}
}
