package reports

// tr picks the French or English text: reports are French by default and
// French throughout, English with --lang en.
func tr(lang, fr, en string) string {
	if lang == "en" {
		return en
	}
	return fr
}

// channelName is a ledger channel in the report's language.
func channelName(lang, ch string) string {
	switch ch {
	case "network":
		return tr(lang, "réseau", "network")
	case "cloud":
		return tr(lang, "stockage en ligne", "cloud")
	case "email":
		return tr(lang, "courriel", "email")
	}
	return ch
}
