package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/exfiltrace/exfiltrace/columns"
	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
)

// row is the pure-Go alternative's typed columns (parquet-go), the same
// fields the DuckDB store types, for the spike.
type row struct {
	Timestamp  int64   `parquet:"timestamp,timestamp(nanosecond)"`
	Dataset    string  `parquet:"dataset,dict"`
	Action     string  `parquet:"action,dict"`
	SourceIP   string  `parquet:"source_ip,dict"`
	SourcePort *int32  `parquet:"source_port,optional"`
	SrcBytes   *int64  `parquet:"source_bytes,optional"`
	DestIP     string  `parquet:"destination_ip,dict"`
	DestPort   *int32  `parquet:"destination_port,optional"`
	DstBytes   *int64  `parquet:"destination_bytes,optional"`
	User       string  `parquet:"user_name,dict"`
	Host       string  `parquet:"host_name,dict"`
	ID         string  `parquet:"event_id"`
	Location   string  `parquet:"location"`
	Fields     *string `parquet:"fields,optional"`
}

// columnsSpike times the columnar copy of a case both ways: DuckDB's
// appender (the columns package) and parquet-go writing the same rows.
func columnsSpike(args []string) error {
	if len(args) != 2 || args[1] != "duckdb" && args[1] != "parquet-go" {
		return fmt.Errorf("usage: tool columns CASE duckdb|parquet-go (one per process: peak RSS is per process)")
	}
	c, err := index.OpenCase(args[0], false)
	if err != nil {
		return err
	}
	if args[1] == "parquet-go" {
		return parquetGo(c, args[0])
	}
	os.Remove(columns.Path(c))
	start := time.Now()
	if err := columns.Build(c, nil); err != nil {
		return err
	}
	d := time.Since(start)
	st, _ := os.Stat(columns.Path(c))
	fmt.Printf("%-28s %10d events %7.2f s %10.0f events/s  %6.0f MB on disk  peak RSS %.0f MiB\n", "columnar copy (DuckDB)", c.Manifest.Events, d.Seconds(), float64(c.Manifest.Events)/d.Seconds(), float64(st.Size())/1e6, peakRSS())
	return nil
}

func parquetGo(c *index.Case, dir string) error {
	out := filepath.Join(dir, "spike.parquet")
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := parquet.NewGenericWriter[row](f, parquet.Compression(&zstd.Codec{}), parquet.PageBufferSize(256<<10))
	start := time.Now()
	buf := make([]row, 0, 1024)
	i32 := func(ev *event.Event, k string) *int32 {
		if n, ok := ev.Int(k); ok {
			v := int32(n)
			return &v
		}
		return nil
	}
	i64 := func(ev *event.Event, k string) *int64 {
		if n, ok := ev.Int(k); ok {
			return &n
		}
		return nil
	}
	for _, fs := range c.Manifest.Files {
		if fs.Events() == 0 {
			continue
		}
		err := c.EachStored(fs.SHA256, func(ev *event.Event, loc string) error {
			r := row{Timestamp: ev.Timestamp.UnixNano(), Dataset: ev.Str("event.dataset"), Action: ev.Str("event.action"),
				SourceIP: ev.Str("source.ip"), SourcePort: i32(ev, "source.port"), SrcBytes: i64(ev, "source.bytes"),
				DestIP: ev.Str("destination.ip"), DestPort: i32(ev, "destination.port"), DstBytes: i64(ev, "destination.bytes"),
				User: ev.Str("user.name"), Host: ev.Str("host.name"), ID: ev.Str("event.id"), Location: loc}
			if b, err := ev.MarshalJSON(); err == nil {
				s := string(b)
				r.Fields = &s
			}
			buf = append(buf, r)
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, err := w.Write(buf); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	f.Close()
	d := time.Since(start)
	st, _ := os.Stat(out)
	fmt.Printf("%-28s %10d events %7.2f s %10.0f events/s  %6.0f MB on disk  peak RSS %.0f MiB\n", "parquet-go writer (spike)", c.Manifest.Events, d.Seconds(), float64(c.Manifest.Events)/d.Seconds(), float64(st.Size())/1e6, peakRSS())
	os.Remove(out)
	return nil
}
