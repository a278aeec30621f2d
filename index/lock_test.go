//go:build unix

package index

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// The helper process is this test binary run again with EXFILTRACE_HELPER
// set: a second process, as a second analyst's command would be.
func TestMain(m *testing.M) {
	switch os.Getenv("EXFILTRACE_HELPER") {
	case "":
		os.Exit(m.Run())
	case "hold":
		// Hold the case for writing until stdin closes.
		c, err := OpenCase(os.Getenv("EXFILTRACE_CASE"), true)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("holding")
		bufio.NewReader(os.Stdin).ReadString('\n')
		c.Close()
	case "ingest-small-disk":
		// Files may not grow past the limit: writes fail as on a full disk.
		limit, _ := strconv.ParseUint(os.Getenv("EXFILTRACE_FSIZE"), 10, 64)
		signal.Ignore(syscall.SIGXFSZ)
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
			fmt.Println("error: setrlimit:", err)
			os.Exit(1)
		}
		c, err := OpenCase(os.Getenv("EXFILTRACE_CASE"), true)
		if err == nil {
			_, err = Ingest(c, []string{os.Getenv("EXFILTRACE_EVIDENCE")}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}, Workers: 1})
		}
		b, _ := json.Marshal(map[string]string{"error": fmt.Sprint(err)})
		fmt.Println(string(b))
	case "ingest-killed-among-many":
		// Killed a second after some files were recorded, with more
		// finished but not yet recorded.
		ingestUntilKilled(func(n int) {
			switch n {
			case 100:
				time.Sleep(1100 * time.Millisecond) // the next file's end records a group
			case 200:
				os.Exit(3)
			}
		})
	case "ingest-killed":
		// Killed mid-file, after some events were stored and batches indexed.
		ingestUntilKilled(func(n int) {
			if n == 3*BatchSize+1 {
				time.Sleep(time.Second) // the flushed batches reach the disk
				os.Exit(3)
			}
		})
	}
	os.Exit(0)
}

// ingestUntilKilled ingests the helper's evidence into its case, calling
// atEvent with each event's number: it exits (3) where the test kills the
// run; an ingest that ends exits 1.
func ingestUntilKilled(atEvent func(n int)) {
	c, err := OpenCase(os.Getenv("EXFILTRACE_CASE"), true)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	n := 0
	Ingest(c, []string{os.Getenv("EXFILTRACE_EVIDENCE")}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}, OnEvent: func(*event.Event) {
		n++
		atEvent(n)
	}})
	os.Exit(1)
}

func helper(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "EXFILTRACE_HELPER="+mode), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestBusyCase: while one process writes a case, another process's write or
// read is refused with who holds it; once it ends, the case opens.
func TestBusyCase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "case")
	h := helper(t, "hold", "EXFILTRACE_CASE="+dir)
	stdin, _ := h.StdinPipe()
	stdout, _ := h.StdoutPipe()
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "holding\n" {
		t.Fatalf("helper: %q", line)
	}
	for _, write := range []bool{true, false} {
		_, err := OpenCase(dir, write)
		var busy *BusyError
		if !errors.As(err, &busy) {
			t.Fatalf("open (write %v) while another process writes: %v, want busy", write, err)
		}
		pid := "pid " + strconv.Itoa(h.Process.Pid)
		if !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), "--wait") {
			t.Errorf("busy message does not name the holder (%s) and the way out: %v", pid, err)
		}
	}
	stdin.Close()
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	c, err := OpenCase(dir, true)
	if err != nil {
		t.Fatalf("after the holder ended: %v", err)
	}
	c.Close()
}

