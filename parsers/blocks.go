package parsers

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// blockReader reads text formats that write an event as a block of lines
// starting with a marker line (wevtutil's "Event[n]:", evtxexport's "Event
// number"): each block is one event, parsed or kept raw with the reason; a
// line before the first block is kept raw unless preamble says it is the
// tool's own heading.
type blockReader struct {
	name     string
	isStart  func(line string) bool
	preamble func(line string) bool
	parse    func(block []string) (*event.Event, error)
}

func (b blockReader) read(in *Input, st *FileStats, emit Emit) error {
	rc, err := in.Reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(&bomSkipper{r: bufio.NewReaderSize(rc, 1<<16)})
	sc.Buffer(make([]byte, 1<<16), 16<<20)
	var no, start int64
	var block []string
	legacy := legacyText{unit: "line"}
	defer legacy.warn(st)
	flush := func() {
		for len(block) > 0 && strings.TrimSpace(block[len(block)-1]) == "" {
			block = block[:len(block)-1]
		}
		if len(block) == 0 {
			return
		}
		ev, err := b.parse(block)
		if err != nil {
			ev = event.New()
			ev.Fields[event.FieldKind] = event.KindRaw
			ev.Fields[event.FieldError] = b.name + ": " + err.Error()
		}
		ev.Fields[event.FieldOriginal] = strings.Join(block, "\n")
		ev.Fields[event.FieldLine] = start
		emit(ev, linePos(start))
		block = block[:0]
	}
	for sc.Scan() {
		no++
		l := legacy.string(strings.TrimRight(sc.Text(), "\r"), no)
		if b.isStart(l) {
			flush()
			start = no
		} else if len(block) == 0 {
			if strings.TrimSpace(l) != "" && (b.preamble == nil || !b.preamble(l)) {
				rawLine(emit, no, []byte(l), b.name+": a line outside any event's block")
			}
			continue
		}
		block = append(block, l)
	}
	flush()
	if err := sc.Err(); err != nil {
		st.AddLost(b.name+": "+err.Error(), 1)
		return fmt.Errorf("%s: after line %d: %w", b.name, no, err)
	}
	return nil
}
