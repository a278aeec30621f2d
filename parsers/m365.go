package parsers

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// M365Audit reads the Microsoft 365 unified audit log: the Purview export
// (CSV with an AuditData JSON column) or JSON lines (AuditData records, or
// records that hold one). Send, MailItemsAccessed, inbox rules and mailbox
// forwarding, file downloads, sharing links and logins are mapped to ECS.
type M365Audit struct{}

func (M365Audit) Name() string { return "m365-audit" }
func (M365Audit) Description() string {
	return "Microsoft 365 unified audit log (Purview CSV export or JSON lines)"
}

func (M365Audit) Detect(head []byte) bool {
	h := strings.TrimPrefix(string(head), "\ufeff")
	first := strings.SplitN(h, "\n", 2)[0]
	if strings.Contains(first, "AuditData") && strings.Contains(first, "CreationDate") {
		return true
	}
	return mostLines(head, M365Audit{}.matchLine)
}

func (M365Audit) matchLine(l string) bool {
	return strings.HasPrefix(strings.TrimSpace(l), "{") && strings.Contains(l, `"CreationTime"`) && strings.Contains(l, `"Operation"`)
}

func (M365Audit) NewDecoder(o *Options) LineDecoder { return &m365Decoder{} }

type m365Decoder struct {
	header []string
	buf    string // a CSV record can span lines (AuditData with newlines)
	start  int64
}

func (d *m365Decoder) Flush(emit Emit) {
	if d.buf != "" {
		rawLine(emit, d.start, []byte(d.buf), "m365: unterminated CSV record at end of file")
		d.buf = ""
	}
}

func (d *m365Decoder) Line(no int64, line []byte, emit Emit) error {
	s := strings.TrimPrefix(string(line), "\ufeff")
	if strings.HasPrefix(strings.TrimSpace(s), "{") && d.header == nil {
		return d.record(no, s, "", emit)
	}
	if d.header == nil {
		r := csv.NewReader(strings.NewReader(s))
		h, err := r.Read()
		if err != nil {
			return fmt.Errorf("m365: header: %v", err)
		}
		d.header = h
		emitHeaderLine(emit, no, "o365.audit", s)
		return nil
	}
	if d.buf == "" {
		d.start = no
		d.buf = s
	} else {
		d.buf += "\n" + s
	}
	if strings.Count(d.buf, `"`)%2 == 1 {
		return nil // the quoted field continues on the next line
	}
	rec := d.buf
	d.buf = ""
	r := csv.NewReader(strings.NewReader(rec))
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	f, err := r.Read()
	if err != nil {
		return fmt.Errorf("m365: CSV: %v", err)
	}
	var audit string
	for i, h := range d.header {
		if h == "AuditData" && i < len(f) {
			audit = f[i]
		}
	}
	if audit == "" {
		return fmt.Errorf("m365: no AuditData column")
	}
	return d.record(d.start, audit, rec, emit)
}

