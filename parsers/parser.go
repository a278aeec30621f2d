// Package parsers turns evidence files into normalized events. Each log
// format is one file in this package and one line in registry.go.
package parsers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Format is one log format. Detect looks at the first bytes of a file
// (decompressed) and says whether the format fits; formats are tried in
// registry order, most specific first.
type Format interface {
	Name() string
	Description() string
	Detect(head []byte) bool
}

// LineFormat is a text format read line by line.
type LineFormat interface {
	Format
	NewDecoder(o *Options) LineDecoder
}

// FileFormat reads a whole file itself (binary or multi-line formats).
type FileFormat interface {
	Format
	ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error
}

// Emit hands a parsed event to the ingest pipeline. pos identifies the event's
// position in its evidence file and must be unique within the file; the event
// id is derived from it and the file's hash.
type Emit func(ev *event.Event, pos string)

// LineDecoder decodes one line at a time. A returned error keeps the line as
// a raw event with the error as reason. Stateful decoders (Postfix joins lines
// by queue id) emit at Flush what is still pending at end of file.
type LineDecoder interface {
	Line(no int64, line []byte, emit Emit) error
	Flush(emit Emit)
}

// Options are the analyst's choices that shape parsing, recorded in the case.
type Options struct {
	// TZ is the zone for timestamps that carry none (classic syslog).
	TZ *time.Location
	// Year is the year for timestamps that carry none; 0 means infer it per
	// file from the file's modification time.
	Year int
	// Format forces a format by name instead of detecting it.
	Format string
	// Warn, set by the reader of a file, records an anomaly of the whole
	// file that cost no events (FileStats.Warn), for decoders that meet it.
	Warn func(string)
	// Keep, when set, selects the fields the caller reads: a decoder may
	// leave out a vendor's own field it does not select (a report reads a
	// few of the dozens a firewall line holds; a case keeps them all).
	Keep *event.Selection
	// yearTaken, set by the reader of a file whose year-less stamps take
	// its modification year, records whether an event's time took it.
	yearTaken *yearTaken
	// zoneTaken, set by the reader of a file, is set when an event's time
	// named no zone and was read in TZ (FileStats.ZoneAssumed).
	zoneTaken *bool
}

// zoneRead records that an event's time named no zone and was read in TZ.
func (o *Options) zoneRead() {
	if o != nil && o.zoneTaken != nil {
		*o.zoneTaken = true
	}
}

// yearTaken is what the clocks of one file read with its modification
// year (Options.Year unset) tell its account (FileStats.YearGuessed,
// FileStats.Year).
type yearTaken struct {
	// ref is the file's modification time: a log holds nothing written
	// after it, so a first stamp that would fall after it is of the year
	// before (a log running from December into January copied in
	// January).
	ref time.Time
	// used: an event's time took a year-less stamp's assumed year,
	// the first such in year.
	used bool
	year int
}

// clock is the syslog clock of a file read with these options.
func (o *Options) clock() syslogClock {
	return syslogClock{Year: o.Year, Loc: o.TZ, taken: o.yearTaken, zoneTaken: o.zoneTaken, repeat: repeatedHour{warn: o.Warn}}
}

// FileStats is the per-file ingest account that goes into the case manifest.
type FileStats struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Archive and ArchiveSHA256 name the archive file a member was read
	// from (Path is ARCHIVE!/MEMBER, or ARCHIVE!/INNER!/MEMBER for an
	// archive inside it; Size and SHA256 are the member's).
	Archive       string `json:"archive,omitempty"`
	ArchiveSHA256 string `json:"archive_sha256,omitempty"`
	Format        string `json:"format"`
	Parsed        int64  `json:"parsed"`
	Raw           int64  `json:"raw"`
	// Carved counts records recovered from outside the live log (EVTX
	// slack, unallocated chunks): kept apart from Parsed, flagged on each
	// event (evidence.carved).
	Carved      int64            `json:"carved,omitempty"`
	Lost        int64            `json:"lost"`
	RawReasons  map[string]int64 `json:"raw_reasons,omitempty"`
	LostReasons map[string]int64 `json:"lost_reasons,omitempty"`
	// LostWhen dates records lost where the file tells (an EVTX stretch
	// wiped: written between the records around it), at most maxLostWhen.
	LostWhen   []LostStretch `json:"lost_when,omitempty"`
	Warnings   []string      `json:"warnings,omitempty"`
	First      time.Time     `json:"first,omitempty"`
	Last       time.Time     `json:"last,omitempty"`
	TZ         string        `json:"tz,omitempty"`
	Year       int           `json:"year,omitempty"`
	YearSource string        `json:"year_source,omitempty"`
	// YearGuessed: some of the file's timestamps named no year and took
	// Year from the file's modification time, not from --year.
	YearGuessed bool `json:"year_guessed,omitempty"`
	// ZoneAssumed: some of the file's timestamps named no zone and were
	// read in TZ (the report says so when TZ was not the analyst's).
	ZoneAssumed bool `json:"zone_assumed,omitempty"`
	// TimeOrdered is false when the file's events were not emitted in time
	// order (Postfix messages complete out of order); streams sort such files.
	TimeOrdered bool   `json:"time_ordered"`
	Error       string `json:"error,omitempty"`
}

