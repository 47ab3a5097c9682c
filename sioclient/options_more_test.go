package sioclient

import (
	"testing"
	"time"
)

// Options as documented: a RandomizationFactor between 0 and 1 is kept,
// above 1 means 1; a ReconnectionDelayMax below the delay is raised to it,
// one above is kept; a Path keeps its leading slash; positive values are
// kept.
func TestConfigKeepsAndClamps(t *testing.T) {
	c := newConfig(&Options{
		Path: "/io/", RandomizationFactor: 0.25, ReconnectionDelay: time.Second,
		ReconnectionDelayMax: 2 * time.Second, Timeout: time.Minute, MaxBufferBytes: 7,
	})
	if c.Path != "/io/" || c.RandomizationFactor != 0.25 || c.ReconnectionDelayMax != 2*time.Second ||
		c.Timeout != time.Minute || c.MaxBufferBytes != 7 || c.ReconnectionDelay != time.Second {
		t.Errorf("kept: %+v", c.Options)
	}
	c = newConfig(&Options{RandomizationFactor: 3, ReconnectionDelay: 3 * time.Second, ReconnectionDelayMax: time.Second})
	if c.RandomizationFactor != 1 || c.ReconnectionDelayMax != 3*time.Second {
		t.Errorf("clamped: %+v", c.Options)
	}
}
