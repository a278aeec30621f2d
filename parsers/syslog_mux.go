package parsers

import (
	"strings"
)

// syslogPrograms maps syslog program names to the format reading their
// lines. A syslog file usually mixes programs (Debian's mail.log: postfix and
// dovecot; a firewall's messages: kernel and filterlog): each line goes to
// the decoder of its program, whatever format the file was detected as.
var syslogPrograms = []struct {
	prefix string
	format LineFormat
}{
	{"postfix", Postfix{}}, {"dovecot", Dovecot{}}, {"sm-", Sendmail{}}, {"sendmail", Sendmail{}},
	{"filterlog", PfFilterlog{}}, {"kernel", Netfilter{}},
}

func syslogFormatFor(program string) LineFormat {
	for _, p := range syslogPrograms {
		if strings.HasPrefix(program, p.prefix) {
			return p.format
		}
	}
	return nil
}

// muxDecoder dispatches lines by syslog program, keeping one decoder (and its
// state: queue ids, year rollover) per format.
type muxDecoder struct {
	primary     LineDecoder
	primaryName string
	o           *Options
	subs        map[string]LineDecoder
	clock       syslogClock
	st          *FileStats
}

func newMux(f LineFormat, o *Options, st *FileStats) LineDecoder {
	isSyslog := false
	for _, p := range syslogPrograms {
		if p.format.Name() == f.Name() {
			isSyslog = true
		}
	}
	if !isSyslog {
		return f.NewDecoder(o)
	}
	return &muxDecoder{primary: f.NewDecoder(o), primaryName: f.Name(), o: o, subs: map[string]LineDecoder{},
		clock: o.clock(), st: st}
}

func (m *muxDecoder) Line(no int64, line []byte, emit Emit) error {
	h, err := m.clock.peek(string(line)) // the decoder it goes to reads the time
	if err == nil {
		if f := syslogFormatFor(h.Program); f != nil && f.Name() != m.primaryName {
			d := m.subs[f.Name()]
			if d == nil {
				d = f.NewDecoder(m.o)
				m.subs[f.Name()] = d
				m.st.Warn("lines of " + h.Program + " read as " + f.Name() + " within this " + m.primaryName + " file")
			}
			return d.Line(no, line, emit)
		}
	}
	return m.primary.Line(no, line, emit)
}

func (m *muxDecoder) Flush(emit Emit) {
	m.primary.Flush(emit)
	for _, d := range m.subs {
		d.Flush(emit)
	}
}
