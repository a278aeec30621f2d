//go:build unix

package reports

import (
	"errors"
	"syscall"
)

// processGone says whether no process has this id (signal 0 checks, sends
// nothing). A process of another user still exists (EPERM).
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
