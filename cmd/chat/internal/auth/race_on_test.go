//go:build race

package auth

// raceBuild: under the race detector one argon2id with the default
// parameters takes over a second, so timing tests run fewer rounds.
const raceBuild = true
