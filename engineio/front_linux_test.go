package engineio

import (
	"errors"
	"io"
	"net"
	"testing"
)

// readNow, the front's read that never waits: nothing yet is (0, nil),
// data is returned, and the peer's close is io.EOF.
func TestFrontReadNow(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rc, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fc := &frontConn{nc: nc, rc: rc}
	buf := make([]byte, 16)
	if n, err := fc.readNow(buf); n != 0 || err != nil {
		t.Fatalf("nothing sent: %d, %v; want 0, nil", n, err)
	}
	if _, err := client.Write([]byte("GET")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for len(got) < 3 {
		n, err := fc.readNow(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "GET" {
		t.Fatalf("read %q", got)
	}
	_ = client.Close()
	for {
		n, err := fc.readNow(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || n != 0 {
			t.Fatalf("after the close: %d, %v; want io.EOF", n, err)
		}
	}
}
