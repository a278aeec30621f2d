package scenario

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ---------------------------------------------------------------- FortiGate

const fwFile = "firewall/fortigate.log"

// session is one outbound or inside connection as the firewall logs it.
type session struct {
	src       string
	sport     int
	dst       string
	dport     int
	proto     int
	service   string
	host      string
	start     time.Time
	dur       time.Duration // whole seconds
	sent      int64
	rcvd      int64
	policy    int
	action    string // close, accept (UDP), timeout
	noInterim bool
	id        int // the firewall's session id; 0: the next one drawn
}

func (w *world) fgHeader(t time.Time) string {
	lt := t.In(w.loc)
	tz := lt.Format("-0700")
	s := fmt.Sprintf(`date=%s time=%s devname="%s" devid="%s"`, lt.Format("2006-01-02"), lt.Format("15:04:05"), w.org.FWName, w.org.FWSerial)
	if w.o.EventTime {
		s += fmt.Sprintf(" eventtime=%d", t.UnixNano())
	}
	return s + fmt.Sprintf(` tz="%s"`, tz)
}

// traffic writes a session: interim records while it lasts (when the
// firewall writes them), then its closing record. It returns the session's
// start and end as the logs date them.
func (w *world) traffic(s session) (time.Time, time.Time) {
	if !w.o.EventTime {
		s.start = s.start.Truncate(time.Second)
	}
	s.dur = s.dur.Truncate(time.Second)
	end := s.start.Add(s.dur)
	id := s.id
	if id == 0 {
		id = w.next()
	}
	if s.action == "" {
		s.action = "close"
	}
	if w.o.Interim > 0 && !s.noInterim && s.dur > w.o.Interim {
		var prevSent, prevRcvd int64
		for k := 1; time.Duration(k)*w.o.Interim < s.dur; k++ {
			el := time.Duration(k) * w.o.Interim
			sent := int64(float64(s.sent) * float64(el) / float64(s.dur))
			rcvd := int64(float64(s.rcvd) * float64(el) / float64(s.dur))
			w.fgTrafficLine(s, id, s.start.Add(el), "accept", el, sent, rcvd, fmt.Sprintf(" sentdelta=%d rcvddelta=%d", sent-prevSent, rcvd-prevRcvd))
			prevSent, prevRcvd = sent, rcvd
		}
		w.fgTrafficLine(s, id, end, s.action, s.dur, s.sent, s.rcvd, fmt.Sprintf(" sentdelta=%d rcvddelta=%d", s.sent-prevSent, s.rcvd-prevRcvd))
	} else {
		w.fgTrafficLine(s, id, end, s.action, s.dur, s.sent, s.rcvd, "")
	}
	return s.start, end
}

func (w *world) fgTrafficLine(s session, id int, t time.Time, action string, dur time.Duration, sent, rcvd int64, delta string) {
	srcintf, dstintf, srole, drole := "port1", "wan1", "lan", "wan"
	if strings.HasPrefix(s.src, w.org.VPNPool) {
		srcintf, srole = "ssl.root", "undefined"
	}
	if isInside(s.dst) {
		dstintf, drole = "port2", "lan"
	}
	str := fmt.Sprintf(`%s logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=%s srcport=%d srcintf="%s" srcintfrole="%s" dstip=%s dstport=%d dstintf="%s" dstintfrole="%s" sessionid=%d proto=%d action="%s" policyid=%d policytype="policy" service="%s"`,
		w.fgHeader(t), s.src, s.sport, srcintf, srole, s.dst, s.dport, dstintf, drole, id, s.proto, action, s.policy, s.service)
	if !isInside(s.dst) {
		str += fmt.Sprintf(` trandisp="snat" transip=203.0.113.%d transport=%d`, 10+len(w.org.NetBIOS), 20000+id%40000)
	}
	if s.host != "" {
		str += fmt.Sprintf(` hostname="%s"`, s.host)
	}
	str += fmt.Sprintf(` duration=%d sentbyte=%d rcvdbyte=%d sentpkt=%d rcvdpkt=%d%s`, int(dur.Seconds()), sent, rcvd, sent/1400+1, rcvd/1400+1, delta)
	w.add(fwFile, t, "<189>"+str)
}

