package parsers

import (
	"strings"
	"testing"
	"time"
)

// esaConsolidated are consolidated event records as Elastic's Cisco Secure
// Email Gateway integration's tests show them: a message quarantined, one
// relayed out and delivered, one aborted by its sender (no size, no
// direction), one held in the delay quarantine.
var esaConsolidated = []string{
	`<166>Mar 17 18:24:37 consolidated_event: CEF:0|Cisco|C100V Email Security Virtual Appliance|14.0.0-657|ESA_CONSOLIDATED_LOG_EVENT|Consolidated Log Event|5|deviceExternalId=42127C7DDEE76852677B-F80CE8074CD3 ESAMID=1053 ESAICID=134 ESAAMPVerdict=UNKNOWN ESAASVerdict=NEGATIVE ESAAVVerdict=NEGATIVE  ESACFVerdict=MATCH endTime=Thu Mar 18 08:04:46 2021 ESADLPVerdict=NOT_EVALUATED dvc=1.128.3.4 ESAFriendlyFrom=example.com ESAGMVerdict=NEGATIVE startTime=Thu Mar 18 08:04:29 2021 deviceInboundInterface=Incomingmail deviceDirection=0 ESAMailFlowPolicy=ACCEPT suser=example.com cs1Label=MailPolicy cs1=DEFAULT ESAMFVerdict=NOT_EVALUATED act=QUARANTINED ESAFinalActionDetails=To POLICY cs4Label=ExternalMsgID cs4='<example.com>' ESAMsgSize=11873 ESAOFVerdict=POSITIVE duser=example.com ESAHeloIP=1.128.3.4 cfp1Label=SBRSScore cfp1=None sourceHostName=unknown ESASenderGroup=UNKNOWNLIST sourceAddress=1.128.3.4 msg='Testing'`,
	`<166>Mar 17 18:24:37 consolidated_event: CEF:0|Cisco|C100V Email Security Virtual Appliance|14.0.2-020|ESA_CONSOLIDATED_LOG_EVENT|Consolidated Log Event|5|deviceExternalId=422084EE64B1B0454D49-AAFBF6B55869 ESAMID=153634 ESAICID=55854 ESADCID=41512 ESAAMPVerdict=NOT_EVALUATED ESAASVerdict=NOT_EVALUATED ESAAVVerdict=NEGATIVE ESACFVerdict=NO_MATCH endTime=Thu Nov  3 14:05:44 2022 ESADLPVerdict=NO_TRIGGER dvc=1.128.3.4 ESAFriendlyFrom=example.com ESAGMVerdict=NEGATIVE startTime=Thu Nov  3 14:05:43 2022 deviceOutboundInterface=OutList deviceDirection=1 ESAMailFlowPolicy=RELAY suser=example.com cs1Label=MailPolicy cs1=DEFAULT cs2Label=SenderCountry cs2=not enabled ESAMFVerdict=NOT_EVALUATED act=DELIVERED cs4Label=ExternalMsgID cs4='<example.com>' ESAMsgSize=8893 ESAOFVerdict=NEGATIVE duser=example.com ESAHeloDomain=example.cisco.com ESAHeloIP=1.128.3.4 ESAReplyTo=example.com cfp1Label=SBRSScore cfp1=not enabled sourceHostName=unknown ESASenderGroup=RELAYLIST sourceAddress=1.128.3.4 msg='[SUSPICIOUS MESSAGE] Everycloud Mailflow Monitor guid: 12312314123'`,
	`<166>Mar 17 18:24:37 consolidated_event: CEF:0|Cisco|C100V Email Security Virtual Appliance|14.0.2-020|ESA_CONSOLIDATED_LOG_EVENT|Consolidated Log Event|5|deviceExternalId=422084EE64B1B0454D49-AAFBF6B55869 ESAMID=164226 ESAICID=62905 ESAAMPVerdict=NOT_EVALUATED ESAASVerdict=NOT_EVALUATED ESAAVVerdict=NOT_EVALUATED ESACFVerdict=NOT_EVALUATED endTime=Mon Nov 14 15:32:05 2022 ESADLPVerdict=NOT_EVALUATED dvc=1.128.3.4 ESAGMVerdict=NOT_EVALUATED startTime=Mon Nov 14 15:32:05 2022 deviceInboundInterface=IncList ESAMailFlowPolicy=ACCEPT suser=example.com cs2Label=SenderCountry cs2=United States ESAMFVerdict=NOT_EVALUATED act=ABORTED ESAFinalActionDetails=Receiving aborted by sender ESAOFVerdict=NOT_EVALUATED ESAHeloDomain=GHYU-TRY-AIMV ESAHeloIP=1.128.3.4 cfp1Label=SBRSScore cfp1=-2.3 sourceHostName=example.cisco.com ESASenderGroup=SUSPECTLIST sourceAddress=1.128.3.4 msg=''`,
	`<14>Jul 04 06:21:54 consolidated_event: CEF:0|Cisco|C100V Email Security Virtual Appliance|14.3.0-032|ESA_CONSOLIDATED_LOG_EVENT|Consolidated Log Event|5|deviceExternalId=E7DEF468022C4EB09683-9A331A42E1F7 ESAMID=54376810 ESAICID=43587623 endTime=Tue Jul  4 06:21:54 2023 ESADLPVerdict=NOT_EVALUATED dvc=81.2.69.144 ESAFriendlyFrom=River <river@this.example.com> ESAGMVerdict=NEGATIVE startTime=Tue Jul  4 06:12:44 2023 deviceInboundInterface=IncomingMail deviceDirection=0 ESAMailFlowPolicy=ACCEPT suser=river@this.example.com cs1Label=MailPolicy cs1=DEFAULT cs2Label=SenderCountry cs2=New Zealand ESAMFVerdict=MATCH act=DQ ESAFinalActionDetails=Message held temporarily in Delay Quarantine cs4Label=ExternalMsgID cs4='<2403354681.734500.1688449973515.mail.lion@example.com>' ESAMsgSize=18675 ESAOFVerdict=NEGATIVE duser=smith@example.com ESAHeloDomain=vm-lion.dmz ESAHeloIP=89.160.20.128 cfp1Label=SBRSScore cfp1=None sourceHostName=company.example.com sourceAddress=89.160.20.128 msg='Re: meeting'`,
}

