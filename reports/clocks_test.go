package reports

import (
	"cmp"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// TestClockOffsetShown: a VPN theft whose firewall (Cisco ASA over syslog)
// writes local time without a zone, read without --tz: the firewall's VPN
// tunnels and remote desktop sessions line up with the logons Windows
// recorded only once moved back by the town's offset, and the report says
// so with the zone to give; read with the right --tz, the clocks agree and
// nothing is said.
func TestClockOffsetShown(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		inc := scenario.Generate(scenario.Variants[0], seed)
		if err := inc.AsFirewall("cisco-asa"); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("asa-%d", seed))
		if err := inc.Write(dir, dir+".truth.json"); err != nil {
			t.Fatal(err)
		}
		off := int64(inc.Truth.TZOffsetSeconds)
		wrong, _ := analyzeDir(t, dir, parsers.Options{TZ: time.UTC, Year: inc.Truth.Year}, "en")
		c := checkWith(wrong, "windows")
		if fw, _ := filepath.Glob(filepath.Join(dir, "firewall", "*")); len(fw) == 0 {
			if c != nil {
				t.Errorf("seed %d: no firewall log, clock check %+v", seed, c)
			}
			continue
		}
		if off == 0 {
			if c != nil && c.OffsetSeconds != 0 {
				t.Errorf("seed %d: UTC town, clock check %+v", seed, c)
			}
			continue
		}
		t.Logf("seed %d, UTC%+.1f: %+v", seed, float64(off)/3600, c)
		if c == nil || c.OffsetSeconds != off || c.Agreeing < 3 || c.AtZero != 0 {
			t.Fatalf("seed %d (%s): clock check %+v, want offset %d", seed, inc.Truth.Notes, c, off)
		}
		zone := map[int64]string{3600: "UTC+01:00", 7200: "UTC+02:00", 19800: "UTC+05:30", -18000: "UTC-05:00"}[off]
		if !hasReason(wrong, "Clocks: the firewall's times run ") || !hasReason(wrong, "("+zone+" at that date)") {
			t.Errorf("seed %d: reasons %q, want the offset and %s", seed, wrong.Verdict.Reasons, zone)
		}
		right, _ := analyzeDir(t, dir, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en")
		if rc := checkWith(right, "windows"); rc == nil || rc.OffsetSeconds != 0 || rc.Agreeing < 3 || hasReason(right, "Clocks:") {
			t.Errorf("seed %d: read in its zone, clock checks %+v", seed, right.Clocks)
		}
	}
}

// TestClockOffsetAgainstTheProxy: generated incidents whose web traffic
// goes through a ProxySG (its log in GMT) behind a Zyxel that writes its
// local time without a zone. Read in UTC, the firewall's sessions from the
// proxy meet the proxy's requests only once moved back by the town's
// offset, which the check finds exactly; read in the town's zone, none is
// claimed.
func TestClockOffsetAgainstTheProxy(t *testing.T) {
	offsetsFound(t, "proxy", func(seed uint64) (*scenario.Incident, error) {
		inc := scenario.Generate(scenario.Variants[seed%2], seed)
		if err := inc.AsProxy("behind-firewall"); err != nil {
			return nil, err
		}
		return inc, inc.AsFirewall("zyxel")
	})
}

