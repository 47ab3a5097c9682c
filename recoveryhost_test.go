package socketio

import (
	"testing"
	"time"

	"github.com/switchboard-go/socketio/adapter"
)

// A namespace tells an adapter factory the server's recovery settings
// (adapter.RecoveryHost), so that a cluster adapter can keep sessions in
// its local part; with recovery off it says so.
func TestRecoveryHost(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  *Recovery
		want adapter.RecoveryConfig
		on   bool
	}{
		{"off", nil, adapter.RecoveryConfig{}, false},
		{"set", &Recovery{MaxDisconnectionDuration: 5 * time.Minute, MaxLogBytes: 1234}, adapter.RecoveryConfig{MaxDisconnectionDuration: 5 * time.Minute, MaxLogBytes: 1234}, true},
		{"defaults", &Recovery{}, adapter.RecoveryConfig{MaxDisconnectionDuration: 2 * time.Minute}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hosts []adapter.Host
			srv := NewServer(&Options{
				ConnectionStateRecovery: tc.rec,
				Adapter: func(h adapter.Host) adapter.Adapter {
					hosts = append(hosts, h)
					return adapter.NewInMemory(h)
				},
			})
			defer srv.Close()
			srv.Of("/other")
			if len(hosts) != 2 {
				t.Fatalf("%d hosts, want 2", len(hosts))
			}
			for _, h := range hosts {
				rh, ok := h.(adapter.RecoveryHost)
				if !ok {
					t.Fatalf("%s: the host is no RecoveryHost", h.Name())
				}
				if got, on := rh.Recovery(); got != tc.want || on != tc.on {
					t.Errorf("%s: Recovery() = %+v, %v; want %+v, %v", h.Name(), got, on, tc.want, tc.on)
				}
			}
		})
	}
}