// TestConcurrentIngestKeepsBothFiles: the chain of custody survives two
// ingests started together — the second waits (WaitBusy) and the manifest
// lists both evidence files, with the events of both.
func TestConcurrentIngestKeepsBothFiles(t *testing.T) {
	root := corpus.Root(t)
	dir := t.TempDir()
	a := filepath.Join(root, "samples", "incident", "firewall")
	b := filepath.Join(root, "samples", "incident", "mail")
	first, err := OpenCase(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	WaitBusy = true
	defer func() { WaitBusy = false }()
	waited := make(chan string, 1)
	OnWait = func(msg string) { waited <- msg }
	defer func() { OnWait = nil }()
	done := make(chan error, 1)
	go func() {
		c, err := OpenCase(dir, true)
		if err == nil {
			_, err = Ingest(c, []string{b}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}})
			c.Close()
		}
		done <- err
	}()
	if msg := <-waited; !strings.Contains(msg, "waiting") {
		t.Errorf("wait message: %q", msg)
	}
	if _, err := Ingest(first, []string{a}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}}); err != nil {
		t.Fatal(err)
	}
	want := first.Manifest.Events
	first.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c, err := OpenCase(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var mailEvents int64
	for _, f := range c.Manifest.Files {
		if strings.Contains(f.Path, "/mail/") {
			mailEvents += f.Events()
		}
	}
	if len(c.Manifest.Files) < 2 || mailEvents == 0 || c.Manifest.Events != want+mailEvents {
		t.Fatalf("manifest after two ingests: %d files, %d events (firewall %d, mail %d)", len(c.Manifest.Files), c.Manifest.Events, want, mailEvents)
	}
	if n := streamed(t, c); n != c.Manifest.Events {
		t.Errorf("event store holds %d events, manifest %d", n, c.Manifest.Events)
	}
}

