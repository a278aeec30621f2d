package parsers

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers/evtx"
)

// EVTX reads binary Windows event log files with the project's own reader.
type EVTX struct{}

func (EVTX) Name() string        { return "evtx" }
func (EVTX) Description() string { return "Windows binary event logs (.evtx), including damaged files" }
func (EVTX) Detect(head []byte) bool {
	return bytes.HasPrefix(head, []byte("ElfFile\x00")) || evtx.LooksLikeChunks(head)
}

// OutOfTimeOrder says why the file's events are known, from its structure
// alone, to come out of time order when read in file order: an EVTX log
// that wrapped around. Empty when nothing is known.
func OutOfTimeOrder(in *Input) string {
	ra := in.ReaderAt()
	if ra == nil || in.Compression != "" {
		return ""
	}
	head := make([]byte, 4096+8) // a chunk where a zeroed header ends
	n, _ := ra.ReadAt(head, 0)
	if !(EVTX{}).Detect(head[:n]) {
		return ""
	}
	rd, err := evtx.NewReader(ra, in.Size)
	if err != nil || !rd.Wrapped() {
		return ""
	}
	return "an EVTX log that wrapped around: its oldest chunk is not its first"
}

func (EVTX) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	ra, size := in.ReaderAt(), in.Size
	if in.Compression != "" || ra == nil {
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
	rd.Flat = true
	records := 0
	// Chunks are decoded and mapped to events on every core; events are
	// emitted in file order on this goroutine.
	err = rd.Walk(runtime.NumCPU(), func(rec *evtx.Record) any {
		ev := evtxEvent(rec)
		// The id is a hash: computed here, on the decoding goroutines.
		ev.Fields[event.FieldID] = event.ID(in.SHA256, evtxPosition(rec))
		return ev
	}, func(rec *evtx.Record, prepared any) error {
		records++
		emit(prepared.(*event.Event), evtxPosition(rec))
		return nil
	})
	for _, l := range rd.Losses {
		st.AddLost(l.Reason, int64(l.Records))
		st.AddLostWhen(int64(l.Records), l.After, l.Before)
	}
	for _, w := range rd.Warnings {
		if w.Chunk >= 0 {
			st.Warn(fmt.Sprintf("chunk %d: %s", w.Chunk, w.Reason))
		} else {
			st.Warn(w.Reason)
		}
	}
	if err == nil && records == 0 && len(rd.Losses) == 0 && len(rd.Warnings) == 0 {
		// A collection holds hundreds of these (a channel never written
		// to): said, so that 0 events is not taken for a failed read.
		st.Warn("empty: the log holds no event record, so no events")
	}
	return err
}

func evtxPosition(rec *evtx.Record) string { return "O" + strconv.FormatInt(rec.Offset, 10) }

// evtxEvent maps one record to an event, with its record id and offset;
// a carved record is flagged with where it was found.
func evtxEvent(rec *evtx.Record) *event.Event {
	var w *winRecord
	var werr error
	if rec.Flat != nil {
		w, werr = winRecordFromFlat(rec.Flat)
	} else {
		w, werr = winRecordFromNode(rec.Root)
	}
	reason := ""
	switch {
	case werr != nil:
		reason = "evtx record is not a Windows event: " + werr.Error()
	case rec.CarveReason == evtx.CarveZeroedSizeCopy:
		// Its last values may be cut: kept whole as text with the reason,
		// not as fields a rule or the ledger would take as read.
		reason = evtx.CarveZeroedSizeCopy
	}
	var ev *event.Event
	if reason != "" {
		ev = event.New()
		ev.Timestamp = rec.Written
		ev.Fields[event.FieldKind] = event.KindRaw
		ev.Fields[event.FieldError] = reason
		if rec.Root != nil {
			ev.Fields[event.FieldOriginal] = rec.Root.XML()
		} else {
			ev.Fields[event.FieldOriginal] = fmt.Sprint(rec.Flat.Sys, rec.Flat.EventData, rec.Flat.UserData)
		}
	} else {
		ev = w.toEvent()
	}
	ev.Fields[event.FieldRecord] = int64(rec.ID)
	ev.Fields["log.offset"] = rec.Offset
	if rec.Carved {
		ev.Fields[event.FieldCarved] = true
		ev.Fields[event.FieldCarveReason] = rec.CarveReason
	}
	return ev
}
