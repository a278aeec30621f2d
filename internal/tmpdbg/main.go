package main

import (
	"fmt"
	"os"

	"github.com/exfiltrace/exfiltrace/parsers/evtx"
)

func main() {
	for _, p := range os.Args[1:] {
		f, _ := os.Open(p)
		st, _ := f.Stat()
		rd, err := evtx.NewReader(f, st.Size())
		if err != nil {
			fmt.Println(p, err)
			continue
		}
		n, c := 0, 0
		rd.Records(func(r *evtx.Record) error {
			if r.Carved {
				c++
				if os.Getenv("IDS") != "" {
					fmt.Println("   CARVED", r.ID, r.Chunk, r.CarveReason)
				}
			} else {
				n++
				if os.Getenv("IDS") == "2" {
					fmt.Println("   LIVE", r.ID, r.Chunk, r.Offset)
				}
			}
			return nil
		})
		lost := 0
		for _, l := range rd.Losses {
			lost += l.Records
		}
		fmt.Printf("%s: %d records, %d carved, %d lost, header chunks %d next %d dirty %v\n", p, n, c, lost, rd.Header.ChunkCount, rd.Header.NextRecordID, rd.Header.Dirty)
		for _, l := range rd.Losses {
			fmt.Println("   L", l)
		}
		for _, ch := range rd.Chunks {
			if ch.Carved > 0 || len(ch.Problems) > 0 {
				fmt.Println("   C", ch.Index, "live", ch.Live, "carved", ch.Carved, "lost", ch.Lost, ch.Problems)
			}
		}
		for _, w := range rd.Warnings {
			fmt.Println("   W", w.Chunk, w.Reason)
		}
		f.Close()
	}
}
