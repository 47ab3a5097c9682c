package clientbundle

import (
	"bytes"
	"compress/gzip"
	"io"
	"slices"
	"testing"
)

func TestFilesAreTheReferenceSet(t *testing.T) {
	names := Names()
	slices.Sort(names)
	want := []string{
		"socket.io.esm.min.js", "socket.io.esm.min.js.map",
		"socket.io.js", "socket.io.js.map",
		"socket.io.min.js", "socket.io.min.js.map",
		"socket.io.msgpack.min.js", "socket.io.msgpack.min.js.map",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("files %q, want %q", names, want)
	}
	if _, ok := Lookup("socket.io.js.gz"); ok {
		t.Error("Lookup found the stored name socket.io.js.gz")
	}
}

// Each file decompresses to its recorded size, and each script carries the
// banner of the version recorded in VERSION.
func TestFilesMatchVersion(t *testing.T) {
	if Version == "" {
		t.Fatal("VERSION is empty")
	}
	for _, name := range Names() {
		f, _ := Lookup(name)
		zr, err := gzip.NewReader(bytes.NewReader(f.Gzip))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if int64(len(plain)) != f.Size {
			t.Errorf("%s: %d bytes, Size says %d", name, len(plain), f.Size)
		}
		if f.Map != (name[len(name)-4:] == ".map") {
			t.Errorf("%s: Map is %v", name, f.Map)
		}
		if !f.Map && !bytes.Contains(plain[:min(len(plain), 200)], []byte(" * Socket.IO v"+Version+"\n")) {
			t.Errorf("%s does not start with the banner of Socket.IO v%s: %q", name, Version, plain[:min(len(plain), 80)])
		}
	}
}
