package sioclient

import (
	"fmt"
	"net"
	"net/url"
	"sync"
)

// Dial returns the socket of the namespace named by rawURL's path ("/"
// when empty) and starts connecting it in the background (Node: io(url,
// opts)). It fails only on a malformed URL; connection errors go to
// OnConnectError, and the manager keeps trying per the reconnection
// options.
//
// Handlers registered after Dial returns race with the connection: an
// event the server emits as soon as the socket connects may arrive before
// them. When that matters, use New, register the handlers, then call
// Connect.
//
// Sockets of different namespaces of the same server share one connection
// (one Manager), as in the reference client, unless opts.ForceNew is set
// or the namespace already has a socket there. A shared connection keeps
// the connection options of the first Dial or New; Auth is per socket.
func Dial(rawURL string, opts *Options) (*Socket, error) {
	s, err := New(rawURL, opts)
	if err != nil {
		return nil, err
	}
	s.Connect()
	return s, nil
}

// New is Dial without connecting: call Connect once the handlers are
// registered (Node: io(url, {autoConnect: false})).
func New(rawURL string, opts *Options) (*Socket, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	nsp := normalizeNamespace(u.Path)
	sopts := &SocketOptions{Auth: cfg.Auth, AuthFunc: cfg.AuthFunc}
	if cfg.ForceNew {
		return newManager(u, cfg).Socket(nsp, sopts), nil
	}
	key := u.Scheme + "://" + u.Host + cfg.Path
	managers.mu.Lock()
	m := managers.m[key]
	switch {
	case m == nil:
		m = newManager(u, cfg)
		m.cacheKey = key
		managers.m[key] = m
	case m.hasSocket(nsp):
		// A second socket for the same namespace needs a connection of
		// its own, as in the reference client.
		m = newManager(u, cfg)
	}
	managers.mu.Unlock()
	return m.Socket(nsp, sopts), nil
}

// managers caches the managers that Dial and New share, by server and
// path. A manager leaves it when it closes (its last socket disconnected),
// so that the cache holds only what is in use.
var managers = struct {
	mu sync.Mutex
	m  map[string]*Manager
}{m: make(map[string]*Manager)}

func (m *Manager) uncache() {
	if m.cacheKey == "" {
		return
	}
	managers.mu.Lock()
	if managers.m[m.cacheKey] == m {
		delete(managers.m, m.cacheKey)
	}
	managers.mu.Unlock()
}

// parseURL checks rawURL and normalizes it to http or https with an
// explicit port, so that "http://h" and "http://h:80" share a manager.
func parseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("sioclient: bad URL: %w", err)
	}
	port := ""
	switch u.Scheme {
	case "http", "ws":
		u.Scheme, port = "http", "80"
	case "https", "wss":
		u.Scheme, port = "https", "443"
	default:
		return nil, fmt.Errorf("sioclient: bad URL %q: scheme must be http, https, ws or wss", rawURL)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("sioclient: bad URL %q: no host", rawURL)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	return u, nil
}
