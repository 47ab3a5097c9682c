package engineio

// Observe attaches o to the server, beside Options.Observer, until the
// returned function is called; it may be called at any time, from any
// goroutine, and more than once. Events that happen while o is being
// attached or detached may or may not reach it; none reaches it after
// detach has returned, except calls already under way then. o is called
// as Options.Observer is (see Observer): concurrently, from the
// connections' goroutines, sometimes under the engine's locks.
//
// With nothing attached and no Options.Observer, the server reports
// nothing, at no cost.
func (s *Server) Observe(o Observer) (detach func()) {
	if o == nil {
		return func() {}
	}
	return s.observers.Attach(o)
}

// observer returns the observer to report to, nil when none.
func (s *Server) observer() Observer { return s.observers.Get() }

// fanOut reports to several observers, in order.
type fanOut []Observer

func newFanOut(list []Observer) Observer { return fanOut(list) }

func (f fanOut) ConnOpened(e ConnOpen) {
	for _, o := range f {
		o.ConnOpened(e)
	}
}

func (f fanOut) ConnUpgraded(e ConnUpgrade) {
	for _, o := range f {
		o.ConnUpgraded(e)
	}
}

func (f fanOut) ConnRefused(e ConnRefusal) {
	for _, o := range f {
		o.ConnRefused(e)
	}
}

func (f fanOut) ConnClosed(e ConnClose) {
	for _, o := range f {
		o.ConnClosed(e)
	}
}

func (f fanOut) VolatileDropped() {
	for _, o := range f {
		o.VolatileDropped()
	}
}
