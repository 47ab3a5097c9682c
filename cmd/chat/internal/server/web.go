package server

import "embed"

// webFS is the page: plain HTML, CSS and JavaScript, no build step; the
// Socket.IO client comes from the library (/socket.io/socket.io.js).
//
//go:embed web
var webFS embed.FS
