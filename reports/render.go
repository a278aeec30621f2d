package reports

import (
	"bytes"
	"embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
)

//go:embed templates/*.tmpl
var templatesFS embed.FS

// Formats are the report formats.
var Formats = []string{"html", "md", "json", "csv"}

// Render writes the report in a format. templateDir, if set, holds the
// analyst's own report.md.tmpl / report.html.tmpl (sprig functions available).
func Render(w io.Writer, r *Report, format, templateDir string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		return renderCSV(w, r)
	case "md", "markdown":
		src, err := templateSource("report.md.tmpl", templateDir)
		if err != nil {
			return err
		}
		t, err := texttemplate.New("md").Funcs(sprig.TxtFuncMap()).Funcs(texttemplate.FuncMap(funcs(r))).Parse(src)
		if err != nil {
			return fmt.Errorf("template: %w", err)
		}
		return t.Execute(w, r)
	case "html":
		src, err := templateSource("report.html.tmpl", templateDir)
		if err != nil {
			return err
		}
		fm := htmltemplate.FuncMap(funcs(r))
		fm["chart"] = func() htmltemplate.HTML { return htmltemplate.HTML(hourlyChart(r)) }
		t, err := htmltemplate.New("html").Funcs(sprig.HtmlFuncMap()).Funcs(fm).Parse(src)
		if err != nil {
			return fmt.Errorf("template: %w", err)
		}
		return t.Execute(w, r)
	}
	return fmt.Errorf("unknown report format %q (use %s)", format, strings.Join(Formats, ", "))
}

func templateSource(name, dir string) (string, error) {
	if dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			return string(b), nil
		}
		if !os.IsNotExist(err) {
			return "", err
		}
	}
	b, err := templatesFS.ReadFile("templates/" + name)
	return string(b), err
}

