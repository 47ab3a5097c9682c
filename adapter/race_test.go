//go:build race

package adapter_test

// raceEnabled says the tests run under the race detector, which makes
// sync.Pool drop items on purpose.
const raceEnabled = true