func isInside(ip string) bool {
	return strings.HasPrefix(ip, "10.") || strings.HasPrefix(ip, "192.168.") || strings.HasPrefix(ip, "172.16.") || strings.HasPrefix(ip, "172.17.")
}

func (w *world) fgDeny(t time.Time, src string, dport int) {
	w.add(fwFile, t, "<189>"+fmt.Sprintf(`%s logid="0000000011" type="traffic" subtype="local" level="notice" vd="root" srcip=%s srcport=%d srcintf="wan1" srcintfrole="wan" dstip=203.0.113.10 dstport=%d dstintf="root" dstintfrole="undefined" sessionid=%d proto=6 action="deny" policyid=0 policytype="local-in-policy" service="tcp/%d" trandisp="noop" duration=0 sentbyte=0 rcvdbyte=0 sentpkt=0`,
		w.fgHeader(t), src, 1024+w.r.IntN(60000), dport, w.next(), dport))
}

func (w *world) fgVPN(t time.Time, action, user, remip, tunnelip string) {
	logid, level, desc, status, reason, msg := "0101039948", "information", "SSL VPN tunnel down", "success", "N/A", "SSL tunnel shutdown"
	switch action {
	case "ssl-login-fail":
		logid, level, desc, status, reason, msg = "0101039426", "alert", "SSL VPN login fail", "failure", "sslvpn_login_permission_denied", "SSL user failed to logged in"
	case "tunnel-up":
		logid, desc, reason, msg = "0101039947", "SSL VPN tunnel up", "login successfully", "SSL tunnel established"
	}
	s := fmt.Sprintf(`%s logid="%s" type="event" subtype="vpn" level="%s" vd="root" logdesc="%s" action="%s" tunneltype="ssl-tunnel" remip=%s user="%s" group="VPN-Agents" dst_host="N/A" reason="%s" msg="%s"`,
		w.fgHeader(t), logid, level, desc, action, remip, user, reason, msg)
	if tunnelip != "" {
		s += " tunnelip=" + tunnelip
	}
	s += fmt.Sprintf(` status="%s"`, status)
	w.add(fwFile, t, "<189>"+s)
}

// ---------------------------------------------------------------- Postfix

const mailFile = "mail/mail.log"

// message writes one message through the relay and returns the time the
// parser dates it by (its first queue line, client=).
func (w *world) message(t time.Time, clientHost, clientIP, sasl, from string, to []string, size int64, relayHost, relayIP string) time.Time {
	t = t.Truncate(time.Second)
	if w.o.FortiMail {
		return w.fortiMailMessage(t, clientHost, clientIP, sasl != "", from, to, size)
	}
	if w.o.CiscoESA {
		return w.esaMessage(t, clientHost, clientIP, sasl, from, to, size, relayIP)
	}
	qid := fmt.Sprintf("%09X", w.next()*4099%0xfffffffff)
	pid := 1000 + w.r.IntN(30000)
	stamp := func(tt time.Time) string {
		if w.o.ClassicSyslog {
			return tt.In(w.loc).Format(time.Stamp)
		}
		return tt.In(w.loc).Format("2006-01-02T15:04:05.000000-07:00")
	}
	add := func(d time.Duration, prog string, p int, msg string) {
		tt := t.Add(d)
		w.add(mailFile, tt, fmt.Sprintf("%s %s postfix/%s[%d]: %s", stamp(tt), w.org.Mail.Name, prog, p, msg))
	}
	// Classic stamps keep whole seconds only: keep every line on the second
	// so the truth is what the log can say.
	step := 120 * time.Millisecond
	if w.o.ClassicSyslog {
		step = 0
	}
	add(0, "smtpd", pid, fmt.Sprintf("connect from %s[%s]", clientHost, clientIP))
	client := fmt.Sprintf("%s: client=%s[%s]", qid, clientHost, clientIP)
	if sasl != "" {
		client += ", sasl_method=LOGIN, sasl_username=" + sasl
	}
	add(step, "smtpd", pid, client)
	add(step+60*time.Millisecond, "cleanup", pid+3, fmt.Sprintf("%s: message-id=<%d.%d@%s>", qid, t.Unix(), w.seq, domainOf(from)))
	xfer := time.Duration(size/2_000_000+1) * 100 * time.Millisecond
	add(step+80*time.Millisecond+xfer, "qmgr", 811, fmt.Sprintf("%s: from=<%s>, size=%d, nrcpt=%d (queue active)", qid, from, size, len(to)))
	add(step+130*time.Millisecond+xfer, "smtpd", pid, fmt.Sprintf("disconnect from %s[%s] ehlo=2 starttls=1 mail=1 rcpt=%d data=1 quit=1 commands=%d", clientHost, clientIP, len(to), 6+len(to)))
	for i, rc := range to {
		d := 900*time.Millisecond + xfer + time.Duration(i)*40*time.Millisecond
		rh, ri := relayHost, relayIP
		if strings.HasSuffix(rc, "@"+w.org.MailDomain) {
			rh, ri = w.org.Exchange.Name, w.org.Exchange.IP
		}
		add(d, "smtp", pid+7, fmt.Sprintf("%s: to=<%s>, relay=%s[%s]:25, delay=%.1f, delays=0.12/0.01/0.2/%.1f, dsn=2.0.0, status=sent (250 2.0.0 OK %d)", qid, rc, rh, ri, d.Seconds(), d.Seconds(), t.Unix()))
	}
	add(time.Second+xfer+time.Duration(len(to))*40*time.Millisecond, "qmgr", 811, fmt.Sprintf("%s: removed", qid))
	return t.Add(step)
}

