package engineio

import "sync"

// tracker counts the goroutines a server started so Close and Shutdown can
// wait for them. Unlike sync.WaitGroup it allows add while another
// goroutine waits at zero: a connection may close (and start its close
// notification) at any moment, also while the server is shutting down.
type tracker struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to zero; nil when nobody waits
}

func (t *tracker) Add(d int) {
	t.mu.Lock()
	t.n += d
	if t.n == 0 && t.zero != nil {
		close(t.zero)
		t.zero = nil
	}
	t.mu.Unlock()
}

func (t *tracker) Done() { t.Add(-1) }

// Wait returns once no tracked goroutine is running.
func (t *tracker) Wait() {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return
	}
	if t.zero == nil {
		t.zero = make(chan struct{})
	}
	ch := t.zero
	t.mu.Unlock()
	<-ch
}
