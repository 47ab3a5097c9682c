package hostile

// expectedToFail lists the attacks, by "attack@path", that the server did
// not withstand when they were written, with the item of issue 16 that
// asks for the fix. It is the one place that says so: the package's test
// fails when a listed attack fails (as expected, it is reported) and also
// when one passes, so that each entry is removed as its fix lands.
var expectedToFail = map[string]string{
	"ws-length-2^63@goroutine":    "16.2 2^63 length header dropped without a close frame",
	"ws-invalid-utf8@goroutine":   "16.2 invalid UTF-8 text frame",
	"ws-close-1-byte@goroutine":   "16.2 1-byte close payload",
	"ws-close-bad-utf8@goroutine": "16.2 non-UTF-8 close reason",
	"ws-ping-flood@goroutine":     "16.3 ping flood not cut within WriteTimeout",

	"ws-length-2^63@deflate":    "16.2 2^63 length header dropped without a close frame",
	"ws-invalid-utf8@deflate":   "16.2 invalid UTF-8 text frame",
	"ws-close-1-byte@deflate":   "16.2 1-byte close payload",
	"ws-close-bad-utf8@deflate": "16.2 non-UTF-8 close reason",
	"ws-deflate-bomb@deflate":   "16.1 deflate bomb",
	"ws-ping-flood@deflate":     "16.3 ping flood not cut within WriteTimeout",
}

// ExpectedToFail returns the issue item for which attack is known to fail
// on path p today, or "".
func ExpectedToFail(attack string, p Path) string { return expectedToFail[attack+"@"+string(p)] }
