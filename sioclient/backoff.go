package sioclient

import (
	"math"
	"math/rand/v2"
	"time"
)

// backoff computes reconnection delays as the reference client does: the
// n-th attempt (from 0) waits min·2ⁿ, moved up or down (a coin flip) by a
// random part of at most jitter·min·2ⁿ, and capped at max. The cap applies
// after the jitter, so late attempts wait exactly max. (The reference
// derives the coin from the same random number as the deviation; an
// independent coin gives the same spread without the correlation.)
//
// Not safe for concurrent use; the Manager guards it with its lock.
type backoff struct {
	min, max time.Duration
	jitter   float64 // in [0, 1]
	attempts int
	rand     func() float64 // [0, 1); rand.Float64 unless a test replaces it
}

func (b *backoff) duration() time.Duration {
	// The exponent stops at 64: min·2⁶⁴ is past any Duration already, and
	// past about 2¹⁰⁰⁰ the product would be +Inf, which the jitter turns
	// into NaN (Inf - Inf) and a NaN into a garbage delay: a client that
	// kept retrying for hours would then reconnect in a tight loop.
	exp := float64(b.min) * math.Pow(2, float64(min(b.attempts, 64)))
	b.attempts++
	if b.jitter > 0 {
		r := b.random()
		deviation := math.Floor(r * b.jitter * exp)
		if b.random() < 0.5 {
			exp -= deviation
		} else {
			exp += deviation
		}
	}
	// Compared in float64 first: min·2ⁿ overflows a Duration after a few
	// dozen attempts.
	if exp >= float64(b.max) {
		return b.max
	}
	return time.Duration(exp)
}

func (b *backoff) random() float64 {
	if b.rand != nil {
		return b.rand()
	}
	return rand.Float64()
}

func (b *backoff) reset() { b.attempts = 0 }