// fortiMailMessage writes a message through a FortiMail gateway: a
// history record per recipient, dated when it was handled (the time
// returned), in the appliance's local time without a zone. Now and then
// an outside server's message is first put off (Delay, greylisting) and
// accepted when it comes back: only the second carried it.
func (w *world) fortiMailMessage(t time.Time, clientHost, clientIP string, inside bool, from string, to []string, size int64) time.Time {
	mt := t.Add(120 * time.Millisecond)
	session := fmt.Sprintf("%08X%06d", uint32(w.next()*2654435761), w.seq%1_000_000)
	if !inside && w.r.IntN(8) == 0 {
		w.fortiMailRecord(mt.Add(-5*time.Minute), session+"D", clientHost, clientIP, inside, from, to[0], "Delay", "Grey List", size)
	}
	for _, rc := range to {
		w.fortiMailRecord(mt, session, clientHost, clientIP, inside, from, rc, "Accept", "Not Spam", size)
	}
	return mt
}

// fortiMailRecord writes one history record; inside is a client of the
// organisation's (one that authenticated).
func (w *world) fortiMailRecord(t time.Time, session, clientHost, clientIP string, inside bool, from, to, disposition, classifier string, size int64) {
	direction, srcType := "out", "ext"
	if strings.HasSuffix(to, "@"+w.org.MailDomain) {
		direction = "in"
	}
	if inside {
		srcType = "int"
	}
	lt := t.In(w.loc)
	pairs := [][2]string{{"date", lt.Format("2006-01-02")}, {"time", lt.Format("15:04:05.000")}, {"device_id", "FEVM02TM" + w.org.FWSerial[len(w.org.FWSerial)-8:]},
		{"log_id", "0200007961"}, {"type", "statistics"}, {"pri", "information"}, {"session_id", `"` + session + "-" + session + `"`},
		{"client_name", `"` + clientHost + `"`}, {"client_ip", `"` + clientIP + `"`}, {"dst_ip", `"` + w.org.Mail.IP + `"`},
		{"from", `"` + from + `"`}, {"hfrom", `"` + from + `"`}, {"to", `"` + to + `"`}, {"polid", `"0:1:1:SYSTEM"`},
		{"domain", `"` + w.org.MailDomain + `"`}, {"mailer", `"mta"`}, {"resolved", `"OK"`}, {"src_type", `"` + srcType + `"`},
		{"direction", `"` + direction + `"`}, {"virus", `""`}, {"disposition", `"` + disposition + `"`}, {"classifier", `"` + classifier + `"`},
		{"message_length", fmt.Sprintf(`"%d"`, size)}, {"subject", `""`}, {"message_id", fmt.Sprintf(`"%s@%s"`, session, domainOf(from))}}
	var b strings.Builder
	sep := ","
	if w.o.ClassicSyslog {
		sep = " "
		b.WriteString(lt.Format(time.Stamp) + " " + w.org.Mail.Name + " ")
	} else {
		b.WriteString("<190>")
	}
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p[0] + "=" + p[1])
	}
	w.add("mail/fortimail.log", t, b.String())
}

