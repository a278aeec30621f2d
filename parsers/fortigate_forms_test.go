package parsers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestFortiGateOtherForms: FortiOS' syslog "format csv" writes the same
// pairs joined by commas (date=2025-03-14,time=22:05:01,logid="…",…),
// "format json" as the members of an object, "format cef" as CEF (with its
// own names for some keys); every line of the testdata and sample logs
// written so reads as the line itself, each field the same but the
// original — the CEF lines both by the FortiGate reader and by the CEF
// reader, which hands them to it.
func TestFortiGateOtherForms(t *testing.T) {
	pairsAt := func(l string) int {
		start := strings.Index(l, "date=")
		if i := strings.Index(l, "logid="); start < 0 || i >= 0 && i < start {
			start = i
		}
		return start
	}
	forms := map[string]func(l string) string{
		"csv": func(l string) string {
			b := []byte(l)
			quoted := false
			for i := pairsAt(l); i < len(b); i++ {
				switch {
				case b[i] == '\\' && quoted:
					i++
				case b[i] == '"':
					quoted = !quoted
				case b[i] == ' ' && !quoted:
					b[i] = ','
				}
			}
			return string(b)
		},
		// As FortiOS writes CEF: the keys CEF names renamed, the others
		// prefixed FTNTFGT, type and subtype as cat, = and \ escaped.
		"cef": func(l string) string {
			start := pairsAt(l)
			cefName := map[string]string{}
			for c, f := range fortiCEFKeys {
				cefName[f] = c
			}
			var ext []string
			var typ, sub, logid string
			esc := strings.NewReplacer(`\`, `\\`, `=`, `\=`)
			splitKV(l[start:], func(k, v string) {
				switch k {
				case "type":
					typ = v
				case "subtype":
					sub = v
				case "logid":
					logid = v
				}
				name := "FTNTFGT" + k
				if c := cefName[k]; c != "" {
					name = c
				}
				ext = append(ext, name+"="+esc.Replace(v))
			})
			ext = append(ext, "cat="+typ+":"+sub)
			version := "CEF:0|"
			if len(l)%2 == 0 {
				version = "CEF: 0|" // FortiOS 6.2 and later
			}
			if len(logid) > 5 {
				logid = logid[len(logid)-5:]
			}
			return l[:start] + version + "Fortinet|Fortigate|v7.2.4|" + logid + "|" + typ + ":" + sub + "|3|" + strings.Join(ext, " ")
		},
		"json": func(l string) string {
			start := pairsAt(l)
			var out bytes.Buffer
			out.WriteString(l[:start] + "{")
			n := 0
			splitKV(l[start:], func(k, v string) {
				if n > 0 {
					out.WriteByte(',')
				}
				n++
				kb, _ := json.Marshal(k)
				out.Write(kb)
				out.WriteByte(':')
				if _, err := strconv.ParseInt(v, 10, 64); err == nil && (v == "0" || v[0] != '0' && v[0] != '-' && v[0] != '+') {
					out.WriteString(v) // a number, as FortiOS writes counters
				} else {
					vb, _ := json.Marshal(v)
					out.Write(vb)
				}
			})
			out.WriteString("}")
			return out.String()
		},
	}
	for name, form := range forms {
		compared := 0
		for _, path := range []string{"testdata/fortigate.log", "../samples/incident/firewall/fortigate.log"} {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(src)), "\n")
			dec, formDec := FortiGate{}.NewDecoder(&Options{TZ: time.UTC, Year: 2025}), FortiGate{}.NewDecoder(&Options{TZ: time.UTC, Year: 2025})
			cefDec := CEF{}.NewDecoder(&Options{TZ: time.UTC, Year: 2025})
			for no, l := range lines {
				if pairsAt(l) < 0 {
					continue
				}
				var a, b *event.Event
				errA := dec.Line(int64(no), []byte(l), func(ev *event.Event, _ string) { a = ev })
				c := form(l)
				errB := formDec.Line(int64(no), []byte(c), func(ev *event.Event, _ string) { b = ev })
				if name == "cef" {
					if (CEF{}).matchLine(c) {
						t.Fatalf("%s:%d: a FortiGate's CEF taken by the CEF reader's detector: %q", path, no+1, c)
					}
					var viaCEF *event.Event
					cefDec.Line(int64(no), []byte(c), func(ev *event.Event, _ string) { viaCEF = ev })
					if b != nil && (viaCEF == nil || !reflect.DeepEqual(viaCEF.Fields, b.Fields)) {
						t.Fatalf("%s:%d: the CEF reader reads a FortiGate's CEF otherwise than the FortiGate reader", path, no+1)
					}
				}
				if (errA == nil) != (errB == nil) || (a == nil) != (b == nil) {
					t.Fatalf("%s:%d: %v / %v as %s: %q", path, no+1, errA, errB, name, c)
				}
				if a == nil {
					continue
				}
				if c == l || !(FortiGate{}).matchLine(c) {
					t.Fatalf("%s:%d: not rewritten, or not recognised, as %s: %q", path, no+1, name, c)
				}
				delete(a.Fields, event.FieldOriginal)
				delete(b.Fields, event.FieldOriginal)
				if !a.Timestamp.Equal(b.Timestamp) || !reflect.DeepEqual(a.Fields, b.Fields) {
					t.Fatalf("%s:%d as %s:\n got %v %v\nwant %v %v", path, no+1, name, b.Timestamp, b.Fields, a.Timestamp, a.Fields)
				}
				compared++
			}
		}
		if compared < 8000 {
			t.Fatalf("%s: only %d lines compared", name, compared)
		}
	}
}

// TestCEFByteDirection: the lines of vendors' own documentation, with the
// counters each vendor's documentation says it writes — FortiOS' sentbyte
// as "out" (its Log Message Reference: sentbyte=151 rcvdbyte=90170 →
// out=151 in=90170), Palo Alto's Strata Logging Service's bytes_sent as
// "out", PAN-OS' bytes_sent as "in" (CEF's standard) — give the bytes the
// source sent as source.bytes, through the CEF reader as through a file.
func TestCEFByteDirection(t *testing.T) {
	cases := []struct {
		name, line, format string
		want               map[string]any
	}{{
		name:   "FortiOS 5.6 DLP, CEF:0",
		line:   `Feb 12 14:16:32 syslog-800c CEF:0|Fortinet|Fortigate|v5.6.0|24576|utm:dlp dlp block|4|FTNTFGTlogid=0954024576 cat=utm:dlp FTNTFGTsubtype=dlp FTNTFGTeventtype=dlp FTNTFGTlevel=warning FTNTFGTvd=vdom1 FTNTFGTfilteridx=2 cs1=ssn cs1Label=Filter Type FTNTFGTfiltercat=file FTNTFGTseverity=medium externalId=65177 FTNTFGTepoch=2015044633 FTNTFGTeventid=0 duser= src=192.168.1.183 spt=36171 deviceInboundInterface=port15 dst=192.168.70.184 dpt=80 deviceOutboundInterface=port19 proto=6 app=HTTP FTNTFGTfiletype=unknown out=151 in=90170 deviceDirection=0 act=block dhost=192.168.70.184 request=/dlp/ssn/ssn-docx-pdf-valid.tar requestClientApplication=Wget/1.10.2 fname=ssn-docx-pdf-valid.tar fsize=89831 FTNTFGTprofile=SSN`,
		format: "fortigate",
		// A UTM record: its counters repeat its session's, kept as FortiOS'.
		want: map[string]any{"fortinet.firewall.sentbyte": int64(151), "fortinet.firewall.rcvdbyte": int64(90170), "source.bytes": nil,
			"destination.bytes": nil, "source.ip": "192.168.1.183", "destination.port": int64(80),
			"event.action": "block", "url.original": "/dlp/ssn/ssn-docx-pdf-valid.tar", "event.code": "0954024576", "fortinet.firewall.filtertype": "ssn",
			"fortinet.firewall.direction": "incoming", "observer.ingress.interface.name": "port15", "fortinet.firewall.sessionid": "65177"},
	}, {
		name:   "FortiOS 6.2 traffic, CEF: 0",
		line:   `Dec 27 11:07:55 FGT-A-LOG CEF: 0|Fortinet|Fortigate|v6.0.3|00013|traffic:forward close|3|deviceExternalId=FGT5HD3915800610 FTNTFGTlogid=0000000013 cat=traffic:forward FTNTFGTsubtype=forward FTNTFGTlevel=notice FTNTFGTvd=vdom1 FTNTFGTeventtime=1545937675 src=10.1.100.11 spt=54190 deviceInboundInterface=port12 dst=52.53.140.235 dpt=443 deviceOutboundInterface=port11 externalId=402 proto=6 act=close FTNTFGTpolicyid=1 app=HTTPS FTNTFGTdstcountry=United States sourceTranslatedAddress=172.16.200.1 sourceTranslatedPort=54190 FTNTFGTduration=2 out=3652 in=146668 FTNTFGTsentpkt=58 FTNTFGTrcvdpkt=105`,
		format: "fortigate",
		want: map[string]any{"source.bytes": int64(3652), "destination.bytes": int64(146668), "source.packets": int64(58), "destination.ip": "52.53.140.235",
			"source.nat.ip": "172.16.200.1", "destination.geo.country_name": "United States", "observer.serial_number": "FGT5HD3915800610",
			"event.action": "close", "rule.id": "1", "network.transport": "tcp"},
	}, {
		name:   "Strata Logging Service",
		line:   `CEF:0|Palo Alto Networks|LF|2.0|TRAFFIC|end|3|rt=Feb 27 2021 20:16:21 src=10.0.0.5 dst=31.216.145.5 spt=50000 dpt=443 in=2048 out=123456789 act=allow`,
		format: "cef",
		want:   map[string]any{"source.bytes": int64(123456789), "destination.bytes": int64(2048)},
	}, {
		name:   "PAN-OS",
		line:   `CEF:0|Palo Alto Networks|PAN-OS|10.1.0|end|TRAFFIC|1|rt=Feb 27 2021 20:16:21 src=10.0.0.5 dst=31.216.145.5 spt=50000 dpt=443 in=123456789 out=2048 act=allow`,
		format: "cef",
		want:   map[string]any{"source.bytes": int64(123456789), "destination.bytes": int64(2048)},
	}}
	for _, c := range cases {
		var got *event.Event
		if err := (CEF{}).NewDecoder(&Options{TZ: time.UTC, Year: 2025}).Line(1, []byte(c.line), func(ev *event.Event, _ string) { got = ev }); err != nil || got == nil {
			t.Fatalf("%s: CEF reader: %v", c.name, err)
		}
		want(t, c.name+" (CEF reader)", got, "", c.want)
		p := filepath.Join(t.TempDir(), "siem.log")
		if err := os.WriteFile(p, []byte(c.line+"\n"+c.line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		evs, st := parseFile(t, p, &Options{TZ: time.UTC, Year: 2025})
		if st.Format != c.format || st.Parsed != 2 || st.Raw != 0 {
			t.Fatalf("%s: stats %+v", c.name, st)
		}
		want(t, c.name, evs[0], "", c.want)
	}
}

// TestFortiGateTable: the sample logs as FortiAnalyzer's CSV download
// writes them — a column per key, empty where a log has none; comma, and
// semicolons as a French Excel re-saves it — are detected as FortiGate's
// and each row reads as its line does, each field the same but the
// original and the line number.
func TestFortiGateTable(t *testing.T) {
	src, err := os.ReadFile("../samples/incident/firewall/fortigate.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	var cols []string
	seen := map[string]bool{}
	var rows []map[string]string
	for _, l := range lines {
		row := map[string]string{}
		splitKV(l[strings.Index(l, "date="):], func(k, v string) {
			row[k] = v
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		})
		rows = append(rows, row)
	}
	for _, delim := range []rune{',', ';'} {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Comma = delim
		w.Write(cols)
		for _, row := range rows {
			rec := make([]string, len(cols))
			for i, c := range cols {
				rec[i] = row[c]
			}
			w.Write(rec)
		}
		w.Flush()
		table := strings.Split(strings.TrimSpace(b.String()), "\n")
		if !(FortiGate{}).Detect(b.Bytes()[:min(b.Len(), 64<<10)]) {
			t.Fatalf("%q: the table is not detected", delim)
		}
		dec, tableDec := FortiGate{}.NewDecoder(&Options{TZ: time.UTC, Year: 2025}), FortiGate{}.NewDecoder(&Options{TZ: time.UTC, Year: 2025})
		if err := tableDec.Line(1, []byte(table[0]), func(*event.Event, string) { t.Fatal("the header gave an event") }); err != nil {
			t.Fatal(err)
		}
		compared := 0
		for i, l := range lines {
			var a, c *event.Event
			errA := dec.Line(int64(i+1), []byte(l), func(ev *event.Event, _ string) { a = ev })
			errC := tableDec.Line(int64(i+2), []byte(table[i+1]), func(ev *event.Event, _ string) { c = ev })
			if (errA == nil) != (errC == nil) || (a == nil) != (c == nil) {
				t.Fatalf("%q row %d: %v / %v", delim, i+1, errA, errC)
			}
			if a == nil {
				continue
			}
			for _, k := range []string{event.FieldOriginal, event.FieldLine} {
				delete(a.Fields, k)
				delete(c.Fields, k)
			}
			if !a.Timestamp.Equal(c.Timestamp) || !reflect.DeepEqual(a.Fields, c.Fields) {
				t.Fatalf("%q row %d:\n got %v %v\nwant %v %v", delim, i+1, c.Timestamp, c.Fields, a.Timestamp, a.Fields)
			}
			compared++
		}
		if compared != len(lines) {
			t.Fatalf("%q: %d of %d rows compared", delim, compared, len(lines))
		}
		p := filepath.Join(t.TempDir(), "faz-export.csv")
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, st := parseFile(t, p, &Options{TZ: time.UTC, Year: 2025}); st.Format != "fortigate" || st.Parsed != int64(len(lines)) || st.Raw != 0 || st.Lost != 0 {
			t.Fatalf("%q: stats %+v", delim, st)
		}
	}
}
