package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// IIS reads Microsoft IIS logs in the W3C extended format, the default since
// IIS 7: an Exchange server's OWA, EWS, ActiveSync and PowerShell endpoints
// log there, so they show which account read or exported mailboxes from
// where, and a webshell's requests. The #Fields: directive names the
// columns (the default set until one is seen). W3C logs are written in UTC
// whatever the server's zone (only file rollover may follow local time).
type IIS struct{}

func (IIS) Name() string { return "iis" }
func (IIS) Description() string {
	return "Microsoft IIS W3C extended logs (Exchange OWA/EWS/ActiveSync, web servers), times in UTC"
}

// iisDefaultFields are IIS 10's default W3C fields, for lines read before
// any #Fields: directive.
var iisDefaultFields = strings.Fields("date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken")

func (IIS) Detect(head []byte) bool {
	for _, l := range headLines(head, 40) {
		if strings.HasPrefix(l, "#Software: Microsoft Internet Information Services") {
			return true
		}
		if f, ok := strings.CutPrefix(l, "#Fields:"); ok {
			return iisFields(f)
		}
	}
	return mostLines(head, IIS{}.matchLine)
}

// iisFields says whether a #Fields: directive is a web server's: the
// Windows Firewall and other W3C writers have no request or status.
func iisFields(f string) bool {
	has := map[string]bool{}
	for _, n := range strings.Fields(f) {
		has[strings.ToLower(n)] = true
	}
	return has["date"] && has["time"] && (has["cs-uri-stem"] || has["cs-method"]) && (has["sc-status"] || has["c-ip"]) && !proxyFields(strings.Fields(f))
}

var httpMethods = map[string]bool{"GET": true, "POST": true, "HEAD": true, "PUT": true, "DELETE": true, "OPTIONS": true,
	"PATCH": true, "PROPFIND": true, "RPC_IN_DATA": true, "RPC_OUT_DATA": true, "MKCOL": true, "MOVE": true, "COPY": true, "TRACE": true}

// matchLine recognises a data line in the default field order.
func (IIS) matchLine(l string) bool {
	f := strings.Split(l, " ")
	if len(f) != len(iisDefaultFields) || len(f[0]) != 10 || f[0][4] != '-' || len(f[1]) < 8 || f[1][2] != ':' {
		return false
	}
	return httpMethods[f[3]] && strings.HasPrefix(f[4], "/")
}

func (IIS) selfContained() {}

func (IIS) NewDecoder(o *Options) LineDecoder { return &iisDecoder{fields: iisDefaultFields} }

type iisDecoder struct{ fields []string }

func (*iisDecoder) Flush(Emit) {}

