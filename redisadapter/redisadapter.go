// Package redisadapter connects Switchboard servers through Redis pub/sub,
// wire-compatible with Node's @socket.io/redis-adapter 8.x: New is its
// classic adapter (createAdapter), NewSharded its sharded one
// (createShardedAdapter, Redis 7 sharded pub/sub). Go and Node.js servers
// can share one cluster, provided they all use the same kind (and, for
// the sharded adapter, the same subscription mode). See WIRE.md for the
// protocols.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	srv := socketio.NewServer(&socketio.Options{Adapter: redisadapter.New(rdb, nil)})
//
// # Classic or sharded
//
// The classic adapter uses PUBLISH / PSUBSCRIBE. On a Redis Cluster,
// classic pub/sub messages are forwarded to every node of the cluster, so
// its cost grows with the cluster; on one Redis (or Sentinel) it is the
// simple choice, and the only one before Redis 7. Its emitter (NewEmitter,
// Node's @socket.io/redis-emitter) speaks this protocol; NewShardedEmitter
// speaks the sharded adapter's (Node has no sharded emitter).
//
// The sharded adapter uses SPUBLISH / SSUBSCRIBE (Redis 7 or later): a
// message stays on the node (and replicas) that owns its channel's hash
// slot, so a Redis Cluster scales with its shards. Its SubscriptionMode
// trades subscriptions against traffic:
//
//   - SubscriptionStatic: two channels per namespace (the namespace's and
//     this server's responses); every broadcast reaches every server. The
//     cheapest in subscriptions; the choice when most broadcasts go to
//     everyone.
//   - SubscriptionDynamic (the default): plus one channel per public room
//     this server has sockets in. A broadcast to exactly one public room
//     reaches only the servers with a socket in it; a room's first socket
//     on a server subscribes (one Redis round trip, which Join waits for,
//     so that a broadcast published after Join returns reaches it), its
//     last one unsubscribes. The choice for many rooms spread over many
//     servers.
//   - SubscriptionDynamicPrivate: as dynamic, socket ids included:
//     messages to one socket (To(socket id), a remote socket handle's
//     Emit) reach its server only, and every connection costs a
//     subscription and a round trip at connect.
//
// Other broadcasts (several rooms, exceptions, acknowledgements) and every
// request travel on the namespace's channel in every mode. With a Cluster
// client the sharded adapter keeps one subscription connection per hash
// slot among its channels (go-redis resubscribes a connection's channels
// in one command, which Redis Cluster accepts for one slot only): with
// dynamic modes and many rooms, up to one connection per slot in use.
// Node's sharded protocol has no request for every room of the cluster:
// AllRooms returns this server's rooms, with an error when there are other
// servers. Requests count the servers with PUBSUB SHARDNUMSUB of the
// namespace's channel.
//
// The cluster logic (what each operation publishes and how answers are
// gathered) is package adapter/cluster of the core module; this package is
// only its Redis bus: channel names and the msgpack / JSON encoding of
// each message. One go-redis client serves publishing and, on a
// connection of its own per namespace, subscribing; go-redis reconnects
// and subscribes again after Redis restarts.
//
// # Clients
//
// Both adapters take a redis.UniversalClient: a single Redis
// (redis.NewClient), Redis Cluster (redis.NewClusterClient) or Sentinel
// (redis.NewFailoverClient, pub/sub on the master). With Sentinel, when
// the master dies and the sentinels promote a replica, the failover
// client finds the new master, the adapters' subscription connections
// fail and are made anew on it with every channel subscribed again, and
// broadcasts cross servers again: a few seconds after the master's death
// with down-after-milliseconds 1000 (the time Sentinel takes, mostly).
// What was published meanwhile is lost, as when Redis is down (below).
// The sharded adapter's SPUBLISH / SSUBSCRIBE work on a Redis 7 master
// that is no cluster: its channels all live on that master.
//
//	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
//		MasterName:    "mymaster",
//		SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
//	})
//	srv := socketio.NewServer(&socketio.Options{Adapter: redisadapter.NewSharded(rdb, nil)})
//
// # When Redis is down
//
// Local delivery goes on: a broadcast reaches this server's sockets first,
// then its publication fails and the emitting call returns the error.
// Requests that wait for answers (FetchSockets, acks, ServerSideEmitWithAck)
// fail with an error at their timeout. Every failure is logged, and
// counted when Options.OnError is set (prommetrics.Metrics.ClusterError
// exports the counts). Redis pub/sub keeps nothing: what
// was published while a server was unsubscribed (Redis down, or the few
// moments after it came back and before go-redis subscribed again) never
// reaches that server.
//
// # Connection state recovery
//
// The reference's pub/sub adapter recovers no session. This one does, per
// server: with socketio.Options.ConnectionStateRecovery on, each server
// keeps the sessions of its own sockets and a log of what it delivered to
// them, what other servers broadcast included (cluster.RecoveringAdapter).
// A client that reconnects to the same server (a sticky load balancer)
// gets its socket back, with every event any server sent its rooms
// meanwhile, in the order its server delivered them; one that lands on
// another server gets a new socket there (Recovered false), as after an
// expiry. What Redis lost while it was down (above) is not in the log of a
// server that never received it.
//
// The sharded adapter behaves the same. A join waits for its room's
// subscription at most the request timeout, and not at all once the
// adapter has seen the connection fail; go-redis subscribes again to every
// channel (the rooms' too) when it reconnects.
package redisadapter

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/cluster"
)

