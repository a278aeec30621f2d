package parsers

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// MaxLine is the longest line parsed; longer lines are kept raw, truncated,
// with the reason, so a 10 MB line neither exhausts memory nor vanishes.
const MaxLine = 1 << 20

// rawKeep is how much of an over-long line is kept in the raw event.
const rawKeep = 4096

// Input is one evidence file, opened read-only.
type Input struct {
	Path    string
	Size    int64
	ModTime time.Time
	SHA256  string
	// Compression names the stream the file holds ("gzip", "bzip2", "xz",
	// "zstd"), found from its first bytes, or is empty: rotated logs are
	// kept compressed, and the evidence is the compressed file (its hash).
	Compression string
	// Archive is the archive file a member comes from (the outer one, for
	// an archive inside an archive: its path names the inner ones), and
	// ArchiveSHA256 its hash (archive.go); both empty for a file of its own.
	Archive       string
	ArchiveSHA256 string
	// Damage says why the content read is shorter than the evidence (a
	// member of a tar cut short), for the file's account.
	Damage string
	// cutShort says that the content ends where damage cut it: its last
	// line may be cut too (its values with it), and is read as such.
	cutShort bool
	file     *os.File
	member   *zip.File
	archive  io.Closer
	// stopped makes every read fail (Stop).
	stopped atomic.Bool
}

// ErrStopped is the read error of an input whose reader was stopped.
var ErrStopped = errors.New("reading stopped")

// Stop makes every later read of the file's content fail with ErrStopped,
// so that a parse whose events are no longer wanted ends at its next read
// rather than at the file's end. Safe to call from another goroutine.
func (in *Input) Stop() { in.stopped.Store(true) }

// stoppable fails its reads once its input is stopped.
type stoppable struct {
	io.ReadCloser
	stopped *atomic.Bool
}

func (s stoppable) Read(p []byte) (int, error) {
	if s.stopped.Load() {
		return 0, ErrStopped
	}
	return s.ReadCloser.Read(p)
}

type stoppableAt struct {
	io.ReaderAt
	stopped *atomic.Bool
}

func (s stoppableAt) ReadAt(p []byte, off int64) (int, error) {
	if s.stopped.Load() {
		return 0, ErrStopped
	}
	return s.ReaderAt.ReadAt(p, off)
}

// Open opens an evidence file read-only and hashes it.
func Open(path string) (*Input, error) {
	if err, ok := unlistable.Load(path); ok { // an archive (inside another, perhaps) whose members could not be listed
		return nil, err.(error)
	}
	switch archive, member, kind := splitMember(path); kind {
	case "tar":
		return openTarMember(archive, member, path)
	case "7z":
		return openSevenZipMember(archive, member, path)
	case "zip":
		return openMember(archive, member, path)
	}
	return openFile(path, path)
}

// openFile opens the file at path as evidence named name.
func openFile(path, name string) (*Input, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: reading for hash: %w", name, err)
	}
	in := &Input{Path: name, Size: st.Size(), ModTime: st.ModTime(), SHA256: hex.EncodeToString(h.Sum(nil)), file: f}
	var magic [6]byte
	n, _ := f.ReadAt(magic[:], 0)
	in.Compression = compression(magic[:n])
	return in, nil
}

// Close closes the evidence file.
func (in *Input) Close() error {
	if in.archive != nil {
		return in.archive.Close()
	}
	return in.file.Close()
}

// ReaderAt gives random access to the file as stored, for binary formats;
// nil for an archive member, which is read as a stream.
func (in *Input) ReaderAt() io.ReaderAt {
	if in.file == nil {
		return nil
	}
	return stoppableAt{in.file, &in.stopped}
}

// Reader returns a fresh stream of the file's content, decompressed, as
// UTF-8 (UTF-16 and byte-order marks are read as such: PowerShell's
// Out-File and `>` write UTF-16).
func (in *Input) Reader() (io.ReadCloser, error) {
	var r io.ReadCloser
	if in.member != nil {
		var err error
		if r, err = in.member.Open(); err != nil {
			return nil, err
		}
	} else {
		r = io.NopCloser(io.NewSectionReader(in.file, 0, in.Size))
		if in.cutShort {
			r = io.NopCloser(cutAtEnd{r})
		}
	}
	if in.Compression != "" {
		zr, err := decompress(in.Compression, bufio.NewReaderSize(r, 1<<16))
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("%s: %w", in.Compression, err)
		}
		r = namedErrors{closeBoth{zr, r}, in.Compression}
	}
	return decodeText(stoppable{r, &in.stopped}), nil
}

// errMemberCut ends the copy of an archive member cut short.
var errMemberCut = errors.New("the archive is cut short inside this member")

// cutAtEnd reads a member copied up to where the archive was cut: its end
// is a read error, as a compressed stream's cut is, so that the line it
// cuts is kept raw, not parsed (a byte count of 12 for 123456).
type cutAtEnd struct{ io.Reader }

