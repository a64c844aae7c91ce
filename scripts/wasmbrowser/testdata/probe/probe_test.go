// Package probe is a test binary for wasmbrowser's own test.
package probe

import (
	"syscall/js"
	"testing"
)

// TestWhere logs the user agent, which node (process, no navigator)
// cannot give, and fails when asked to.
func TestWhere(t *testing.T) {
	t.Log("userAgent:", js.Global().Get("navigator").Get("userAgent").String())
}

func TestFails(t *testing.T) {
	t.Fatal("failing on purpose")
}
