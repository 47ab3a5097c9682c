package redisadapter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/socketio/adapter"
	"github.com/switchboard-go/socketio/adapter/cluster"
)

// SubscriptionMode says which channels a sharded adapter listens to
// (Node: the subscriptionMode option of createShardedAdapter). Every
// server of a cluster must use the same mode.
type SubscriptionMode string

const (
	// SubscriptionDynamic, the default: one channel for the namespace,
	// plus one per public room (a room that is not a socket id) the
	// server has sockets in. A broadcast to exactly one public room
	// travels on that room's channel and reaches only the servers with a
	// socket in it.
	SubscriptionDynamic SubscriptionMode = "dynamic"
	// SubscriptionStatic: the namespace's channel and this server's
	// response channel only; every broadcast reaches every server.
	SubscriptionStatic SubscriptionMode = "static"
	// SubscriptionDynamicPrivate: as dynamic, private rooms (socket ids)
	// included, so that a message to one socket reaches only its server;
	// each connection costs a subscription.
	SubscriptionDynamicPrivate SubscriptionMode = "dynamic-private"
)

// ShardedOptions configure NewSharded.
type ShardedOptions struct {
	// ChannelPrefix prefixes every channel name; default "socket.io"
	// (Node: channelPrefix).
	ChannelPrefix string
	// SubscriptionMode; default SubscriptionDynamic (Node:
	// subscriptionMode).
	SubscriptionMode SubscriptionMode
	// RequestTimeout bounds requests waiting for other servers' answers,
	// and how long a join waits for its room's subscription; default 5 s.
	// (Node's sharded adapter waits 5 s, or a fetchSockets' own timeout.)
	RequestTimeout time.Duration
	// Logger receives errors no caller sees; default slog.Default().
	Logger *slog.Logger
	// OnError, when set, hears every failure, for counting: see
	// cluster.Config.OnError.
	OnError func(cluster.Error)
}

