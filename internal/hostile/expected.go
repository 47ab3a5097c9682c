package hostile

// expectedToFail lists the attacks, by "attack@path", that the server did
// not withstand when they were written, with the item of issue 16 that
// asks for the fix. It is the one place that says so: the package's test
// fails when a listed attack fails (as expected, it is reported) and also
// when one passes, so that each entry is removed as its fix lands.
var expectedToFail = map[string]string{
	// Empty: every attack of issue 16 is withstood on every path.
}

// ExpectedToFail returns the issue item for which attack is known to fail
// on path p today, or "".
func ExpectedToFail(attack string, p Path) string { return expectedToFail[attack+"@"+string(p)] }
