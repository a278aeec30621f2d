package memlimit

import (
	"runtime/debug"
	"testing"
)

func current() int64 { return debug.SetMemoryLimit(-1) }

// TestBeside: memory reserved beside Go's heap lowers the soft limit until
// released, once; a limit the user set is left alone.
func TestBeside(t *testing.T) {
	defer debug.SetMemoryLimit(current())
	mu.Lock()
	applied, reserved = false, 0
	mu.Unlock()
	debug.SetMemoryLimit(1 << 40)
	release := Beside(100 << 20)
	if got := current(); got != 1<<40 {
		t.Fatalf("the user's limit changed to %d", got)
	}
	release()

	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	Apply()
	defer debug.SetGCPercent(100)
	if got := current(); got != Default {
		t.Fatalf("limit %d, want %d", got, Default)
	}
	r1 := Beside(100 << 20)
	r2 := Beside(50 << 20)
	if got := current(); got != Default-150<<20 {
		t.Fatalf("with two reservations: %d, want %d", got, Default-150<<20)
	}
	r1()
	r1() // a second release gives nothing back twice
	if got := current(); got != Default-50<<20 {
		t.Fatalf("after one release: %d, want %d", got, Default-50<<20)
	}
	r2()
	if got := current(); got != Default {
		t.Fatalf("after both: %d, want %d", got, Default)
	}
	r3 := Beside(Default)
	if got := current(); got != Default/4 {
		t.Fatalf("reserving everything: %d, want the floor %d", got, Default/4)
	}
	r3()
}