func (d *m365Decoder) record(no int64, js, original string, emit Emit) error {
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		return fmt.Errorf("m365: AuditData JSON: %v", err)
	}
	if inner, ok := m["AuditData"].(map[string]any); ok {
		m = inner
	} else if s, ok := m["AuditData"].(string); ok {
		json.Unmarshal([]byte(s), &m)
	}
	str := func(k string) string {
		if v, ok := m[k].(string); ok {
			return v
		}
		return ""
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999", strings.TrimSuffix(str("CreationTime"), "Z"))
	if err != nil {
		return fmt.Errorf("m365: CreationTime %q", str("CreationTime"))
	}
	ev := event.New()
	ev.Timestamp = t.UTC() // the unified audit log is in UTC
	ev.Fields[event.FieldDataset] = "o365.audit"
	if original == "" {
		original = js
	}
	ev.Fields[event.FieldOriginal] = original
	ev.Fields[event.FieldLine] = no
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			if v != "" {
				ev.Fields["o365.audit."+k] = v
			}
		case float64, bool:
			ev.Fields["o365.audit."+k] = fmt.Sprint(v)
		default:
			b, _ := json.Marshal(v)
			ev.Fields["o365.audit."+k] = string(b)
		}
	}
	op := str("Operation")
	ev.Set("event.action", op)
	ev.Set("event.provider", str("Workload"))
	ev.Set("user.name", str("UserId"))
	ev.Set("event.outcome", strings.ToLower(map[string]string{"Succeeded": "success", "Success": "success", "Failed": "failure", "PartiallySucceeded": "success"}[str("ResultStatus")]))
	// ClientIP: "1.2.3.4", "1.2.3.4:5678", "2a01::1" or "[2a01::1]:5678".
	if ip := str("ClientIP"); ip != "" {
		if ap, err := netip.ParseAddrPort(ip); err == nil {
			ev.Fields["source.ip"] = ap.Addr().Unmap().String()
		} else {
			setIP(ev, "source.ip", ip)
		}
	}
	// Parameters: [{"Name":"ForwardTo","Value":"x@gmail.com"}, …]
	if ps, ok := m["Parameters"].([]any); ok {
		for _, p := range ps {
			pm, _ := p.(map[string]any)
			name, _ := pm["Name"].(string)
			val := fmt.Sprint(pm["Value"])
			ev.Add("o365.audit.parameters", name+"="+val)
			switch name {
			case "ForwardTo", "ForwardingSmtpAddress", "ForwardingAddress", "RedirectTo", "ForwardAsAttachmentTo":
				ev.Add("o365.audit.forwarding_address", strings.TrimPrefix(strings.TrimPrefix(val, "smtp:"), "SMTP:"))
			}
		}
	}
	switch op {
	case "FileDownloaded", "FileSyncDownloadedFull", "FileAccessed", "FileAccessedExtended", "FilePreviewed", "FileUploaded",
		"FileSyncUploadedFull", "FileCopied", "FileMoved", "FileDeleted", "FileRecycled":
		// SharePoint / OneDrive: what was taken (download, sync) or changed.
		ev.Fields["event.category"] = []string{"file"}
		switch op {
		case "FileUploaded", "FileSyncUploadedFull", "FileCopied":
			ev.Fields["event.type"] = []string{"creation"}
		case "FileMoved":
			ev.Fields["event.type"] = []string{"change"}
		case "FileDeleted", "FileRecycled":
			ev.Fields["event.type"] = []string{"deletion"}
		default:
			ev.Fields["event.type"] = []string{"access"}
		}
		m365File(ev, str)
		ev.Set("user_agent.original", str("UserAgent"))
	case "AnonymousLinkCreated", "AnonymousLinkUpdated", "AnonymousLinkUsed", "SharingInvitationCreated", "SharingSet",
		"SecureLinkCreated", "AddedToSecureLink", "CompanyLinkCreated", "SharingInvitationAccepted":
		// Sharing: a document made reachable outside the town's accounts.
		ev.Fields["event.category"] = []string{"file"}
		ev.Fields["event.type"] = []string{"change"}
		m365File(ev, str)
		if t := str("TargetUserOrGroupName"); strings.Contains(t, "@") {
			ev.Set("destination.user.email", t)
		}
		if strings.HasPrefix(op, "Anonymous") || str("TargetUserOrGroupType") == "Guest" {
			ev.Fields["tags"] = []string{"external_sharing"}
		}
	case "UserLoggedIn", "UserLoginFailed":
		ev.Fields["event.category"] = []string{"authentication"}
	case "Send", "SendAs", "SendOnBehalf", "MailItemsAccessed", "New-InboxRule", "Set-InboxRule", "Set-Mailbox", "UpdateInboxRules":
		ev.Fields["event.category"] = []string{"email"}
		if item, ok := m["Item"].(map[string]any); ok {
			if subj, ok := item["Subject"].(string); ok {
				ev.Set("email.subject", subj)
			}
			if sz, ok := item["SizeInBytes"].(float64); ok {
				ev.SetInt("email.size", int64(sz))
			}
		}
	default:
		ev.Fields["event.category"] = []string{"configuration"}
	}
	emit(ev, linePos(no))
	return nil
}

// m365File maps a SharePoint / OneDrive document: its URL, site, folder,
// name and extension.
func m365File(ev *event.Event, str func(string) string) {
	ev.Set("url.original", str("ObjectId"))
	if h := urlHost(str("ObjectId")); h != "" {
		ev.Set("url.domain", h)
	}
	ev.Set("file.path", str("ObjectId"))
	ev.Set("file.name", str("SourceFileName"))
	ev.Set("file.extension", strings.ToLower(str("SourceFileExtension")))
	ev.Set("file.directory", str("SourceRelativeUrl"))
	ev.Set("o365.audit.site_url", str("SiteUrl"))
}
