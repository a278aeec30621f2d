package parsers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// EntraSignIns reads Microsoft Entra ID (Azure AD) sign-in logs as the
// portal downloads them — CSV ("Date (UTC)", "Username", "IP address",
// "Status", "Application"…) or JSON (Microsoft Graph signIn objects: an
// array, {"value": […]}, or one per line) — which account signed in to which
// application, from which address and place, with what result.
type EntraSignIns struct{}

func (EntraSignIns) Name() string { return "entra-signins" }
func (EntraSignIns) Description() string {
	return "Microsoft Entra ID (Azure AD) sign-in logs, CSV or JSON download"
}

func (EntraSignIns) Detect(head []byte) bool {
	h := string(bytes.TrimPrefix(head, []byte("\ufeff")))
	first := strings.SplitN(h, "\n", 2)[0]
	if strings.Contains(first, "Date (UTC)") && strings.Contains(first, "IP address") && (strings.Contains(first, "Username") || strings.Contains(first, "User")) {
		return true
	}
	return strings.Contains(h, `"createdDateTime"`) && strings.Contains(h, `"userPrincipalName"`) && strings.Contains(h, `"ipAddress"`)
}

func (EntraSignIns) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	rc, err := in.Reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(&bomSkipper{r: bufio.NewReaderSize(rc, 1<<16)}, 1<<16)
	head, _ := br.Peek(1)
	if len(head) == 1 && (head[0] == '[' || head[0] == '{') {
		return entraJSON(br, emit, st)
	}
	return entraCSV(br, emit)
}

func entraCSV(r io.Reader, emit Emit) error {
	cr := csv.NewReader(r)
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	hdr, err := cr.Read()
	if err != nil {
		return fmt.Errorf("entra-signins: header: %w", err)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil && rec == nil {
			return fmt.Errorf("entra-signins: line %d: %w", line, err)
		}
		kv := map[string]string{}
		for i, h := range hdr {
			if i < len(rec) && rec[i] != "" {
				if _, dup := kv[h]; !dup { // the portal repeats some headers; the first is the sign-in's
					kv[strings.TrimSpace(h)] = rec[i]
				}
			}
		}
		ev, rerr := entraEvent(kv["Date (UTC)"], kv["Username"], kv["User"], kv["IP address"], kv["Application"], kv["Resource"],
			kv["Status"], kv["Sign-in error code"], kv["Failure reason"], kv["Location"], kv["Client app"], kv["User agent"], kv["Request ID"],
			kv["Multifactor authentication result"], kv["Operating System"], kv["Browser"])
		if rerr != nil {
			rawLine(emit, int64(line), []byte(strings.Join(rec, ",")), rerr.Error())
			continue
		}
		ev.Fields[event.FieldOriginal] = strings.Join(rec, ",")
		ev.Fields[event.FieldLine] = int64(line)
		emit(ev, linePos(int64(line)))
	}
}

