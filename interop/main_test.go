package interop_test

import (
	"testing"

	"github.com/switchboard-go/socketio/internal/leakcheck"
)

// Every server a test starts must be gone, with all its goroutines, when
// the tests end.
func TestMain(m *testing.M) { leakcheck.Main(m) }
