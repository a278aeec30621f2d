package parsers

import (
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// fortiMailLines are FortiMail records as published: Elastic's FortiMail
// integration's pipeline tests (syslog's CSV form, a priority before the
// pairs, ",," where a record has an empty pair), the history record of
// FortiMail's log reference in the space-separated form (whose download
// writes its disposition as a number), and a record as the 8.0 log
// reference prints it, time first.
var fortiMailLines = []string{
	`<187>date=2013-02-25,time=07:01:34,device_id=FE100C3909600504,log_id=0200025843,type=statistics,pri=information,session_id="r1PF1YTh025836-r1PF1YTh025836",client_name="user",dst_ip="81.2.69.194",endpoint="",from="aaa@bbb.com",to="user1@example.com",polid="0:1:0",domain="",subject="",mailer="proxy",resolved="",direction="unknown",virus="",disposition="Delay",classifier="Session Limits",message_length="199986"`,
	`<187>date=2023-01-16,time=15:56:24.983,device_id=FEVM02TM22000650,log_id=0200007961,type=statistics,pri=information,session_id="30GBYxmi007660-30GBYxmk007660",client_name="mail-40140.protonmail.ch",client_ip="81.2.69.193",client_cc="DE",dst_ip="81.2.69.192",from="mnlght23@protonmail.com",hfrom="mnlght23@protonmail.com",to="aytan.kh@cyberpoint.az",polid="0:1:1:SYSTEM",domain="www.example.co",mailer="mta",resolved="OK",src_type="ext",direction="in",virus="",disposition="System Quarantine;Notification;Defer Disposition",classifier="Attachment Filter",detail='Content',message_length="5384",subject="Test 2 BAT",message_id="1AWJEux58Mipu6R59d9pkk1KgEfGRxMRjueDQpXDlSCejzr-sROl0BZqXfu5V6-fyiNeH2ePEh5NAmFB3a8OezyXTsMQ5e3-omnNQBbNnIg=@protonmail.com",recv_time="",notif_delay="0",scan_time="0.644852",xfer_time="0.001047",srcfolder="",read_status=""`,
	`date=2013-02-25 time=07:01:34 device_id=FE100C3909600504 log_id=0200025843 type=statistics pri=information session_id="r1PF1YTh025836-r1PF1YTh025836" client_name="172.20.140.108" dst_ip="172.20.140.13" endpoint="" from="aaa@bbb.com" to="user1@example.com" polid="0:1:0" domain="" subject="" mailer="proxy" transfer_time="" scan_time="" resolved="" direction="unknown" virus="" disposition="0x200" classifier="0x17" message_length="199986"`,
	`<182>date=2023-02-01,time=14:42:35.521,device_id=FEVM02TM23000064,log_id=0000004943,type=event,subtype=webmail,pri=information, user=webmail,ui=webmail,action=unknown,status=failure,msg="WebMail: Login for 'timesheet@internalsmtp.example.local' from 10.212.128.53 failed"`,
	`<190>date=2023-03-02,time=12:55:12.771,device_id=FEVM02TM23000064,log_id=0000002634,type=event,subtype=webmail,pri=information, user=webmail,ui=webmail,action=unknown,status=success,msg="WebMail: User user1@example.in from 172.20.15.117 logged in."`,
	`<190>date=2023-02-06,time=18:49:59.807,device_id=FEVM02TM23000064,log_id=0701002231,type=kevent,subtype=admin,pri=information, user=admin,ui=GUI(10.212.128.19),action=login,status=success,reason=none,msg="User admin login successfully from GUI(10.212.128.19)"`,
	`<190>date=2023-02-07,time=09:05:02.414,device_id=FEVM02TM23000064,log_id=0700001767,type=kevent,subtype=config,pri=information, user=admin,ui=http(10.212.128.9),module=unknown,submodule=unknown,msg="Modified 'Test' on 'log setting remote' : port[9026->9589] (user: admin, from: http(10.212.128.9))"`,
	`<190>date=2023-02-06,time=19:35:20.062,device_id=FEVM02TM23000064,log_id=0704003868,type=kevent,subtype=update,pri=information,,msg="Loaded avdb 91.00325(02/06/0023 05:39) using av engine 6.283"`,
	`<190>date=2023-01-30,time=16:09:15.246,device_id=FEVM02TM23000064,log_id=0400003064,type=virus,subtype=infected,pri=information,from="syntax@www.ca",to="user2@1.ca",src=67.43.156.28,session_id="q6OL7fsQ018870-q6OL7fsR018870",msg="The file inline16-69.dat is infected with EICAR_TEST_FILE."`,
	`2023-10-24 11:53:02.041 log_id=0300000506 type=spam subtype=default pri=information session_id="<SESSION_ID>" client_name="" client_ip="" dst_ip="" from="a@example.org" to="b@example.net" subject="" msg="x"`,
}

// TestFortiMailRecords: each record's time, message fields and outcome as
// an investigation reads them; a message FortiMail put off or quarantined
// is not a "message" that left.
func TestFortiMailRecords(t *testing.T) {
	st, evs := parseText(t, "fortimail.log", strings.Join(fortiMailLines, "\n")+"\n")
	if st.Format != "fortimail" || st.Parsed != int64(len(fortiMailLines)) || st.Raw != 0 {
		t.Fatalf("format %s, %d parsed, %d raw %v", st.Format, st.Parsed, st.Raw, st.RawReasons)
	}
	want := []map[string]any{
		{"@t": "2013-02-25T07:01:34Z", "event.action": "message-blocked", "event.outcome": "failure", "email.size": int64(199986),
			"email.to.address": "user1@example.com", "email.from.address": "aaa@bbb.com", "destination.ip": "81.2.69.194", "source.domain": "user"},
		{"@t": "2023-01-16T15:56:24.983Z", "event.action": "message-blocked", "email.size": int64(5384), "email.direction": "inbound",
			"source.ip": "81.2.69.193", "source.domain": "mail-40140.protonmail.ch", "email.subject": "Test 2 BAT",
			"fortinet_fortimail.log.classifier": "Attachment Filter", "fortinet_fortimail.log.detail": "Content"},
		{"@t": "2013-02-25T07:01:34Z", "event.action": "message-blocked", "source.ip": "172.20.140.108", "email.size": int64(199986)},
		{"@t": "2023-02-01T14:42:35.521Z", "event.action": "webmail-login", "event.outcome": "failure",
			"user.name": "timesheet@internalsmtp.example.local", "source.ip": "10.212.128.53", "event.category": "authentication"},
		{"@t": "2023-03-02T12:55:12.771Z", "event.action": "webmail-login", "event.outcome": "success", "user.name": "user1@example.in", "source.ip": "172.20.15.117"},
		{"event.action": "login", "event.outcome": "success", "user.name": "admin", "source.ip": "10.212.128.19", "event.category": "authentication"},
		{"user.name": "admin", "source.ip": "10.212.128.9", "event.category": "configuration", "event.code": "0700001767"},
		{"@t": "2023-02-06T19:35:20.062Z", "message": "Loaded avdb 91.00325(02/06/0023 05:39) using av engine 6.283", "event.category": "host"},
		{"event.action": "virus", "source.ip": "67.43.156.28", "email.to.address": "user2@1.ca", "event.category": "malware"},
		{"@t": "2023-10-24T11:53:02.041Z", "event.action": "spam", "email.from.address": "a@example.org"},
	}
	for i, ev := range evs {
		if ev.Str(event.FieldDataset) != "fortinet_fortimail.log" || ev.Str("observer.product") != "FortiMail" || ev.Str("event.timezone") != "UTC" {
			t.Errorf("line %d: dataset %q product %q zone %q", i+1, ev.Str(event.FieldDataset), ev.Str("observer.product"), ev.Str("event.timezone"))
		}
		for k, w := range want[i] {
			var got any
			switch {
			case k == "@t":
				got = ev.Timestamp.Format(time.RFC3339Nano)
			case k == "email.size":
				got, _ = ev.Int(k)
			case k == "email.to.address" || k == "event.category":
				if vs := ev.Strings(k); len(vs) > 0 {
					got = vs[len(vs)-1]
				}
			default:
				got = ev.Str(k)
			}
			if got != w {
				t.Errorf("line %d: %s = %v, want %v", i+1, k, got, w)
			}
		}
	}
}

// TestFortiMailDelivered: a disposition lets the message through unless
// one of its actions refuses, drops, quarantines or puts it off.
func TestFortiMailDelivered(t *testing.T) {
	for d, want := range map[string]string{
		"Accept": "yes", "Tag Subject;Insert Header": "yes", "Accept;Notification": "yes", "Replace": "yes",
		"Reject": "no", "Discard": "no", "System Quarantine;Notification;Defer Disposition": "no",
		"Personal Quarantine": "no", "Delay": "no", "Relay Denied": "no", "0x200": "no",
		"0x01": "", "": "",
	} {
		if got := fortiMailDelivered(d); got != want {
			t.Errorf("%q: %q, want %q", d, got, want)
		}
	}
}

// TestFortiMailZones: date and time are the appliance's clock: read in
// --tz, or in the zone a tz= pair names; a relay's header dates a record
// that has none.
func TestFortiMailZones(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	dec := FortiMail{}.NewDecoder(&Options{TZ: paris, Year: 2025})
	var got []*event.Event
	emit := func(ev *event.Event, _ string) { got = append(got, ev) }
	for i, l := range []string{
		`date=2025-03-14 time=23:05:01 device_id=FE1 log_id=0200007961 type=statistics pri=information from="a@x.fr" to="b@y.com" direction="out" disposition="Accept" message_length="10"`,
		`date=2025-03-14 time=23:05:01 tz="+0000" device_id=FE1 log_id=0200007961 type=statistics pri=information disposition="Accept" message_length="10"`,
		`Mar 14 23:05:09 fml01 device_id=FE1 log_id=0001000000 type=event subtype=pop3 pri=alert status=none msg="x"`,
	} {
		if err := dec.Line(int64(i+1), []byte(l), emit); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	for i, w := range []string{"2025-03-14T22:05:01Z", "2025-03-14T23:05:01Z", "2025-03-14T22:05:09Z"} {
		if s := got[i].Timestamp.Format(time.RFC3339); s != w {
			t.Errorf("line %d: %s, want %s", i+1, s, w)
		}
	}
	if got[0].Str("event.timezone") != "Europe/Paris" || got[1].Str("event.timezone") != "" {
		t.Errorf("zones %q %q", got[0].Str("event.timezone"), got[1].Str("event.timezone"))
	}
	if got[0].Str("email.direction") != "outbound" || got[0].Str("event.action") != "message" {
		t.Errorf("direction %q action %q", got[0].Str("email.direction"), got[0].Str("event.action"))
	}
	if got[2].Str("observer.hostname") != "fml01" || got[2].Str("observer.serial_number") != "FE1" {
		t.Errorf("relay host %q, device %q", got[2].Str("observer.hostname"), got[2].Str("observer.serial_number"))
	}
	if err := dec.Line(9, []byte(`log_id=0001000000 type=event pri=alert msg="x"`), emit); err == nil || !strings.Contains(err.Error(), "fortimail: no date/time") {
		t.Errorf("a record without a time: %v", err)
	}
}

// TestFortiMailBesideFortiGate: a syslog server's file where a FortiGate
// and a FortiMail both write date= and time=: each record is read by its
// own device's format, whichever holds most lines.
func TestFortiMailBesideFortiGate(t *testing.T) {
	fgt := `<189>date=2025-03-14 time=23:05:01 devname="FGT-MAIRIE" devid="FG100FTK0000001" logid="0000000013" type="traffic" subtype="forward" level="notice" srcip=10.10.1.20 srcport=51000 dstip=198.51.100.5 dstport=443 sessionid=1 proto=6 action="close" policyid=3 duration=20 sentbyte=1024 rcvdbyte=2048`
	fml := fortiMailLines[1]
	for _, c := range []struct {
		lines []string
		want  string
	}{
		{[]string{fgt, fml, fgt, fgt, fml, fgt}, "fortigate"},
		{[]string{fml, fgt, fml, fml, fgt, fml}, "fortimail"},
	} {
		st, evs := parseText(t, "relay.log", strings.Join(c.lines, "\n")+"\n")
		if st.Format != c.want || st.Parsed != int64(len(c.lines)) || st.Raw != 0 {
			t.Fatalf("%s: format %s, %d parsed, %d raw %v", c.want, st.Format, st.Parsed, st.Raw, st.RawReasons)
		}
		for _, ev := range evs {
			no, _ := ev.Int(event.FieldLine)
			want := "fortinet.firewall"
			if c.lines[no-1] == fml {
				want = "fortinet_fortimail.log"
			}
			if ds := ev.Str(event.FieldDataset); ds != want {
				t.Errorf("%s: line %d read as %s, want %s", c.want, no, ds, want)
			}
		}
	}
}
