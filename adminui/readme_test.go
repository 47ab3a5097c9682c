package adminui_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
	"github.com/switchboard-go/socketio/adminui"
	"github.com/switchboard-go/socketio/sioclient"
	"golang.org/x/crypto/bcrypt"
)

// TestReadme runs the README's two snippets (marked regions, see the
// root's readme_test.go): the instrumented server accepts the login, and
// the UI's files, from browsertest's npm packages, are served.
func TestReadme(t *testing.T) {
	t.Chdir("browsertest") // where npm ci put node_modules
	srv := socketio.NewServer(nil)
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)

	// README: adminui-instrument
	hash, _ := bcrypt.GenerateFromPassword([]byte("changeit"), bcrypt.DefaultCost)
	admin, err := adminui.Instrument(srv, adminui.Options{
		Auth: &adminui.BasicAuth{Username: "admin", PasswordHash: string(hash)},
		// NamespaceName: "/admin", ReadOnly: false, ServerID: hostname,
		// Mode: adminui.Development (sockets, rooms, events) or adminui.Production (statistics only)
	})
	if err != nil {
		log.Fatal(err)
	}
	defer admin.Close()
	// README end

	// README: adminui-ui
	nm := "node_modules/"
	ui := adminui.UIHandlerWithFonts(os.DirFS(nm+"@socket.io/admin-ui/ui/dist"), adminui.Fonts{
		Icons:  os.DirFS(nm + "@mdi/font"),          // or nil: the page loads them from cdn.jsdelivr.net
		Roboto: os.DirFS(nm + "@fontsource/roboto"), // or nil: from fonts.googleapis.com
	})
	mux.Handle("/admin-ui/", http.StripPrefix("/admin-ui/", ui))
	// README end

	ts := httptest.NewServer(mux)
	defer ts.Close()
	res, err := http.Get(ts.URL + "/admin-ui/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "<title>Socket.IO Admin UI</title>") {
		t.Fatalf("the UI's page: %d %.200s (npm ci in adminui/browsertest?)", res.StatusCode, page)
	}
	if strings.Contains(string(page), "cdn.jsdelivr.net") || strings.Contains(string(page), "fonts.googleapis.com") {
		t.Errorf("the page still links the CDNs: %s", page)
	}
	for _, f := range []string{"_fonts/mdi/css/materialdesignicons.min.css", "_fonts/mdi/fonts/materialdesignicons-webfont.woff2",
		"_fonts/roboto.css", "_fonts/roboto/400.css", "_fonts/roboto/files/roboto-latin-400-normal.woff2"} {
		res, err := http.Get(ts.URL + "/admin-ui/" + f)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || n == 0 {
			t.Errorf("%s: %d, %d bytes", f, res.StatusCode, n)
		}
	}

	s, err := sioclient.New(ts.URL+"/admin", &sioclient.Options{
		Auth: map[string]string{"username": "admin", "password": "changeit"}, ForceNew: true, DisableReconnection: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	config := make(chan struct{}, 1)
	refused := make(chan error, 1)
	s.On("config", func(*sioclient.Event) { config <- struct{}{} })
	s.OnConnectError(func(err *sioclient.ConnectError) { refused <- err })
	s.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-config:
	case err := <-refused:
		t.Fatalf("the login was refused: %v", err)
	case <-ctx.Done():
		t.Fatal("no config event after the login")
	}
}
