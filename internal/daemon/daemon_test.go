package daemon

import (
	"os"
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
