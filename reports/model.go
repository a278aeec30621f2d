// Package reports answers the question the report's readers ask — was data
// taken, how much, from which servers, by which account, to where, when, and
// how sure are we — from a case's events and findings, and renders that answer
// through templates (Markdown, HTML, JSON, CSV timeline).
package reports

import (
	"time"

	"github.com/exfiltrace/exfiltrace/parsers"
)

// SchemaVersion is the findings contract version (shared/contracts).
const SchemaVersion = "1"

// Report is the findings document of shared/contracts/findings.schema.json.
type Report struct {
	SchemaVersion string         `json:"schema_version"`
	GeneratedAt   time.Time      `json:"generated_at"`
	Tool          Tool           `json:"tool"`
	Case          CaseInfo       `json:"case"`
	Evidence      []EvidenceFile `json:"evidence"`
	Verdict       Verdict        `json:"verdict"`
	Exfiltration  []LedgerEntry  `json:"exfiltration"`
	// Routine are large recurring or known-good transfers, kept out of the
	// ledger and the verdict and listed for a person to confirm.
	Routine  []RoutineTransfer `json:"routine_transfers"`
	Findings []Finding         `json:"findings"`
	Timeline []TimelineEntry   `json:"timeline"`
	// Extensions beyond the contract (allowed: fields may be added).
	IncidentWindow *Range     `json:"incident_window,omitempty"`
	Baseline       *Baseline  `json:"baseline,omitempty"`
	OwnMailDomains []string   `json:"own_mail_domains,omitempty"`
	Coverage       []Coverage `json:"coverage,omitempty"`
	Links          []Link     `json:"links,omitempty"`
	// VPNTransfers are the sessions between VPN tunnels and internal
	// servers: copies to a VPN client leave outside the ledger.
	VPNTransfers []TunnelTransfer `json:"vpn_transfers,omitempty"`
	Breach       *BreachDraft     `json:"gdpr_article_33_draft,omitempty"`
	HourlyBytes  []HourlySeries   `json:"hourly_bytes,omitempty"`
	// Clocks compares the firewall's clock with the Windows and mail logs'.
	Clocks []ClockCheck `json:"clock_checks,omitempty"`
	Lang   string       `json:"lang,omitempty"`
}

// Tool names the producer.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Range is a time interval.
type Range struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// CaseInfo describes the case.
type CaseInfo struct {
	ID        string `json:"id"`
	Title     string `json:"title,omitempty"`
	Events    int64  `json:"events"`
	TimeRange Range  `json:"time_range"`
}

// EvidenceFile is one input file, for chain of custody.
type EvidenceFile struct {
	Path      string `json:"path"`
	SHA256    string `json:"sha256"`
	SizeBytes int64  `json:"size_bytes"`
	Format    string `json:"format"`
	Events    int64  `json:"events"`
	Unparsed  int64  `json:"unparsed"`
	TimeRange *Range `json:"time_range,omitempty"`
	// Status says why a file read gave no events ("not_a_log", "empty")
	// or that its reading stopped on an error ("read_error"), for the
	// reader of the report; not in the findings contract.
	Status string `json:"-"`
	// ReadError is what stopped the file's reading before its end (a
	// damaged compressed stream, a failing disk): the verdict says what
	// that leaves unknown.
	ReadError string `json:"-"`
	// Lost counts the file's records that could not be read at all
	// (damaged, wiped, cut off): the verdict says what that leaves unknown.
	Lost int64 `json:"-"`
	// LostWhen dates some of them (when the file tells).
	LostWhen []parsers.LostStretch `json:"-"`
}

// Verdict is the answer, with its confidence and plain-language reasons.
type Verdict struct {
	DataTaken  string   `json:"data_taken"`
	Confidence float64  `json:"confidence"`
	BytesOut   int64    `json:"bytes_out"`
	Summary    string   `json:"summary"`
	Reasons    []string `json:"reasons"`
	// Missing names the logs whose absence limits the answer.
	Missing []string `json:"missing,omitempty"`
	// WouldChange says what evidence would change the verdict.
	WouldChange []string `json:"would_change,omitempty"`
}

// Verdict values.
const (
	Confirmed        = "confirmed"
	Likely           = "likely"
	Possible         = "possible"
	NoEvidence       = "no_evidence"
	InsufficientData = "insufficient_data"
)

