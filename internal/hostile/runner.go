package hostile

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Attack is one class of malformed or abusive input.
type Attack struct {
	Name string
	// Paths are the reader paths the attack concerns; nil means all. An
	// attack on long-polling alone runs once, on the poller path: no
	// WebSocket reader is involved.
	Paths []Path
	// Settle bounds the wait for goroutines and heap to come back; nil
	// means 5 s.
	Settle func(l Limits) time.Duration
	// PeakBudget bounds the heap's growth while the attack runs; default
	// 16 MiB plus 16 × MaxPayload: room for the attacker's own buffers
	// (in-process), a few MaxPayload-sized messages per attacking
	// connection and the garbage they leave. A bomb inflated whole, or an
	// unbounded queue, goes far beyond.
	PeakBudget func(l Limits) uint64
	// HeapSlack overrides the package's HeapSlack for this attack.
	HeapSlack uint64

	run func(e *env) outcome
}

// outcome is what the attacker saw.
type outcome struct {
	ok     bool
	detail string
}

func pass(format string, a ...any) outcome { return outcome{true, fmt.Sprintf(format, a...)} }
func fail(format string, a ...any) outcome { return outcome{false, fmt.Sprintf(format, a...)} }

// env is what an attack runs with.
type env struct {
	t    *Target
	obs  *observer
	base snapshot // in-process only
}

func (a *Attack) applies(p Path) bool {
	return a.Paths == nil || slices.Contains(a.Paths, p)
}

func (a *Attack) peakBudget(l Limits) uint64 {
	if a.PeakBudget != nil {
		return a.PeakBudget(l)
	}
	return 16<<20 + 16*uint64(l.MaxPayload)
}

// Result is one attack run on one path.
type Result struct {
	Attack string
	Path   Path
	// Expected is the issue item when the attack is listed in
	// expectedToFail on this path ("16.1 deflate bomb").
	Expected string
	Pass     bool
	Skipped  string // why the attack did not run ("" when it ran)

	Answer   string // what the attacker saw
	AnswerOK bool
	// Reasons are the disconnect reasons the in-process server gave its
	// sockets during the attack ("parse error×3").
	Reasons string
	Client  string // "" when the well-behaved client still echoed and received a broadcast
	// In-process only (Measured false otherwise).
	Measured                     bool
	GoroutinesBase, Goroutines   int
	HeapBase, Heap, Peak, Budget uint64
	Near                         bool
	Took, SettleTook             time.Duration
	heapSlack                    uint64
}

// Key names the result as ExpectedToFail does: "attack@path".
func (r Result) Key() string { return r.Attack + "@" + string(r.Path) }

// String is the result's one line.
func (r Result) String() string {
	var b strings.Builder
	status := "FAIL"
	switch {
	case r.Skipped != "":
		status = "SKIP"
	case r.Pass:
		status = "PASS"
	}
	fmt.Fprintf(&b, "%s %-22s %-9s", status, r.Attack, r.Path)
	if r.Skipped != "" {
		b.WriteString(" " + r.Skipped)
		return b.String()
	}
	mark := func(ok bool) string {
		if ok {
			return ""
		}
		return "!"
	}
	fmt.Fprintf(&b, " answer%s=[%s]", mark(r.AnswerOK), r.Answer)
	if r.Reasons != "" {
		fmt.Fprintf(&b, " server-reasons=[%s]", r.Reasons)
	}
	if r.Client == "" {
		b.WriteString(" client=ok")
	} else {
		fmt.Fprintf(&b, " client!=[%s]", r.Client)
	}
	if r.Measured {
		fmt.Fprintf(&b, " goroutines%s=%d→%d heap%s=%s→%s(%s) peak%s=%s/%s settled=%s",
			mark(r.Goroutines <= r.GoroutinesBase+GoroutineSlack), r.GoroutinesBase, r.Goroutines,
			mark(r.Heap <= r.HeapBase+r.heapSlack), mib(r.HeapBase), mib(r.Heap), signedMiB(r.Heap, r.HeapBase),
			mark(r.Peak <= r.HeapBase+r.Budget), signedMiB(r.Peak, r.HeapBase), mib(r.Budget), ms(r.SettleTook))
	}
	fmt.Fprintf(&b, " took=%s", ms(r.Took))
	if r.Expected != "" {
		fmt.Fprintf(&b, " (expected to fail today: issue %s)", r.Expected)
	}
	return b.String()
}

