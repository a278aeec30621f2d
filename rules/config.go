package rules

import (
	"fmt"
	"os"
	"strings"

	"github.com/goccy/go-yaml"
)

// Config is the case configuration rules read through Sigma placeholders
// (`field|expand: '%name%'`): what is internal, what is known good, which
// mail domains are free-mail. Defaults are sane for a French local authority
// and every value can be replaced per case (exfiltrace.yaml).
type Config struct {
	Placeholders map[string][]string `yaml:"placeholders" json:"placeholders"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() *Config {
	return &Config{Placeholders: map[string][]string{
		// RFC 1918, loopback, link-local, ULA.
		"internal_networks": {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128"},
		// FortiGate's default SSL-VPN tunnel range (SSLVPN_TUNNEL_ADDR1).
		"vpn_pools": {"10.212.134.0/24"},
		// Destinations that legitimately receive bulk data (offsite backup…): none until the analyst says so.
		"known_good_destinations": {"0.0.0.0/32"},
		"freemail_domains": {"gmail.com", "googlemail.com", "yahoo.com", "yahoo.fr", "hotmail.com", "hotmail.fr", "outlook.com",
			"outlook.fr", "live.com", "live.fr", "msn.com", "laposte.net", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr",
			"bbox.fr", "aol.com", "gmx.com", "gmx.fr", "icloud.com", "me.com", "protonmail.com", "proton.me", "tutanota.com", "yandex.com", "mail.ru"},
		"own_mail_domains": {"example.invalid"},
	}}
}

// LoadConfig reads a case configuration over the defaults.
func LoadConfig(path string) (*Config, error) {
	cfg := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var over Config
	if err := yaml.Unmarshal(b, &over); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for k, v := range over.Placeholders {
		cfg.Placeholders[k] = v
	}
	return cfg, nil
}

func (c *Config) expand(list []any) ([]any, error) {
	var out []any
	for _, x := range list {
		s, ok := x.(string)
		if !ok || !strings.HasPrefix(s, "%") || !strings.HasSuffix(s, "%") {
			out = append(out, x)
			continue
		}
		name := strings.Trim(s, "%")
		vals, ok := c.Placeholders[name]
		if !ok {
			return nil, errUnsupported{"placeholder " + s + " is not defined in the case configuration"}
		}
		for _, v := range vals {
			out = append(out, v)
		}
	}
	return out, nil
}
