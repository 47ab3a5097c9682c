package redisadapter

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	socketio "github.com/switchboard-go/socketio"
)

// With PublishOnSpecificResponseChannel a Go server answers on the
// requester's own channel, which Node's 8.x servers and ours listen to:
// FetchSockets from Node and from another Go server still get its answer.
func TestSpecificResponseChannel(t *testing.T) {
	key := uniqueKey(t)
	rdb := newRedis(t)
	srv := socketio.NewServer(&socketio.Options{Adapter: New(rdb, &Options{Key: key, PublishOnSpecificResponseChannel: true})})
	srv.OnConnection(func(s *socketio.Socket) { s.Join("r1") })
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	other := startGoNode(t, key)
	nodeURL := startNodeNode(t, key)
	waitServers(t, rdb, key, 3)
	g1 := connect(t, ts.URL, "g1", "")
	// Watch every response channel of the namespace.
	watch := rdb.PSubscribe(context.Background(), key+"-response#/#*")
	defer watch.Close()
	if _, err := watch.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	shared := key + "-response#/#"
	ctl := connect(t, nodeURL, "ctl", "")

	var fetched []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(do(t, ctl, map[string]any{"op": "fetch", "to": []string{"r1"}}), &fetched); err != nil {
		t.Fatal(err)
	}
	if len(fetched) != 1 || fetched[0].ID != g1.s.ID() {
		t.Fatalf("Node fetchSockets(r1) = %+v, want g1 %s", fetched, g1.s.ID())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	socks, err := other.srv.In("r1").FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range socks {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{g1.s.ID()}) {
		t.Fatalf("Go FetchSockets(r1) = %v, want g1", ids)
	}
	// The two answers that describe g1 (to Node, to the other Go server)
	// went to the requesters' own channels.
	for seen := 0; seen < 2; {
		m, err := watch.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("waiting for g1's answers: %v", err)
		}
		if !strings.Contains(m.Payload, g1.s.ID()) {
			continue
		}
		if m.Channel == shared {
			t.Fatalf("answer on the shared channel %s", m.Channel)
		}
		seen++
	}
}
