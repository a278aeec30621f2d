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
	before := func(no int64, l string) {
		if b.preamble == nil || !b.preamble(l) {
			rawLine(emit, no, []byte(l), b.name+": a line outside any event's block")
		}
	}
	return readBlocks(in, st, b.name, b.isStart, before, func(block []string, start int64) bool {
		ev, err := b.parse(block)
		if err != nil {
			ev = event.New()
			ev.Fields[event.FieldKind] = event.KindRaw
			ev.Fields[event.FieldError] = b.name + ": " + err.Error()
		}
		ev.Fields[event.FieldOriginal] = strings.Join(block, "\n")
		ev.Fields[event.FieldLine] = start
		emit(ev, linePos(start))
		return true
	})
}

// readBlocks hands each block of a text file's lines — from a line isStart
// marks to the next, its trailing blank lines left out — to fn with the
// line it starts at, until fn returns false; a non-blank line before the
// first block goes to before (nil: not said).
func readBlocks(in *Input, st *FileStats, what string, isStart func(string) bool, before func(no int64, line string), fn func(block []string, start int64) bool) error {
	rc, err := in.Reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(&bomSkipper{r: bufio.NewReaderSize(rc, 1<<16)})
	sc.Buffer(make([]byte, 1<<16), 16<<20)
	var no, start int64
	var block []string
	stop := false
	legacy := legacyText{unit: "line"}
	defer legacy.warn(st)
	flush := func() {
		for len(block) > 0 && strings.TrimSpace(block[len(block)-1]) == "" {
			block = block[:len(block)-1]
		}
		if len(block) > 0 && !stop {
			stop = !fn(block, start)
		}
		block = block[:0]
	}
	for !stop && sc.Scan() {
		no++
		l := legacy.string(strings.TrimRight(sc.Text(), "\r"), no)
		if isStart(l) {
			flush()
			start = no
		} else if len(block) == 0 {
			if strings.TrimSpace(l) != "" && before != nil {
				before(no, l)
			}
			continue
		}
		block = append(block, l)
	}
	flush()
	if err := sc.Err(); err != nil {
		st.AddLost(what+": "+err.Error(), 1)
		return fmt.Errorf("%s: after line %d: %w", what, no, err)
	}
	return nil
}
