package parsers

import (
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Cisco Secure Email Gateway's consolidated event logs (AsyncOS 14 and
// later) write one CEF record per message, when it is done with it
// ("…|ESA_CONSOLIDATED_LOG_EVENT|Consolidated Log Event|5|ESAMID=… suser=…
// duser=… ESAMsgSize=… act=DELIVERED deviceDirection=1 …"): the message the
// mail_logs reader joins from its lines (cisco_esa.go), in one line. Its
// times (startTime, endTime: "Thu Mar 18 08:04:46 2021") are the
// appliance's clock without zone.

func isESACEF(hdr []string) bool {
	return strings.EqualFold(strings.TrimSpace(hdr[1]), "Cisco") && strings.TrimSpace(hdr[4]) == "ESA_CONSOLIDATED_LOG_EVENT"
}

// esaHeld are the final actions that kept a message from leaving: held in
// a quarantine (DQ: the delay quarantine), dropped, refused or cut short.
var esaHeld = map[string]bool{"QUARANTINED": true, "DQ": true, "ABORTED": true, "DROPPED": true, "REJECTED": true, "DELETED": true}

// esaFromCEF fills ev, already dated by the record's header, as the
// message a consolidated event names.
func esaFromCEF(ev *event.Event, hdr []string, kv map[string]string, loc *time.Location, zone *zoneless) {
	ev.Fields[event.FieldDataset] = esaDataset
	ev.Set("observer.vendor", "Cisco")
	ev.Set("observer.product", "Secure Email Gateway")
	ev.Set("observer.version", hdr[3])
	ev.Set("observer.serial_number", kv["deviceExternalId"])
	setIP(ev, "observer.ip", kv["dvc"])
	if loc == nil {
		loc = time.UTC
	}
	read := func(k string) (time.Time, bool) {
		t, err := time.ParseInLocation("Mon Jan _2 15:04:05 2006", strings.TrimSpace(kv[k]), loc)
		return t.UTC(), err == nil
	}
	start, started := read("startTime")
	end, ended := read("endTime")
	if started || ended {
		ev.Timestamp = start
		if !started {
			ev.Timestamp = end
		}
		zone.mark(ev, "the consolidated events' startTime and endTime name no zone", "the gateway's")
	}
	if ended && end.After(ev.Timestamp) {
		ev.Fields["event.end"] = end.Format(time.RFC3339Nano)
		ev.SetInt("event.duration", int64(end.Sub(ev.Timestamp)))
	}
	ev.Fields["event.category"] = []string{"email"}
	ev.Fields["event.type"] = []string{"info"}
	act := strings.ToUpper(strings.TrimSpace(kv["act"]))
	switch {
	case esaHeld[act]:
		// Not counted as sent: it did not leave, or not yet.
		ev.Set("event.action", "message-blocked")
		ev.Set("event.outcome", "failure")
	case act == "DELIVERED":
		ev.Set("event.action", "message")
		ev.Set("event.outcome", "success")
	case act == "BOUNCED":
		ev.Set("event.action", "message")
		ev.Set("event.outcome", "failure")
	default:
		ev.Set("event.action", "message")
		ev.Set("event.outcome", "unknown")
	}
	ev.Set(esaDataset+".final_action", kv["act"])
	ev.Set("event.reason", kv["ESAFinalActionDetails"])
	ev.Set(esaDataset+".queue_id", kv["ESAMID"])
	ev.Set(esaDataset+".icid", kv["ESAICID"])
	ev.Set(esaDataset+".dcid", kv["ESADCID"])
	ev.Set(esaDataset+".mail_flow_policy", kv["ESAMailFlowPolicy"])
	ev.Set(esaDataset+".sender_group", kv["ESASenderGroup"])
	ev.Set("email.from.address", strings.TrimSpace(kv["suser"]))
	for _, to := range strings.Split(kv["duser"], ",") {
		ev.Add("email.to.address", strings.Trim(strings.TrimSpace(to), "<>"))
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(kv["ESAMsgSize"]), 10, 64); err == nil {
		ev.SetInt("email.size", n)
	}
	switch strings.TrimSpace(kv["deviceDirection"]) {
	case "0":
		ev.Set("email.direction", "inbound")
	case "1":
		ev.Set("email.direction", "outbound")
	}
	ev.Set("email.subject", strings.Trim(kv["msg"], `'"`))
	labels := cefCustomLabels(kv)
	ev.Set("email.message_id", strings.Trim(strings.Trim(labels["externalmsgid"], `'"`), "<>"))
	setIP(ev, "source.ip", kv["sourceAddress"])
	if h := kv["sourceHostName"]; h != "unknown" {
		ev.Set("source.domain", h)
	}
	// The appliance's SMTP sessions out are the email channel itself
	// (the mail ledger's gateway); it names no relay here.
}
