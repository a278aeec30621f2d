package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/exfiltrace/exfiltrace/columns"
	"github.com/exfiltrace/exfiltrace/index"
)

// secret reads a secret from an environment variable or a file, never from
// the command line (which shows in process lists and shell history).
func secret(envName, file, what string) (string, error) {
	switch {
	case envName != "" && file != "":
		return "", fmt.Errorf("give the %s with one of --%s-env or --%s-file", what, what, what)
	case envName != "":
		v, ok := os.LookupEnv(envName)
		if !ok {
			return "", fmt.Errorf("environment variable %s (for the %s) is not set", envName, what)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--%s-file: %w", what, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

func forwardCmd() *cobra.Command {
	var caseDir string
	var ef esFlags
	var resume, asJSON bool
	var workers int
	cmd := &cobra.Command{
		Use:   "forward --case DIR [--es URL] [--index PREFIX]",
		Short: "Send a case's events and findings to Elasticsearch",
		Long: `Install an ECS-compatible index template (the same field types as the local
index), then bulk-index every event of the case into PREFIX-events with
_id = event.id — forwarding twice never duplicates — and the findings into
PREFIX-findings. Items refused with 429 are retried with backoff; other
per-item failures are counted with their reason. --resume skips files a
previous forward finished (checkpoint in the case). Secrets come from the
environment or a file and are never printed or stored in the case.

Without --es, the cluster named in the case's exfiltrace.yaml is used:
  elasticsearch:
    url: https://soc.example:9200
    index: mairie
    api_key_env: ES_API_KEY      # or username + password_env / password_file
    ca_cert: /etc/ssl/soc-ca.pem`,
		Example: `  exfiltrace forward --case ./case --es https://soc.example:9200 --api-key-env ES_API_KEY --ca-cert ca.pem
  ES_PASS=… exfiltrace forward --case ./case --es http://127.0.0.1:9200 --username elastic --password-env ES_PASS --resume --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if err := ef.fromCase(cmd, caseDir); err != nil {
				return err
			}
			if ef.url == "" {
				return fmt.Errorf("no cluster: give --es URL or set elasticsearch.url in %s", filepath.Join(caseDir, "exfiltrace.yaml"))
			}
			c, err := index.OpenCase(caseDir, false)
			if err != nil {
				return err
			}
			defer c.Close()
			cfg, err := ef.config()
			if err != nil {
				return err
			}
			cfg.Workers = workers
			es, err := index.NewES(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			var bar *progressbar.ProgressBar
			var onDoc func()
			if interactive() && !asJSON {
				bar = progressbar.NewOptions64(c.Manifest.Events, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription("forwarding"),
					progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
				onDoc = func() { bar.Add(1) }
			}
			res, err := index.Forward(ctx, c, es, cfg, resume, onDoc)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return fmt.Errorf("%w (run again with --resume to carry on)", err)
			}
			if asJSON {
				return json.NewEncoder(out).Encode(res)
			}
			fmt.Fprintf(out, "sent %d, created %d, updated %d, failed %d (429 retried: %d), findings %d, in %.1f s\n",
				res.Sent, res.Created, res.Updated, res.Failed, res.Retried, res.Findings, res.Seconds)
			for _, r := range res.SortedReasons() {
				fmt.Fprintf(out, "  failed %d: %s\n", res.Reasons[r], r)
			}
			for _, s := range res.Skipped {
				fmt.Fprintf(out, "  already forwarded: %s\n", s)
			}
			if res.Failed > 0 {
				return fmt.Errorf("%d events were not indexed", res.Failed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&caseDir, "case", "", "case directory")
	ef.registerAs(cmd, "Elasticsearch URL, e.g. https://127.0.0.1:9200 (default: elasticsearch.url of the case's exfiltrace.yaml)", "")
	cmd.Flags().BoolVar(&resume, "resume", false, "skip evidence files a previous forward finished")
	cmd.Flags().IntVar(&workers, "workers", 2, "bulk indexing workers")
	cmd.Flags().BoolVar(&asJSON, "json", false, "summary as JSON")
	return cmd
}

// esFlags are the connection flags shared by forward, search, top and hunt.
type esFlags struct {
	url, prefix, user, passEnv, passFile, keyEnv, keyFile, caCert string
	insecure, local                                               bool
}

func (f *esFlags) register(cmd *cobra.Command) {
	f.registerAs(cmd, "query an Elasticsearch cluster holding a forwarded case instead of the local index", "with --es: ")
	cmd.Flags().BoolVar(&f.local, "local", false, "use the local index even if the case's exfiltrace.yaml names a cluster")
}

func (f *esFlags) registerAs(cmd *cobra.Command, urlHelp, with string) {
	cmd.Flags().StringVar(&f.url, "es", "", urlHelp)
	cmd.Flags().StringVar(&f.prefix, "index", "exfiltrace", with+"index prefix: PREFIX-events and PREFIX-findings")
	cmd.Flags().StringVar(&f.user, "username", "", with+"user for basic authentication")
	cmd.Flags().StringVar(&f.passEnv, "password-env", "", with+"environment variable holding the password")
	cmd.Flags().StringVar(&f.passFile, "password-file", "", with+"file holding the password")
	cmd.Flags().StringVar(&f.keyEnv, "api-key-env", "", with+"environment variable holding an API key (base64 id:key)")
	cmd.Flags().StringVar(&f.keyFile, "api-key-file", "", with+"file holding an API key")
	cmd.Flags().StringVar(&f.caCert, "ca-cert", "", with+"PEM file of the CA that signed the cluster's certificate")
	cmd.Flags().BoolVar(&f.insecure, "insecure-skip-verify", false, with+"do not verify the cluster's TLS certificate")
}

// caseES is the elasticsearch section of a case's exfiltrace.yaml. It names
// where secrets are, never the secrets: a case directory is copied around
// with the evidence.
type caseES struct {
	URL                string `yaml:"url"`
	Index              string `yaml:"index"`
	Username           string `yaml:"username"`
	PasswordEnv        string `yaml:"password_env"`
	PasswordFile       string `yaml:"password_file"`
	APIKeyEnv          string `yaml:"api_key_env"`
	APIKeyFile         string `yaml:"api_key_file"`
	CACert             string `yaml:"ca_cert"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	Password           string `yaml:"password"`
	APIKey             string `yaml:"api_key"`
}

// readCaseES reads the elasticsearch section of CASE/exfiltrace.yaml; nil
// when the file or the section is absent.
func readCaseES(caseDir string) (*caseES, error) {
	p := filepath.Join(caseDir, "exfiltrace.yaml")
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct {
		Elasticsearch *caseES `yaml:"elasticsearch"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	es := doc.Elasticsearch
	if es == nil {
		return nil, nil
	}
	if es.Password != "" || es.APIKey != "" {
		return nil, fmt.Errorf("%s: elasticsearch.password and elasticsearch.api_key are refused: secrets are not kept in a case; use password_env/password_file or api_key_env/api_key_file", p)
	}
	return es, nil
}

// fromCase fills the settings not given on the command line from the case's
// exfiltrace.yaml, so a case configured for Elasticsearch is queried there.
func (f *esFlags) fromCase(cmd *cobra.Command, caseDir string) error {
	if f.local {
		if f.url != "" {
			return fmt.Errorf("--local and --es exclude each other")
		}
		return nil
	}
	if caseDir == "" {
		return nil
	}
	es, err := readCaseES(caseDir)
	if err != nil || es == nil {
		return err
	}
	if f.url != "" && es.URL != "" && f.url != es.URL {
		// Another cluster on the command line: the case's credentials are not for it.
		return nil
	}
	set := func(flag string, dst *string, v string) {
		if !cmd.Flags().Changed(flag) && v != "" {
			*dst = v
		}
	}
	set("es", &f.url, es.URL)
	set("index", &f.prefix, es.Index)
	set("username", &f.user, es.Username)
	set("ca-cert", &f.caCert, es.CACert)
	if !cmd.Flags().Changed("password-env") && !cmd.Flags().Changed("password-file") {
		f.passEnv, f.passFile = es.PasswordEnv, es.PasswordFile
	}
	if !cmd.Flags().Changed("api-key-env") && !cmd.Flags().Changed("api-key-file") {
		f.keyEnv, f.keyFile = es.APIKeyEnv, es.APIKeyFile
	}
	if !cmd.Flags().Changed("insecure-skip-verify") {
		f.insecure = es.InsecureSkipVerify
	}
	return nil
}

func (f *esFlags) config() (index.ESConfig, error) {
	pass, err := secret(f.passEnv, f.passFile, "password")
	if err != nil {
		return index.ESConfig{}, err
	}
	key, err := secret(f.keyEnv, f.keyFile, "api-key")
	if err != nil {
		return index.ESConfig{}, err
	}
	return index.ESConfig{URL: f.url, Prefix: f.prefix, APIKey: key, Username: f.user, Password: pass, CACert: f.caCert, Insecure: f.insecure}, nil
}

func (f *esFlags) open() (*index.ESStore, error) {
	cfg, err := f.config()
	if err != nil {
		return nil, err
	}
	es, err := index.NewES(cfg)
	if err != nil {
		return nil, err
	}
	return index.NewESStore(es, f.prefix), nil
}

// openStore opens the cluster given by --es or the case's configuration,
// else the case itself (columnar store and full-text index).
func openStore(cmd *cobra.Command, caseDir string, ef *esFlags) (index.Store, error) {
	if err := ef.fromCase(cmd, caseDir); err != nil {
		return nil, err
	}
	if ef.url != "" {
		return ef.open()
	}
	return openCaseStore(caseDir)
}

// openCaseStore opens a local case for queries.
func openCaseStore(caseDir string) (*columns.Store, error) {
	if err := requireCase(caseDir); err != nil {
		return nil, err
	}
	c, err := index.OpenCase(caseDir, false)
	if err != nil {
		return nil, err
	}
	s, err := columns.Open(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}
