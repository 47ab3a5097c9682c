// Command ticker is a live stock ticker: it simulates prices and pushes
// every change to the clients that follow the symbol, many times a second.
//
//   - A client follows a symbol with "subscribe" (its acknowledgement is
//     the latest quote, or an error for an unknown symbol) and stops with
//     "unsubscribe"; each symbol is a room.
//   - Every -every (default 50ms) each price moves, and a "price" event
//     {"symbol", "price", "seq", "time"} goes to the symbol's room as a
//     volatile broadcast: a client that is behind misses quotes instead
//     of queueing them, since the next one supersedes them anyway, and
//     seq, which counts the quotes of the symbol, tells it how many it
//     missed. A client that keeps up gets every one.
//   - / is a dashboard; GET /stats counts the clients and the quotes
//     dropped for clients that were behind.
//
// Run it with
//
//	go run ./examples/ticker [-addr 127.0.0.1:3001] [-every 50ms]
//
// and open the address it prints.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-go/socketio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3001", "`host:port` to listen on; \":3001\" for every interface")
	every := flag.Duration("every", 50*time.Millisecond, "how often each price moves")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, *every, log.Default()); err != nil {
		log.Fatal(err)
	}
}

// run serves the ticker on addr until ctx is done.
func run(ctx context.Context, addr string, every time.Duration, logger *log.Logger) error {
	if every <= 0 {
		return errors.New("-every must be positive")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	m := newMarket()
	io := newServer(m)
	srv := &http.Server{Handler: handler(io), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go m.run(ctx, io, every)
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = io.Shutdown(shutdown)
		_ = srv.Shutdown(shutdown)
	}()
	logger.Printf("ticker on http://%s", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// quote is one price of one symbol.
type quote struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	Seq    uint64  `json:"seq"`  // 1 for the symbol's first quote, then +1 each
	Time   int64   `json:"time"` // Unix milliseconds
}

// market holds the latest quote of each symbol.
type market struct {
	mu     sync.Mutex
	quotes map[string]quote
}

// symbols and their opening prices (made up).
var symbols = map[string]float64{"AAPL": 190, "AMZN": 180, "GOOG": 170, "MSFT": 420, "NVDA": 120, "TSLA": 250}

func newMarket() *market {
	m := &market{quotes: map[string]quote{}}
	for s, p := range symbols {
		m.quotes[s] = quote{Symbol: s, Price: p, Time: time.Now().UnixMilli()}
	}
	return m
}

func (m *market) latest(symbol string) (quote, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.quotes[symbol]
	return q, ok
}

// run moves every price each period and sends the quotes, until ctx is
// done.
func (m *market) run(ctx context.Context, io *socketio.Server, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			for _, q := range m.move(now) {
				_ = io.To(q.Symbol).Volatile().Emit("price", q)
			}
		}
	}
}

// move takes each price one random step (at most 0.1%), to the cent.
func (m *market) move(now time.Time) []quote {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]quote, 0, len(m.quotes))
	for s, q := range m.quotes {
		q.Price = math.Round(q.Price*(1+(rand.Float64()-0.5)/500)*100) / 100
		q.Seq++
		q.Time = now.UnixMilli()
		m.quotes[s] = q
		out = append(out, q)
	}
	return out
}

func newServer(m *market) *socketio.Server {
	io := socketio.NewServer(nil)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("subscribe", socketio.TypedAck1(func(e *socketio.Event, symbol string) (quote, error) {
			if _, ok := symbols[symbol]; !ok {
				return quote{}, errors.New("unknown symbol " + symbol)
			}
			// Join, then read: a quote sent in between arrives twice
			// rather than not at all.
			s.Join(symbol)
			q, _ := m.latest(symbol)
			return q, nil
		}))
		s.On("unsubscribe", socketio.Typed1(func(e *socketio.Event, symbol string) {
			s.Leave(symbol)
		}))
	})
	return io
}

func handler(io *socketio.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		st := io.Engine().Stats()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"clients": st.Connections, "dropped": st.VolatileDropped})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	return mux
}

// page lists the symbols; a click follows one or stops following it.
var page = `<!doctype html>
<meta charset="utf-8">
<title>ticker</title>
<link rel="icon" href="data:,">
<style>td{padding:0 1em;font:16px monospace} .up{color:green} .down{color:red}</style>
<p>Click a symbol to follow it or stop.</p>
<table id="quotes"></table>
<script src="/socket.io/socket.io.js"></script>
<script>
  const symbols = ` + mustJSON(slices.Sorted(maps.Keys(symbols))) + `;
  const socket = io();
  const rows = {};
  for (const s of symbols) {
    const tr = document.createElement('tr');
    tr.innerHTML = '<td><a href="#"></a></td><td class="price">-</td><td class="missed"></td>';
    tr.querySelector('a').textContent = s;
    document.getElementById('quotes').appendChild(tr);
    const row = rows[s] = { tr, on: false, seq: 0, price: 0, missed: 0 };
    tr.querySelector('a').addEventListener('click', async (e) => {
      e.preventDefault();
      row.on = !row.on;
      if (!row.on) { socket.emit('unsubscribe', s); tr.querySelector('.price').textContent = '-'; return; }
      show(await socket.emitWithAck('subscribe', s));
    });
  }
  function show(q) {
    const row = rows[q.symbol];
    if (!row || !row.on || q.seq <= row.seq) return;
    if (row.seq) row.missed += q.seq - row.seq - 1;
    const cell = row.tr.querySelector('.price');
    cell.className = 'price ' + (q.price >= row.price ? 'up' : 'down');
    cell.textContent = q.price.toFixed(2);
    row.tr.querySelector('.missed').textContent = row.missed ? row.missed + ' missed' : '';
    row.seq = q.seq; row.price = q.price;
  }
  socket.on('price', show);
  socket.on('connect', () => { for (const s of symbols) if (rows[s].on) socket.emit('subscribe', s); });
</script>`

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