const esaFile = "mail/mail_logs.current"

// esaHead writes the head AsyncOS begins each log file with, whose third
// line says how far the file's stamps are from UTC: a file, not its
// syslog push.
func (w *world) esaHead() {
	lines := w.files[esaFile]
	if len(lines) == 0 {
		return
	}
	first := lines[0].t
	for _, l := range lines {
		if l.t.Before(first) {
			first = l.t
		}
	}
	t := first.Add(-time.Second).Truncate(time.Second)
	stamp := t.In(w.loc).Format("Mon Jan _2 15:04:05 2006")
	for _, text := range []string{"Begin Logfile", "Version: 15.0.1-030 SN: 4235746AE34E6DD44EB8-CE101C994AA5", fmt.Sprintf("Time offset from UTC: %d seconds", w.o.TZOffset)} {
		w.add(esaFile, t, stamp+" Info: "+text)
	}
}

// esaMessage writes a message through a Cisco Secure Email Gateway: its
// client's connection (ICID; SMTP AUTH for an account), the MID's lines,
// a delivery connection (DCID) per recipient, in the appliance's local
// time without a zone. Returns the time the parser dates the message by
// (its Start MID line).
func (w *world) esaMessage(t time.Time, clientHost, clientIP, sasl, from string, to []string, size int64, relayIP string) time.Time {
	// One number and one draw per message, as Postfix's queue id and pid
	// take: the gateway's form leaves the rest of the story as drawn.
	base := w.next() * 64
	icid, mid := 3_000_000+base+w.r.IntN(30000)%32, base
	line := func(tt time.Time, text string) {
		lt := tt.In(w.loc)
		s := lt.Format("Mon Jan _2 15:04:05 2006") + " Info: " + text
		if w.o.ClassicSyslog {
			s = "<22>" + lt.Format(time.Stamp) + " " + w.org.Mail.Name + " mail_logs: Info: " + text
		}
		w.add(esaFile, tt, s)
	}
	verified := "yes"
	if clientHost == "unknown" {
		verified = "no"
	}
	line(t, fmt.Sprintf("New SMTP ICID %d interface Data 1 (%s) address %s reverse dns host %s verified %s", icid, w.org.Mail.IP, clientIP, clientHost, verified))
	if sasl != "" {
		line(t, fmt.Sprintf("SMTP Auth: (ICID %d) succeeded for user: %s using AUTH mechanism: LOGIN with profile: ldap_smtp", icid, sasl))
	}
	// Whole seconds: the file's stamps keep no more, so the truth is what
	// the log can say.
	mt := t
	line(mt, fmt.Sprintf("Start MID %d ICID %d", mid, icid))
	line(mt, fmt.Sprintf("MID %d ICID %d From: <%s>", mid, icid, from))
	for i, rc := range to {
		line(mt, fmt.Sprintf("MID %d ICID %d RID %d To: <%s>", mid, icid, i, rc))
	}
	xfer := time.Duration(size/2_000_000+1) * 100 * time.Millisecond
	line(mt.Add(xfer), fmt.Sprintf("MID %d Message-ID '<%d.%d@%s>'", mid, t.Unix(), w.seq, domainOf(from)))
	line(mt.Add(xfer), fmt.Sprintf("MID %d ready %d bytes from <%s>", mid, size, from))
	table := "inbound"
	if domainOf(from) == w.org.MailDomain {
		table = "outbound"
	}
	line(mt.Add(xfer), fmt.Sprintf("MID %d matched all recipients for per-recipient policy DEFAULT in the %s table", mid, table))
	line(mt.Add(xfer), fmt.Sprintf("MID %d queued for delivery", mid))
	line(mt.Add(xfer), fmt.Sprintf("ICID %d close", icid))
	for i, rc := range to {
		d := mt.Add(900*time.Millisecond + xfer + time.Duration(i)*40*time.Millisecond)
		ri := relayIP
		if strings.HasSuffix(rc, "@"+w.org.MailDomain) {
			ri = w.org.Exchange.IP
		}
		dcid := base + 32 + i%32
		line(d, fmt.Sprintf("New SMTP DCID %d interface %s address %s port 25", dcid, w.org.Mail.IP, ri))
		line(d, fmt.Sprintf("Delivery start DCID %d MID %d to RID [%d]", dcid, mid, i))
		line(d, fmt.Sprintf("Message done DCID %d MID %d to RID [%d]", dcid, mid, i))
		line(d, fmt.Sprintf("DCID %d close", dcid))
	}
	line(mt.Add(time.Second+xfer+time.Duration(len(to))*40*time.Millisecond), fmt.Sprintf("Message finished MID %d done", mid))
	return mt
}