func (c cutAtEnd) Read(p []byte) (int, error) {
	n, err := c.Reader.Read(p)
	if err == io.EOF {
		err = errMemberCut
	}
	return n, err
}

// closeBoth closes a decompressor and the stream under it.
type closeBoth struct {
	io.ReadCloser
	under io.Closer
}

func (c closeBoth) Close() error {
	err := c.ReadCloser.Close()
	if uerr := c.under.Close(); err == nil {
		err = uerr
	}
	return err
}

// Head returns up to n bytes from the start of the decompressed content.
func (in *Input) Head(n int) ([]byte, error) {
	r, err := in.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := make([]byte, n)
	m := 0
	for m < n {
		k, err := r.Read(buf[m:])
		m += k
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// With a head to recognise, the parser meets the error again
			// where it happens and says after which line.
			if m > 0 {
				break
			}
			if in.Compression != "" {
				return nil, fmt.Errorf("nothing readable: the file is truncated or damaged before its first whole compressed block: %w", err)
			}
			return nil, err
		}
	}
	return buf[:m], nil
}

// blank says whether the file's content, read to its end without error,
// is nothing but blank space (after a byte-order mark), and what it is.
func (in *Input) blank() (string, bool) {
	if in.Size == 0 {
		return "0 bytes", true
	}
	if in.Size > 4<<10 && in.Compression == "" {
		return "", false
	}
	r, err := in.Reader()
	if err != nil {
		return "", false
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 4<<10+1))
	if err != nil || len(b) > 4<<10 {
		return "", false
	}
	if len(bytes.TrimSpace(b)) > 0 { // the reader has taken off a byte-order mark, and decoded UTF-16
		return "", false
	}
	what := "only blank space"
	if in.Compression != "" {
		what += ", compressed"
	}
	return what, true
}

// Parse reads one evidence file and emits its events with provenance set.
// Parse errors inside the file never stop it: bad lines become raw events,
// unreadable records are counted as lost. The returned error is for a file
// that cannot be read or recognised at all.
func Parse(in *Input, o *Options, emit func(*event.Event)) (*FileStats, error) {
	st := &FileStats{Path: in.Path, Size: in.Size, SHA256: in.SHA256, Archive: in.Archive, ArchiveSHA256: in.ArchiveSHA256}
	if in.Damage != "" {
		st.Warn(in.Damage)
	}
	if what, ok := in.blank(); ok {
		// Nothing to parse is not a format to name: the file is read, and
		// said empty (a log emptied by its rotation, or by someone).
		st.Warn("empty: the file holds no log line (" + what + "), so no events")
		return st, nil
	}
	var f Format
	var err error
	if o.Format != "" {
		f, err = Lookup(o.Format)
	} else {
		var head []byte
		head, err = in.Head(64 << 10)
		if err == nil {
			f, err = Detect(head)
			if what := notALog(head, in.Path); err != nil && what != "" {
				st.Warn("not a log, left out: " + what)
				return st, nil
			}
		}
	}
	if err != nil {
		st.Error = err.Error()
		return st, fmt.Errorf("%s: %w", in.Path, err)
	}
	st.Format = f.Name()
	wrap := func(ev *event.Event, pos string) {
		ev.Fields[event.FieldFile] = in.Path
		ev.Fields[event.FieldSHA256] = in.SHA256
		if _, ok := ev.Fields[event.FieldDataset]; !ok {
			ev.Fields[event.FieldDataset] = f.Name()
		}
		if _, ok := ev.Fields[event.FieldKind]; !ok {
			ev.Fields[event.FieldKind] = "event"
		}
		if _, ok := ev.Fields[event.FieldID]; !ok { // a format may have computed it already, in parallel
			ev.Fields[event.FieldID] = event.ID(in.SHA256, pos)
		}
		switch {
		case ev.Fields[event.FieldKind] == event.KindRaw:
			st.raw(ev.Str(event.FieldError))
		case ev.Fields[event.FieldCarved] == true:
			st.Carved++
		default:
			st.Parsed++
		}
		st.seen(ev.Timestamp)
		emit(ev)
	}
	fo := *o
	zoneTaken := false
	fo.zoneTaken = &zoneTaken
	defer func() { st.ZoneAssumed = zoneTaken }()
	switch ff := f.(type) {
	case FileFormat:
		err = ff.ReadFile(in, &fo, wrap, st)
	case LineFormat:
		err = readLines(in, ff, &fo, wrap, st)
	default:
		err = fmt.Errorf("format %s has no reader", f.Name())
	}
	if err != nil {
		st.Error = err.Error()
		return st, fmt.Errorf("%s: %w", in.Path, err)
	}
	return st, nil
}

// yearFor resolves the year for year-less timestamps in this file.
func yearFor(in *Input, o *Options, st *FileStats) int {
	if o.Year != 0 {
		st.Year, st.YearSource = o.Year, "--year"
		return o.Year
	}
	y := in.ModTime.UTC().Year()
	st.Year, st.YearSource = y, "file modification time (override with --year)"
	return y
}

