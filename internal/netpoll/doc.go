// Package netpoll parks idle connections in epoll instead of in a blocked
// goroutine each.
//
// A connection handed to Take (and then Start) is read by a poller
// goroutine that serves many connections: it reads what arrived into one shared buffer and gives
// the bytes to the connection's Handler, which must not block. Writes are
// made by any goroutine with Writev, which never blocks: when the kernel's
// send buffer is full it reports ErrWouldBlock, and WaitWritable asks for a
// call once there is room. An idle connection therefore holds no goroutine
// and no buffer, only its descriptor and a few words here.
//
// Descriptors are closed only by the poller goroutine, under the Desc's
// lock, so a write can never reach a descriptor number that the kernel has
// reused for another connection; other goroutines end a connection with
// Shutdown.
//
// Only Linux has a poller (Supported); elsewhere Take fails and callers
// keep a goroutine per connection.
package netpoll
