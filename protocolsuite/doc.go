// Package protocolsuite holds the servers that the official protocol test
// suites (socketio/engine.io-protocol and socketio/socket.io-protocol,
// folder test-suite/) run against, configured as their READMEs ask; see
// scripts/protocol-suites.sh.
package protocolsuite
