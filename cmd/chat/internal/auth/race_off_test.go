//go:build !race

package auth

const raceBuild = false
