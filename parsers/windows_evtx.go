package parsers

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers/evtx"
)

// EVTX reads binary Windows event log files with the project's own reader.
type EVTX struct{}

func (EVTX) Name() string        { return "evtx" }
func (EVTX) Description() string { return "Windows binary event logs (.evtx), including damaged files" }
func (EVTX) Detect(head []byte) bool {
	return bytes.HasPrefix(head, []byte("ElfFile\x00"))
}

func (EVTX) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	ra, size := in.ReaderAt(), in.Size
	if in.Gzip {
		tmp, err := os.CreateTemp("", "exfiltrace-evtx-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		r, err := in.Reader()
		if err != nil {
			return err
		}
		size, err = io.Copy(tmp, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("decompressing: %w", err)
		}
		ra = tmp
	}
	rd, err := evtx.NewReader(ra, size)
	if err != nil {
		return err
	}
	err = rd.Records(func(rec *evtx.Record) error {
		pos := "O" + strconv.FormatInt(rec.Offset, 10)
		w, werr := winRecordFromNode(rec.Root)
		var ev *event.Event
		if werr != nil {
			ev = event.New()
			ev.Timestamp = rec.Written
			ev.Fields[event.FieldKind] = event.KindRaw
			ev.Fields[event.FieldError] = "evtx record is not a Windows event: " + werr.Error()
			ev.Fields[event.FieldOriginal] = rec.Root.XML()
		} else {
			ev = w.toEvent()
		}
		ev.Fields[event.FieldRecord] = int64(rec.ID)
		ev.Fields["log.offset"] = rec.Offset
		emit(ev, pos)
		return nil
	})
	for _, l := range rd.Losses {
		st.AddLost(l.Reason, int64(l.Records))
	}
	for _, w := range rd.Warnings {
		if w.Chunk >= 0 {
			st.Warn(fmt.Sprintf("chunk %d: %s", w.Chunk, w.Reason))
		} else {
			st.Warn(w.Reason)
		}
	}
	return err
}
