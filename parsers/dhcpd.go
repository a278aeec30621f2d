package parsers

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// ISCDHCPd reads the ISC DHCP server's syslog lines (dhcpd: DHCPACK on
// 10.0.0.5 to 00:11:22:33:44:55 (PC-01) via eth0) and dnsmasq's
// (dnsmasq-dhcp: DHCPACK(eth0) 10.0.0.5 00:11:22:33:44:55 PC-01): which
// address a host and MAC address were given, renewed or released, when.
type ISCDHCPd struct{}

func (ISCDHCPd) Name() string { return "dhcpd" }
func (ISCDHCPd) Description() string {
	return "ISC dhcpd and dnsmasq DHCP syslog lines: address ↔ host name ↔ MAC over time"
}

func (ISCDHCPd) Detect(head []byte) bool { return mostLines(head, ISCDHCPd{}.matchLine) }

func (ISCDHCPd) matchLine(l string) bool {
	if !strings.Contains(l, "DHCP") {
		return false
	}
	if strings.Contains(l, " dhcpd") || strings.Contains(l, " dnsmasq-dhcp") {
		return true
	}
	// A collector's file names the program after a tab.
	p := syslogProgram(l)
	return strings.HasPrefix(p, "dhcpd") || strings.HasPrefix(p, "dnsmasq-dhcp")
}

func (ISCDHCPd) NewDecoder(o *Options) LineDecoder {
	return &dhcpdDecoder{clock: o.clock()}
}

type dhcpdDecoder struct{ clock syslogClock }

func (d *dhcpdDecoder) Flush(Emit) {}

var (
	// dhcpd: "DHCPACK on 10.0.0.5 to 00:11:22:33:44:55 (PC-01) via eth0",
	// "DHCPRELEASE of 10.0.0.5 from 00:11:… (PC-01) via eth0 (found)".
	dhcpdLease = regexp.MustCompile(`^(DHCP[A-Z]+) (?:on|of|for) (\S+) (?:to|from) ([0-9a-fA-F:]{17})(?: \(([^)]*)\))?`)
	// dnsmasq: "DHCPACK(eth0) 10.0.0.5 00:11:22:33:44:55 PC-01".
	dnsmasqLease = regexp.MustCompile(`^(DHCP[A-Z]+)\(([^)]*)\) (\S+) ([0-9a-fA-F:]{17})(?: (\S+))?`)
)

func (d *dhcpdDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	h, err := d.clock.parse(s)
	if err != nil {
		return fmt.Errorf("dhcpd: no syslog header")
	}
	ev := event.New()
	ev.Timestamp = h.Time
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Set("host.name", h.Host)
	ev.Set("process.name", h.Program)
	ev.Set("message", h.Msg)
	ev.Fields["event.category"] = []string{"network"}
	ev.Fields["event.type"] = []string{"info"}
	ev.Fields["observer.type"] = "dhcp"
	if m := dhcpdLease.FindStringSubmatch(h.Msg); m != nil {
		ev.Fields[event.FieldDataset] = "isc.dhcpd"
		dhcpLeaseFields(ev, m[1], m[2], m[3], m[4])
	} else if m := dnsmasqLease.FindStringSubmatch(h.Msg); m != nil {
		ev.Fields[event.FieldDataset] = "dnsmasq.dhcp"
		ev.Set("observer.ingress.interface.name", m[2])
		dhcpLeaseFields(ev, m[1], m[3], m[4], m[5])
	} else {
		// Other dhcpd chatter (DHCPDISCOVER without an address, config notes).
		ev.Fields[event.FieldDataset] = "isc.dhcpd"
		if strings.HasPrefix(h.Program, "dnsmasq") {
			ev.Fields[event.FieldDataset] = "dnsmasq.dhcp"
		}
		if f := strings.Fields(h.Msg); len(f) > 0 && strings.HasPrefix(f[0], "DHCP") {
			ev.Set("event.action", strings.ToLower(strings.SplitN(f[0], "(", 2)[0]))
		}
	}
	emit(ev, linePos(no))
	return nil
}

func dhcpLeaseFields(ev *event.Event, msgType, ip, mac, host string) {
	ev.Set("event.action", strings.ToLower(msgType))
	setIP(ev, "client.ip", ip)
	setMAC(ev, "client.mac", mac)
	if host != "" && host != "*" {
		ev.Set("client.domain", host)
	}
}

// DHCPLeases reads lease databases: ISC dhcpd's dhcpd.leases ("lease
// 10.0.0.5 { starts 4 2025/03/14 22:05:01; ends …; hardware ethernet …;
// client-hostname "PC-01"; }", times in UTC unless the file says
// "db-time-format local") and dnsmasq's dnsmasq.leases ("<expiry epoch>
// <mac> <ip> <hostname> <client-id>"). Each lease is one event dated by its
// start (dnsmasq: by its expiry, the only time it keeps).
type DHCPLeases struct{}

func (DHCPLeases) Name() string { return "dhcp-leases" }
func (DHCPLeases) Description() string {
	return "ISC dhcpd.leases and dnsmasq.leases lease databases"
}