func funcs(r *Report) map[string]any {
	return map[string]any{
		"t":     func(key string) string { return label(r.Lang, key) },
		"bytes": func(n int64) string { return HumanBytes(n, r.Lang) },
		"when": func(t time.Time) string {
			if t.IsZero() { // events without a time (lines kept raw, logs that wrote none)
				return tr(r.Lang, "sans date", "undated")
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
		"verdictLabel": func(v string) string {
			return label(r.Lang, "verdict_"+v)
		},
		"pct": func(f float64) string { return fmt.Sprintf("%.0f %%", f*100) },
		"sources": func(ss []Source) string {
			var out []string
			for _, s := range ss {
				if s.Host != "" {
					out = append(out, s.Host+" ("+s.IP+")")
				} else {
					out = append(out, s.IP)
				}
			}
			return strings.Join(out, ", ")
		},
		"dest":    destName,
		"channel": func(ch string) string { return channelName(r.Lang, ch) },
		"severity": func(s string) string {
			return label(r.Lang, "sev_"+s)
		},
		"kind": func(k string) string { return label(r.Lang, "kind_"+k) },
		// ledgerLinks are the links that concern the ledger's sources: the
		// ones a reader needs to trust the attribution; the rest are counted.
		"ledgerLinks": func() []Link { return ledgerLinks(r) },
		"otherLinks":  func() int { return len(r.Links) - len(ledgerLinks(r)) },
		// tunnelRows are the largest transfers to VPN clients; the rest are
		// counted (all are in the JSON report).
		"tunnelRows":   func() []TunnelTransfer { return r.VPNTransfers[:min(len(r.VPNTransfers), maxTunnelRows)] },
		"otherTunnels": func() int { return max(len(r.VPNTransfers)-maxTunnelRows, 0) },
	}
}

// maxTunnelRows are the VPN transfers a rendered report lists.
const maxTunnelRows = 20

func ledgerLinks(r *Report) []Link {
	srcs := map[string]bool{}
	for _, e := range r.Exfiltration {
		for _, s := range e.Sources {
			srcs[s.IP] = true
		}
	}
	var out []Link
	for _, l := range r.Links {
		if srcs[l.From] {
			out = append(out, l)
		}
	}
	return out
}

var labels = map[string][2]string{ // fr, en
	"title":                     {"Rapport d'exfiltration", "Exfiltration report"},
	"question":                  {"Des données ont-elles été volées ?", "Was data taken?"},
	"verdict":                   {"Verdict", "Verdict"},
	"confidence":                {"Confiance", "Confidence"},
	"bytes_out":                 {"Volume sorti", "Data out"},
	"reasons":                   {"Pourquoi", "Why"},
	"ledger":                    {"Registre des sorties (par destination)", "Byte ledger (per destination)"},
	"channel":                   {"Canal", "Channel"},
	"destination":               {"Destination", "Destination"},
	"sources":                   {"Sources", "Sources"},
	"users":                     {"Comptes", "Accounts"},
	"bytes":                     {"Octets", "Bytes"},
	"events":                    {"Événements", "Events"},
	"first":                     {"Premier", "First"},
	"last":                      {"Dernier", "Last"},
	"new_dest":                  {"Nouvelle destination", "New destination"},
	"yes":                       {"oui", "yes"},
	"no":                        {"non", "no"},
	"findings":                  {"Détections", "Findings"},
	"severity":                  {"Gravité", "Severity"},
	"count":                     {"Nombre", "Count"},
	"timeline":                  {"Chronologie (UTC)", "Timeline (UTC)"},
	"coverage":                  {"Couverture des journaux", "Log coverage"},
	"links":                     {"Rapprochements adresse → machine / compte", "Address → host / account links"},
	"evidence":                  {"Pièces (chaîne de preuve)", "Evidence (chain of custody)"},
	"chart":                     {"Octets sortis par heure et par destination", "Bytes out per hour per destination"},
	"gdpr":                      {"Projet de notification à la CNIL (RGPD, article 33) — BROUILLON", "Draft GDPR Article 33 notification — DRAFT"},
	"gdpr_nature":               {"Nature de la violation", "Nature of the breach"},
	"gdpr_data":                 {"Catégories de données", "Categories of data"},
	"gdpr_people":               {"Personnes concernées", "People concerned"},
	"gdpr_volume":               {"Volume approximatif", "Approximate volume"},
	"gdpr_window":               {"Période", "Period"},
	"gdpr_measures":             {"À compléter", "To complete"},
	"gdpr_warn":                 {"Brouillon établi automatiquement à partir des journaux : à vérifier et compléter avant tout envoi.", "Drafted automatically from the logs: check and complete before sending."},
	"none":                      {"aucune", "none"},
	"generated":                 {"Généré le", "Generated"},
	"case":                      {"Dossier", "Case"},
	"verdict_confirmed":         {"CONFIRMÉ — des données ont été volées", "CONFIRMED — data was taken"},
	"verdict_likely":            {"PROBABLE — des données ont probablement été volées", "LIKELY — data was probably taken"},
	"verdict_possible":          {"POSSIBLE — indices de sortie de données", "POSSIBLE — signs of data leaving"},
	"verdict_no_evidence":       {"AUCUN ÉLÉMENT — rien ne montre une sortie de données", "NO EVIDENCE — nothing shows data leaving"},
	"verdict_insufficient_data": {"DONNÉES INSUFFISANTES — les journaux ne permettent pas de conclure", "INSUFFICIENT DATA — the logs cannot answer"},
	"routine":                   {"Transferts routiniers (laissés hors du registre) — à confirmer", "Routine transfers (left out of the ledger) — please confirm"},
	"routine_intro":             {"Gros transferts jugés habituels à partir des journaux eux-mêmes : ils ne comptent pas dans le verdict. Vérifiez qu'il s'agit bien de sauvegardes ou de services connus.", "Large transfers judged routine from the logs themselves: they do not count in the verdict. Check that they are indeed backups or known services."},
	"pattern":                   {"Récurrence", "Pattern"},
	"why":                       {"Pourquoi", "Why"},
	"days":                      {"Jours", "Days"},
	"missing":                   {"Ce qui manque", "What is missing"},
	"would_change":              {"Ce qui changerait le verdict", "What would change the verdict"},
	"window":                    {"Fenêtre de l'incident", "Incident window"},
	"gaps":                      {"jours sans journal", "days without log"},
	"hosts":                     {"Machines", "Hosts"},
	"file":                      {"Fichier", "File"},
	"unparsed":                  {"Non analysés", "Unparsed"},
	"lost_records":              {"Perdus", "Lost"},
	"not_a_log":                 {"pas un journal (écarté)", "not a log (left out)"},
	"empty":                     {"journal vide", "empty log"},
	"read_error":                {"lecture arrêtée par une erreur", "reading stopped on an error"},
	"anomaly":                   {"Pourquoi ce n'est pas la routine", "Why it is not routine"},
	"attribution":               {"Comptes rattachés", "Accounts tied"},
	"vpn_transfers":             {"Tunnels VPN : échanges avec les serveurs internes (hors registre)", "VPN tunnels: traffic with internal servers (outside the ledger)"},
	"vpn_to_client":             {"vers le poste distant", "to the remote machine"},
	"vpn_from_client":           {"depuis le poste distant", "from the remote machine"},
	"vpn_file_service":          {"copie de fichiers", "file copy"},
	"other_vpn_transfers":       {"autres échanges de tunnels dans le rapport JSON", "other tunnel transfers in the JSON report"},
	"other_links":               {"autres rapprochements (adresses des postes, tunnels VPN) dans le rapport JSON", "other links (workstation addresses, VPN tunnels) in the JSON report"},
	"sev_informational":         {"information", "informational"},
	"sev_low":                   {"faible", "low"},
	"sev_medium":                {"moyenne", "medium"},
	"sev_high":                  {"élevée", "high"},
	"sev_critical":              {"critique", "critical"},
	"kind_host":                 {"machine", "host"},
	"kind_account":              {"compte", "account"},
}

func label(lang, key string) string {
	l, ok := labels[key]
	if !ok {
		return key
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// renderCSV writes the timeline with Timesketch's required columns.
func renderCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"message", "datetime", "timestamp_desc", "timestamp", "finding_id", "severity", "hosts", "users"})
	sev := map[string]Finding{}
	for _, f := range r.Findings {
		sev[f.ID] = f
	}
	for _, e := range r.Timeline {
		f := sev[e.FindingID]
		cw.Write([]string{e.Summary, e.Time.UTC().Format(time.RFC3339Nano), "Event Recorded", fmt.Sprint(e.Time.UnixMicro()),
			e.FindingID, f.Severity, strings.Join(f.Hosts, ";"), strings.Join(f.Users, ";")})
	}
	cw.Flush()
	return cw.Error()
}

// hourlyChart draws bytes per hour per destination as inline SVG; every
// log-derived string is escaped.
func hourlyChart(r *Report) string {
	if len(r.HourlyBytes) == 0 {
		return ""
	}
	hours := map[string]bool{}
	var max int64
	for _, s := range r.HourlyBytes {
		for h, v := range s.Points {
			hours[h] = true
			if v > max {
				max = v
			}
		}
	}
	hs := sortedKeys(hours)
	if max == 0 || len(hs) == 0 {
		return ""
	}
	colors := []string{"#c0392b", "#2980b9", "#27ae60", "#8e44ad", "#d35400", "#16a085"}
	const width, height, left, bottom = 760, 260, 70, 40
	barW := float64(width-left-10) / float64(len(hs)) / float64(len(r.HourlyBytes))
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img">`, width, height+60)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`, left, height-bottom, width-10, height-bottom)
	fmt.Fprintf(&b, `<text x="4" y="14" font-size="11">%s</text>`, htmlEscape(HumanBytes(max, r.Lang)))
	for si, s := range r.HourlyBytes {
		for hi, h := range hs {
			v := s.Points[h]
			if v == 0 {
				continue
			}
			bh := float64(height-bottom-20) * float64(v) / float64(max)
			x := float64(left) + float64(hi*len(r.HourlyBytes)+si)*barW
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				x, float64(height-bottom)-bh, barW*0.9, bh, colors[si%len(colors)], htmlEscape(s.Destination), htmlEscape(h), htmlEscape(HumanBytes(v, r.Lang)))
		}
	}
	step := len(hs)/8 + 1
	for hi := 0; hi < len(hs); hi += step {
		x := float64(left) + float64(hi*len(r.HourlyBytes))*barW
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10">%s</text>`, x, height-bottom+14, htmlEscape(hs[hi][5:13]+"h"))
	}
	for si, s := range r.HourlyBytes {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>`,
			left, height+si*16, colors[si%len(colors)], left+16, height+9+si*16, htmlEscape(s.Destination))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func htmlEscape(s string) string { return htmltemplate.HTMLEscapeString(s) }
