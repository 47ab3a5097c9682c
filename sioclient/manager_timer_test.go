package sioclient

import (
	"testing"
	"time"
)

// A reconnection timer stopped while its callback was already on its way
// (waiting for the manager's lock) must find itself stale when it gets
// there, even after the manager was closed and a new timer scheduled: each
// stop and each scheduling gives the timer a generation no earlier timer
// has.
func TestStaleReconnectTimerIgnored(t *testing.T) {
	m, err := NewManager("http://127.0.0.1:1", &Options{ReconnectionDelay: time.Hour, ReconnectionDelayMax: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	attempts := make(chan int, 4)
	m.OnReconnectAttempt(func(n int) { attempts <- n })
	schedule := func() uint64 {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.skipReconnect = false
		m.reconnectLocked()
		if !m.reconnecting || m.timer == nil {
			t.Fatal("no reconnection scheduled")
		}
		return m.timerGen
	}
	stale := schedule()
	m.shutdown(ReasonForcedClose) // stops the timer
	current := schedule()
	if current == stale {
		t.Fatalf("the timer scheduled after a stop has the stopped one's generation %d", stale)
	}
	m.onReconnectTimer(stale) // the stopped timer's callback, arriving late
	m.mu.Lock()
	pending := m.timer != nil && m.reconnecting
	m.mu.Unlock()
	if !pending {
		t.Error("the stale callback took the place of the current timer")
	}
	select {
	case n := <-attempts:
		t.Errorf("the stale callback made attempt %d", n)
	default:
	}
	m.shutdown(ReasonForcedClose)
}
