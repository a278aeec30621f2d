package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

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
	var caseDir, url, prefix, user, passEnv, passFile, keyEnv, keyFile, caCert string
	var insecure, resume, asJSON bool
	var workers int
	cmd := &cobra.Command{
		Use:   "forward --case DIR --es URL [--index PREFIX]",
		Short: "Send a case's events and findings to Elasticsearch",
		Long: `Install an ECS-compatible index template (the same field types as the local
index), then bulk-index every event of the case into PREFIX-events with
_id = event.id — forwarding twice never duplicates — and the findings into
PREFIX-findings. Items refused with 429 are retried with backoff; other
per-item failures are counted with their reason. --resume skips files a
previous forward finished (checkpoint in the case). Secrets come from the
environment or a file and are never printed or stored in the case.`,
		Example: `  exfiltrace forward --case ./case --es https://soc.example:9200 --api-key-env ES_API_KEY --ca-cert ca.pem
  ES_PASS=… exfiltrace forward --case ./case --es http://127.0.0.1:9200 --username elastic --password-env ES_PASS --resume --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			c, err := index.OpenCase(caseDir, false)
			if err != nil {
				return err
			}
			pass, err := secret(passEnv, passFile, "password")
			if err != nil {
				return err
			}
			key, err := secret(keyEnv, keyFile, "api-key")
			if err != nil {
				return err
			}
			cfg := index.ESConfig{URL: url, Prefix: prefix, APIKey: key, Username: user, Password: pass, CACert: caCert, Insecure: insecure, Workers: workers}
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
	cmd.Flags().StringVar(&url, "es", "", "Elasticsearch URL, e.g. https://127.0.0.1:9200")
	cmd.Flags().StringVar(&prefix, "index", "exfiltrace", "index prefix: PREFIX-events and PREFIX-findings")
	cmd.Flags().StringVar(&user, "username", "", "user for basic authentication")
	cmd.Flags().StringVar(&passEnv, "password-env", "", "environment variable holding the password")
	cmd.Flags().StringVar(&passFile, "password-file", "", "file holding the password")
	cmd.Flags().StringVar(&keyEnv, "api-key-env", "", "environment variable holding an API key (base64 id:key)")
	cmd.Flags().StringVar(&keyFile, "api-key-file", "", "file holding an API key")
	cmd.Flags().StringVar(&caCert, "ca-cert", "", "PEM file of the CA that signed the cluster's certificate")
	cmd.Flags().BoolVar(&insecure, "insecure-skip-verify", false, "do not verify the cluster's TLS certificate")
	cmd.Flags().BoolVar(&resume, "resume", false, "skip evidence files a previous forward finished")
	cmd.Flags().IntVar(&workers, "workers", 2, "bulk indexing workers")
	cmd.Flags().BoolVar(&asJSON, "json", false, "summary as JSON")
	return cmd
}

// esFlags are the connection flags shared by forward, search, top and hunt.
type esFlags struct {
	url, prefix, user, passEnv, passFile, keyEnv, keyFile, caCert string
	insecure                                                      bool
}

func (f *esFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.url, "es", "", "query an Elasticsearch cluster holding a forwarded case instead of the local index")
	cmd.Flags().StringVar(&f.prefix, "index", "exfiltrace", "with --es: index prefix used by forward")
	cmd.Flags().StringVar(&f.user, "username", "", "with --es: user for basic authentication")
	cmd.Flags().StringVar(&f.passEnv, "password-env", "", "with --es: environment variable holding the password")
	cmd.Flags().StringVar(&f.passFile, "password-file", "", "with --es: file holding the password")
	cmd.Flags().StringVar(&f.keyEnv, "api-key-env", "", "with --es: environment variable holding an API key")
	cmd.Flags().StringVar(&f.keyFile, "api-key-file", "", "with --es: file holding an API key")
	cmd.Flags().StringVar(&f.caCert, "ca-cert", "", "with --es: PEM file of the cluster's CA")
	cmd.Flags().BoolVar(&f.insecure, "insecure-skip-verify", false, "with --es: do not verify the cluster's TLS certificate")
}

func (f *esFlags) open() (*index.ESStore, error) {
	pass, err := secret(f.passEnv, f.passFile, "password")
	if err != nil {
		return nil, err
	}
	key, err := secret(f.keyEnv, f.keyFile, "api-key")
	if err != nil {
		return nil, err
	}
	es, err := index.NewES(index.ESConfig{URL: f.url, Prefix: f.prefix, APIKey: key, Username: f.user, Password: pass, CACert: f.caCert, Insecure: f.insecure})
	if err != nil {
		return nil, err
	}
	return index.NewESStore(es, f.prefix), nil
}

// openStore opens the cluster when --es is given, else the case's index.
func openStore(caseDir string, ef *esFlags) (index.Store, error) {
	if ef.url != "" {
		return ef.open()
	}
	_, b, err := openIndex(caseDir)
	if err != nil {
		return nil, err
	}
	return b, nil
}