func domainOf(a string) string { return a[strings.LastIndexByte(a, '@')+1:] }

// ---------------------------------------------------------------- Windows

type winData [][2]string

// winEvent writes one Windows event of a host, as wevtutil XML or as a
// Winlogbeat JSON line.
func (w *world) winEvent(host Host, t time.Time, channel, provider, guid string, id, task int, keywords string, pid int, data winData, userData string) {
	rec := w.next()
	file := "windows/" + short(host.Name) + "-" + channel + ".xml"
	if w.o.Winlogbeat {
		file = "windows/winlogbeat-" + strings.ToLower(short(host.Name)) + ".ndjson"
		ed := map[string]string{}
		for _, d := range data {
			ed[d[0]] = d[1]
		}
		doc := map[string]any{"@timestamp": t.UTC().Format("2006-01-02T15:04:05.000Z"), "winlog": map[string]any{
			"channel": channel, "computer_name": host.Name, "event_id": fmt.Sprint(id), "provider_name": provider, "provider_guid": guid,
			"record_id": rec, "process": map[string]any{"pid": pid, "thread": map[string]any{"id": pid + 64}}, "event_data": ed}}
		if userData != "" {
			doc["winlog"].(map[string]any)["user_data"] = userDataMap(userData)
			delete(doc["winlog"].(map[string]any), "event_data")
		}
		b, _ := json.Marshal(doc)
		w.add(file, t, string(b))
		return
	}
	if w.o.Plaso {
		for _, row := range w.plasoRows(host, t, channel, provider, guid, id, rec, data, userData) {
			w.add(plasoFile, t, row)
		}
		return
	}
	if w.o.EvtxECmd {
		w.add(evtxecmdFile, t, w.evtxecmdRow(host, t, channel, provider, id, keywords, rec, pid, data, userData))
		return
	}
	if w.o.EvtxexportText {
		w.add("windows/"+short(host.Name)+"-"+channel+".txt", t, w.evtxexportBlock(host, t, provider, id, data, userData))
		return
	}
	if w.o.WinExport {
		v := w.winExportValues(host, t, channel, provider, guid, id, task, keywords, rec, pid, data, userData)
		if w.o.WinList {
			w.add("windows/"+short(host.Name)+"-"+channel+"-fl.txt", t, winListRecord(v))
		} else {
			w.add("windows/"+short(host.Name)+"-"+channel+".csv", t, w.winExportRow(v))
		}
		return
	}
	if w.o.NXLog && w.o.WinCollect {
		v := w.winExportValues(host, t, channel, provider, guid, id, task, keywords, rec, pid, data, userData)
		w.add("windows/syslog-wincollect.log", t, w.wincollectLine(host, t, channel, provider, id, task, keywords, rec, v[0]))
		return
	}
	if w.o.NXLog {
		w.add("windows/nxlog-"+strings.ToLower(short(host.Name))+".json", t, w.nxlogLine(host, t, channel, provider, guid, id, task, keywords, rec, pid, data, userData))
		return
	}
	var sb strings.Builder
	prov := fmt.Sprintf("<Provider Name='%s'", provider)
	if guid != "" {
		prov += fmt.Sprintf(" Guid='%s'", guid)
	}
	prov += "/>"
	lvl := 0
	if id == 7045 || id == 104 || id == 7036 {
		lvl = 4
	}
	fmt.Fprintf(&sb, "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>%s<EventID>%d</EventID><Version>%d</Version><Level>%d</Level><Task>%d</Task><Opcode>0</Opcode><Keywords>%s</Keywords><TimeCreated SystemTime='%s'/><EventRecordID>%d</EventRecordID><Correlation/><Execution ProcessID='%d' ThreadID='%d'/><Channel>%s</Channel><Computer>%s</Computer><Security/></System>",
		prov, id, map[int]int{4624: 2, 4688: 2}[id], lvl, task, keywords, t.UTC().Format("2006-01-02T15:04:05.0000000Z"), rec, pid, pid+64, channel, host.Name)
	if userData != "" {
		sb.WriteString(userData)
	} else {
		sb.WriteString("<EventData>")
		for _, d := range data {
			fmt.Fprintf(&sb, "<Data Name='%s'>%s</Data>", d[0], xmlEscape(d[1]))
		}
		sb.WriteString("</EventData>")
	}
	sb.WriteString("</Event>")
	w.add(file, t, sb.String())
}

