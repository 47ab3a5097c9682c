package socketio

import "github.com/switchboard-go/socketio/engineio"

// Observe attaches o to the server, beside Options.Observer, until the
// returned function is called: for a tool that instruments a server
// already made (the module github.com/switchboard-go/socketio/adminui
// does). Its engine events come from the engine, which Observe attaches
// o to as well (engineio.Server.Observe). It may be called at any time,
// from any goroutine, and detach more than once. Events that happen while
// o is being attached or detached may or may not reach it; none reaches
// it after detach has returned, except calls already under way then. o
// is called as Options.Observer is (see Observer): concurrently, at times
// under the server's locks, so it must only count and return.
//
// With nothing attached and no Options.Observer, the server reports
// nothing, at no cost.
func (s *Server) Observe(o Observer) (detach func()) {
	if o == nil {
		return func() {}
	}
	detachEngine := s.engine.Observe(o)
	detachServer := s.observers.Attach(o)
	return func() {
		detachServer()
		detachEngine()
	}
}

// observer returns the observer to report to, nil when none.
func (s *Server) observer() Observer { return s.observers.Get() }

// fanOut reports to several observers, in order. Only its Socket.IO
// methods are called: the engine has observers of its own.
type fanOut []Observer

func newFanOut(list []Observer) Observer { return fanOut(list) }

func (f fanOut) ConnOpened(e engineio.ConnOpen) {
	for _, o := range f {
		o.ConnOpened(e)
	}
}

func (f fanOut) ConnUpgraded(e engineio.ConnUpgrade) {
	for _, o := range f {
		o.ConnUpgraded(e)
	}
}

func (f fanOut) ConnRefused(e engineio.ConnRefusal) {
	for _, o := range f {
		o.ConnRefused(e)
	}
}

func (f fanOut) ConnClosed(e engineio.ConnClose) {
	for _, o := range f {
		o.ConnClosed(e)
	}
}

func (f fanOut) VolatileDropped() {
	for _, o := range f {
		o.VolatileDropped()
	}
}

func (f fanOut) SocketConnected(e SocketConnect) {
	for _, o := range f {
		o.SocketConnected(e)
	}
}

func (f fanOut) SocketDisconnected(e SocketDisconnect) {
	for _, o := range f {
		o.SocketDisconnected(e)
	}
}

func (f fanOut) MiddlewareRefused(e MiddlewareRefusal) {
	for _, o := range f {
		o.MiddlewareRefused(e)
	}
}

func (f fanOut) RoomsChanged(e RoomsChange) {
	for _, o := range f {
		o.RoomsChanged(e)
	}
}

func (f fanOut) PacketIn(e PacketStat) {
	for _, o := range f {
		o.PacketIn(e)
	}
}

func (f fanOut) PacketOut(e PacketStat) {
	for _, o := range f {
		o.PacketOut(e)
	}
}

func (f fanOut) Broadcast(e BroadcastStat) {
	for _, o := range f {
		o.Broadcast(e)
	}
}

func (f fanOut) AckReceived(e AckStat) {
	for _, o := range f {
		o.AckReceived(e)
	}
}

func (f fanOut) EventRateLimited(e RateLimitStat) {
	for _, o := range f {
		o.EventRateLimited(e)
	}
}