// streamed counts the events a case's queries can reach.
func streamed(t *testing.T, c *Case) int64 {
	t.Helper()
	var n int64
	if err := c.Stream(func(*event.Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// textDocs counts the case's events that have free text.
func textDocs(t *testing.T, c *Case) uint64 {
	t.Helper()
	var n uint64
	if err := c.Stream(func(ev *event.Event) error {
		if d, _ := TextDocument(ev); d != nil {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCaseFormat: a case from a newer build, or from a format this build no
// longer reads, is refused with what to do; a manifest from before formats
// were numbered opens as format 1.
func TestCaseFormat(t *testing.T) {
	dir := t.TempDir()
	write := func(m string) {
		if err := os.WriteFile(filepath.Join(dir, manifestName), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"format": 99, "tool_version": "9.0.0", "files": []}`)
	if _, err := OpenCase(dir, false); err == nil || !strings.Contains(err.Error(), "newer exfiltrace (case format 99, tool 9.0.0)") {
		t.Errorf("newer case: %v", err)
	}
	write(`{"tool_version": "0.1.0-dev", "files": []}`)
	c, err := OpenCase(dir, false)
	if err != nil || c.Manifest.Format != 1 {
		t.Fatalf("unnumbered case: %v", err)
	}
	c.Close()
	minCaseFormat = CaseFormat + 1
	defer func() { minCaseFormat = 1 }()
	if _, err := OpenCase(dir, false); err == nil || !strings.Contains(err.Error(), "no longer reads") || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("older case: %v", err)
	}
}

// TestFullDisk: an ingest whose writes are refused (files may not grow past
// 1 MB, as on a full disk) fails with a clear error; the case still opens,
// and the same ingest run again with room gives exactly one clean run.
func TestFullDisk(t *testing.T) {
	root := corpus.Root(t)
	evidence := filepath.Join(root, "samples", "incident")
	dir := filepath.Join(t.TempDir(), "case")
	h := helper(t, "ingest-small-disk", "EXFILTRACE_CASE="+dir, "EXFILTRACE_EVIDENCE="+evidence, "EXFILTRACE_FSIZE=1000000")
	out, err := h.Output()
	if err != nil {
		t.Fatalf("helper: %v: %s", err, out)
	}
	var res struct{ Error string }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("helper output %q", out)
	}
	if !strings.Contains(res.Error, "the disk is full") || !strings.Contains(res.Error, "run the same command again") {
		t.Fatalf("full disk error: %q", res.Error)
	}
	// Between the failure and the retry the case answers from what it
	// completed: the partly stored file is left out, not an error.
	r, err := OpenCase(dir, false)
	if err != nil {
		t.Fatalf("case after a full disk: %v", err)
	}
	if r.Manifest.Events >= 9840 || len(r.Manifest.Incomplete) != 1 {
		t.Fatalf("manifest after the full disk: %d events, incomplete %v", r.Manifest.Events, r.Manifest.Incomplete)
	}
	if n := streamed(t, r); n != r.Manifest.Events {
		t.Fatalf("after the full disk the case reaches %d events, manifest %d", n, r.Manifest.Events)
	}
	rb, err := r.OpenText()
	if err != nil {
		t.Fatalf("full-text index after the full disk: %v", err)
	}
	rb.Close()
	r.Close()
	c, err := OpenCase(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := Ingest(c, []string{evidence}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}}); err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Events != 9840 || len(c.Manifest.Files) != 4 || len(c.Manifest.Incomplete) != 0 {
		t.Fatalf("after the retry: %d events in %d files, want 9840 in 4", c.Manifest.Events, len(c.Manifest.Files))
	}
	if n := streamed(t, c); n != 9840 {
		t.Fatalf("event store streams %d events, want 9840", n)
	}
	b, err := c.OpenText()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, _ := b.Count(); n != textDocs(t, c) {
		t.Fatalf("full-text index holds %d documents, want %d", n, textDocs(t, c))
	}
}

// TestKilledMidFile: the events a killed ingest stored from a file it did
// not finish are out of reach (the manifest does not count them), and the
// same ingest again completes the case exactly.
func TestKilledMidFile(t *testing.T) {
	evidence := filepath.Join(corpus.Root(t), "samples", "incident", "firewall", "fortigate.log")
	dir := filepath.Join(t.TempDir(), "case")
	err := helper(t, "ingest-killed", "EXFILTRACE_CASE="+dir, "EXFILTRACE_EVIDENCE="+evidence).Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("helper: %v", err)
	}
	c, err := OpenCase(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Events != 0 || len(c.Manifest.Incomplete) != 1 {
		t.Fatalf("manifest after the kill: %d events, incomplete %v", c.Manifest.Events, c.Manifest.Incomplete)
	}
	if partial, _ := filepath.Glob(filepath.Join(dir, storeDir, "*")); len(partial) == 0 {
		t.Fatal("the killed run left no event store file; the test needs a partly stored file")
	}
	if n := streamed(t, c); n != 0 {
		t.Fatalf("after the kill the case reaches %d events, want 0", n)
	}
	c.Close()
	c, err = OpenCase(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := Ingest(c, []string{evidence}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.OpenText()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n, _ := b.Count()
	if found := streamed(t, c); n != textDocs(t, c) || found != c.Manifest.Events || c.Manifest.Events != res[0].Stats.Parsed || res[0].Added != res[0].Stats.Parsed || len(c.Manifest.Incomplete) != 0 {
		t.Fatalf("after the retry: index %d, streamed %d, manifest %d, incomplete %v", n, found, c.Manifest.Events, c.Manifest.Incomplete)
	}
}

// TestKilledAmongManyFiles: files are recorded in groups, so a run killed
// amid many small files leaves some recorded and some finished but not:
// the case answers exactly what it records, and the same ingest again
// completes it, nothing doubled.
func TestKilledAmongManyFiles(t *testing.T) {
	evidence := t.TempDir()
	const files = 300
	for i := range files {
		line := fmt.Sprintf("Mar 12 08:%02d:%02d mx%d postfix/smtpd[%d]: connect from unknown[192.0.2.%d]\n", i/60, i%60, i, 1000+i, i%250+1)
		if err := os.WriteFile(filepath.Join(evidence, fmt.Sprintf("maillog.%03d", i)), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "case")
	err := helper(t, "ingest-killed-among-many", "EXFILTRACE_CASE="+dir, "EXFILTRACE_EVIDENCE="+evidence).Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("helper: %v", err)
	}
	c, err := OpenCase(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	recorded := len(c.Manifest.Files)
	if recorded == 0 || recorded >= 200 || c.Manifest.Events != int64(recorded) {
		t.Fatalf("after the kill: %d files, %d events; want some of the first 200, one event each", recorded, c.Manifest.Events)
	}
	if n := streamed(t, c); n != c.Manifest.Events {
		t.Fatalf("after the kill the case reaches %d events, manifest %d", n, c.Manifest.Events)
	}
	c.Close()
	c, err = OpenCase(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := Ingest(c, []string{evidence}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}})
	if err != nil {
		t.Fatal(err)
	}
	already := 0
	for _, r := range res {
		if strings.HasPrefix(r.Skipped, "already in case") {
			already++
		}
	}
	if already != recorded || len(c.Manifest.Files) != files || c.Manifest.Events != files || len(c.Manifest.Incomplete) != 0 {
		t.Fatalf("after the retry: %d skipped as already in case (want %d), %d files, %d events, incomplete %v", already, recorded, len(c.Manifest.Files), c.Manifest.Events, c.Manifest.Incomplete)
	}
	if n := streamed(t, c); n != files {
		t.Fatalf("event store streams %d events, want %d", n, files)
	}
	b, err := c.OpenText()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, _ := b.Count(); n != files {
		t.Fatalf("full-text index holds %d documents, want %d", n, files)
	}
}