// nxlogLine writes an event as NXLog CE's im_msvistalog and to_json() do:
// NXLog's own fields first (the time in the forwarder's zone, to the
// second, without the zone; keywords in decimal), then EventData, or
// UserData's fields, at the top level in their order.
func (w *world) nxlogLine(host Host, t time.Time, channel, provider, guid string, id, task int, keywords string, rec, pid int, data winData, userData string) string {
	kw, _ := strconv.ParseUint(strings.TrimPrefix(keywords, "0x"), 16, 64)
	var b strings.Builder
	field := func(k string, v any) {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(v)
		b.Write(kj)
		b.WriteByte(':')
		b.Write(vj)
	}
	field("EventTime", t.In(w.loc).Format("2006-01-02 15:04:05"))
	field("Hostname", host.Name)
	field("Keywords", strconv.FormatUint(kw, 10))
	field("SeverityValue", 2)
	field("EventID", id)
	field("SourceName", provider)
	if guid != "" {
		field("ProviderGuid", guid)
	}
	field("TaskValue", task)
	field("RecordNumber", rec)
	field("ExecutionProcessID", pid)
	field("ExecutionThreadID", pid+64)
	field("Channel", channel)
	if userData != "" {
		for _, k := range []string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId"} {
			field(k, userDataMap(userData)["LogFileCleared"].(map[string]any)[k])
		}
	}
	for _, d := range data {
		field(d[0], d[1])
	}
	field("EventReceivedTime", t.Add(time.Second).In(w.loc).Format("2006-01-02 15:04:05"))
	field("SourceModuleName", "eventlog")
	field("SourceModuleType", "im_msvistalog")
	return "{" + b.String() + "}"
}

func userDataMap(xml string) map[string]any {
	// Only the log-cleared record is written with UserData.
	get := func(tag string) string {
		i := strings.Index(xml, "<"+tag+">")
		j := strings.Index(xml, "</"+tag+">")
		if i < 0 || j < i {
			return ""
		}
		return xml[i+len(tag)+2 : j]
	}
	return map[string]any{"LogFileCleared": map[string]any{"SubjectUserSid": get("SubjectUserSid"), "SubjectUserName": get("SubjectUserName"),
		"SubjectDomainName": get("SubjectDomainName"), "SubjectLogonId": get("SubjectLogonId")}}
}

func short(fqdn string) string {
	if i := strings.IndexByte(fqdn, '.'); i > 0 {
		return fqdn[:i]
	}
	return fqdn
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", "\"", "&quot;").Replace(s)
}

const secGUID = "{54849625-5478-4994-a5ba-3e3b0328c30d}"

func (w *world) sid(user string) string {
	h := 0
	for _, c := range user {
		h = h*31 + int(c)
	}
	if h < 0 {
		h = -h
	}
	return fmt.Sprintf("S-1-5-21-3623811015-3361044348-30300820-%d", 1100+h%900)
}

