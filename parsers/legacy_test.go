package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// cp1252 writes s as a Western European Windows writes it by default.
func cp1252(t *testing.T, s string) string {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("%q has no Windows-1252 form: %v", s, err)
	}
	return b
}

// TestLegacyCodePage reads what Windows tools write where no encoding is
// asked for — the system's code page — in every format whose reader does
// not go line by line through readLines (which does the same): each row
// that is not UTF-8 is read as Windows-1252 and counted, and UTF-8 beside
// it stays UTF-8.
func TestLegacyCodePage(t *testing.T) {
	wevtutil := func(n int, user, msg string) string {
		return "Event[" + string(rune('0'+n)) + "]:\n  Log Name: Security\n  Source: Microsoft-Windows-Security-Auditing\n" +
			"  Date: 2024-03-15T14:1" + string(rune('0'+n)) + ":07.000\n  Event ID: 4624\n  Task: Logon\n  Level: Information\n" +
			"  Keyword: Audit Success\n  User: N/A\n  User Name: N/A\n  Computer: SRV-MAIRIE\n  Description: \n" + msg +
			"\n\nNew Logon:\n\tSecurity ID:\t\tS-1-5-21-1-2-3-1107\n\tAccount Name:\t\t" + user + "\n\tAccount Domain:\t\tMAIRIE\n\n" +
			"Network Information:\n\tSource Network Address:\t10.20.1.45\n\n"
	}
	psRow := func(ts, id, msg string) string {
		return `"` + ts + `";"` + id + `";"Microsoft-Windows-Security-Auditing";"SRV-AD01";"` + msg + `"` + "\r\n"
	}
	cases := []struct {
		name, file, body, format, warning string
		want                              []map[string]any
	}{{
		name: "wevtutil text redirected by cmd.exe", file: "security.txt", format: "wevtutil-text",
		body: cp1252(t, wevtutil(0, "hélène", "Ouverture de session réussie.")) + wevtutil(1, "josé", "Ouverture de session réussie (UTF-8)."),
		want: []map[string]any{
			{"user.name": "hélène", "event.code": "4624", "source.ip": "10.20.1.45"},
			{"user.name": "josé"},
		},
		warning: "2 line(s) not UTF-8, read as Windows-1252 (the first: line 13)",
	}, {
		name: "Export-Csv -Encoding Default, French culture", file: "security.csv", format: "windows-export",
		body: `"TimeCreated";"Id";"ProviderName";"MachineName";"Message"` + "\r\n" +
			cp1252(t, psRow("05/03/2024 09:02:11", "4625", "Un compte n’a pas réussi à se connecter.")) +
			psRow("05/03/2024 09:04:40", "4624", "L’ouverture de session s’est déroulée (UTF-8).") +
			cp1252(t, psRow("05/03/2024 09:05:00", "4634", "Fermeture de session : « hélène »")),
		want: []map[string]any{
			{"message": "Un compte n’a pas réussi à se connecter.", "event.code": "4625", "host.name": "SRV-AD01"},
			{"message": "L’ouverture de session s’est déroulée (UTF-8)."},
			{"message": "Fermeture de session : « hélène »"},
		},
		warning: "2 line(s) not UTF-8, read as Windows-1252 (the first: line 2)",
	}, {
		name: "Event Viewer CSV re-saved by a French Excel", file: "observateur.csv", format: "windows-export",
		body: cp1252(t, "Mots clés;Date et heure;Source;ID de l’événement;Catégorie de la tâche\r\n"+
			"Succès de l’audit;15/03/2024 14:13:07;Microsoft-Windows-Security-Auditing;4624;Ouvrir la session;\"L’ouverture de session a réussi.\"\r\n"),
		want: []map[string]any{
			{"event.code": "4624", "message": "L’ouverture de session a réussi.", "event.outcome": "success"},
		},
		warning: "2 line(s) not UTF-8, read as Windows-1252 (the first: line 1)",
	}, {
		name: "ConvertTo-Json | Set-Content", file: "security.json", format: "windows-export",
		body: "[\r\n" + cp1252(t, `{"Id": 4624, "TimeCreated": "\/Date(1710508387000)\/", "ProviderName": "Microsoft-Windows-Security-Auditing", "MachineName": "SRV-AD01", "Message": "Ouverture de session réussie : hélène"}`) +
			",\r\n" + `{"Id": 4634, "TimeCreated": "\/Date(1710508388000)\/", "ProviderName": "Microsoft-Windows-Security-Auditing", "MachineName": "SRV-AD01", "Message": "Fermeture de session (UTF-8) : josé"}` + "\r\n]\r\n",
		want: []map[string]any{
			{"message": "Ouverture de session réussie : hélène", "event.code": "4624"},
			{"message": "Fermeture de session (UTF-8) : josé"},
		},
		warning: "1 row(s) not UTF-8, read as Windows-1252 (the first: row 1)",
	}, {
		name: "Graylog export re-saved by a French Excel", file: "graylog.csv", format: "csv-export",
		body: "timestamp;source;message\r\n" +
			"2025-03-12T09:00:00.000Z;srv-mail;" + cp1252(t, "connexion refusée pour hélène") + "\r\n" +
			"2025-03-12T09:00:01.000Z;srv-mail;connexion acceptée (UTF-8)\r\n",
		want: []map[string]any{
			{"message": "connexion refusée pour hélène", "host.name": "srv-mail"},
			{"message": "connexion acceptée (UTF-8)"},
		},
		warning: "1 row(s) not UTF-8, read as Windows-1252 (the first: row 1)",
	}, {
		name: "Get-MessageTrace | Export-Csv -Encoding Default", file: "trace.csv", format: "exchange-online-trace",
		body: "#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace\r\n" +
			`"Received","SenderAddress","RecipientAddress","Subject","Status","FromIP","ToIP","Size","MessageId"` + "\r\n" +
			cp1252(t, `"14/03/2025 22:43:10","hélène@agglo-exemple.fr","x@gmail.com","Réunion budgétaire","Delivered","185.220.101.47","","1000","<m1@x>"`) + "\r\n",
		want:    []map[string]any{{"email.subject": "Réunion budgétaire", "email.from.address": "hélène@agglo-exemple.fr"}},
		warning: "1 line(s) not UTF-8, read as Windows-1252 (the first: line 3)",
	}, {
		name: "NDJSON export written in the code page", file: "archives.json", format: "json-export",
		body: `{"timestamp":"2025-03-12T09:00:00.000+0000","agent":{"name":"srv-mail"},"full_log":"connexion acceptée (UTF-8)"}` + "\n" +
			cp1252(t, `{"timestamp":"2025-03-12T09:00:01.000+0000","agent":{"name":"srv-mail"},"full_log":"connexion refusée pour hélène"}`) + "\n",
		want: []map[string]any{
			{"message": "connexion acceptée (UTF-8)"},
			{"message": "connexion refusée pour hélène"},
		},
		warning: "1 row(s) not UTF-8, read as Windows-1252 (the first: row 2)",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), c.file)
			if err := os.WriteFile(p, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			evs, st := parseFile(t, p, &Options{TZ: time.UTC})
			if st.Format != c.format || st.Parsed != int64(len(c.want)) || st.Raw != 0 || st.Lost != 0 {
				t.Fatalf("stats %+v", st)
			}
			for i, w := range c.want {
				want(t, c.name, evs[i], "", w)
			}
			found := false
			for _, w := range st.Warnings {
				if strings.Contains(w, "Windows-1252") {
					if w != c.warning {
						t.Errorf("warning %q, want %q", w, c.warning)
					}
					found = true
				}
			}
			if !found {
				t.Errorf("warnings %q, want %q", st.Warnings, c.warning)
			}
		})
	}
}