// Events is every event the file gave: parsed, kept raw, and carved.
func (s *FileStats) Events() int64 { return s.Parsed + s.Raw + s.Carved }

func (s *FileStats) raw(reason string) {
	s.Raw++
	if s.RawReasons == nil {
		s.RawReasons = map[string]int64{}
	}
	s.RawReasons[reason]++
}

// AddLost records evidence that could not become any event, not even raw.
func (s *FileStats) AddLost(reason string, n int64) {
	s.Lost += n
	if s.LostReasons == nil {
		s.LostReasons = map[string]int64{}
	}
	s.LostReasons[reason] += n
}

// LostStretch is records lost together, with when they were written as far
// as the records around them tell (a zero bound is unknown).
type LostStretch struct {
	Records int64     `json:"records"`
	After   time.Time `json:"after,omitzero"`
	Before  time.Time `json:"before,omitzero"`
}

// maxLostWhen bounds the stretches dated per file: a log damaged all over
// says the first ones, its count says the rest.
const maxLostWhen = 64

// AddLostWhen dates n records lost (AddLost counts them).
func (s *FileStats) AddLostWhen(n int64, after, before time.Time) {
	if len(s.LostWhen) < maxLostWhen && (!after.IsZero() || !before.IsZero()) {
		s.LostWhen = append(s.LostWhen, LostStretch{Records: n, After: after.UTC(), Before: before.UTC()})
	}
}

// Warn records an anomaly that cost no events.
func (s *FileStats) Warn(msg string) {
	for _, w := range s.Warnings {
		if w == msg {
			return
		}
	}
	if len(s.Warnings) < 50 {
		s.Warnings = append(s.Warnings, msg)
	}
}

func (s *FileStats) seen(t time.Time) {
	if t.IsZero() {
		return
	}
	if s.First.IsZero() || t.Before(s.First) {
		s.First = t
	}
	if t.After(s.Last) {
		s.Last = t
	}
}

// Lookup returns the registered format with that name.
func Lookup(name string) (Format, error) {
	for _, f := range registry {
		if f.Name() == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("unknown format %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the registered format names.
func Names() []string {
	var out []string
	for _, f := range registry {
		out = append(out, f.Name())
	}
	sort.Strings(out)
	return out
}

// Formats returns the registry, in detection order.
func Formats() []Format { return registry }

// Detect picks the format for a file from its first bytes.
func Detect(head []byte) (Format, error) {
	// An archive first: a tar's member names and text look like lines.
	if kind := archiveKind(head); kind != "" {
		return nil, fmt.Errorf("unknown format: %s", kind)
	}
	for _, f := range registry {
		if f.Detect(head) {
			return f, nil
		}
	}
	if isBinary(head) {
		return nil, fmt.Errorf("unknown format: binary content that is no known log format (known: %s; force one with --format)", strings.Join(Names(), ", "))
	}
	return nil, explainUnknown(head)
}

func isBinary(b []byte) bool {
	n := len(b)
	if n > 4096 {
		n = 4096
	}
	bad := 0
	for _, c := range b[:n] {
		if c == 0 || (c < 0x09) || (c > 0x0d && c < 0x20 && c != 0x1b) {
			bad++
		}
	}
	return n > 0 && bad*20 > n
}

// emitHeaderLine keeps a log's header or directive line as a state event
// of its dataset: it says what the log holds (its columns, its writer).
func emitHeaderLine(emit Emit, no int64, dataset, s string) {
	ev := event.New()
	ev.Fields[event.FieldKind] = "state"
	ev.Fields[event.FieldDataset] = dataset
	ev.Fields[event.FieldLine] = no
	ev.Fields["message"] = s
	emit(ev, linePos(no))
}

// headLines returns up to n non-empty lines of head, for detectors, each
// line that is not UTF-8 read as Windows-1252 as the readers will.
func headLines(head []byte, n int) []string {
	out := rawHeadLines(head, n)
	var legacy legacyText
	for i, l := range out {
		out[i] = legacy.string(l, 0)
	}
	return out
}

// rawHeadLines is headLines with the lines' bytes as they are.
func rawHeadLines(head []byte, n int) []string {
	var out []string
	for _, l := range strings.Split(string(head), "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.TrimSpace(l) == "" || isJournalMark([]byte(l)) {
			continue
		}
		out = append(out, l)
		if len(out) == n {
			break
		}
	}
	// The last line of a truncated head may be partial.
	if len(out) > 1 && !strings.HasSuffix(string(head), "\n") {
		out = out[:len(out)-1]
	}
	return out
}

// mostLines reports whether pred holds for most of the first lines; comment
// lines ("#…", which many logs start with) do not count either way.
func mostLines(head []byte, pred func(string) bool) bool {
	var lines []string
	for _, l := range headLines(head, 40) {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
		if len(lines) == 20 {
			break
		}
	}
	if len(lines) == 0 {
		return false
	}
	ok := 0
	for _, l := range lines {
		if pred(l) {
			ok++
		}
	}
	return ok*2 > len(lines)
}