// entraJSON streams Graph signIn objects from an array, {"value": […]} or
// one object per line.
func entraJSON(r io.Reader, emit Emit, st *FileStats) error {
	dec := json.NewDecoder(r)
	var row int64
	one := func(raw json.RawMessage) {
		row++
		var s struct {
			Created   string `json:"createdDateTime"`
			UPN       string `json:"userPrincipalName"`
			Name      string `json:"userDisplayName"`
			IP        string `json:"ipAddress"`
			App       string `json:"appDisplayName"`
			Resource  string `json:"resourceDisplayName"`
			ClientApp string `json:"clientAppUsed"`
			ID        string `json:"id"`
			UserAgent string `json:"userAgent"`
			Status    struct {
				ErrorCode     json.Number `json:"errorCode"`
				FailureReason string      `json:"failureReason"`
			} `json:"status"`
			Location struct {
				City    string `json:"city"`
				Country string `json:"countryOrRegion"`
			} `json:"location"`
			Device struct {
				OS      string `json:"operatingSystem"`
				Browser string `json:"browser"`
			} `json:"deviceDetail"`
		}
		pos := "R" + fmt.Sprint(row)
		if err := json.Unmarshal(raw, &s); err != nil {
			ev := event.New()
			ev.Fields[event.FieldKind] = event.KindRaw
			ev.Fields[event.FieldError] = "entra-signins: " + err.Error()
			ev.Fields[event.FieldOriginal] = string(raw)
			emit(ev, pos)
			return
		}
		status := "Success"
		if code := s.Status.ErrorCode.String(); code != "" && code != "0" {
			status = "Failure"
		}
		loc := strings.Trim(s.Location.City+", "+s.Location.Country, ", ")
		ev, err := entraEvent(s.Created, s.UPN, s.Name, s.IP, s.App, s.Resource, status, s.Status.ErrorCode.String(), s.Status.FailureReason,
			loc, s.ClientApp, s.UserAgent, s.ID, "", s.Device.OS, s.Device.Browser)
		if err != nil {
			ev = event.New()
			ev.Fields[event.FieldKind] = event.KindRaw
			ev.Fields[event.FieldError] = err.Error()
		}
		ev.Fields[event.FieldOriginal] = string(raw)
		ev.Fields["evidence.row"] = row
		emit(ev, pos)
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			st.AddLost("entra-signins: JSON syntax error, the rest of the file is unreadable", 1)
			return fmt.Errorf("entra-signins: after row %d: %w", row, err)
		}
		switch tok {
		case json.Delim('['):
			for dec.More() {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return fmt.Errorf("entra-signins: row %d: %w", row+1, err)
				}
				one(raw)
			}
			dec.Token()
		case json.Delim('{'):
			// Either {"value": [...]} or one signIn object: rebuild it.
			obj := map[string]json.RawMessage{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return fmt.Errorf("entra-signins: %w", err)
				}
				k, _ := kt.(string)
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					return fmt.Errorf("entra-signins: %w", err)
				}
				obj[k] = v
			}
			dec.Token()
			if v, ok := obj["value"]; ok {
				var rows []json.RawMessage
				if err := json.Unmarshal(v, &rows); err == nil {
					for _, r := range rows {
						one(r)
					}
					continue
				}
			}
			b, _ := json.Marshal(obj)
			one(b)
		}
	}
}

func entraEvent(created, upn, name, ip, app, resource, status, code, reason, location, clientApp, ua, id, mfa, os, browser string) (*event.Event, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(created))
	if err != nil {
		// The portal's CSV writes "2025-03-14T22:41:02Z" or "3/14/2025, 10:41:02 PM" (UTC either way).
		t, err = time.Parse("1/2/2006, 3:04:05 PM", strings.TrimSpace(created))
		if err != nil {
			return nil, fmt.Errorf("entra-signins: unreadable date %q", created)
		}
	}
	ev := event.New()
	ev.Timestamp = t.UTC()
	ev.Fields[event.FieldDataset] = "azure.signinlogs"
	ev.Fields["event.category"] = []string{"authentication"}
	ev.Fields["event.type"] = []string{"start"}
	ev.Set("event.action", "sign-in")
	ev.Set("user.name", strings.ToLower(upn))
	ev.Set("user.full_name", name)
	if u, d, ok := strings.Cut(upn, "@"); ok {
		ev.Set("user.name", strings.ToLower(u))
		ev.Set("user.domain", strings.ToLower(d))
		ev.Set("user.email", strings.ToLower(upn))
	}
	setIP(ev, "source.ip", ip)
	ev.Set("source.geo.name", location)
	ev.Set("azure.signinlogs.app_display_name", app)
	ev.Set("azure.signinlogs.resource_display_name", resource)
	ev.Set("azure.signinlogs.client_app_used", clientApp)
	ev.Set("azure.signinlogs.request_id", id)
	ev.Set("azure.signinlogs.mfa_result", mfa)
	ev.Set("user_agent.original", ua)
	ev.Set("host.os.name", os)
	ev.Set("azure.signinlogs.browser", browser)
	ev.Set("error.code", strings.TrimSpace(code))
	switch st := strings.ToLower(status); {
	case strings.HasPrefix(st, "success"):
		ev.Set("event.outcome", "success")
	case strings.HasPrefix(st, "fail"), strings.HasPrefix(st, "interrupted"):
		ev.Set("event.outcome", "failure")
		ev.Set("event.reason", reason)
	}
	return ev, nil
}
