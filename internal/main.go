package main

import (
	"fmt"
	"os"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers"
)

func main() {
	for _, p := range os.Args[1:] {
		in, err := parsers.Open(p)
		if err != nil {
			panic(err)
		}
		var last time.Time
		n, inv, maxBack := 0, 0, time.Duration(0)
		shown := 0
		var lastAct string
		parsers.Parse(in, &parsers.Options{TZ: time.UTC}, func(ev *event.Event) {
			n++
			if ev.Timestamp.Before(last) {
				inv++
				if d := last.Sub(ev.Timestamp); d > maxBack {
					maxBack = d
				}
				if shown < 5 {
					shown++
					fmt.Println("  back", n, last.Sub(ev.Timestamp), lastAct, "->", ev.Str("event.action"), ev.Str("event.original")[:min(100, len(ev.Str("event.original")))])
				}
			} else {
				last = ev.Timestamp
				lastAct = ev.Str("event.action")
			}
		})
		fmt.Println(p, n, "events", inv, "inversions, max back", maxBack)
	}
}