func (d *iisDecoder) Line(no int64, line []byte, emit Emit) error {
	s := strings.TrimRight(string(line), "\r")
	if strings.HasPrefix(s, "#") {
		if f, ok := strings.CutPrefix(s, "#Fields:"); ok {
			if len(strings.Fields(f)) == 0 {
				return fmt.Errorf("iis: empty #Fields: directive")
			}
			d.fields = strings.Fields(f)
		}
		emitHeaderLine(emit, no, "iis.access", s)
		return nil
	}
	vals := strings.Split(s, " ")
	if len(vals) != len(d.fields) {
		return fmt.Errorf("iis: %d values for the %d fields of #Fields:", len(vals), len(d.fields))
	}
	var date, clock string
	ev := event.New()
	ev.Fields[event.FieldDataset] = "iis.access"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["event.category"] = []string{"web"}
	ev.Fields["event.type"] = []string{"access"}
	var stem, query string
	for i, name := range d.fields {
		v := vals[i]
		if v == "-" || v == "" {
			continue
		}
		if err := d.set(ev, strings.ToLower(name), name, v, &date, &clock, &stem, &query); err != nil {
			return err
		}
	}
	if date == "" || clock == "" {
		return fmt.Errorf("iis: no date and time on the line")
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999999", date+" "+clock)
	if err != nil {
		return fmt.Errorf("iis: date %q time %q: %v", date, clock, err)
	}
	ev.Timestamp = t.UTC()
	switch iisService(ev.Str("iis.access.site_name"), ev.Str("http.request.method")) {
	case "ftp":
		// IIS's FTP service: a command on a path (RETR downloads it).
		cmd := ev.Str("http.request.method")
		asService(ev, "iis.ftp", []string{"file", "network"})
		if ev.Str("file.path") == "" && ftpPathCommands[cmd] {
			ev.Set("file.path", stem)
		}
	case "smtp":
		asService(ev, "iis.smtp", []string{"email", "network"})
		ev.Set("iis.smtp.argument", query)
	default:
		if stem != "" {
			ev.Set("url.original", stem)
			if query != "" {
				ev.Set("url.original", stem+"?"+query)
			}
		}
	}
	emit(ev, linePos(no))
	return nil
}

// IIS's FTP and SMTP services write W3C logs too, with the command where
// a web request has its method; the site (MSFTPSVC1, SMTPSVC1) says which,
// else the command does.
var (
	ftpCommands = map[string]bool{"USER": true, "PASS": true, "RETR": true, "STOR": true, "STOU": true, "APPE": true,
		"LIST": true, "NLST": true, "MLSD": true, "CWD": true, "PWD": true, "MKD": true, "RMD": true, "DELE": true,
		"RNFR": true, "RNTO": true, "SIZE": true, "PASV": true, "EPSV": true, "PORT": true, "TYPE": true,
		"ControlChannelOpened": true, "ControlChannelClosed": true, "DataChannelOpened": true, "DataChannelClosed": true}
	// ftpPathCommands name a file or directory (PASS names a password, kept
	// hidden by IIS as ***).
	ftpPathCommands = map[string]bool{"RETR": true, "STOR": true, "STOU": true, "APPE": true, "DELE": true, "RNFR": true,
		"RNTO": true, "SIZE": true, "MKD": true, "RMD": true, "CWD": true}
	smtpCommands = map[string]bool{"EHLO": true, "HELO": true, "MAIL": true, "RCPT": true, "DATA": true, "BDAT": true,
		"RSET": true, "STARTTLS": true, "X-EXPS": true, "XEXCH50": true, "VRFY": true, "EXPN": true}
)

func iisService(site, method string) string {
	s := strings.ToUpper(site)
	switch {
	case strings.HasPrefix(s, "MSFTPSVC"), strings.HasPrefix(s, "FTPSVC"):
		return "ftp"
	case strings.HasPrefix(s, "SMTPSVC"):
		return "smtp"
	case strings.HasPrefix(s, "W3SVC"):
		return "web"
	case ftpCommands[method]:
		return "ftp"
	case smtpCommands[strings.ToUpper(method)]:
		return "smtp"
	}
	return "web"
}

// asService turns a web request's fields into a service command's: FTP
// and SMTP reply codes fail from 400 as HTTP's do.
func asService(ev *event.Event, dataset string, category []string) {
	ev.Fields[event.FieldDataset] = dataset
	ev.Fields["event.category"] = category
	ev.Fields["event.type"] = []string{"info"}
	for from, to := range map[string]string{"http.request.method": dataset + ".command", "http.response.status_code": dataset + ".status"} {
		if v, ok := ev.Fields[from]; ok {
			ev.Fields[to] = v
			delete(ev.Fields, from)
		}
	}
	delete(ev.Fields, "url.path")
	delete(ev.Fields, "url.query")
	delete(ev.Fields, "http.version") // "SMTP", "FTP": the dataset says it
}

// iisText are the W3C fields kept as they are, by their ECS name (or the
// name Elastic's IIS integration gives them).
var iisText = map[string]string{
	"cs(referer)": "http.request.referrer", "cs(cookie)": "iis.access.cookie", "cs-host": "url.domain",
	"s-computername": "host.name", "s-sitename": "iis.access.site_name", "sc-substatus": "iis.access.sub_status",
	"sc-win32-status": "iis.access.win32_status",
}

func (d *iisDecoder) set(ev *event.Event, lower, name, v string, date, clock, stem, query *string) error {
	integer := func(k string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("iis: %s %q is not a number", name, v)
		}
		ev.SetInt(k, n)
		return nil
	}
	if k, ok := iisText[lower]; ok {
		ev.Set(k, v)
		return nil
	}
	switch lower {
	case "date":
		*date = v
	case "time":
		*clock = v
	case "s-ip":
		setIP(ev, "destination.ip", v)
	case "c-ip":
		setIP(ev, "source.ip", v)
	case "s-port":
		return integer("destination.port")
	case "c-port":
		return integer("source.port")
	case "x-fullpath":
		ev.Set("file.path", v)
	case "cs-method":
		ev.Set("http.request.method", v)
		ev.Set("event.action", strings.ToLower(v))
	case "cs-uri-stem":
		*stem = v
		ev.Set("url.path", v)
	case "cs-uri-query":
		*query = v
		ev.Set("url.query", v)
	case "cs-username":
		setUserDomainForm(ev, v)
	case "cs-version":
		ev.Set("http.version", strings.TrimPrefix(v, "HTTP/"))
	case "cs(user-agent)":
		// W3C writes a value's spaces as '+'.
		ev.Set("user_agent.original", strings.ReplaceAll(v, "+", " "))
	case "sc-status":
		if err := integer("http.response.status_code"); err != nil {
			return err
		}
		if n, _ := strconv.Atoi(v); n >= 400 {
			ev.Set("event.outcome", "failure")
		} else {
			ev.Set("event.outcome", "success")
		}
	case "sc-bytes":
		// Bytes the server sent the client: what a download took away.
		if err := integer("http.response.bytes"); err != nil {
			return err
		}
		return integer("destination.bytes")
	case "cs-bytes":
		if err := integer("http.request.bytes"); err != nil {
			return err
		}
		return integer("source.bytes")
	case "time-taken":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("iis: time-taken %q is not a number", v)
		}
		ev.SetInt("event.duration", n*int64(time.Millisecond))
	case "x-forwarded-for", "cs(x-forwarded-for)", "originalip", "x-originating-ip", "cs(x-originating-ip)":
		// The client behind a load balancer, c-ip being the balancer.
		first, _, _ := strings.Cut(v, ",")
		setIP(ev, "network.forwarded_ip", strings.TrimSpace(first))
	default:
		ev.Set("iis.access."+lower, v)
	}
	return nil
}