func (w *world) logon(host Host, t time.Time, user, ip string, logonType int, logonID, workstation string) {
	w.winEvent(host, t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, 4624, 12544, "0x8020000000000000", 712, winData{
		{"SubjectUserSid", "S-1-0-0"}, {"SubjectUserName", "-"}, {"SubjectDomainName", "-"}, {"SubjectLogonId", "0x0"},
		{"TargetUserSid", w.sid(user)}, {"TargetUserName", user}, {"TargetDomainName", w.org.NetBIOS},
		{"TargetLogonId", logonID}, {"LogonType", fmt.Sprint(logonType)}, {"LogonProcessName", "NtLmSsp "}, {"AuthenticationPackageName", "NTLM"},
		{"WorkstationName", workstation}, {"LogonGuid", "{00000000-0000-0000-0000-000000000000}"}, {"TransmittedServices", "-"},
		{"LmPackageName", "NTLM V2"}, {"KeyLength", "128"}, {"ProcessId", "0x0"}, {"ProcessName", "-"}, {"IpAddress", ip}, {"IpPort", "0"},
		{"ImpersonationLevel", "%%1833"}, {"RestrictedAdminMode", "-"}, {"TargetOutboundUserName", "-"}, {"TargetOutboundDomainName", "-"},
		{"VirtualAccount", "%%1843"}, {"TargetLinkedLogonId", "0x0"}, {"ElevatedToken", "%%1842"},
	}, "")
}

func (w *world) logoff(host Host, t time.Time, user, logonID string, logonType int) {
	w.winEvent(host, t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, 4634, 12545, "0x8020000000000000", 712, winData{
		{"TargetUserSid", w.sid(user)}, {"TargetUserName", user}, {"TargetDomainName", w.org.NetBIOS}, {"TargetLogonId", logonID}, {"LogonType", fmt.Sprint(logonType)},
	}, "")
}

// kerberos writes a ticket request on the domain controller (4768 TGT, 4769
// service ticket), its EventData in Windows' template order (forms that
// keep values without names rely on it).
func (w *world) kerberos(t time.Time, id int, account, ip, service string) {
	realm := strings.ToUpper(w.org.DNS)
	port := fmt.Sprint(49152 + w.r.IntN(16000))
	serviceSid := "S-1-5-21-3623811015-3361044348-30300820-502" // krbtgt
	data := winData{{"TargetUserName", account}, {"TargetDomainName", realm}, {"TargetSid", w.sid(account)},
		{"ServiceName", service}, {"ServiceSid", serviceSid}, {"TicketOptions", "0x40810010"}, {"Status", "0x0"},
		{"TicketEncryptionType", "0x12"}, {"PreAuthType", "2"}, {"IpAddress", "::ffff:" + ip}, {"IpPort", port},
		{"CertIssuerName", ""}, {"CertSerialNumber", ""}, {"CertThumbprint", ""}}
	if id == 4769 {
		data = winData{{"TargetUserName", account + "@" + realm}, {"TargetDomainName", realm}, {"ServiceName", service},
			{"ServiceSid", serviceSid}, {"TicketOptions", "0x40810000"}, {"TicketEncryptionType", "0x12"},
			{"IpAddress", "::ffff:" + ip}, {"IpPort", port}, {"Status", "0x0"},
			{"LogonGuid", "{00000000-0000-0000-0000-000000000000}"}, {"TransmittedServices", "-"}}
	}
	w.winEvent(w.org.DC, t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, id, 14337, "0x8020000000000000", 728, data, "")
}

func (w *world) process(host Host, t time.Time, user, logonID, exe, cmd, parent string) {
	pid := 0x1000 + w.r.IntN(0x8000)
	w.winEvent(host, t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, 4688, 13312, "0x8020000000000000", 4, winData{
		{"SubjectUserSid", w.sid(user)}, {"SubjectUserName", user}, {"SubjectDomainName", w.org.NetBIOS},
		{"SubjectLogonId", logonID}, {"NewProcessId", fmt.Sprintf("0x%x", pid)}, {"NewProcessName", exe}, {"TokenElevationType", "%%1936"},
		{"ProcessId", fmt.Sprintf("0x%x", pid-200)}, {"CommandLine", cmd}, {"TargetUserSid", "S-1-0-0"}, {"TargetUserName", "-"},
		{"TargetDomainName", "-"}, {"TargetLogonId", "0x0"}, {"ParentProcessName", parent}, {"MandatoryLabel", "S-1-16-12288"},
	}, "")
}

