// Package scenario generates realistic incidents at French local authorities,
// with their ground truth: FortiGate traffic and VPN logs (with or without
// interim records, in any time zone), Postfix logs (ISO or classic stamps),
// Windows Security and System events of a file server and a domain
// controller (wevtutil XML, Winlogbeat JSON, NXLog JSON, Get-WinEvent CSV or evtxexport text), nightly or weekly backups to
// one or two providers, staff using a cloud service, and one of several
// storylines: theft by an intruder over the VPN, slow theft over several
// nights, theft by mail, an insider uploading to the cloud service, a
// ransomware intrusion without theft, or nothing at all.
//
// Everything is drawn from a seed, so a failing case can be replayed. The
// truth says what an analysis must answer: the verdict and every channel's
// exact bytes, sessions, first and last time, source and account.
package scenario

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Variant is a storyline.
type Variant string

// The storylines.
const (
	VPNTheft       Variant = "vpn-theft"           // intruder over the VPN: staging, a transfer tool, upload to a new destination
	SlowTheft      Variant = "slow-theft"          // the same intruder uploading a little every night for several nights
	MailTheft      Variant = "mail-theft"          // intruder reading shares and mailing documents to a free-mail address
	VPNPull        Variant = "vpn-pull"            // intruder over the VPN copying the shares to its own machine through the tunnel (SMB)
	InsiderCloud   Variant = "insider-cloud"       // a staff member reading shares, then uploading to a cloud service colleagues use
	RansomNoTheft  Variant = "ransomware-no-theft" // intrusion, encryption-like writes, cover-up, no unusual outbound volume
	ControlVariant Variant = "control"             // routine only: backups, browsing, mail, cloud use
)

// Variants lists every storyline.
var Variants = []Variant{VPNTheft, SlowTheft, MailTheft, VPNPull, InsiderCloud, RansomNoTheft, ControlVariant}

// ParseVariant checks a storyline's name.
func ParseVariant(name string) (Variant, error) {
	for _, v := range Variants {
		if string(v) == name {
			return v, nil
		}
	}
	var names []string
	for _, v := range Variants {
		names = append(names, string(v))
	}
	return "", fmt.Errorf("unknown variant %q (known: %s)", name, strings.Join(names, ", "))
}

// Truth is what the analysis of an incident must find.
type Truth struct {
	Variant Variant `json:"variant"`
	Seed    uint64  `json:"seed"`
	// Verdict is the expected answer; Accept lists the others that are
	// also right (a ransomware intrusion without theft: no_evidence or possible).
	Verdict string    `json:"verdict"`
	Accept  []string  `json:"accept,omitempty"`
	Exfil   []Channel `json:"exfiltration"`
	Routine []Routine `json:"routine"`
	Missing string    `json:"missing_source,omitempty"` // firewall, windows or mail, left out of the evidence
	// Parsing settings the evidence needs (classic syslog stamps carry no zone or year).
	TZOffsetSeconds int    `json:"tz_offset_seconds"`
	Year            int    `json:"year"`
	Notes           string `json:"notes"`
	// Window is the intrusion, from first attacker action to the last.
	Window [2]time.Time `json:"window"`
}

