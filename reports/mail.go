package reports

import (
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// mailLedger sums message sizes per outside recipient, each message once,
// and learns the organisation's own mail domains from the evidence: the
// domains its authenticated users send from, the recipients it delivers
// to internal servers, and the domains the mail service says its messages
// were sent from (Originating) or received for (Incoming).
type mailLedger struct {
	internal   func(string) bool
	configured map[string]bool // own_mail_domains from the case configuration
	learned    map[string]int  // domain → messages that show it is ours
	to         map[string]*recipient
	// relayOf maps a recipient to the relays (MX addresses) that carried
	// mail to it: those SMTP sessions are the email channel itself.
	relayOf map[string]map[string]bool
	// gatewayOf maps a recipient to the mail gateways (observer.ip: a
	// FortiMail's address) that passed mail to it without naming the
	// relay: their SMTP sessions out are the email channel too.
	gatewayOf map[string]map[string]bool
}

type recipient struct {
	addr     string
	messages []mailMessage
}

type mailMessage struct {
	key          string // evidence file + queue id + line: one message, whatever its recipients
	size         int64
	t            time.Time
	ref          string
	user, client string // who submitted it, from where
}

func newMailLedger(internal func(string) bool, own []string) *mailLedger {
	m := &mailLedger{internal: internal, configured: map[string]bool{}, learned: map[string]int{},
		to: map[string]*recipient{}, relayOf: map[string]map[string]bool{}, gatewayOf: map[string]map[string]bool{}}
	for _, d := range own {
		m.configured[strings.ToLower(d)] = true
	}
	return m
}

func domainOf(addr string) string {
	return strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
}

func (m *mailLedger) observe(ev *event.Event) {
	size, _ := ev.Int("email.size")
	ds := ev.Str(event.FieldDataset)
	key := ev.Str(event.FieldSHA256) + "/" + ev.Str(ds+".queue_id") + "/" + ev.Str(event.FieldLine)
	from := ev.Str("email.from.address")
	user := ev.Str("user.name")
	// A message submitted by an authenticated user comes from one of our domains.
	if user != "" && strings.Contains(from, "@") {
		m.learned[domainOf(from)]++
	}
	relays := ev.Strings(ds + ".relay_ip")
	tos := ev.Strings("email.to.address")
	// The mail service's own word on a message's direction (Exchange's
	// directionality): one of its users sent it, or it came in to them.
	// ECS's "inbound" (a mail gateway's word on its recipient: FortiMail's
	// "in") says the same of the recipients; its "outbound" says only that
	// they are not ours, nothing of the sender, who may be anyone relayed.
	switch strings.ToLower(ev.Str("email.direction")) {
	case "originating":
		if strings.Contains(from, "@") {
			m.learned[domainOf(from)]++
		}
	case "incoming", "inbound":
		for _, to := range tos {
			if strings.Contains(to, "@") {
				m.learned[domainOf(to)]++
			}
		}
	}
	for i, to := range tos {
		if !strings.Contains(to, "@") {
			continue
		}
		// A recipient delivered to an internal server (or locally) is one of ours.
		if i < len(relays) && len(relays) == len(tos) && m.internal(relays[i]) {
			m.learned[domainOf(to)]++
			continue
		}
		r := m.to[to]
		if r == nil {
			r = &recipient{addr: strings.Clone(to)}
			m.to[to] = r
		}
		if n := len(r.messages); n > 0 && r.messages[n-1].key == key {
			continue
		}
		r.messages = append(r.messages, mailMessage{key: key, size: size, t: ev.Timestamp,
			ref: ev.Str(event.FieldFile) + " line " + ev.Str(event.FieldLine), user: strings.Clone(user), client: ev.Str("source.ip")})
		for _, ip := range relays {
			addTo(m.relayOf, to, ip)
		}
		if gw := ev.Str("observer.ip"); gw != "" && len(relays) == 0 {
			addTo(m.gatewayOf, to, gw)
		}
	}
}

func addTo(m map[string]map[string]bool, k, v string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][v] = true
}

// own reports a domain of the organisation: configured, or learned from at
// least one authenticated submission or internal delivery.
func (m *mailLedger) own(domain string) bool {
	d := strings.ToLower(domain)
	return m.configured[d] || m.learned[d] > 0
}

// ownDomains lists the learned and configured domains, for the report.
func (m *mailLedger) ownDomains() []string {
	set := map[string]bool{}
	for d := range m.configured {
		if d != "example.invalid" {
			set[d] = true
		}
	}
	for d := range m.learned {
		set[d] = true
	}
	return sortedKeys(set)
}

// outside returns the recipients outside the organisation, sorted.
func (m *mailLedger) outside() []*recipient {
	var out []*recipient
	for to, r := range m.to {
		if !m.own(domainOf(to)) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out
}

func (r *recipient) totals(keep func(mailMessage) bool) (bytes, n int64, first, last time.Time) {
	for _, msg := range r.messages {
		if keep != nil && !keep(msg) {
			continue
		}
		bytes += msg.size
		n++
		if first.IsZero() || msg.t.Before(first) {
			first = msg.t
		}
		if msg.t.After(last) {
			last = msg.t
		}
	}
	return
}
