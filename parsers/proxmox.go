package parsers

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// ProxmoxFirewall reads Proxmox VE's firewall log (/var/log/pve-firewall.log,
// written by pvefw-logger): "VMID LEVEL CHAIN DD/Mon/YYYY:HH:MM:SS +ZZZZ
// ACTION: IN=… SRC=… DST=…" — a netfilter packet line behind the guest,
// the rule chain and a dated, zoned stamp. Packets, not sessions.
type ProxmoxFirewall struct{}

func (ProxmoxFirewall) Name() string { return "proxmox-firewall" }
func (ProxmoxFirewall) Description() string {
	return "Proxmox VE firewall log (pvefw-logger: guest, chain, netfilter packet fields; packets, not sessions)"
}

func (ProxmoxFirewall) Detect(head []byte) bool { return mostLines(head, ProxmoxFirewall{}.matchLine) }

var pveLine = regexp.MustCompile(`^(\d+) (\d+) (\S+) (\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}) (.*)$`)

func (ProxmoxFirewall) matchLine(l string) bool { return pveLine.MatchString(l) }

func (ProxmoxFirewall) NewDecoder(o *Options) LineDecoder { return pveDecoder{} }

type pveDecoder struct{}

func (pveDecoder) Flush(Emit) {}

func (pveDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	m := pveLine.FindStringSubmatch(s)
	if m == nil {
		return fmt.Errorf("proxmox-firewall: not \"VMID LEVEL CHAIN DD/Mon/YYYY:HH:MM:SS +ZZZZ …\"")
	}
	t, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[4])
	if err != nil {
		return fmt.Errorf("proxmox-firewall: bad time %q", m[4])
	}
	ev := event.New()
	ev.Timestamp = t.UTC()
	ev.Fields[event.FieldDataset] = "proxmox.firewall"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "Proxmox", "VE firewall")
	if m[1] != "0" { // 0 is the host itself
		ev.Set("proxmox.vmid", m[1])
	}
	ev.Set("proxmox.chain", m[3])
	rest := m[5]
	if i := strings.Index(rest, "IN="); i >= 0 && strings.Contains(rest, "SRC=") {
		netfilterPacket(ev, strings.TrimSpace(rest[:i]), rest[i:])
		if a := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(rest[:i], "policy ")), ":"); a != "" {
			ev.Set("event.action", strings.ToLower(a))
			if a == "DROP" || a == "REJECT" {
				ev.Set("event.outcome", "failure")
			} else if a == "ACCEPT" {
				ev.Set("event.outcome", "success")
			}
		}
	} else {
		// pvefw-logger's own notices ("starting pvefw logger").
		ev.Fields["event.category"] = []string{"host"}
		ev.Set("message", rest)
	}
	emit(ev, linePos(no))
	return nil
}
