// Command hostile attacks a Socket.IO server of this module as a hostile
// client would: forged sessions, malformed and oversized WebSocket frames,
// deflate bombs, nesting bombs, bad attachments, floods of handshakes,
// pings and broadcasts, and more (see internal/hostile). After each attack
// it checks the attacker's answer (status or close code), that a
// well-behaved client connected throughout still echoes and receives
// broadcasts, and, for the in-process server it starts by default, that
// goroutines and heap come back near their baseline.
//
//	hostile [-only REGEXP] [-paths poller,goroutine,deflate] [-duration 2m] [-url URL]
//
// It prints one line per attack and reader path, PASS or FAIL with the
// numbers measured, and exits with status 1 if any attack failed.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-go/socketio/internal/hostile"
)

func main() {
	only := flag.String("only", "", "run only the attacks whose name matches this regexp")
	paths := flag.String("paths", "poller,goroutine,deflate", "reader paths to attack: poller (default engine), goroutine (DisablePoller), deflate (PerMessageDeflate)")
	duration := flag.Duration("duration", 5*time.Minute, "start no attack after this long (those left are reported as SKIP)")
	target := flag.String("url", "", "attack the server at this Engine.IO URL (http://host:port/socket.io/) instead of an in-process one; it must serve hostile.NewServer's events with hostile.DefaultLimits, on the one path given with -paths")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: hostile [flags]\n\nattacks:")
		for _, a := range hostile.Attacks() {
			fmt.Fprintf(flag.CommandLine.Output(), " %s", a.Name)
		}
		fmt.Fprintln(flag.CommandLine.Output())
		flag.PrintDefaults()
	}
	flag.Parse()

	cfg := hostile.Config{Duration: *duration, External: *target}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hostile: -only:", err)
			os.Exit(2)
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
			fmt.Fprintf(os.Stderr, "hostile: -paths: unknown path %q\n", p)
			os.Exit(2)
		}
	}
	failed := 0
	cfg.Report = func(r hostile.Result) {
		fmt.Println(r)
		if !r.Pass && r.Skipped == "" {
			failed++
		}
	}
	if _, err := hostile.Run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(2)
	}
	if failed > 0 {
		fmt.Printf("%d FAIL\n", failed)
		os.Exit(1)
	}
}