// LedgerEntry is one channel the data left by, with exact byte sums.
type LedgerEntry struct {
	Channel            string      `json:"channel"`
	Destination        Destination `json:"destination"`
	Sources            []Source    `json:"sources"`
	Users              []string    `json:"users,omitempty"`
	Bytes              int64       `json:"bytes"`
	Events             int64       `json:"events"`
	FirstSeen          time.Time   `json:"first_seen"`
	LastSeen           time.Time   `json:"last_seen"`
	SeenBeforeIncident bool        `json:"seen_before_incident"`
	FindingIDs         []string    `json:"finding_ids,omitempty"`
	// How the bytes were counted (which field, what was excluded).
	Method string `json:"method,omitempty"`
	// Anomaly says why this transfer is not routine, with its numbers.
	Anomaly string `json:"anomaly,omitempty"`
	// Attribution ties each account to the channel, with the evidence.
	Attribution []Attribution `json:"attribution,omitempty"`
}

// RoutineTransfer is a large transfer judged routine from the evidence (a
// recurring pattern present from the start of the logs, a service many
// hosts use) or known good by the case configuration.
type RoutineTransfer struct {
	Destination Destination `json:"destination"`
	Sources     []Source    `json:"sources"`
	Bytes       int64       `json:"bytes"`
	Events      int64       `json:"events"`
	Days        int         `json:"days"`
	FirstSeen   time.Time   `json:"first_seen"`
	LastSeen    time.Time   `json:"last_seen"`
	Pattern     string      `json:"pattern,omitempty"`
	Why         string      `json:"why"`
	// noHistory: present from the log's first day, it could not be judged
	// against anything (the verdict says so and trusts itself less).
	noHistory bool
}

// Baseline says what the network baseline was and what it showed.
type Baseline struct {
	Firewall *Range `json:"firewall_period,omitempty"`
	// Before is where the baseline ends: the start of the incident window,
	// or the end of the logs when no intrusion was found.
	Before time.Time `json:"before"`
	// FirstContactMaxBytes is the most any internal host sent to a
	// destination on the day it first contacted it, during the baseline.
	FirstContactMaxBytes int64  `json:"first_contact_max_bytes"`
	FirstContactMaxTo    string `json:"first_contact_max_to,omitempty"`
	Services             int    `json:"external_services"`
}

// Destination is where data went.
type Destination struct {
	IP     string `json:"ip,omitempty"`
	Port   int64  `json:"port,omitempty"`
	Domain string `json:"domain,omitempty"`
	Email  string `json:"email,omitempty"`
}

// Source is where data came from.
type Source struct {
	Host string `json:"host,omitempty"`
	IP   string `json:"ip,omitempty"`
}

// Finding is a hunt finding in contract form.
type Finding struct {
	ID        string        `json:"id"`
	RuleID    string        `json:"rule_id"`
	Title     string        `json:"title"`
	Severity  string        `json:"severity"`
	Tactic    string        `json:"tactic,omitempty"`
	Technique string        `json:"technique,omitempty"`
	Count     int           `json:"count"`
	FirstSeen time.Time     `json:"first_seen"`
	LastSeen  time.Time     `json:"last_seen"`
	Hosts     []string      `json:"hosts,omitempty"`
	Users     []string      `json:"users,omitempty"`
	Refs      []EvidenceRef `json:"evidence_refs,omitempty"`
}

// EvidenceRef points at one event.
type EvidenceRef struct {
	Path    string `json:"path,omitempty"`
	Line    int64  `json:"line,omitempty"`
	Record  int64  `json:"record,omitempty"`
	EventID string `json:"event_id,omitempty"`
}

// TimelineEntry is one dated step of the incident.
type TimelineEntry struct {
	Time      time.Time `json:"time"`
	Summary   string    `json:"summary"`
	FindingID string    `json:"finding_id,omitempty"`
}

// Coverage says which kind of log covers which period — a gap is a finding.
type Coverage struct {
	Source string  `json:"source"`
	Events int64   `json:"events"`
	Range  *Range  `json:"range,omitempty"`
	Gaps   []Range `json:"gaps,omitempty"` // whole days inside the range without any event
}

// Link records how an address was tied to a host or an account, and from what evidence.
type Link struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Kind   string `json:"kind"` // host, account
	How    string `json:"how"`
	Source string `json:"source"`
}

// BreachDraft is the material for a GDPR Article 33 notification — a draft.
type BreachDraft struct {
	Nature          string   `json:"nature"`
	DataCategories  []string `json:"data_categories"`
	PeopleConcerned []string `json:"people_concerned"`
	ApproxVolume    string   `json:"approximate_volume"`
	Window          *Range   `json:"window,omitempty"`
	Measures        []string `json:"measures_to_complete"`
}

// HourlySeries is bytes per hour for one destination (for charts).
type HourlySeries struct {
	Destination string           `json:"destination"`
	Points      map[string]int64 `json:"points"` // hour (RFC 3339) → bytes
}
