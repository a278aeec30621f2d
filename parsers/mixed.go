package parsers

import "fmt"

// Mixed is a text file in which no single format holds most lines but most
// lines are each some known format: a syslog server's file fed by several
// devices (rsyslog, syslog-ng). Every line is read by its own format.
type Mixed struct{}

func (Mixed) Name() string { return "mixed" }
func (Mixed) Description() string {
	return "a relay's file interleaving several devices' formats (each line read by its own format)"
}

func (Mixed) Detect(head []byte) bool {
	// Generic syslog does not count: a file of mere syslog lines is syslog.
	r := newLineRouter(&Options{}, &FileStats{}, "mixed")
	return mostLines(head, func(l string) bool {
		f := r.match(l)
		return f != nil && f.Name() != (Syslog{}).Name()
	})
}

// NewDecoder is for callers without a file account; ingest reads mixed
// files through a router that records which formats it met.
func (Mixed) NewDecoder(o *Options) LineDecoder {
	return &routerDecoder{newLineRouter(o, &FileStats{}, "mixed")}
}

// routerDecoder is a lineRouter as a LineDecoder: a line no format knows is
// kept raw with that reason.
type routerDecoder struct{ r *lineRouter }

func (d *routerDecoder) Line(no int64, line []byte, emit Emit) error {
	ok, err := d.r.Line(no, line, emit)
	if !ok {
		return fmt.Errorf("no known format recognises this line")
	}
	return err
}

func (d *routerDecoder) Flush(emit Emit) { d.r.Flush(emit) }