var dnsmasqLeaseLine = regexp.MustCompile(`^(\d{9,11}) ([0-9a-fA-F:]{17}) (\S+) (\S+)(?: (\S+))?$`)

func (DHCPLeases) Detect(head []byte) bool {
	h := string(head)
	if strings.Contains(h, "lease ") && strings.Contains(h, "starts ") && strings.Contains(h, "hardware ethernet") {
		return true
	}
	return mostLines(head, func(l string) bool { return dnsmasqLeaseLine.MatchString(l) })
}

func (DHCPLeases) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	r, err := in.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	loc := o.TZ
	if loc == nil {
		loc = time.UTC
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	var no, startLine int64
	var cur map[string]string
	skip := 0 // depth inside a non-lease block
	utc := true
	for sc.Scan() {
		no++
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "db-time-format local") {
			utc = false
			st.Warn("dhcpd.leases in local time (db-time-format local): read in " + loc.String())
			continue
		}
		if m := dnsmasqLeaseLine.FindStringSubmatch(l); m != nil && cur == nil {
			exp, _ := strconv.ParseInt(m[1], 10, 64)
			ev := event.New()
			ev.Timestamp = time.Unix(exp, 0).UTC()
			ev.Fields[event.FieldDataset] = "dnsmasq.dhcp"
			ev.Fields[event.FieldOriginal] = l
			ev.Fields[event.FieldLine] = no
			ev.Set("event.action", "dhcp-lease-expiry")
			ev.Fields["dhcp.lease.end"] = ev.Timestamp.Format(time.RFC3339)
			dhcpLeaseFields(ev, "dhcp-lease-expiry", m[3], m[2], m[4])
			ev.Fields["event.category"] = []string{"network"}
			ev.Fields["event.type"] = []string{"info"}
			ev.Fields["observer.type"] = "dhcp"
			emit(ev, linePos(no))
			continue
		}
		if strings.HasPrefix(l, "lease ") && strings.HasSuffix(l, "{") {
			cur = map[string]string{"ip": strings.Fields(l)[1]}
			startLine = no
			continue
		}
		if cur == nil {
			// Top-level statements (authoring-byte-order, server-duid) and
			// other blocks (failover peer state) describe the server, not leases.
			if strings.HasSuffix(l, "{") {
				skip++
			} else if l == "}" && skip > 0 {
				skip--
			}
			continue
		}
		if l == "}" {
			ev, err := iscLeaseEvent(cur, utc, loc)
			if err != nil {
				rawLine(emit, startLine, []byte(fmt.Sprint(cur)), err.Error())
			} else {
				if !utc {
					o.zoneRead() // "db-time-format local": the server's zone, named nowhere
				}
				ev.Fields[event.FieldLine] = startLine
				emit(ev, linePos(startLine))
			}
			cur = nil
			continue
		}
		l = strings.TrimSuffix(l, ";")
		k, v, _ := strings.Cut(l, " ")
		switch k {
		case "starts", "ends", "cltt", "tstp":
			// "starts 4 2025/03/14 22:05:01": weekday, date, time.
			if f := strings.Fields(v); len(f) == 3 {
				cur[k] = f[1] + " " + f[2]
			}
		case "hardware":
			cur["mac"] = strings.TrimPrefix(v, "ethernet ")
		case "client-hostname":
			cur["host"] = strings.Trim(v, `"`)
		case "binding":
			cur["state"] = strings.TrimPrefix(v, "state ")
		case "uid":
			cur["uid"] = strings.Trim(v, `"`)
		}
	}
	if cur != nil {
		st.AddLost("dhcp-leases: last lease block not closed (file cut)", 1)
	}
	return sc.Err()
}

func iscLeaseEvent(cur map[string]string, utc bool, loc *time.Location) (*event.Event, error) {
	parse := func(v string) (time.Time, error) {
		if utc {
			return time.Parse("2006/01/02 15:04:05", v)
		}
		return time.ParseInLocation("2006/01/02 15:04:05", v, loc)
	}
	start, err := parse(cur["starts"])
	if err != nil {
		return nil, fmt.Errorf("dhcp-leases: lease %s without a readable start", cur["ip"])
	}
	ev := event.New()
	ev.Timestamp = start.UTC()
	ev.Fields[event.FieldDataset] = "isc.dhcpd"
	ev.Fields[event.FieldOriginal] = fmt.Sprintf("lease %s starts %s ends %s hardware ethernet %s client-hostname %q binding state %s",
		cur["ip"], cur["starts"], cur["ends"], cur["mac"], cur["host"], cur["state"])
	dhcpLeaseFields(ev, "dhcp-lease", cur["ip"], cur["mac"], cur["host"])
	if end, err := parse(cur["ends"]); err == nil {
		ev.Fields["dhcp.lease.end"] = end.UTC().Format(time.RFC3339)
	}
	ev.Set("dhcp.lease.state", cur["state"])
	ev.Fields["event.category"] = []string{"network"}
	ev.Fields["event.type"] = []string{"info"}
	ev.Fields["observer.type"] = "dhcp"
	return ev, nil
}
