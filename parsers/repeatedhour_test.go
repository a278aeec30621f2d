package parsers

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRepeatedHour: a firewall writing Paris time without its offset
// through the end of summer time (2024-10-27: 02:00–02:59 shown twice)
// has each stamp of that hour placed at the pass its place in the log
// says, so the log's times run forward in UTC; a log starting inside the
// hour is read at its first pass, and the file says how it was read.
func TestRepeatedHour(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	line := func(stamp string, id int) string {
		if at, ok := strings.CutPrefix(stamp, "nxlog "); ok {
			return `{"EventTime":"` + at + `","Hostname":"FS01","EventType":"AUDIT_SUCCESS","EventID":4624,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","RecordNumber":` + strconv.Itoa(100+id) + `,"Message":"An account was successfully logged on."}` + "\n"
		}
		if at, ok := strings.CutPrefix(stamp, "snare "); ok {
			return "FS01\tMSWinEventLog\t1\tSecurity\t" + strconv.Itoa(100+id) + "\t" + at + "\t4624\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tSuccess Audit\tFS01\tLogon\t\tAn account was successfully logged on.\t" + strconv.Itoa(100+id) + "\n"
		}
		if g, ok := strings.CutPrefix(stamp, "panos "); ok {
			return "1," + g + ",013201001234,TRAFFIC,end,2561," + g + ",10.1.2.30,185.199.110.153,203.0.113.5,185.199.110.153,allow-out,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,Forward," + g + "," + strconv.Itoa(id) + ",1,50432,443,50432,443,0x400019,tcp,allow,3000,1000,2000,20," + g + ",10,any,0,7012345678,0x0,10.0.0.0-10.255.255.255,United States,0,10,10,tcp-fin\n"
		}
		if strings.HasPrefix(stamp, "date=") {
			return stamp + `devname="FG" logid="0000000013" type="traffic" subtype="forward" srcip=10.1.2.30 srcport=50432 dstip=185.199.110.153 dstport=443 sessionid=` + strconv.Itoa(id) + ` proto=6 action="close" duration=10 sentbyte=1000 rcvdbyte=2000` + "\n"
		}
		if !strings.Contains(stamp, "\t") && !strings.Contains(stamp, " asa01") {
			stamp += " asa01"
		}
		return stamp + " %ASA-6-302014: Teardown TCP connection " + strconv.Itoa(id) + " for outside:31.216.145.5/443 to inside:10.10.1.20/60100 duration 0:00:10 bytes 1000 TCP FINs\n"
	}
	for _, c := range []struct {
		name  string
		lines []string
		want  []string
	}{
		{"through the change", []string{"Oct 27 01:50:00", "Oct 27 02:10:00", "Oct 27 02:40:00", "Oct 27 02:05:00", "Oct 27 02:30:00", "Oct 27 03:10:00"},
			[]string{"2024-10-26T23:50:00Z", "2024-10-27T00:10:00Z", "2024-10-27T00:40:00Z", "2024-10-27T01:05:00Z", "2024-10-27T01:30:00Z", "2024-10-27T02:10:00Z"}},
		{"starting inside the hour", []string{"Oct 27 02:30:00", "Oct 27 02:50:00"},
			[]string{"2024-10-27T00:30:00Z", "2024-10-27T00:50:00Z"}},
		{"a collector's ISO stamps", []string{"2024-10-27 01:50:00\tLocal4.Info\t10.0.0.1\t", "2024-10-27 02:10:00\tLocal4.Info\t10.0.0.1\t", "2024-10-27 02:05:00\tLocal4.Info\t10.0.0.1\t"},
			[]string{"2024-10-26T23:50:00Z", "2024-10-27T00:10:00Z", "2024-10-27T01:05:00Z"}},
		{"a collector's file keeping the device's classic stamps", []string{"2024-10-27 12:00:00\tLocal4.Info\t10.0.0.1\tOct 27 02:10:00 asa01", "2024-10-27 12:00:00\tLocal4.Info\t10.0.0.1\tOct 27 02:40:00 asa01", "2024-10-27 12:00:00\tLocal4.Info\t10.0.0.1\tOct 27 02:05:00 asa01"},
			[]string{"2024-10-27T00:10:00Z", "2024-10-27T00:40:00Z", "2024-10-27T01:05:00Z"}},
		{"ISO stamps naming no offset", []string{"2024-10-27T02:10:00 asa01", "2024-10-27T02:05:00 asa01"},
			[]string{"2024-10-27T00:10:00Z", "2024-10-27T01:05:00Z"}},
		{"FortiGate's date and time, no tz", []string{"date=2024-10-27 time=02:10:00 ", "date=2024-10-27 time=02:40:00 ", "date=2024-10-27 time=02:05:00 "},
			[]string{"2024-10-27T00:10:00Z", "2024-10-27T00:40:00Z", "2024-10-27T01:05:00Z"}},
		{"PAN-OS' generated time", []string{"panos 2024/10/27 02:10:00", "panos 2024/10/27 02:40:00", "panos 2024/10/27 02:05:00"},
			[]string{"2024-10-27T00:10:00Z", "2024-10-27T00:40:00Z", "2024-10-27T01:05:00Z"}},
		{"NXLog's EventTime", []string{"nxlog 2024-10-27 02:10:00", "nxlog 2024-10-27 02:40:00", "nxlog 2024-10-27 02:05:00"},
			[]string{"2024-10-27T00:10:00Z", "2024-10-27T00:40:00Z", "2024-10-27T01:05:00Z"}},
		{"Snare's time", []string{"snare Sun Oct 27 02:10:00 2024", "snare Sun Oct 27 02:40:00 2024", "snare Sun Oct 27 02:05:00 2024"},
			[]string{"2024-10-27T00:10:00Z", "2024-10-27T00:40:00Z", "2024-10-27T01:05:00Z"}},
		{"the spring change", []string{"Mar 31 01:59:00", "Mar 31 03:01:00"},
			[]string{"2024-03-31T00:59:00Z", "2024-03-31T01:01:00Z"}},
	} {
		var b strings.Builder
		for i, l := range c.lines {
			b.WriteString(line(l, i))
		}
		p := filepath.Join(t.TempDir(), "asa.log")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		evs, st := parseFile(t, p, &Options{TZ: paris, Year: 2024})
		if len(evs) != len(c.want) {
			t.Fatalf("%s: %d events, %+v", c.name, len(evs), st)
		}
		for i, ev := range evs {
			if got := ev.Timestamp.Format(time.RFC3339); got != c.want[i] {
				t.Errorf("%s: line %d (%s) at %s, want %s", c.name, i+1, c.lines[i], got, c.want[i])
			}
		}
		warned := false
		for _, w := range st.Warnings {
			warned = warned || strings.Contains(w, "2024-10-27 02:00–02:59, an hour Europe/Paris's clocks showed twice")
		}
		if warned != !strings.HasPrefix(c.lines[0], "Mar") {
			t.Errorf("%s: warnings %q", c.name, st.Warnings)
		}
	}
}

// TestRepeatedHourBehindRelay: behind a relay whose clock runs minutes
// apart from the device's, only the device's stamps say when the clock
// went back.
func TestRepeatedHourBehindRelay(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	clock := syslogClock{Year: 2024, Loc: paris}
	for _, c := range []struct{ line, want string }{
		{"Oct 27 02:15:00 relay01 Oct 27 02:10:00 mail01 postfix/qmgr[1]: x", "2024-10-27T00:10:00Z"},
		{"Oct 27 02:45:00 relay01 Oct 27 02:40:00 mail01 postfix/qmgr[1]: x", "2024-10-27T00:40:00Z"},
		{"Oct 27 02:50:00 relay01 Oct 27 02:45:00 mail01 postfix/qmgr[1]: x", "2024-10-27T00:45:00Z"},
	} {
		h, err := clock.peek(c.line)
		if err != nil || h.Time.Format(time.RFC3339) != c.want {
			t.Errorf("%q: %s, want %s (%v)", c.line, h.Time.Format(time.RFC3339), c.want, err)
		}
	}
}
