package reports

import (
	"fmt"
	"path/filepath"
	"strings"
)

// zoneAssumedReason says which logs named no zone and were read in the
// default zone, when neither the analyst (--tz) nor the clock check gave
// theirs: the report's times from them are right only if those logs were
// kept in that zone.
func zoneAssumedReason(files []string, zone, lang string) string {
	const shown = 5
	var names []string
	for i, f := range files {
		if i == shown {
			names = append(names, fmt.Sprintf(tr(lang, "et %d autres", "and %d others"), len(files)-shown))
			break
		}
		names = append(names, filepath.Base(f))
	}
	if len(files) == 1 {
		return fmt.Sprintf(tr(lang,
			"Heures : le journal %s n'indique pas de fuseau ; ses heures ont été lues en %s, faute d'autre indication. Si ce sont des heures locales, celles que ce rapport en tire sont décalées d'autant (une ou deux heures en France métropolitaine) : relancer avec --tz nommant son fuseau (par exemple --tz Europe/Paris).",
			"Times: the log %s names no zone; its times were read in %s for want of any other. If they are local times, those this report takes from it are off by the zone's offset (one or two hours in metropolitan France): rerun with --tz naming its zone (e.g. --tz Europe/Paris)."),
			names[0], zone)
	}
	return fmt.Sprintf(tr(lang,
		"Heures : les journaux %s n'indiquent pas de fuseau ; leurs heures ont été lues en %s, faute d'autre indication. Si ce sont des heures locales, celles que ce rapport en tire sont décalées d'autant (une ou deux heures en France métropolitaine) : relancer avec --tz nommant leur fuseau (par exemple --tz Europe/Paris).",
		"Times: the logs %s name no zone; their times were read in %s for want of any other. If they are local times, those this report takes from them are off by the zone's offset (one or two hours in metropolitan France): rerun with --tz naming their zone (e.g. --tz Europe/Paris)."),
		strings.Join(names, ", "), zone)
}
