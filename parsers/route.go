package parsers

import "strconv"

// lineMatcher is a line format recognisable from one line alone. Formats
// that need a header (Zeek TSV, Exchange's #Fields) still match their
// self-describing lines (JSON, CSV with a known shape) this way.
type lineMatcher interface {
	LineFormat
	matchLine(l string) bool
}

// lineRouter reads lines whose format changes from line to line: a syslog
// server's file fed by many devices, the message column of a SIEM export.
// Each line is matched on its own and handed to a decoder for its format,
// one decoder per format so that stateful ones (Postfix joins lines by queue
// id) keep their state across the interleaving.
type lineRouter struct {
	o        *Options
	st       *FileStats
	host     string // the file's own format, whose lines need no note
	unit     string // "line", or "row" in exports
	decoders map[string]LineDecoder
	last     lineMatcher
	counts   map[string]int64
}

func newLineRouter(o *Options, st *FileStats, host string) *lineRouter {
	return &lineRouter{o: o, st: st, host: host, unit: "line", decoders: map[string]LineDecoder{}, counts: map[string]int64{}}
}

// match finds the format of one line: the previous line's format first,
// since devices write in bursts, then the registry in order.
func (r *lineRouter) match(l string) lineMatcher {
	if r.last != nil && r.last.matchLine(l) {
		return r.last
	}
	for _, f := range registry {
		if m, ok := f.(lineMatcher); ok && m != r.last && m.matchLine(l) {
			r.last = m
			return m
		}
	}
	return nil
}

// decoderFor returns the file's decoder for a format, made on first use.
func (r *lineRouter) decoderFor(f LineFormat) LineDecoder {
	d := r.decoders[f.Name()]
	if d == nil {
		d = newMux(f, r.o, r.st)
		r.decoders[f.Name()] = d
	}
	return d
}

// Line decodes a line by its own format; ok is false when no format
// recognises it (the caller keeps it raw with its own reason).
func (r *lineRouter) Line(no int64, line []byte, emit Emit) (ok bool, err error) {
	f := r.match(string(line))
	if f == nil {
		return false, nil
	}
	if err := r.decoderFor(f).Line(no, line, emit); err != nil {
		return true, err
	}
	r.counts[f.Name()]++
	return true, nil
}

// Flush ends every decoder and says, per format, how many lines of the file
// were read by a format other than the file's own.
func (r *lineRouter) Flush(emit Emit) {
	for _, d := range r.decoders {
		d.Flush(emit)
	}
	for name, n := range r.counts {
		if name != r.host {
			r.st.Warn(plural(n, r.unit) + " read as " + name + " within this " + r.host + " file")
		}
	}
}

// fallbackDecoder gives a line its file's format first and, when that
// format refuses it, tries every other line format before keeping it raw: a
// relay's file interleaves devices, and one odd line must not cost the rest.
// selfContained is a format whose files hold only its own lines, as a
// header declares them (W3C's #Fields:): a line it cannot read is damaged,
// not another device's, and is kept raw with the reason instead of being
// read by whichever format it resembles (a cut IIS line looks like syslog).
type selfContained interface{ selfContained() }

type fallbackDecoder struct {
	primary     LineDecoder
	primaryName string
	router      *lineRouter
}

func (d *fallbackDecoder) Line(no int64, line []byte, emit Emit) error {
	perr := d.primary.Line(no, line, emit)
	if perr == nil {
		return nil
	}
	f := d.router.match(string(line))
	if f == nil || f.Name() == d.primaryName {
		return perr
	}
	if err := d.router.decoderFor(f).Line(no, line, emit); err != nil {
		return perr
	}
	d.router.counts[f.Name()]++
	return nil
}

func (d *fallbackDecoder) Flush(emit Emit) {
	d.primary.Flush(emit)
	d.router.Flush(emit)
}

func plural(n int64, what string) string {
	s := strconv.FormatInt(n, 10) + " " + what
	if n != 1 {
		s += "s"
	}
	return s
}