// offsetsFound analyzes the incidents of seeds 1 to 6, whose firewall
// writes its local time without a zone: read in UTC, the comparison with
// log finds the town's offset exactly (or none when log names no zone
// either: both read in UTC, on one clock), in three incidents at least;
// read in the town's zone, none is claimed.
func offsetsFound(t *testing.T, log string, incident func(seed uint64) (*scenario.Incident, error)) {
	t.Helper()
	shown := 0
	for seed := uint64(1); seed <= 6; seed++ {
		inc, err := incident(seed)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%d", log, seed))
		if err := inc.Write(dir, dir+".truth.json"); err != nil {
			t.Fatal(err)
		}
		if fw, _ := filepath.Glob(filepath.Join(dir, "firewall", "*")); len(fw) == 0 {
			continue
		}
		off := int64(inc.Truth.TZOffsetSeconds)
		if log == "mail" && strings.Contains(inc.Truth.Notes, "Postfix with classic syslog stamps") ||
			log == windowsConnections && (strings.Contains(inc.Truth.Notes, "in local time") || strings.Contains(inc.Truth.Notes, "Get-WinEvent CSV")) {
			off = 0 // the other log names no zone either: both read in UTC agree
		}
		wrong, _ := analyzeDir(t, dir, parsers.Options{TZ: time.UTC, Year: inc.Truth.Year}, "en")
		c := checkWith(wrong, log)
		t.Logf("seed %d, UTC%+.1f: %+v", seed, float64(off)/3600, c)
		switch {
		case c == nil || c.Agreeing < 3:
			t.Errorf("seed %d (%s): clock check %+v", seed, inc.Truth.Notes, c)
		case c.OffsetSeconds != off || c.Source != "firewall" || off != 0 && c.AtZero*2 > c.Agreeing:
			t.Errorf("seed %d (%s): clock check %+v, want the firewall %d s off", seed, inc.Truth.Notes, c, off)
		case off != 0:
			shown++
		}
		right, _ := analyzeDir(t, dir, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en")
		if rc := checkWith(right, log); rc == nil || rc.OffsetSeconds != 0 || hasReason(right, "Clocks:") {
			t.Errorf("seed %d: read in its zone, clock checks %+v", seed, right.Clocks)
		}
	}
	if shown < 3 {
		t.Errorf("an offset shown in %d incidents only", shown)
	}
}

// checkWith is the report's comparison of the firewall's clock with log's.
func checkWith(r *Report, log string) *ClockCheck {
	for i, c := range r.Clocks {
		if c.Source == log || c.Reference == log {
			return &r.Clocks[i]
		}
	}
	return nil
}

func hasReason(r *Report, s string) bool {
	for _, why := range r.Verdict.Reasons {
		if strings.Contains(why, s) {
			return true
		}
	}
	return false
}

// TestClockCheckDecides: the offset claimed from hand-made moments — a
// half-hour zone behind UTC, too few moments, moments that fit any offset
// (long sessions full of logons), and clocks that agree.
func TestClockCheckDecides(t *testing.T) {
	base := time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC)
	// seen has c observe, as a log of kind, an event at t with fields.
	seen := func(c *clockCheck, kind string, t time.Time, fields map[string]any) {
		ev := event.New()
		ev.Timestamp = t
		maps.Copy(ev.Fields, fields)
		c.observe(ev, kind)
	}
	vpn := func(c *clockCheck, ip, user string, fw time.Time, logons ...time.Time) {
		seen(c, "firewall", fw, map[string]any{"cisco.vpn.assigned_ip": ip, "user.name": user})
		for _, at := range logons {
			seen(c, "windows", at, map[string]any{"event.code": "4624", "source.ip": ip, "user.name": user})
		}
	}
	// smtp: an outbound SMTP session the firewall logged by its summary
	// alone (SonicWall: its end, its bytes, no start), and the delivery
	// it carried as the mail server logged it (with its zone).
	smtp := func(c *clockCheck, relay string, fwEnd, delivered time.Time) {
		seen(c, "firewall", fwEnd, map[string]any{"source.ip": "10.44.1.42", "destination.ip": relay, "destination.port": int64(25), "source.bytes": int64(743958)})
		seen(c, "mail", delivered, map[string]any{"event.action": "message", event.FieldDataset: "postfix.log", "postfix.log.relay_ip": []string{relay}})
	}
	// conn: an outbound session the firewall logged with its start, and
	// the connection its host logged as it opened it (Sysmon 3 or 5156).
	conn := func(c *clockCheck, sport string, fwStart, opened time.Time, action string) {
		seen(c, "firewall", fwStart.Add(20*time.Minute), map[string]any{ // dated by its end, as logged
			"event.start": fwStart.Format(time.RFC3339Nano), "source.ip": "10.44.1.26", "source.port": sport,
			"destination.ip": "31.216.145.5", "destination.port": int64(443), "source.bytes": int64(1 << 20)})
		seen(c, "windows", opened, map[string]any{"event.action": action, "network.direction": "egress",
			"source.ip": "10.44.1.26", "source.port": sport, "destination.ip": "31.216.145.5", "destination.port": "443"})
	}
	// smtpIn: mail from the Internet, the firewall's inbound session (its
	// start, or its end alone) and the message the mail server received.
	smtpIn := func(c *clockCheck, client string, fw time.Time, ended bool, outcome string, received ...time.Time) {
		f := map[string]any{"source.ip": client, "destination.ip": "10.44.1.25", "destination.port": int64(25), "event.outcome": outcome}
		at := fw
		if !ended {
			at, f["event.start"] = fw.Add(30*time.Second), fw.Format(time.RFC3339Nano)
		}
		seen(c, "firewall", at, f)
		for _, r := range received {
			seen(c, "mail", r, map[string]any{"event.action": "message", event.FieldDataset: "postfix.log", "source.ip": client})
		}
	}
	for _, tc := range []struct {
		name   string
		build  func(c *clockCheck)
		nilRes bool
		offset int64
		ref    string // the log compared, "windows" if empty
	}{
		{"firewall 5 h 30 behind", func(c *clockCheck) {
			for i := range 6 {
				at := base.Add(time.Duration(i) * 24 * time.Hour)
				vpn(c, fmt.Sprintf("10.212.134.%d", 10+i), "agent", at.Add(-5*time.Hour-30*time.Minute), at.Add(40*time.Second))
			}
		}, false, -19800, ""},
		{"two moments", func(c *clockCheck) {
			vpn(c, "10.212.134.10", "a", base.Add(2*time.Hour), base.Add(10*time.Second))
			vpn(c, "10.212.134.11", "b", base.Add(26*time.Hour), base.Add(24*time.Hour+10*time.Second))
		}, true, 0, ""},
		{"logons all day long", func(c *clockCheck) {
			for i := range 5 {
				day := base.Add(time.Duration(i) * 24 * time.Hour)
				var logons []time.Time
				for m := 0; m < 12*60; m += 5 {
					logons = append(logons, day.Add(time.Duration(m)*time.Minute))
				}
				vpn(c, fmt.Sprintf("10.212.134.%d", 10+i), "agent", day.Add(3*time.Hour), logons...)
			}
		}, false, 0, ""},
		{"clocks agree", func(c *clockCheck) {
			for i := range 4 {
				at := base.Add(time.Duration(i) * 24 * time.Hour)
				vpn(c, "10.212.134.10", "agent", at, at.Add(2*time.Minute))
			}
		}, false, 0, ""},
		{"SMTP sessions known by their end, firewall 5 h behind", func(c *clockCheck) {
			for i := range 5 {
				delivered := base.Add(time.Duration(i) * 7 * time.Hour)
				smtp(c, "93.184.216.34", delivered.Add(time.Second-5*time.Hour), delivered)
			}
		}, false, -18000, "mail"},
		{"SMTP sessions known by their end, a reused connection closing 4 min after", func(c *clockCheck) {
			for i := range 5 {
				delivered := base.Add(time.Duration(i) * 7 * time.Hour)
				smtp(c, "93.184.216.34", delivered.Add(4*time.Minute), delivered)
			}
		}, false, 0, "mail"},
		{"inbound SMTP, firewall 2 h behind", func(c *clockCheck) {
			for i := range 5 {
				received := base.Add(time.Duration(i) * 7 * time.Hour)
				smtpIn(c, fmt.Sprintf("209.85.128.%d", i), received.Add(-2*time.Hour-3*time.Second), false, "success", received)
			}
		}, false, -7200, "mail"},
		{"inbound SMTP known by its end, clocks agree, refused attempts besides", func(c *clockCheck) {
			for i := range 5 {
				received := base.Add(time.Duration(i) * 7 * time.Hour)
				smtpIn(c, "40.92.10.7", received.Add(20*time.Second), true, "success", received)
				smtpIn(c, "40.92.10.7", received.Add(-3*time.Hour), true, "failure")
			}
		}, false, 0, "mail"},
		{"Windows connections, firewall 1 h ahead", func(c *clockCheck) {
			for i := range 4 {
				opened := base.Add(time.Duration(i) * 5 * time.Hour)
				action := []string{"network-connection", "network-connection-allowed"}[i%2]
				conn(c, fmt.Sprint(50000+i), opened.Add(time.Hour-time.Second), opened, action)
			}
		}, false, 3600, windowsConnections},
		{"Windows connections, clocks agree", func(c *clockCheck) {
			for i := range 4 {
				opened := base.Add(time.Duration(i) * 5 * time.Hour)
				conn(c, fmt.Sprint(50000+i), opened, opened.Add(2*time.Second), "network-connection")
			}
		}, false, 0, windowsConnections},
		{"Windows connections from other ports", func(c *clockCheck) {
			for i := range 4 {
				opened := base.Add(time.Duration(i) * 5 * time.Hour)
				conn(c, fmt.Sprint(50000+i), opened.Add(time.Hour), opened, "network-connection")
				conn(c, fmt.Sprint(60000+i), opened.Add(-7*time.Hour), opened.Add(-7*time.Hour+30*time.Hour), "network-connection")
			}
		}, false, 3600, windowsConnections},
	} {
		c := newClockCheck(func(ip string) bool { return strings.HasPrefix(ip, "10.") })
		tc.build(c)
		r := c.compare(cmp.Or(tc.ref, "windows"))
		switch {
		case tc.nilRes && r != nil:
			t.Errorf("%s: %+v, want no comparison", tc.name, r)
		case !tc.nilRes && (r == nil || r.OffsetSeconds != tc.offset):
			t.Errorf("%s: %+v, want offset %d", tc.name, r, tc.offset)
		}
	}
}

