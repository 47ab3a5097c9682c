package auth

import (
	"context"
	"time"
)

// Defaults of the sweep of expired sessions.
const (
	// DefaultSweepEvery is how often expired sessions are deleted when
	// Options.SweepEvery is 0.
	DefaultSweepEvery = 10 * time.Minute
	// sweepLimit bounds the sessions one sweep deletes, so that a backlog
	// (a server that was down for weeks) is worked off over several runs
	// instead of one long write that holds up logins.
	sweepLimit = 1000
	// sweepTimeout bounds one sweep's time with the store.
	sweepTimeout = 30 * time.Second
)

// sweeper deletes expired sessions every interval until stop is closed.
func (a *Auth) sweeper(every time.Duration) {
	defer close(a.sweepDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-a.sweepStop:
			return
		case <-t.C:
			a.sweep()
		}
	}
}

// sweep deletes up to sweepLimit sessions that expired by now. Sessions
// expire in the store's queries anyway (SessionUser compares with the
// time), so a late or failed sweep only leaves dead rows for longer.
func (a *Auth) sweep() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sweepTimeout)
	defer cancel()
	n, err := a.st.DeleteExpiredSessions(ctx, a.now(), a.opts.sweepLimit)
	if err != nil {
		a.log.Warn("auth: deleting expired sessions", "err", err)
	} else if n > 0 {
		a.log.Debug("auth: deleted expired sessions", "n", n)
	}
	if a.opts.afterSweep != nil {
		a.opts.afterSweep(n, err)
	}
	return n, err
}

// Close stops the sweep of expired sessions (waiting for a running one to
// end). The Auth still answers requests; call Close before closing the
// store. Close is idempotent.
func (a *Auth) Close() {
	a.closeOnce.Do(func() {
		close(a.sweepStop)
		<-a.sweepDone
	})
}
