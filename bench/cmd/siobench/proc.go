package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux platform Go supports.
const clockTick = 100

// procCPUSplit returns the user and the system (kernel) CPU time a process
// has used so far, from /proc/PID/stat (all its threads).
func procCPUSplit(pid int) (user, sys time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name may contain spaces; fields resume after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return time.Duration(ut) * time.Second / clockTick, time.Duration(st) * time.Second / clockTick, nil
}

// procRSS returns the resident set size in KiB (VmRSS of /proc/PID/status).
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// selfCPU returns this process's CPU time (user+system, all threads) with
// microsecond resolution.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// coreBusy returns the busy time (everything but idle and iowait,
// softirq included) of the listed CPUs, from /proc/stat. On loopback the
// kernel does much of the network work in softirq on the sending core, which
// /proc/PID/stat does not charge to the process; with the server pinned,
// its core's busy time is the fuller cost.
func coreBusy(cpus []int) time.Duration {
	if len(cpus) == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	var total int64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil || !slices.Contains(cpus, n) {
			continue
		}
		for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
			if i == 3 || i == 4 {
				continue
			}
			x, _ := strconv.ParseInt(v, 10, 64)
			total += x
		}
	}
	return time.Duration(total) * time.Second / clockTick
}

// serverCores lists the CPUs the server is pinned to (-server-cpus).
var serverCores []int

// cpuMeter samples the server's and the generator's CPU over a window.
// With several server processes (the nodes of a cluster), server is their
// sum and each lists them one by one.
type cpuMeter struct {
	pids             []int
	t0               time.Time
	server0          []time.Duration
	sys0             []time.Duration
	sys              time.Duration // the system (kernel) part of server
	self0            time.Duration
	core0, core      time.Duration
	serverErr        error
	wall, server, me time.Duration
	each             []time.Duration
}

func startCPU(pids ...int) *cpuMeter {
	m := &cpuMeter{t0: time.Now(), self0: selfCPU(), core0: coreBusy(serverCores)}
	for _, pid := range pids {
		if pid <= 0 {
			continue
		}
		u, sys, err := procCPUSplit(pid)
		if err != nil && m.serverErr == nil {
			m.serverErr = err
		}
		m.pids = append(m.pids, pid)
		m.server0 = append(m.server0, u+sys)
		m.sys0 = append(m.sys0, sys)
	}
	return m
}

func (m *cpuMeter) stop() {
	m.wall = time.Since(m.t0)
	m.me = selfCPU() - m.self0
	m.core = coreBusy(serverCores) - m.core0
	if m.serverErr != nil {
		return
	}
	m.each = make([]time.Duration, len(m.pids))
	for i, pid := range m.pids {
		u, sys, err := procCPUSplit(pid)
		if err != nil {
			m.serverErr, m.server, m.sys, m.each = err, 0, 0, nil
			return
		}
		m.each[i] = u + sys - m.server0[i]
		m.server += m.each[i]
		m.sys += sys - m.sys0[i]
	}
}

// serverUtil and selfUtil are the CPU used over the window as a fraction
// of one core.
func (m *cpuMeter) serverUtil() float64 { return m.server.Seconds() / m.wall.Seconds() }
func (m *cpuMeter) selfUtil() float64   { return m.me.Seconds() / m.wall.Seconds() }

// perOp returns CPU microseconds per operation.
func perOp(d time.Duration, ops int64) float64 {
	if ops <= 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / 1e3 / float64(ops)
}
