//go:build !unix

package index

import (
	"errors"
	"os"
	"syscall"
)

// Without flock the case is not locked against other processes.
var errWouldBlock = errors.New("would block")

func flock(*os.File, bool) error { return nil }

func isDiskFull(err error) bool { return errors.Is(err, syscall.ENOSPC) }
