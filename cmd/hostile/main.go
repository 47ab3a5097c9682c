// Command hostile attacks a Socket.IO server of this module as a hostile
// client would: forged sessions, malformed and oversized WebSocket frames,
// deflate bombs, nesting bombs, bad attachments, floods of handshakes,
// pings and broadcasts, and more (see internal/hostile). After each attack
// it checks the attacker's answer (status or close code), that a
// well-behaved client connected throughout still echoes and receives
// broadcasts, and, for the in-process server it starts by default, that
// goroutines and heap come back near their baseline.
//
//	hostile [-only REGEXP] [-paths poller,goroutine,deflate] [-duration 5m]
//	hostile -serve 127.0.0.1:3000 -paths goroutine    # the test server alone
//	hostile -url http://127.0.0.1:3000/socket.io/ -paths goroutine
//
// It prints one line per attack and reader path, PASS or FAIL with the
// numbers measured, and exits with status 1 if any attack failed (those
// known to fail today included: they are marked "expected to fail today"
// with their issue item).
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-go/socketio/internal/hostile"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hostile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("only", "", "run only the attacks whose name matches this regexp")
	paths := fs.String("paths", "poller,goroutine,deflate", "reader paths to attack: poller (default engine), goroutine (DisablePoller), deflate (PerMessageDeflate)")
	duration := fs.Duration("duration", 5*time.Minute, "start no attack after this long (those left are reported as SKIP)")
	target := fs.String("url", "", "attack the server at this Engine.IO URL instead of an in-process one; it must be what -serve runs, on the one path given with -paths (goroutines and heap are then not measured)")
	serve := fs.String("serve", "", "only serve the test server at this address, on the one path given with -paths, until interrupted")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hostile [flags]\n\nattacks:")
		for _, a := range hostile.Attacks() {
			fmt.Fprintf(stderr, " %s", a.Name)
		}
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}

	cfg := hostile.Config{Duration: *duration, External: *target}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintln(stderr, "hostile: -only:", err)
			return 2
		}
		cfg.Only = re
	}
	for _, p := range strings.Split(*paths, ",") {
		p = strings.TrimSpace(p)
		switch hostile.Path(p) {
		case hostile.PathPoller, hostile.PathGoroutine, hostile.PathDeflate:
			cfg.Paths = append(cfg.Paths, hostile.Path(p))
		case "":
		default:
			fmt.Fprintf(stderr, "hostile: -paths: unknown path %q\n", p)
			return 2
		}
	}
	if *serve != "" {
		if len(cfg.Paths) != 1 {
			fmt.Fprintln(stderr, "hostile: -serve needs exactly one path in -paths")
			return 2
		}
		mux := http.NewServeMux()
		mux.Handle("/socket.io/", hostile.NewServer(cfg.Paths[0], hostile.DefaultLimits))
		fmt.Fprintf(stdout, "serving the %s path at http://%s/socket.io/\n", cfg.Paths[0], *serve)
		// No timeouts, as the README's examples: what the attacks test.
		err := http.ListenAndServe(*serve, mux) //nolint:gosec
		fmt.Fprintln(stderr, "hostile:", err)
		return 2
	}
	failed := 0
	cfg.Report = func(r hostile.Result) {
		fmt.Fprintln(stdout, r)
		if !r.Pass && r.Skipped == "" {
			failed++
		}
	}
	if _, err := hostile.Run(cfg); err != nil {
		fmt.Fprintln(stderr, "hostile:", err)
		return 2
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d FAIL\n", failed)
		return 1
	}
	return 0
}