func readLines(in *Input, f LineFormat, o *Options, emit Emit, st *FileStats) error {
	r, err := in.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	o2 := *o
	if o2.TZ == nil {
		o2.TZ = time.UTC
	}
	st.TZ = o2.TZ.String()
	o2.Warn = st.Warn
	o2.Year = yearFor(in, o, st)
	if o.Year == 0 {
		taken := &yearTaken{ref: in.ModTime}
		o2.yearTaken = taken
		defer func() {
			st.YearGuessed = taken.used
			if taken.used && taken.year < st.Year {
				st.Year, st.YearSource = taken.year, "the year before the file's modification time, which its first stamp would follow (override with --year)"
			}
		}()
	}
	var dec LineDecoder
	if f.Name() == (Mixed{}).Name() || f.Name() == (Syslog{}).Name() {
		// Lines of a relay's file go to their own formats first; generic
		// syslog reads only what no specific format claims.
		dec = &routerDecoder{newLineRouter(&o2, st, f.Name())}
	} else if _, ok := f.(selfContained); ok {
		dec = newMux(f, &o2, st)
	} else {
		dec = &fallbackDecoder{primary: newMux(f, &o2, st), primaryName: f.Name(), router: newLineRouter(&o2, st, f.Name())}
	}
	br := bufio.NewReaderSize(r, 1<<16)
	var no int64
	var long []byte
	legacy := legacyText{unit: "line"}
	defer legacy.warn(st)
	var zeroed zeroedText
	defer zeroed.warn(st)
	var marks journalMarks
	defer marks.warn(st)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Accumulate up to MaxLine, then discard the rest of the line.
			if len(long) < MaxLine {
				long = append(long, line...)
			}
			continue
		}
		if len(line) == 0 && long == nil && err != nil {
			if err != io.EOF {
				dec.Flush(emit)
				return fmt.Errorf("read error after line %d: %w", no, err)
			}
			break
		}
		no++
		full := line
		if err != nil && err != io.EOF {
			// A line a read error cut (a truncated or damaged compressed
			// file): its values may be cut too — a byte count of 12 for
			// 123456 — so it is kept as it is, not parsed.
			full = append(long, line...)
			rawLine(emit, no, full[:min(len(full), rawKeep)], fmt.Sprintf("line cut short by a read error after %d bytes: %v", len(full), err))
			dec.Flush(emit)
			return fmt.Errorf("read error in line %d: %w", no, err)
		}
		if long != nil {
			total := len(long) + len(line)
			long = append(long, line...)
			full = long
			long = nil
			if total > MaxLine {
				rawLine(emit, no, full[:rawKeep], fmt.Sprintf("line longer than %d bytes (%d+); first %d bytes kept", MaxLine, total, rawKeep))
				if err == io.EOF {
					break
				}
				continue
			}
		}
		full = bytes.TrimRight(full, "\r\n")
		if bytes.IndexByte(full, 0) >= 0 {
			full = zeroed.strip(full, no)
		}
		full = legacy.bytes(full, no)
		if isJournalMark(full) {
			marks.note(full, no)
		} else if len(bytes.TrimSpace(full)) != 0 {
			if perr := dec.Line(no, full, emit); perr != nil {
				rawLine(emit, no, full, perr.Error())
			}
		}
		if err == io.EOF {
			break
		}
	}
	dec.Flush(emit)
	return nil
}

// openText opens a file's content for reading past its byte-order mark
// and leading blank space: first is its first character (what says
// whether a table or JSON follows). what names the format in the error of
// an empty file.
func openText(in *Input, what string) (br *bufio.Reader, first byte, closer io.Closer, err error) {
	rc, err := in.Reader()
	if err != nil {
		return nil, 0, nil, err
	}
	br = bufio.NewReaderSize(&bomSkipper{r: bufio.NewReaderSize(rc, 1<<16)}, 1<<16)
	for {
		c, err := br.Peek(1)
		if err != nil {
			rc.Close()
			return nil, 0, nil, fmt.Errorf("%s: empty file", what)
		}
		if c[0] != ' ' && c[0] != '\t' && c[0] != '\r' && c[0] != '\n' {
			return br, c[0], rc, nil
		}
		br.ReadByte()
	}
}

// rawLine keeps an unparsable line verbatim with the reason.
func rawLine(emit Emit, no int64, line []byte, reason string) {
	ev := event.New()
	ev.Fields[event.FieldKind] = event.KindRaw
	ev.Fields[event.FieldOriginal] = string(bytes.ToValidUTF8(line, []byte("\uFFFD")))
	ev.Fields[event.FieldError] = reason
	ev.Fields[event.FieldLine] = no
	emit(ev, "L"+strconv.FormatInt(no, 10))
}

// linePos is the position key of the event parsed from one line.
func linePos(no int64) string { return "L" + strconv.FormatInt(no, 10) }