// TestClockOffsetIsWindows: the firewall (FortiGate) names its zone, the
// Windows logs come through NXLog in local time without one, read in UTC:
// the offset is Windows', said as such, with the zone Windows was written
// in — not blamed on the firewall.
func TestClockOffsetIsWindows(t *testing.T) {
	checked := 0
	for seed := uint64(1); checked < 3 && seed < 60; seed++ {
		o := scenario.Draw(scenario.VPNTheft, seed)
		if o.TZOffset == 0 {
			continue
		}
		o.SetWindowsForm("nxlog")
		o.Missing = ""
		inc := scenario.Build(o)
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("nx-%d", seed))
		if err := inc.Write(dir, dir+".truth.json"); err != nil {
			t.Fatal(err)
		}
		r, _ := analyzeDir(t, dir, parsers.Options{TZ: time.UTC, Year: inc.Truth.Year}, "en")
		c := checkWith(r, "windows")
		if c == nil || c.Source != "windows" || c.Reference != "firewall" || c.OffsetSeconds != int64(o.TZOffset) || c.AtZero != 0 {
			t.Errorf("seed %d (%s): clock check %+v, want Windows %d s ahead", seed, inc.Truth.Notes, c, o.TZOffset)
			continue
		}
		if !hasReason(r, "Clocks: the Windows logs' times run ") || !hasReason(r, "If the Windows logs' times are local time without a zone") {
			t.Errorf("seed %d: reasons %q", seed, r.Verdict.Reasons)
		}
		right, _ := analyzeDir(t, dir, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en")
		if rc := checkWith(right, "windows"); rc == nil || rc.OffsetSeconds != 0 {
			t.Errorf("seed %d: read in its zone, clock checks %+v", seed, right.Clocks)
		}
		checked++
	}
	if checked < 3 {
		t.Fatalf("only %d incidents checked", checked)
	}
}

