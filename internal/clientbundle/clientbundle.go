// Package clientbundle holds the official Socket.IO browser client that the
// server serves at <path>socket.io.js and its siblings, as the Node.js
// reference server does (Node: serveClient). The files are those of the
// socket.io-client npm package that interop/node/package-lock.json pins,
// stored gzip-compressed (310 KB instead of 1.2 MB in every binary):
// scripts/update-client-bundle.sh writes them and VERSION,
// scripts/check-client-bundle.sh fails when they drift from the lockfile.
// The client is MIT-licensed; see LICENSE-socket.io-client.
package clientbundle

import (
	"embed"
	"encoding/binary"
	"strings"
)

// The reference server's CLIENT_FILES (socket.io/lib/index.ts), each
// named here so that a missing one fails the build.
//
//go:embed dist/socket.io.esm.min.js.gz dist/socket.io.esm.min.js.map.gz
//go:embed dist/socket.io.js.gz dist/socket.io.js.map.gz
//go:embed dist/socket.io.min.js.gz dist/socket.io.min.js.map.gz
//go:embed dist/socket.io.msgpack.min.js.gz dist/socket.io.msgpack.min.js.map.gz
var dist embed.FS

//go:embed VERSION
var version string

// Version is the socket.io-client version of the files, e.g. "4.8.4".
var Version = strings.TrimSpace(version)

// File is one file of the client.
type File struct {
	Gzip []byte // the file, gzip-compressed
	Size int64  // its length uncompressed
	Map  bool   // a source map (JSON), not JavaScript
}

var files = load()

func load() map[string]File {
	entries, err := dist.ReadDir("dist")
	if err != nil {
		panic("clientbundle: " + err.Error())
	}
	m := make(map[string]File, len(entries))
	for _, e := range entries {
		gz, err := dist.ReadFile("dist/" + e.Name())
		if err != nil || len(gz) < 18 {
			panic("clientbundle: " + e.Name() + " is not a gzip file")
		}
		name := strings.TrimSuffix(e.Name(), ".gz")
		m[name] = File{
			Gzip: gz,
			// A gzip member ends with the input's length modulo 2^32
			// (RFC 1952, ISIZE); the files are far below 4 GiB.
			Size: int64(binary.LittleEndian.Uint32(gz[len(gz)-4:])),
			Map:  strings.HasSuffix(name, ".map"),
		}
	}
	return m
}

// Lookup returns the file of that name ("socket.io.js", ...), and false
// for any other name.
func Lookup(name string) (File, bool) {
	f, ok := files[name]
	return f, ok
}

// Names lists the files, in no particular order.
func Names() []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	return names
}