// Config selects what Run does.
type Config struct {
	Paths  []Path         // default AllPaths
	Only   *regexp.Regexp // attack names; nil: all
	Limits Limits         // zero: DefaultLimits
	// Duration caps the run: no attack starts after it (those left are
	// reported as skipped). Zero: no cap.
	Duration time.Duration
	// External, when set, is the Engine.IO URL of a server to attack
	// instead of an in-process one; it serves NewServer's events on the
	// single path in Paths. Goroutines and heap are then not measured.
	External string
	// Report, when set, is called with each result as it comes.
	Report func(Result)
}

// Run runs the selected attacks on each selected path.
func Run(cfg Config) ([]Result, error) {
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	paths := cfg.Paths
	if len(paths) == 0 {
		paths = AllPaths
	}
	if cfg.External != "" && len(paths) != 1 {
		return nil, fmt.Errorf("hostile: an external server runs one reader path; name it (got %d)", len(paths))
	}
	var stopAt time.Time
	if cfg.Duration > 0 {
		stopAt = time.Now().Add(cfg.Duration)
	}
	var results []Result
	report := func(r Result) {
		results = append(results, r)
		if cfg.Report != nil {
			cfg.Report(r)
		}
	}
	for _, p := range paths {
		var selected []*Attack
		for _, a := range Attacks() {
			if a.applies(p) && (cfg.Only == nil || cfg.Only.MatchString(a.Name)) {
				selected = append(selected, a)
			}
		}
		if len(selected) == 0 {
			continue
		}
		var (
			t   *Target
			err error
		)
		if cfg.External != "" {
			t, err = ExternalTarget(cfg.External, p, cfg.Limits)
		} else {
			t, err = StartServer(p, cfg.Limits)
		}
		if err != nil {
			return results, err
		}
		obs, err := newObserver(t)
		if err != nil {
			t.Close()
			return results, err
		}
		if msg := obs.check(5 * time.Second); msg != "" {
			obs.close()
			t.Close()
			return results, fmt.Errorf("hostile: the well-behaved client fails before any attack on %s: %s", t, msg)
		}
		for _, a := range selected {
			if !stopAt.IsZero() && time.Now().After(stopAt) {
				report(Result{Attack: a.Name, Path: p, Expected: expectedToFail[a.Name+"@"+string(p)], Skipped: "duration cap reached"})
				continue
			}
			report(runOne(a, t, obs))
		}
		obs.close()
		t.Close()
	}
	return results, nil
}

func runOne(a *Attack, t *Target, obs *observer) Result {
	r := Result{Attack: a.Name, Path: t.Path, Measured: t.InProcess}
	r.Expected = expectedToFail[r.Key()]
	e := &env{t: t, obs: obs}
	if t.InProcess {
		// Start from a quiet server: what the previous attack left
		// settling (sessions closing on their ConnectTimeout) must not
		// count against this one.
		e.base = settle()
		t.reasons.take()
		r.GoroutinesBase, r.HeapBase = e.base.goroutines, e.base.heap
		r.Budget = a.peakBudget(t.Limits)
	}
	disconnects := obs.disconnects.Load()
	var peak *peakSampler
	if t.InProcess {
		peak = startPeak()
	}
	start := time.Now()
	out := a.run(e)
	r.Took = time.Since(start)
	if peak != nil {
		r.Peak = peak.end()
	}
	r.Answer, r.AnswerOK = out.detail, out.ok
	if t.reasons != nil {
		r.Reasons = t.reasons.take()
	}

	r.Client = obs.check(5 * time.Second)
	if n := obs.disconnects.Load() - disconnects; n > 0 {
		reason, _ := obs.lastReason.Load().(string)
		msg := "disconnected " + strconv.FormatInt(n, 10) + "× (" + reason + ")"
		if r.Client != "" {
			msg += "; " + r.Client
		}
		r.Client = msg
	}
	r.Pass = r.AnswerOK && r.Client == ""
	if t.InProcess {
		settleFor := 5 * time.Second
		if a.Settle != nil {
			settleFor = a.Settle(t.Limits)
		}
		var s snapshot
		slack := uint64(HeapSlack)
		if a.HeapSlack != 0 {
			slack = a.HeapSlack
		}
		r.heapSlack = slack
		s, r.Near, r.SettleTook = waitNear(e.base, slack, settleFor)
		r.Goroutines, r.Heap = s.goroutines, s.heap
		r.Pass = r.Pass && r.Near && r.Peak <= r.HeapBase+r.Budget
	}
	return r
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
