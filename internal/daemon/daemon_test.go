package daemon

import (
	"os"
	"time"

	cconfig "go.etcd.io/etcd/server/v3/config"
	"go.etcd.io/etcd/server/v3/embed"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	tls := filepath.Join(dir, "tls")
	if err := os.MkdirAll(tls, 0o700); err != nil {
		t.Fatal(err)
	}
	base := "name: m1\ndata-dir: " + filepath.Join(dir, "data") + "\nlisten-client-urls: https://127.0.0.1:2379\nadvertise-client-urls: https://127.0.0.1:2379\n" +
		"client-transport-security:\n  cert-file: " + filepath.Join(tls, "client.pem") + "\n  key-file: " + filepath.Join(tls, "client.key") + "\n"
	tests := []struct {
		name    string
		conf    string
		crl     bool
		wantErr string
		wantCRL bool
	}{
		{"valid", base, false, "", false},
		{"client CRL beside the certificate", base, true, "", true},
		{"unknown key", base + "peer-cert-file: /x\n", false, "peer-cert-file", false},
		{"etcd refuses", base + "heartbeat-interval: 900\n", false, "election-timeout", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "etcd.conf.yml")
			if err := os.WriteFile(path, []byte(tc.conf), 0o600); err != nil {
				t.Fatal(err)
			}
			crl := filepath.Join(tls, "client.crl")
			os.Remove(crl)
			if tc.crl {
				if err := os.WriteFile(crl, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := Load(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.ClientTLSInfo.CRLFile != ""; got != tc.wantCRL {
				t.Fatalf("CRL set = %v, want %v", got, tc.wantCRL)
			}
			if cfg.PeerTLSInfo.CRLFile != "" {
				t.Fatal("a peer CRL without peer TLS")
			}
		})
	}
}

// TestLoadFinishesLikeEtcdMain: the same file must give the same server as
// upstream's etcd --config-file.
func TestLoadFinishesLikeEtcdMain(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, extra string
		want        time.Duration
	}{
		{"default", "", embed.DefaultWarningUnaryRequestDuration},
		{"set", "warning-unary-request-duration: 1000000000\n", time.Second},
		{"deprecated key", "experimental-warning-unary-request-duration: 2000000000\n", 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "etcd.conf.yml")
			conf := "name: m1\ndata-dir: " + filepath.Join(dir, "data") + "\n" + tc.extra
			if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.WarningUnaryRequestDuration != tc.want {
				t.Fatalf("warning-unary-request-duration = %s, want %s", cfg.WarningUnaryRequestDuration, tc.want)
			}
			if cfg.V2Deprecation != cconfig.V2DeprDefault {
				t.Fatalf("v2-deprecation = %q", cfg.V2Deprecation)
			}
		})
	}
}
