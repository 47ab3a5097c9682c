package interop_test

import (
	"os"
	"testing"

	"github.com/switchboard-go/socketio/internal/leakcheck"
)

// Every server a test starts must be gone, with all its goroutines, when
// the tests end; the certificate file the Node peers trusted goes too.
func TestMain(m *testing.M) {
	code := leakcheck.Run(m)
	removeTestCA()
	os.Exit(code)
}