// NewSharded returns the factory of adapters on Redis 7 sharded pub/sub
// (SPUBLISH / SSUBSCRIBE), wire-compatible with the createShardedAdapter
// of Node's @socket.io/redis-adapter 8.3. The client may be a
// single-node, Sentinel (failover) or Cluster client; with a Cluster
// client the adapter keeps one subscription connection per hash slot it
// listens to. It panics on an unknown subscription mode.
func NewSharded(client redis.UniversalClient, opts *ShardedOptions) adapter.Factory {
	var o ShardedOptions
	if opts != nil {
		o = *opts
	}
	if o.ChannelPrefix == "" {
		o.ChannelPrefix = "socket.io"
	}
	switch o.SubscriptionMode {
	case "":
		o.SubscriptionMode = SubscriptionDynamic
	case SubscriptionDynamic, SubscriptionStatic, SubscriptionDynamicPrivate:
	default:
		panic(fmt.Sprintf("redisadapter: unknown subscription mode %q", o.SubscriptionMode))
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return cluster.New(cluster.Config{
		RequestTimeout: o.RequestTimeout,
		Logger:         o.Logger,
		OnError:        o.OnError,
		Transport: func(ctx context.Context, nsp, uid string, rcv cluster.Receiver) (cluster.Bus, error) {
			return subscribeSharded(ctx, client, &o, nsp, uid, rcv)
		},
	})
}

// shardedBus is one namespace's channels on sharded pub/sub.
type shardedBus struct {
	c       redis.UniversalClient
	cc      *redis.ClusterClient // c, when it is a Cluster client
	mode    SubscriptionMode
	nsp     string
	uid     string
	rcv     cluster.Receiver
	log     *slog.Logger
	opTime  time.Duration // bound of one subscription command
	channel string        // KEY#NSP#: broadcasts and requests; + ROOM#: one room
	resp    string        // KEY#NSP#UID#: answers to this server

	mu      sync.Mutex
	conns   map[int]*shardConn       // subscription connections by hash slot (0 without Cluster)
	rooms   map[string]bool          // rooms whose channel is subscribed (dynamic modes)
	waiting map[string]chan struct{} // channels subscribed but not yet confirmed by Redis
	ops     []subOp                  // for the subscriber goroutine, in order
	kick    chan struct{}
	msgs    chan *redis.Message // from the connections' readers to the dispatcher
	done    chan struct{}
	closed  bool
	downLog bool // an error was logged and no message came since

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// shardConn is one subscription connection and the channels it holds.
type shardConn struct {
	ps       *redis.PubSub
	channels map[string]bool
}

type subOp struct {
	sub     bool // else unsubscribe
	channel string
}

func subscribeSharded(ctx context.Context, c redis.UniversalClient, o *ShardedOptions, nsp, uid string, rcv cluster.Receiver) (*shardedBus, error) {
	b := &shardedBus{
		c: c, mode: o.SubscriptionMode, nsp: nsp, uid: uid, rcv: rcv,
		log:     o.Logger.With("namespace", nsp),
		opTime:  o.RequestTimeout,
		channel: o.ChannelPrefix + "#" + nsp + "#",
		conns:   map[int]*shardConn{},
		rooms:   map[string]bool{},
		waiting: map[string]chan struct{}{},
		kick:    make(chan struct{}, 1),
		msgs:    make(chan *redis.Message, 4096),
		done:    make(chan struct{}),
	}
	if b.opTime <= 0 {
		b.opTime = 5 * time.Second
	}
	b.resp = b.channel + uid + "#"
	b.cc, _ = c.(*redis.ClusterClient)
	b.mu.Lock()
	b.queueLocked(true, b.channel)
	b.queueLocked(true, b.resp)
	b.mu.Unlock()
	b.wg.Add(2)
	go b.subscriber()
	go b.dispatcher()
	// Both subscriptions must be confirmed: a message published after the
	// namespace is set up must reach this server.
	for _, ch := range []string{b.channel, b.resp} {
		b.mu.Lock()
		w := b.waiting[ch]
		b.mu.Unlock()
		if w == nil {
			continue
		}
		select {
		case <-w:
		case <-ctx.Done():
			_ = b.Close()
			return nil, fmt.Errorf("redisadapter: subscribing to %s: %w", ch, ctx.Err())
		}
	}
	b.mu.Lock()
	_, ok := b.waiting[b.channel]
	failed := b.downLog
	b.mu.Unlock()
	if failed || ok {
		_ = b.Close()
		return nil, errors.New("redisadapter: cannot subscribe to the namespace's channels (is Redis 7 reachable?)")
	}
	return b, nil
}

// queueLocked asks the subscriber goroutine to (un)subscribe channel; a
// subscription is awaited (SyncRooms) until Redis confirms it.
// requires b.mu
func (b *shardedBus) queueLocked(sub bool, channel string) {
	if sub {
		if _, ok := b.waiting[channel]; !ok {
			b.waiting[channel] = make(chan struct{})
		}
	} else if w, ok := b.waiting[channel]; ok {
		close(w)
		delete(b.waiting, channel)
	}
	b.ops = append(b.ops, subOp{sub, channel})
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// confirmed releases the joins waiting for channel's subscription.
func (b *shardedBus) confirmed(channel string) {
	b.mu.Lock()
	if w, ok := b.waiting[channel]; ok {
		close(w)
		delete(b.waiting, channel)
	}
	b.mu.Unlock()
}

// releaseAll releases every waiting join: Redis cannot confirm anything
// now, and local joins must not hang on it.
func (b *shardedBus) releaseAll() {
	b.mu.Lock()
	for ch, w := range b.waiting {
		close(w)
		delete(b.waiting, ch)
	}
	b.mu.Unlock()
}

// subscriber runs the (un)subscriptions in the order they were queued, off
// the callers' goroutines (room changes arrive under the adapter's lock).
func (b *shardedBus) subscriber() {
	defer b.wg.Done()
	for {
		select {
		case <-b.done:
			return
		case <-b.kick:
		}
		b.mu.Lock()
		ops := b.ops
		b.ops = nil
		b.mu.Unlock()
		for _, op := range ops {
			b.apply(op)
		}
	}
}

func (b *shardedBus) apply(op subOp) {
	ctx, cancel := context.WithTimeout(context.Background(), b.opTime)
	defer cancel()
	slot := 0
	if b.cc != nil {
		slot = hashSlot(op.channel)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	sc := b.conns[slot]
	isNew := sc == nil
	if isNew {
		if !op.sub {
			b.mu.Unlock()
			return
		}
		// No channel given: the connection is made by the first
		// SSubscribe, on the node that owns the channel's slot.
		sc = &shardConn{ps: b.c.SSubscribe(ctx), channels: map[string]bool{}}
		b.conns[slot] = sc
		// Read from it once it has a channel (below): a Cluster client
		// would connect a PubSub without channels to any node.
		b.wg.Add(1)
		defer func() { go b.receive(sc.ps) }()
	}
	if op.sub {
		sc.channels[op.channel] = true
	} else {
		delete(sc.channels, op.channel)
	}
	b.mu.Unlock()
	var err error
	if op.sub {
		err = sc.ps.SSubscribe(ctx, op.channel)
	} else {
		err = sc.ps.SUnsubscribe(ctx, op.channel)
	}
	if err != nil && !errors.Is(err, redis.ErrClosed) {
		// go-redis keeps the channel in its list and subscribes again
		// when it reconnects.
		b.logDown("socketio redis sharded adapter: cannot (un)subscribe", err, "channel", op.channel)
		if op.sub {
			b.confirmed(op.channel)
		}
	}
}

func (b *shardedBus) logDown(msg string, err error, args ...any) {
	b.mu.Lock()
	first := !b.downLog
	b.downLog = true
	b.mu.Unlock()
	if first {
		b.log.Error(msg, append(args, "err", err)...)
	}
}

func (b *shardedBus) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// healthEvery is how long a subscription connection may stay silent
// before the reader pings Redis; without a pong within as long again, the
// connection is dropped and made anew (a connection can die without a
// reset: a dead host or network).
var healthEvery = 15 * time.Second

// receive reads one subscription connection until the bus closes or the
// connection is replaced. go-redis reconnects on the next Receive after an
// error and subscribes again to every channel of the connection.
func (b *shardedBus) receive(ps *redis.PubSub) {
	defer b.wg.Done()
	backoff := 50 * time.Millisecond
	pinged := false
	for {
		m, err := ps.ReceiveTimeout(context.Background(), healthEvery)
		if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
			if b.isClosed() {
				return
			}
			if !pinged {
				pinged = true
				ctx, cancel := context.WithTimeout(context.Background(), b.opTime)
				err = ps.Ping(ctx)
				cancel()
				if err == nil {
					continue
				}
			}
			b.logDown("socketio redis sharded adapter: subscription connection silent; making it anew", err)
			b.mu.Lock()
			renewed := !b.closed && b.renewLocked(ps)
			b.mu.Unlock()
			if renewed {
				return
			}
			continue
		}
		if err != nil {
			if b.isClosed() || errors.Is(err, redis.ErrClosed) {
				return
			}
			b.logDown("socketio redis sharded adapter: subscription connection lost; reconnecting", err)
			b.releaseAll()
			select {
			case <-b.done:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		pinged = false
		b.mu.Lock()
		if b.downLog {
			b.downLog = false
			b.log.Info("socketio redis sharded adapter: subscription connection back")
		}
		b.mu.Unlock()
		switch m := m.(type) {
		case *redis.Subscription:
			switch m.Kind {
			case "ssubscribe":
				b.confirmed(m.Channel)
			case "sunsubscribe":
				b.lostSlot(ps, m.Channel)
			}
		case *redis.Message:
			select {
			case b.msgs <- m:
			case <-b.done:
				return
			}
		}
	}
}

// dispatcher hands the messages to the adapter, on a goroutine of its own:
// what the adapter does with one may join a socket to a new room, and the
// join waits for a subscription that the reader must confirm meanwhile.
func (b *shardedBus) dispatcher() {
	defer b.wg.Done()
	for {
		select {
		case <-b.done:
			return
		case m := <-b.msgs:
			b.dispatch(m.Channel, []byte(m.Payload))
		}
	}
}

// lostSlot handles a shard channel's unsubscription: when this server did
// not ask for it, Redis Cluster moved the channel's slot to another node;
// the connection of that slot is made again, on the new owner.
func (b *shardedBus) lostSlot(ps *redis.PubSub, channel string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.cc == nil {
		return
	}
	slot := hashSlot(channel)
	sc := b.conns[slot]
	if sc == nil || sc.ps != ps || !sc.channels[channel] {
		return // asked for
	}
	b.log.Warn("socketio redis sharded adapter: Redis moved a channel's slot; subscribing again", "channel", channel)
	b.renewLocked(ps)
}

// renewLocked replaces the subscription connection ps with a new one that
// the subscriber goroutine makes, for the same channels; false when ps is
// not (or no longer) one of the bus's.
// requires b.mu
func (b *shardedBus) renewLocked(ps *redis.PubSub) bool {
	for slot, sc := range b.conns {
		if sc.ps != ps {
			continue
		}
		delete(b.conns, slot)
		_ = ps.Close()
		for ch := range sc.channels {
			b.queueLocked(true, ch)
		}
		return true
	}
	return false
}

// dispatch decodes one message and hands it to the adapter; a message that
// does not decode is logged and dropped.
func (b *shardedBus) dispatch(channel string, payload []byte) {
	m, err := decodeSharded(payload)
	if err != nil {
		b.log.Warn("socketio redis sharded adapter: dropping a malformed message", "channel", channel, "err", err)
		b.rcv.Malformed(err)
		return
	}
	if m.uid == b.uid || m.nsp != b.nsp {
		return
	}
	switch {
	case m.resp != nil:
		if b.rcv.Awaits(m.resp.RequestID) {
			b.rcv.OnResponse(m.resp)
		}
	case channel == b.resp:
		// only answers are meant for this channel
	case m.br != nil:
		b.rcv.OnBroadcast(m.br)
	case m.req != nil:
		b.rcv.OnRequest(m.req)
	}
}

// looksLikeASocketID is Node's test of a private room: socket ids are 20
// characters long (ours too).
func looksLikeASocketID(room string) bool { return len(room) == 20 }

// RoomsChanged subscribes to the channels of the rooms the local index
// creates and unsubscribes from those it deletes (dynamic modes).
func (b *shardedBus) RoomsChanged(changes []adapter.RoomChange) {
	if b.mode == SubscriptionStatic {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	for _, ch := range changes {
		switch ch.Kind {
		case adapter.RoomCreated:
			if b.rooms[ch.Room] || (b.mode == SubscriptionDynamic && looksLikeASocketID(ch.Room)) {
				continue
			}
			b.rooms[ch.Room] = true
			b.queueLocked(true, b.channel+ch.Room+"#")
		case adapter.RoomDeleted:
			if b.rooms[ch.Room] {
				delete(b.rooms, ch.Room)
				b.queueLocked(false, b.channel+ch.Room+"#")
			}
		}
	}
}

// SyncRooms waits until Redis confirmed the subscriptions queued so far.
func (b *shardedBus) SyncRooms(ctx context.Context) {
	b.mu.Lock()
	if len(b.waiting) == 0 {
		b.mu.Unlock()
		return
	}
	ws := make([]chan struct{}, 0, len(b.waiting))
	for _, w := range b.waiting {
		ws = append(ws, w)
	}
	b.mu.Unlock()
	for _, w := range ws {
		select {
		case <-w:
		case <-ctx.Done():
			return
		}
	}
}

var _ cluster.RoomSubscriber = (*shardedBus)(nil)

func (b *shardedBus) publish(ctx context.Context, channel string, msg []byte) error {
	return b.c.SPublish(ctx, channel, msg).Err()
}

func (b *shardedBus) PublishBroadcast(ctx context.Context, br *cluster.Broadcast) error {
	msg, err := encodeShardedBroadcast(b.nsp, br)
	if err != nil {
		return err
	}
	return b.publish(ctx, broadcastChannel(b.channel, b.mode, br.Rooms), msg)
}

// broadcastChannel is the channel of a broadcast to rooms, under the
// namespace's channel: a room's own channel when it is the only one and
// servers of mode listen to such channels, else the namespace's. (A
// broadcast with acks is a request, on the namespace's channel: the
// sender counts the answers of every server.)
func broadcastChannel(nspChannel string, mode SubscriptionMode, rooms []string) string {
	if len(rooms) == 1 && (mode == SubscriptionDynamicPrivate ||
		(mode == SubscriptionDynamic && !looksLikeASocketID(rooms[0]))) {
		return nspChannel + rooms[0] + "#"
	}
	return nspChannel
}

func (b *shardedBus) PublishRequest(ctx context.Context, r *cluster.Request) error {
	msg, err := encodeShardedRequest(b.nsp, r)
	if err != nil {
		return err
	}
	return b.publish(ctx, b.channel, msg)
}

func (b *shardedBus) PublishResponse(ctx context.Context, req *cluster.Request, r *cluster.Response) error {
	msg, err := encodeShardedResponse(b.uid, b.nsp, r)
	if err != nil {
		return err
	}
	return b.publish(ctx, b.channel+req.UID+"#", msg)
}

// ServerCount counts the subscribers of the namespace's channel, on the
// node that owns its slot: every server subscribes to it once.
func (b *shardedBus) ServerCount(ctx context.Context) (int, error) {
	var c redis.Cmdable = b.c
	if b.cc != nil {
		node, err := b.cc.MasterForKey(ctx, b.channel)
		if err != nil {
			return 0, err
		}
		c = node
	}
	res, err := c.PubSubShardNumSub(ctx, b.channel).Result()
	if err != nil {
		return 0, err
	}
	return int(res[b.channel]), nil
}

func (b *shardedBus) Close() error {
	var errs []error
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		close(b.done)
		conns := b.conns
		b.conns = nil
		for ch, w := range b.waiting {
			close(w)
			delete(b.waiting, ch)
		}
		b.mu.Unlock()
		for _, sc := range conns {
			if err := sc.ps.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
				errs = append(errs, err)
			}
		}
		b.wg.Wait()
	})
	return errors.Join(errs...)
}

// hashSlot is Redis Cluster's slot of a key (or channel): CRC16 (XMODEM)
// of the key, or of its hash tag (the text between the first { and the
// next }, when not empty), modulo 16384.
func hashSlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