// Channel is one way data left, exactly as the logs count it.
type Channel struct {
	Channel     string    `json:"channel"` // network, cloud, email
	Destination string    `json:"destination"`
	Domain      string    `json:"domain,omitempty"`
	Bytes       int64     `json:"bytes"`
	Sessions    int64     `json:"sessions"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	SourceIP    string    `json:"source_ip,omitempty"`
	SourceHost  string    `json:"source_host,omitempty"` // expected only when the evidence can tie it (Windows logs present)
	Account     string    `json:"account,omitempty"`     // expected only when the evidence can tie it
	// Tunnel is the VPN tunnel's address the data went to the Destination
	// through (its far end): the bytes are those the source sent to it.
	Tunnel string `json:"tunnel,omitempty"`
}

// Routine is a legitimate recurring transfer that must not be in the ledger.
type Routine struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Bytes       int64  `json:"bytes"`
	Schedule    string `json:"schedule"`
}

// Incident is the generated evidence and its truth.
type Incident struct {
	Files map[string][]byte
	Truth Truth
}

// Write saves the evidence under dir and the truth beside it (dir.truth.json
// when truthPath is empty).
func (inc *Incident) Write(dir, truthPath string) error {
	for name, b := range inc.Files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	if truthPath == "" {
		truthPath = filepath.Clean(dir) + ".truth.json"
	}
	b, err := json.MarshalIndent(inc.Truth, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(truthPath, append(b, '\n'), 0o644)
}

// Location is the time zone the devices of the incident log in.
func (t Truth) Location() *time.Location {
	return time.FixedZone(fmt.Sprintf("UTC%+03d%02d", t.TZOffsetSeconds/3600, abs(t.TZOffsetSeconds/60)%60), t.TZOffsetSeconds)
}

// Offset is the devices' zone as --tz takes it, e.g. +05:30.
func (t Truth) Offset() string {
	sign, off := '+', t.TZOffsetSeconds
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off/60%60)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Generate draws an incident of a variant from a seed.
func Generate(v Variant, seed uint64) *Incident {
	return Build(Draw(v, seed))
}

// line is one log line with its time, so each file can be written in order.
type line struct {
	t    time.Time
	text string
}

// world is the generation state: the organisation, the options, the
// random source and what has been written.
type world struct {
	o     Options
	org   *Org
	r     *rand.Rand
	loc   *time.Location
	files map[string][]line
	truth *Truth
	seq   int // session ids, record ids
	// relayed counts the relay's SMTP sessions to partners, numbered apart
	// so that the draws of the rest stay those of the seed.
	relayed int
	// blind is set when the story's Windows events fall before the Windows
	// logs begin: the evidence then holds no host-side trace of it.
	blind bool
}

func (w *world) add(file string, t time.Time, text string) {
	w.files[file] = append(w.files[file], line{t, text})
}

func (w *world) next() int {
	w.seq += 1 + w.r.IntN(7)
	return w.seq
}

// Build generates the incident the options describe.
func Build(o Options) *Incident {
	w := &world{o: o, org: o.Org, r: rand.New(rand.NewPCG(o.Seed, 0x5eed)), files: map[string][]line{},
		truth: &Truth{Variant: o.Variant, Seed: o.Seed, Exfil: []Channel{}, Routine: []Routine{}, Missing: o.Missing,
			TZOffsetSeconds: o.TZOffset, Year: o.Start.In(time.FixedZone("", o.TZOffset)).Year()}}
	w.loc = time.FixedZone("local", o.TZOffset)
	w.seq = 40000000 + w.r.IntN(1000000)
	w.background()
	w.backups()
	w.story()
	if o.CiscoESA && !o.ClassicSyslog {
		w.esaHead()
	}
	eo := o
	if w.blind && eo.Missing == "" {
		eo.Missing = "windows"
	}
	w.truth.Verdict, w.truth.Accept = expectedVerdict(eo)
	w.truth.Notes = o.describe()
	return w.render()
}

// render writes each file in time order, dropping the missing source and
// the firewall lines after its cut.
func (w *world) render() *Incident {
	inc := &Incident{Files: map[string][]byte{}, Truth: *w.truth}
	for name, lines := range w.files {
		kind := strings.SplitN(name, "/", 2)[0]
		if kind == w.o.Missing {
			continue
		}
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].t.Before(lines[j].t) })
		var sb strings.Builder
		wrapped := strings.HasSuffix(name, ".xml") && w.o.WinXMLRoot
		if wrapped {
			sb.WriteString("<Events>\n")
		}
		end, numbered := "\n", 0
		list := kind == "windows" && strings.HasSuffix(name, "-fl.txt")
		if kind == "windows" && strings.HasSuffix(name, ".txt") && !list {
			sb.WriteString("evtxexport 20181227\n\n") // then blocks, a blank line after each
		}
		if name == plasoFile {
			sb.WriteString("datetime,timestamp_desc,source,source_long,message,parser,display_name,tag\n")
		} else if name == evtxecmdFile {
			sb.WriteString("\ufeff" + strings.Join(evtxecmdColumns, ",") + "\r\n")
			end = "\r\n"
		} else if list {
			// Format-List: two blank lines first, a blank line after each
			// record; Get-WinEvent's order, newest first.
			sb.WriteString("\r\n\r\n")
			end = "\r\n"
			slices.Reverse(lines)
		} else if kind == "windows" && strings.HasSuffix(name, ".csv") {
			// Export-Csv: a header, CRLF, and Get-WinEvent's order, newest first.
			sb.WriteString(w.winExportHeader() + "\r\n")
			end = "\r\n"
			slices.Reverse(lines)
		}
		for _, l := range lines {
			if kind == "firewall" && (l.t.Before(w.o.FirewallFrom) || (!w.o.FirewallUntil.IsZero() && l.t.After(w.o.FirewallUntil))) {
				continue
			}
			if kind == "windows" && l.t.Before(w.o.WindowsFrom) {
				continue
			}
			text := l.text
			if strings.HasPrefix(text, "Event number\t\t\t: #\n") {
				numbered++
				text = strings.Replace(text, "#", strconv.Itoa(numbered), 1)
			}
			sb.WriteString(text)
			sb.WriteString(end)
		}
		if wrapped {
			sb.WriteString("</Events>\n")
		}
		inc.Files[name] = []byte(sb.String())
		if list {
			// Windows PowerShell's ">" writes UTF-16 with a byte-order mark.
			inc.Files[name] = utf16LE(sb.String())
		}
	}
	if w.o.Missing == "" || w.o.Missing != "windows" {
		// A domain controller's export with nothing in the query: it must read as 0 events.
		if w.o.EmptyExport {
			inc.Files["windows/"+w.org.DC.Name+"-Application.xml"] = []byte("<Events>\n</Events>\n")
		}
	}
	return inc
}

// dropTunnels takes the channels through VPN tunnels out of the truth when
// the evidence as rewritten cannot measure them (why, in the notes): with
// no other channel, nothing in the logs shows data leaving, and the
// intrusion alone may make the answer "possible".
func (t *Truth) dropTunnels(why string) {
	kept := t.Exfil[:0]
	for _, ch := range t.Exfil {
		if ch.Tunnel == "" {
			kept = append(kept, ch)
		}
	}
	if len(kept) == len(t.Exfil) {
		return
	}
	t.Exfil = kept
	t.Notes += "; " + why
	if len(kept) == 0 && t.Verdict != "insufficient_data" {
		t.Verdict, t.Accept = "no_evidence", []string{"possible", "insufficient_data"}
	}
}

// utf16LE is s in UTF-16, little-endian, after a byte-order mark.
func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2+2*len(u))
	b[0], b[1] = 0xff, 0xfe
	for i, c := range u {
		b[2+2*i], b[3+2*i] = byte(c), byte(c>>8)
	}
	return b
}
