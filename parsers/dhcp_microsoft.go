package parsers

import (
	"encoding/csv"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// WindowsDHCP reads the Windows DHCP server's audit logs (DhcpSrvLog-*.log
// for IPv4, DhcpV6SrvLog-*.log for IPv6): after a legend, one CSV line per
// lease event — which address went to which host name and MAC address,
// when. Its dates and times are the server's local time, without a zone:
// they are read in --tz, which the file's account records.
type WindowsDHCP struct{}

func (WindowsDHCP) Name() string { return "windows-dhcp" }
func (WindowsDHCP) Description() string {
	return "Windows DHCP server audit logs (DhcpSrvLog / DhcpV6SrvLog): address ↔ host name ↔ MAC over time (local time, read in --tz)"
}

var winDHCPLine = regexp.MustCompile(`^\d{2,5},\d\d/\d\d/\d\d(?:\d\d)?,\d\d:\d\d:\d\d,`)

func (WindowsDHCP) Detect(head []byte) bool {
	h := string(head)
	if strings.Contains(h, "Microsoft DHCP Service Activity Log") || strings.Contains(h, "Microsoft DHCPv6 Service Activity Log") ||
		strings.Contains(h, "ID,Date,Time,Description,IP") {
		return true
	}
	// A server in another language writes its legend and column header in
	// that language ("ID,Date,Heure,Description,Adresse IP,…"): a header
	// line followed by lease lines is the same log.
	lines := strings.Split(h, "\n")
	for i, l := range lines {
		if winDHCPHeader(strings.TrimSpace(l)) && i+1 < len(lines) && winDHCPLine.MatchString(strings.TrimSpace(lines[i+1])) {
			return true
		}
	}
	return mostLines(head, WindowsDHCP{}.matchLine)
}

// winDHCPHeader reports the column header line, in any language: "ID,"
// and at least ten names, none a number (the v4 log has 19, the v6 log 12).
func winDHCPHeader(s string) bool {
	if !strings.HasPrefix(s, "ID,") {
		return false
	}
	f := strings.Split(s, ",")
	return len(f) >= 10 && f[1] != "" && (f[1][0] < '0' || f[1][0] > '9')
}

// The columns of each log, by position: a header in another language is
// read as these.
var (
	winDHCPv4Cols = strings.Split("ID,Date,Time,Description,IP Address,Host Name,MAC Address,User Name,TransactionID,QResult,Probationtime,CorrelationID,Dhcid", ",")
	winDHCPv6Cols = strings.Split("ID,Date,Time,Description,IPV6 Address,Host Name,Error Code,Duid Length,Duid Bytes(Hex),User Name,Dhcid,Subnet Prefix", ",")
)

func (WindowsDHCP) matchLine(l string) bool { return winDHCPLine.MatchString(l) }

func (WindowsDHCP) NewDecoder(o *Options) LineDecoder {
	return &winDHCPDecoder{loc: o.TZ, o: o, cols: winDHCPv4Cols}
}

type winDHCPDecoder struct {
	loc    *time.Location
	o      *Options
	cols   []string
	header bool // the column header was read: what follows is data
}

func (d *winDHCPDecoder) Flush(Emit) {}

// winDHCPActions names the lease events by id (Microsoft's legend at the top
// of each file); the others keep "dhcp-<id>".
var winDHCPActions = map[string]string{
	"00": "log-started", "01": "log-stopped", "02": "log-paused", "10": "dhcp-assign", "11": "dhcp-renew", "12": "dhcp-release", "13": "dhcp-conflict", "14": "dhcp-pool-exhausted",
	"15": "dhcp-denied", "16": "dhcp-deleted", "17": "dhcp-expired", "18": "dhcp-expired-deleted", "20": "bootp-assign",
	"30": "dns-update-request", "31": "dns-update-failed", "32": "dns-update-success",
	"11000": "dhcpv6-solicit", "11001": "dhcpv6-advertise", "11002": "dhcpv6-request", "11003": "dhcpv6-confirm",
	"11004": "dhcpv6-renew", "11005": "dhcpv6-rebind", "11006": "dhcpv6-decline", "11007": "dhcpv6-release",
	"11016": "dhcpv6-deleted", "11018": "dhcpv6-expired",
}

func (d *winDHCPDecoder) Line(no int64, line []byte, emit Emit) error {
	s := strings.TrimSpace(string(line))
	if strings.HasPrefix(s, "ID,Date,Time") {
		cols := strings.Split(strings.TrimSuffix(s, "."), ",")
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		d.cols, d.header = cols, true
		return nil // the column header
	}
	if winDHCPHeader(s) {
		// Another language's names: the columns are known by position.
		d.cols, d.header = winDHCPv4Cols, true
		if strings.Contains(strings.ToLower(s), "ipv6") {
			d.cols = winDHCPv6Cols
		}
		return nil
	}
	if !winDHCPLine.MatchString(s) {
		if !d.header {
			return nil // the legend before the header: ids and their meaning
		}
		return fmt.Errorf("windows-dhcp: not \"ID,MM/DD/YY,HH:MM:SS,…\"")
	}
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	f, err := r.Read()
	if err != nil {
		return fmt.Errorf("windows-dhcp: %v", err)
	}
	kv := map[string]string{}
	for i, c := range d.cols {
		if i < len(f) {
			kv[c] = strings.TrimSpace(f[i])
		}
	}
	layout := "01/02/06 15:04:05"
	if len(kv["Date"]) == 10 {
		layout = "01/02/2006 15:04:05"
	}
	t, err := time.ParseInLocation(layout, kv["Date"]+" "+kv["Time"], d.loc)
	if err != nil {
		return fmt.Errorf("windows-dhcp: bad date/time %q %q", kv["Date"], kv["Time"])
	}
	d.o.zoneRead() // the server's local time
	ev := event.New()
	ev.Timestamp = t.UTC()
	ev.Fields[event.FieldDataset] = "windows.dhcp"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	id := kv["ID"]
	ev.Set("event.code", id)
	if a := winDHCPActions[id]; a != "" {
		ev.Set("event.action", a)
	} else {
		ev.Set("event.action", "dhcp-"+id)
	}
	ev.Set("message", kv["Description"])
	setIP(ev, "client.ip", firstNonEmpty(kv["IP Address"], kv["IPV6 Address"]))
	ev.Set("client.domain", strings.TrimSuffix(kv["Host Name"], "."))
	if mac := kv["MAC Address"]; len(mac) == 12 {
		setMAC(ev, "client.mac", mac[0:2]+"-"+mac[2:4]+"-"+mac[4:6]+"-"+mac[6:8]+"-"+mac[8:10]+"-"+mac[10:12])
	} else if mac != "" {
		ev.Set("windows.dhcp.client_id", mac)
	}
	ev.Set("windows.dhcp.duid", kv["Duid Bytes(Hex)"])
	ev.Set("user.name", kv["User Name"])
	ev.Set("windows.dhcp.transaction_id", kv["TransactionID"])
	ev.Fields["event.category"] = []string{"network"}
	ev.Fields["event.type"] = []string{"info"}
	ev.Fields["observer.type"] = "dhcp"
	emit(ev, linePos(no))
	return nil
}
