package main

import (
	"fmt"
	"os"

	"github.com/exfiltrace/exfiltrace/parsers/evtx"
)

func main() {
	for _, p := range os.Args[1:] {
		f, err := os.Open(p)
		if err != nil {
			fmt.Println(err)
			continue
		}
		st, _ := f.Stat()
		r, err := evtx.NewReader(f, st.Size())
		if err != nil {
			fmt.Println(p, err)
			continue
		}
		n := 0
		verbose := os.Getenv("V") != ""
		r.Records(func(rec *evtx.Record) error {
			n++
			if verbose {
				fmt.Printf("Record %d %s\n%s", rec.ID, rec.Written, rec.Root.XML())
			}
			return nil
		})
		fmt.Printf("%s: %d records, losses=%v warnings=%d\n", p, n, r.Losses, len(r.Warnings))
	}
}