// TestClockMomentsSpanTheLog: a firewall's web sessions over ten days
// (60,000, three times what is kept of a kind) and a proxy whose log covers
// only the last day, with the firewall's clock five hours behind. The
// moments kept span the whole log, so the last day's are compared and the
// offset is found; the first 20,000 alone would have met nothing.
func TestClockMomentsSpanTheLog(t *testing.T) {
	c := newClockCheck(func(ip string) bool { return strings.HasPrefix(ip, "10.") })
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	const n = 60000
	step := 10 * 24 * time.Hour / n
	for i := range n {
		at := base.Add(time.Duration(i) * step)
		dst := fmt.Sprintf("203.0.%d.%d", i%200, i%97)
		fw := event.New()
		fw.Timestamp = at.Add(-5 * time.Hour)
		fw.Fields["source.ip"], fw.Fields["destination.ip"], fw.Fields["destination.port"] = "10.0.0.9", dst, int64(443)
		c.observe(fw, "firewall")
		if at.After(base.Add(9 * 24 * time.Hour)) {
			px := event.New()
			px.Timestamp = at.Add(2 * time.Second)
			px.Fields["destination.ip"] = dst
			c.observe(px, "proxy")
		}
	}
	if k := c.fwKinds["web"]; k.kept > maxClockFw || len(c.fw) > maxClockFw {
		t.Fatalf("%d web moments kept, %d in all", k.kept, len(c.fw))
	}
	r := c.compare("proxy")
	if r == nil || r.OffsetSeconds != -5*3600 || r.Source != "firewall" || r.Agreeing < 1000 {
		t.Fatalf("clock check %+v, want the firewall 5 h behind on the last day's moments", r)
	}
}

// TestClockOffsetFromSMTPSessionEnds: generated incidents whose firewall
// (SonicWall) writes its local time without a zone and logs a connection
// only when it closes, with no start or duration. Read in UTC, its
// outbound SMTP sessions end just after the deliveries the mail server
// logged (with their zone) only once moved back by the town's offset,
// which the check finds exactly; read in the town's zone, none is claimed.
func TestClockOffsetFromSMTPSessionEnds(t *testing.T) {
	offsetsFound(t, "mail", func(seed uint64) (*scenario.Incident, error) {
		// Postfix names the relay each message left by; a FortiMail's
		// history does not, so it gives no such moments. A Cisco gateway's
		// stamps name no zone, as the firewall's: read in the same wrong
		// zone, the two agree and nothing is off.
		o := scenario.Draw(scenario.Variants[seed%3], seed)
		o.FortiMail, o.CiscoESA = false, false
		inc := scenario.Build(o)
		return inc, inc.AsFirewall("sonicwall")
	})
}

// TestClockOffsetFromWindowsConnections: a Cisco ASA writing local time
// without a zone, against the file server's own record of the connections
// it opened (5156, in every Windows form the generator writes): the
// sessions' starts give the town's offset exactly.
func TestClockOffsetFromWindowsConnections(t *testing.T) {
	offsetsFound(t, windowsConnections, func(seed uint64) (*scenario.Incident, error) {
		o := scenario.Draw(scenario.VPNTheft, seed)
		o.WFP, o.Missing, o.WindowsFrom = true, "", o.Start
		inc := scenario.Build(o)
		return inc, inc.AsFirewall("cisco-asa")
	})
}
