package index

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A case is the chain of custody: two processes writing it at once would
// each save a manifest missing the other's evidence while both files' events
// reach the index. So a case is locked — shared by readers, exclusive by
// writers — and a process that finds it busy says who holds it and waits
// only when asked to (WaitBusy).

// WaitBusy makes opening a busy case wait for it instead of failing.
var WaitBusy bool

// OnWait, when set, is told once that the process is waiting for a case.
var OnWait func(msg string)

const lockName = ".lock"

// BusyError says that another process holds the case.
type BusyError struct {
	Dir    string
	Holder string // who writes it, as that process recorded it; empty for readers
	Write  bool   // this process wanted to write
}

func (e *BusyError) who() string {
	if e.Holder != "" {
		return e.Holder + " is writing it"
	}
	return "another exfiltrace process is reading it"
}

func (e *BusyError) Error() string {
	what := "read"
	if e.Write {
		what = "write"
	}
	return fmt.Sprintf("case %s is busy: %s; this command needs to %s it — run it again when that ends, or add --wait", e.Dir, e.who(), what)
}

func (e *BusyError) waiting() string {
	return fmt.Sprintf("case %s is busy: %s; waiting for it to end", e.Dir, e.who())
}

// holder is what an exclusive holder writes into the lock file.
type holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

func (h holder) String() string {
	return fmt.Sprintf("`%s` (pid %d, since %s)", h.Command, h.PID, h.Since.Format("2006-01-02 15:04:05 UTC"))
}

type caseLock struct {
	f                 *os.File
	shared, exclusive bool
}

// lock takes the case's lock, shared or exclusive. A read-only case
// directory (evidence reviewed from read-only media) is read unlocked.
func (c *Case) lock(exclusive bool) error {
	if c.lk == nil {
		f, err := os.OpenFile(filepath.Join(c.Dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			if !exclusive {
				return nil
			}
			return fmt.Errorf("case %s: %w", c.Dir, err)
		}
		c.lk = &caseLock{f: f}
	}
	if c.lk.exclusive || (!exclusive && c.lk.shared) {
		return nil
	}
	waited := false
	for {
		err := flock(c.lk.f, exclusive)
		if err == nil {
			break
		}
		if !errors.Is(err, errWouldBlock) {
			return fmt.Errorf("case %s: lock: %w", c.Dir, err)
		}
		busy := &BusyError{Dir: c.Dir, Holder: c.lk.holder(), Write: exclusive}
		if !WaitBusy {
			if exclusive && c.lk.shared {
				// A failed upgrade may have dropped the shared lock.
				_ = flock(c.lk.f, false)
			}
			return busy
		}
		if !waited && OnWait != nil {
			OnWait(busy.waiting())
		}
		waited = true
		time.Sleep(200 * time.Millisecond)
	}
	c.lk.shared = !exclusive
	if exclusive {
		c.lk.exclusive = true
		h := holder{PID: os.Getpid(), Command: commandLine(), Since: time.Now().UTC()}
		b, _ := json.Marshal(h)
		if err := c.lk.f.Truncate(0); err == nil {
			_, _ = c.lk.f.WriteAt(b, 0)
		}
	}
	return nil
}

func (l *caseLock) holder() string {
	b := make([]byte, 4096)
	n, _ := l.f.ReadAt(b, 0)
	var h holder
	if n == 0 || json.Unmarshal(b[:n], &h) != nil || h.PID == 0 {
		return ""
	}
	return h.String()
}

func commandLine() string {
	args := append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...)
	s := strings.Join(args, " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ForWriting makes the case writable by this process: the lock becomes
// exclusive and the manifest is read again, since another writer may have
// changed it before the lock was ours.
func (c *Case) ForWriting() error {
	if c.lk != nil && c.lk.exclusive {
		return nil
	}
	if err := c.lock(true); err != nil {
		return err
	}
	return c.load()
}

// Writing runs fn with the case held for writing — a query that must first
// build what it reads — and gives the lock back afterwards when this process
// was only reading the case.
func (c *Case) Writing(fn func() error) error {
	reading := !c.Writable()
	if err := c.ForWriting(); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	if reading {
		return c.forReading()
	}
	return nil
}

// Writable reports whether this process holds the case for writing.
func (c *Case) Writable() bool { return c.lk != nil && c.lk.exclusive }

// forReading gives the write lock back once writing is done (a query that
// first built what it needed), so other readers are not kept waiting.
func (c *Case) forReading() error {
	if c.lk == nil || !c.lk.exclusive {
		return nil
	}
	_ = c.lk.f.Truncate(0)
	c.lk.exclusive = false
	if err := flock(c.lk.f, false); err != nil {
		c.lk.shared = false
		return &BusyError{Dir: c.Dir, Holder: c.lk.holder()}
	}
	c.lk.shared = true
	return nil
}

// Close releases the case's lock; the case is not used afterwards.
func (c *Case) Close() error {
	if c.lk == nil {
		return nil
	}
	if c.lk.exclusive {
		_ = c.lk.f.Truncate(0) // no stale holder named after this process
	}
	err := c.lk.f.Close() // closing releases the flock
	c.lk = nil
	return err
}

// DiskFull turns a write refused for lack of space into what the analyst
// must know: what the case still holds and that running the same command
// again after freeing space completes it without doubling anything. Other
// errors are returned as they are. Engines that report space as text
// (DuckDB) are recognised by their wording.
func (c *Case) DiskFull(err error) error {
	if err == nil {
		return nil
	}
	s := strings.ToLower(err.Error())
	if !isDiskFull(err) && !strings.Contains(s, "no space left") && !strings.Contains(s, "disk quota") && !strings.Contains(s, "file too large") {
		return err
	}
	done := 0
	if c.Manifest != nil {
		done = len(c.Manifest.Files)
	}
	return fmt.Errorf("case %s: the disk is full (%w); the case still opens and holds the %d evidence files completed before — free space (or move the case) and run the same command again: finished files are skipped, the rest is done once", c.Dir, err, done)
}
