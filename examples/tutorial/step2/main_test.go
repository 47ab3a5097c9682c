package main

import (
	"strings"
	"testing"

	tt "github.com/switchboard-go/socketio/examples/tutorial/internal/tutorialtest"
	"github.com/switchboard-go/socketio/internal/leakcheck"
)

// The step leaves no goroutine behind: servers, clients, proxies.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// The home page is the chat's page: the list, the form, no script yet.
func TestServesPage(t *testing.T) {
	srv := tt.Start(t, run, "")
	code, body := tt.Get(t, srv.URL+"/")
	if code != 200 || body != string(page) {
		t.Fatalf("GET /: %d\n%s", code, body)
	}
	for _, want := range []string{`<ul id="messages">`, `<form id="form"`, `<input id="input"`, `<button>Send</button>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script") {
		t.Error("the page has a script already")
	}
	if code, _ := tt.Get(t, srv.URL+"/other"); code != 404 {
		t.Errorf("GET /other: %d, want 404", code)
	}
}