// connection writes a 5156: the Windows Filtering Platform let exe on host
// open a TCP connection from sport to dst:dport.
func (w *world) connection(host Host, t time.Time, exe string, sport int, dst string, dport int) {
	w.winEvent(host, t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, 5156, 12810, "0x8020000000000000", 4, winData{
		{"ProcessID", "4812"}, {"Application", `\device\harddiskvolume2` + strings.ToLower(strings.TrimPrefix(exe, "C:"))}, {"Direction", "%%14593"},
		{"SourceAddress", host.IP}, {"SourcePort", fmt.Sprint(sport)}, {"DestAddress", dst}, {"DestPort", fmt.Sprint(dport)},
		{"Protocol", "6"}, {"FilterRTID", "0"}, {"LayerName", "%%14611"}, {"LayerRTID", "48"}, {"RemoteUserID", "S-1-0-0"}, {"RemoteMachineID", "S-1-0-0"},
	}, "")
}

// objectAccess writes a 4663: read (0x1, %%4416) or write (0x6, %%4417 %%4418).
func (w *world) objectAccess(t time.Time, user, logonID, path, proc string, write bool) {
	mask, list := "0x1", "%%4416"
	if write {
		mask, list = "0x6", "%%4417 %%4418"
	}
	w.winEvent(w.org.FS, t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, 4663, 12800, "0x8020000000000000", 4, winData{
		{"SubjectUserSid", w.sid(user)}, {"SubjectUserName", user}, {"SubjectDomainName", w.org.NetBIOS},
		{"SubjectLogonId", logonID}, {"ObjectServer", "Security"}, {"ObjectType", "File"}, {"ObjectName", path},
		{"HandleId", "0x1f4"}, {"AccessList", list}, {"AccessMask", mask}, {"ProcessId", "0x1a2c"}, {"ProcessName", proc},
		{"ResourceAttributes", "S:AI"},
	}, "")
}

func (w *world) shareAccess(t time.Time, user, ip string, sh Share, rel string) {
	w.winEvent(w.org.FS, t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, 5145, 12811, "0x8020000000000000", 4, winData{
		{"SubjectUserSid", w.sid(user)}, {"SubjectUserName", user}, {"SubjectDomainName", w.org.NetBIOS},
		{"SubjectLogonId", "0x4a1b2c"}, {"ObjectType", "File"}, {"IpAddress", ip}, {"IpPort", "49722"},
		{"ShareName", `\\*\` + sh.Name}, {"ShareLocalPath", `\??\` + sh.Path}, {"RelativeTargetName", rel},
		{"AccessMask", "0x120089"}, {"AccessList", "%%1538 %%1541 %%4416 %%4419 %%4423"}, {"AccessReason", "-"},
	}, "")
}

func (w *world) serviceInstalled(t time.Time, name, image string) {
	w.winEvent(w.org.FS, t, "System", "Service Control Manager", "{555908d1-a6d7-4695-8e1e-26931d2012f4}", 7045, 0, "0x8080000000000000", 668, winData{
		{"ServiceName", name}, {"ImagePath", image}, {"ServiceType", "user mode service"}, {"StartType", "demand start"}, {"AccountName", "LocalSystem"},
	}, "")
}

func (w *world) serviceState(t time.Time, name, state string) {
	w.winEvent(w.org.FS, t, "System", "Service Control Manager", "{555908d1-a6d7-4695-8e1e-26931d2012f4}", 7036, 0, "0x8080000000000000", 668, winData{
		{"param1", name}, {"param2", state},
	}, "")
}

func (w *world) logCleared(t time.Time, user, logonID string) {
	w.winEvent(w.org.FS, t, "Security", "Microsoft-Windows-Eventlog", "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}", 1102, 104, "0x4020000000000000", 1020, nil,
		fmt.Sprintf("<UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'><SubjectUserSid>%s</SubjectUserSid><SubjectUserName>%s</SubjectUserName><SubjectDomainName>%s</SubjectDomainName><SubjectLogonId>%s</SubjectLogonId></LogFileCleared></UserData>",
			w.sid(user), user, w.org.NetBIOS, logonID))
}