// Options configure New.
type Options struct {
	// Key prefixes every channel name; default "socket.io" (Node: key).
	Key string
	// RequestTimeout bounds requests waiting for other servers' answers;
	// default 5 s (Node: requestsTimeout).
	RequestTimeout time.Duration
	// PublishOnSpecificResponseChannel answers a request on the
	// requester's own channel instead of the shared one (Node: the option
	// of the same name; false by default there too, for servers older
	// than 8.1 which listen on the shared one only).
	PublishOnSpecificResponseChannel bool
	// Logger receives errors no caller sees; default slog.Default().
	Logger *slog.Logger
	// OnError, when set, hears every failure, for counting: see
	// cluster.Config.OnError (prommetrics.Metrics.ClusterError counts
	// them).
	OnError func(cluster.Error)
}

// New returns the adapter factory for socketio.Options.Adapter. The
// client may be a single-node, Sentinel (failover) or Cluster client.
func New(client redis.UniversalClient, opts *Options) adapter.Factory {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Key == "" {
		o.Key = "socket.io"
	}
	return cluster.New(cluster.Config{
		RequestTimeout: o.RequestTimeout,
		Logger:         o.Logger,
		OnError:        o.OnError,
		Transport: func(ctx context.Context, nsp, uid string, rcv cluster.Receiver) (cluster.Bus, error) {
			return subscribe(ctx, client, &o, nsp, uid, rcv)
		},
	})
}

// bus is one namespace's subscriptions and channel names.
type bus struct {
	c    redis.UniversalClient
	ps   *redis.PubSub
	opts *Options
	nsp  string
	uid  string
	rcv  cluster.Receiver
	log  *slog.Logger

	channel  string // broadcasts: channel, or channel + room + "#"
	request  string
	response string
	specific string // response + uid + "#"

	wg        sync.WaitGroup
	closeOnce sync.Once
}

