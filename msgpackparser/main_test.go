package msgpackparser

import (
	"testing"

	"github.com/switchboard-go/socketio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