// TestCiscoESAConsolidated: each record is the message it names, dated by
// its own startTime in --tz; only what was delivered counts as sent.
func TestCiscoESAConsolidated(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, writeTemp(t, "consolidated.log", strings.Join(esaConsolidated, "\n")+"\n"), &Options{TZ: paris, Year: 2023})
	if st.Format != "cef" || st.Raw != 0 || len(evs) != len(esaConsolidated) {
		t.Fatalf("format %s, %d raw %v, %d events", st.Format, st.Raw, st.RawReasons, len(evs))
	}
	var got []string
	for _, ev := range evs {
		got = append(got, strings.Join([]string{ev.Timestamp.Format(time.RFC3339), ev.Str("event.end"), ev.Str("event.dataset"), ev.Str("event.action"),
			ev.Str("event.outcome"), ev.Str("cisco_secure_email_gateway.log.queue_id"), ev.Str("email.from.address"),
			strings.Join(ev.Strings("email.to.address"), ","), ev.Str("email.size"), ev.Str("email.direction"), ev.Str("source.ip"),
			ev.Str("source.domain"), ev.Str("observer.ip"), ev.Str("email.subject"), ev.Str("email.message_id"), ev.Str("user.name"), ev.Str("event.timezone")}, "|"))
	}
	want := []string{
		"2021-03-18T07:04:29Z|2021-03-18T07:04:46Z|cisco_secure_email_gateway.log|message-blocked|failure|1053|example.com|example.com|11873|inbound|1.128.3.4||1.128.3.4|Testing|example.com||Europe/Paris",
		"2022-11-03T13:05:43Z|2022-11-03T13:05:44Z|cisco_secure_email_gateway.log|message|success|153634|example.com|example.com|8893|outbound|1.128.3.4||1.128.3.4|[SUSPICIOUS MESSAGE] Everycloud Mailflow Monitor guid: 12312314123|example.com||Europe/Paris",
		"2022-11-14T14:32:05Z||cisco_secure_email_gateway.log|message-blocked|failure|164226|example.com||||1.128.3.4|example.cisco.com|1.128.3.4||||Europe/Paris",
		"2023-07-04T04:12:44Z|2023-07-04T04:21:54Z|cisco_secure_email_gateway.log|message-blocked|failure|54376810|river@this.example.com|smith@example.com|18675|inbound|89.160.20.128|company.example.com|81.2.69.144|Re: meeting|2403354681.734500.1688449973515.mail.lion@example.com||Europe/Paris",
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("record %d:\n got %s\nwant %s", i+1, got[min(i, len(got)-1)], want[i])
		}
	}
}