func subscribe(ctx context.Context, c redis.UniversalClient, o *Options, nsp, uid string, rcv cluster.Receiver) (*bus, error) {
	b := &bus{
		c: c, opts: o, nsp: nsp, uid: uid, rcv: rcv,
		channel:  o.Key + "#" + nsp + "#",
		request:  o.Key + "-request#" + nsp + "#",
		response: o.Key + "-response#" + nsp + "#",
	}
	b.specific = b.response + uid + "#"
	b.log = o.Logger
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("namespace", nsp)
	b.ps = c.Subscribe(ctx)
	err := b.ps.PSubscribe(ctx, globEscape(b.channel)+"*")
	if err == nil {
		err = b.ps.Subscribe(ctx, b.request, b.response, b.specific)
	}
	// Wait for Redis to confirm all four subscriptions: a message
	// published after New returns must reach this server.
	for confirmed := 0; err == nil && confirmed < 4; {
		var m any
		m, err = b.ps.Receive(ctx)
		switch m := m.(type) {
		case *redis.Subscription:
			confirmed++
		case *redis.Message:
			b.dispatch(m)
		}
	}
	if err != nil {
		_ = b.ps.Close()
		return nil, err
	}
	ch := b.ps.Channel(redis.WithChannelSize(4096))
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for m := range ch {
			b.dispatch(m)
		}
	}()
	return b, nil
}

// globEscape quotes the pattern characters of a channel name, so that a
// namespace or key holding them matches only itself.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var sb strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// dispatch decodes one message and hands it to the adapter; a message that
// does not decode is logged and dropped (another server's bug must not
// stop this one).
func (b *bus) dispatch(m *redis.Message) {
	payload := []byte(m.Payload)
	switch {
	case m.Pattern != "":
		if !strings.HasPrefix(m.Channel, b.channel) {
			return
		}
		br, err := decodeBroadcast(payload)
		if err != nil {
			b.log.Warn("socketio redis adapter: dropping a malformed broadcast", "channel", m.Channel, "err", err)
			b.rcv.Malformed(err)
			return
		}
		b.rcv.OnBroadcast(br)
	case strings.HasPrefix(m.Channel, b.response):
		if id, ok := responseID(payload); ok && !b.rcv.Awaits(id) {
			return // another server's answer
		}
		r, err := decodeResponse(payload)
		if err != nil {
			b.log.Warn("socketio redis adapter: dropping a malformed response", "err", err)
			b.rcv.Malformed(err)
			return
		}
		b.rcv.OnResponse(r)
	case m.Channel == b.request:
		r, err := decodeRequest(payload)
		if err != nil {
			b.log.Warn("socketio redis adapter: dropping a malformed request", "err", err)
			b.rcv.Malformed(err)
			return
		}
		if r != nil {
			b.rcv.OnRequest(r)
		}
	}
}

func (b *bus) PublishBroadcast(ctx context.Context, br *cluster.Broadcast) error {
	msg, err := encodeBroadcast(br)
	if err != nil {
		return err
	}
	ch := b.channel
	if len(br.Rooms) == 1 {
		// Node's servers ignore a room's channel when they have no
		// socket in the room: single-room broadcasts cost them nothing.
		ch += br.Rooms[0] + "#"
	}
	return b.c.Publish(ctx, ch, msg).Err()
}

func (b *bus) PublishRequest(ctx context.Context, r *cluster.Request) error {
	msg, err := encodeRequest(r)
	if err != nil {
		return err
	}
	return b.c.Publish(ctx, b.request, msg).Err()
}

func (b *bus) PublishResponse(ctx context.Context, req *cluster.Request, r *cluster.Response) error {
	msg, err := encodeResponse(r)
	if err != nil {
		return err
	}
	ch := b.response
	// Node answers a server-side emit on the shared channel whatever the
	// option says; so do we.
	if b.opts.PublishOnSpecificResponseChannel && r.Type != cluster.ServerSideEmit {
		ch += req.UID + "#"
	}
	return b.c.Publish(ctx, ch, msg).Err()
}

// ServerCount counts the subscribers of the request channel: one per
// server, whatever its language.
func (b *bus) ServerCount(ctx context.Context) (int, error) {
	res, err := b.c.PubSubNumSub(ctx, b.request).Result()
	if err != nil {
		return 0, err
	}
	return int(res[b.request]), nil
}

func (b *bus) Close() error {
	var err error
	b.closeOnce.Do(func() {
		err = b.ps.Close()
		b.wg.Wait()
		if errors.Is(err, redis.ErrClosed) {
			err = nil
		}
	})
	return err
}
