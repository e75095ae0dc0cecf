package settings_test

// The TLS policy: defaults (TLS 1.2 minimum, AEAD suites for RSA and ECDSA
// keys) and the rule that whatever the settings accept, etcd serves: every
// accepted case is rendered and taken through etcd's own loading
// (embed.ConfigFromFile), TLS setup (transport.TLSInfo.ServerConfig, as
// embed.StartEtcd builds it) and the HTTP/2 setup of its client port
// (http2.ConfigureServer), then a TLS 1.2 handshake.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/tlsutil"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"golang.org/x/net/http2"

	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/render"
	"github.com/canonical/charmed-etcd-snap/internal/settings"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// policyLoad is what the hook does with options: Load, then Validate.
func policyLoad(t *testing.T, opts map[string]any) (*settings.Settings, error) {
	t.Helper()
	s, err := settings.Load(doc(t, opts))
	if err != nil {
		return nil, err
	}
	return s, s.Validate()
}

// policyMember is m1 on 10.99.0.11 with peer and client TLS from leaves of
// the given key type, plus extra options.
func policyMember(t *testing.T, kt certtest.KeyType, extra map[string]any) map[string]any {
	peerCA, clientCA := certtest.NewCA(t, "peer-ca"), certtest.NewCA(t, "client-ca")
	peer := peerCA.Issue(t, certtest.Options{CN: "m1", IPs: []string{"10.99.0.11"}, KeyType: kt})
	client := clientCA.Issue(t, certtest.Options{CN: "m1", IPs: []string{"10.99.0.11"}, KeyType: kt})
	opts := map[string]any{
		"name": "m1", "address": "10.99.0.11",
		"tls.peer.cert": peer.CertPEM, "tls.peer.key": peer.KeyPEM, "tls.peer.ca": peerCA.CertPEM,
		"tls.client.cert": client.CertPEM, "tls.client.key": client.KeyPEM, "tls.client.ca": clientCA.CertPEM,
	}
	for k, v := range extra {
		opts[k] = v
	}
	return opts
}

// etcdServes renders s, lets etcd load the file and build the TLS server
// configuration of both surfaces as it does when it starts, and returns
// etcd's client and peer tls.Config.
func etcdServes(t *testing.T, s *settings.Settings) (client, peer *tls.Config, err error) {
	t.Helper()
	dir := t.TempDir()
	p := snapenv.PathsOf(snapenv.Static{SnapDir: dir, DataDir: dir, CommonDir: dir})
	if err := os.MkdirAll(p.TLSDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range render.TLSFiles(s) {
		if err := os.WriteFile(filepath.Join(p.TLSDir, f.Name), f.Data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf, err := render.Config(s, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Config, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := embed.ConfigFromFile(p.Config)
	if err != nil {
		return nil, nil, err
	}
	// embed.StartEtcd: updateCipherSuites and updateMinMaxVersions.
	suites, err := tlsutil.GetCipherSuites(cfg.CipherSuites)
	if err != nil {
		return nil, nil, err
	}
	minV, err := tlsutil.GetTLSVersion(cfg.TlsMinVersion)
	if err != nil {
		return nil, nil, err
	}
	maxV, err := tlsutil.GetTLSVersion(cfg.TlsMaxVersion)
	if err != nil {
		return nil, nil, err
	}
	build := func(info transport.TLSInfo) (*tls.Config, error) {
		if info.Empty() {
			return nil, nil
		}
		info.CipherSuites, info.MinVersion, info.MaxVersion, info.Logger = suites, minV, maxV, zap.NewNop()
		return info.ServerConfig()
	}
	if client, err = build(cfg.ClientTLSInfo); err != nil {
		return nil, nil, err
	}
	if peer, err = build(cfg.PeerTLSInfo); err != nil {
		return nil, nil, err
	}
	if client != nil {
		// embed/serve.go: configureHTTPServer on the client port.
		//lint:ignore SA1019 etcd v3.6 itself calls it; the test reproduces what etcd does.
		if err := http2.ConfigureServer(&http.Server{TLSConfig: client}, &http2.Server{}); err != nil {
			return nil, nil, err
		}
	}
	return client, peer, nil
}

// handshake runs a TLS handshake against server over a pipe with a client
// limited to version v; it returns the negotiated suite.
func handshake(t *testing.T, server *tls.Config, leaf *x509.Certificate, v uint16) (uint16, error) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := tls.Server(a, server)
	done := make(chan struct{})
	go func() {
		_ = srv.HandshakeContext(ctx)
		close(done)
	}()
	// The client presents no certificate: the server's verification of
	// clients is not what this checks, and in TLS 1.2 a missing client
	// certificate shows only after the suite is chosen.
	cli := tls.Client(b, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
	err := cli.HandshakeContext(ctx)
	b.Close()
	<-done
	st := cli.ConnectionState()
	if err != nil && st.CipherSuite == 0 {
		return 0, err
	}
	return st.CipherSuite, nil
}

func TestDefaultPolicy(t *testing.T) {
	s, err := policyLoad(t, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if s.TLS.MinVersion != "TLS1.2" || s.TLS.MaxVersion != "TLS1.3" {
		t.Errorf("default versions %s-%s, want TLS1.2-TLS1.3", s.TLS.MinVersion, s.TLS.MaxVersion)
	}
	secure := map[string]*tls.CipherSuite{}
	for _, c := range tls.CipherSuites() {
		secure[c.Name] = c
	}
	var rsa, ecdsa bool
	for _, n := range s.TLS.CipherSuites {
		c, ok := secure[n]
		switch {
		case !ok:
			t.Errorf("default suite %s is not one of Go's secure suites", n)
		case !slices.Contains(c.SupportedVersions, tls.VersionTLS12):
			t.Errorf("default suite %s is not a TLS 1.2 suite", n)
		case !strings.HasPrefix(n, "TLS_ECDHE_"):
			t.Errorf("default suite %s has no forward secrecy", n)
		case !strings.Contains(n, "_GCM_") && !strings.Contains(n, "_CHACHA20_POLY1305"):
			t.Errorf("default suite %s is not an AEAD suite", n)
		}
		rsa = rsa || strings.Contains(n, "_RSA_")
		ecdsa = ecdsa || strings.Contains(n, "_ECDSA_")
	}
	if !rsa || !ecdsa {
		t.Errorf("default suites %v do not serve both RSA (%v) and ECDSA (%v) keys", s.TLS.CipherSuites, rsa, ecdsa)
	}
}

// TestPolicyServes: the default policy serves every key type the snap
// accepts, over TLS 1.2 and TLS 1.3, as etcd configures itself.
func TestPolicyServes(t *testing.T) {
	for _, kt := range []struct {
		name string
		kt   certtest.KeyType
	}{{"ECDSA P-256", certtest.P256}, {"ECDSA P-384", certtest.P384}, {"RSA 2048", certtest.RSA2048}, {"Ed25519", certtest.Ed25519}} {
		t.Run(kt.name, func(t *testing.T) {
			s, err := policyLoad(t, policyMember(t, kt.kt, nil))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			client, peer, err := etcdServes(t, s)
			if err != nil {
				t.Fatalf("etcd cannot serve what the settings accept: %v", err)
			}
			for _, sf := range []struct {
				name string
				cfg  *tls.Config
				leaf *x509.Certificate
			}{{"client", client, s.Client().Leaf}, {"peer", peer, s.Peer().Leaf}} {
				for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
					suite, err := handshake(t, sf.cfg, sf.leaf, v)
					if err != nil {
						t.Errorf("%s port, %s: %v", sf.name, tls.VersionName(v), err)
						continue
					}
					if v == tls.VersionTLS12 && !slices.Contains(s.TLS.CipherSuites, tls.CipherSuiteName(suite)) {
						t.Errorf("%s port negotiated %s, not in the configured list", sf.name, tls.CipherSuiteName(suite))
					}
				}
			}
		})
	}
}

// TestPolicyRules: lists and versions the settings refuse, and, for every
// accepted case, etcd must start with it (the settings may be stricter
// than etcd, never looser).
func TestPolicyRules(t *testing.T) {
	cases := []struct {
		name  string
		kt    certtest.KeyType
		extra map[string]any
		want  string // refusal; "" for accepted
		check func(t *testing.T, s *settings.Settings, conf string)
	}{
		{name: "ECDSA-only list, RSA key", kt: certtest.RSA2048, extra: map[string]any{"tls.cipher-suites": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
			want: "cannot use tls.cipher-suites: no suite in the list can serve the RSA key of tls.peer.cert"},
		{name: "RSA-only list, ECDSA key", extra: map[string]any{"tls.cipher-suites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
			want: "cannot use tls.cipher-suites: no suite in the list can serve the ECDSA key of tls.peer.cert"},
		{name: "a TLS 1.3 suite", extra: map[string]any{"tls.cipher-suites": "TLS_AES_128_GCM_SHA256"}, want: "is a TLS 1.3 suite"},
		{name: "an insecure suite", extra: map[string]any{"tls.cipher-suites": "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"}, want: "is insecure"},
		{name: "TLS 1.1", extra: map[string]any{"tls.min-version": "TLS1.1"}, want: "expected TLS1.2 or TLS1.3"},
		{name: "TLS 1.3 above TLS 1.2", extra: map[string]any{"tls.min-version": "TLS1.3", "tls.max-version": "TLS1.2"}, want: "above tls.max-version"},
		{name: "one ECDSA suite", extra: map[string]any{"tls.cipher-suites": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
			check: func(t *testing.T, _ *settings.Settings, conf string) {
				if !strings.Contains(conf, "cipher-suites:\n  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n") {
					t.Errorf("the rendered file does not hold the one suite:\n%s", conf)
				}
			}},
		// etcd's rule: no suite list with only TLS 1.3 (Go cannot
		// configure TLS 1.3 suites); the snap drops the default list.
		{name: "TLS 1.3 only", extra: map[string]any{"tls.min-version": "TLS1.3"},
			check: func(t *testing.T, _ *settings.Settings, conf string) {
				if strings.Contains(conf, "cipher-suites") {
					t.Errorf("TLS 1.3 only, yet the rendered file lists suites:\n%s", conf)
				}
			}},
		// etcd's client port serves HTTP/2, which refuses to start with a
		// TLS 1.2 list that lacks both ECDHE AES-128-GCM suites.
		{name: "no AES-128-GCM suite", extra: map[string]any{"tls.cipher-suites": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
			want: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		// etcd's rule (transport.TLSInfo): allowed CNs and allowed
		// hostnames are mutually exclusive.
		{name: "allowed-cn and allowed-hostname", extra: map[string]any{"tls.peer.allowed-cn": "m1", "tls.peer.allowed-hostname": "m1.etcd.test"},
			want: "tls.peer.allowed-hostname"},
		{name: "allowed-cn", extra: map[string]any{"tls.peer.allowed-cn": "m1,m2"}},
		{name: "allowed-hostname", extra: map[string]any{"tls.peer.allowed-hostname": "m1.etcd.test", "tls.client.allowed-hostname": "app.etcd.test"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := policyLoad(t, policyMember(t, tc.kt, tc.extra))
			if tc.want != "" {
				if err == nil {
					_, _, etcdErr := etcdServes(t, s)
					t.Fatalf("accepted, want a refusal with %q (etcd at start: %v)", tc.want, etcdErr)
				}
				if !strings.HasPrefix(err.Error(), "cannot ") || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("refused with %q, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if _, _, err := etcdServes(t, s); err != nil {
				t.Fatalf("the settings accept it but etcd cannot serve it: %v", err)
			}
			if tc.check != nil {
				conf, err := render.Config(s, snapenv.PathsOf(snapenv.Static{SnapDir: "/s", DataDir: "/d", CommonDir: "/c"}))
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, s, string(conf))
			}
		})
	}
}

// TestRevocationListEtcdReads: the CRL file the snap writes is one etcd
// can use. etcd reads it on every new connection (transport.checkCRL,
// through TLSInfo.ConfigureCRLVerification here) and parses it with
// x509.ParseRevocationList, which takes DER only: a file etcd cannot parse
// refuses every client, revoked or not.
func TestRevocationListEtcdReads(t *testing.T) {
	opts := policyMember(t, certtest.P256, nil)
	clientCA := certtest.NewCA(t, "client-ca-2")
	client := clientCA.Issue(t, certtest.Options{CN: "m1", IPs: []string{"10.99.0.11"}})
	revoked := clientCA.Issue(t, certtest.Options{CN: "app-revoked"})
	kept := clientCA.Issue(t, certtest.Options{CN: "app"})
	opts["tls.client.cert"], opts["tls.client.key"], opts["tls.client.ca"] = client.CertPEM, client.KeyPEM, clientCA.CertPEM
	opts["tls.client.crl"] = clientCA.CRL(t, revoked.Cert.SerialNumber)
	s, err := policyLoad(t, opts)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	dir := t.TempDir()
	var crl string
	for _, f := range render.TLSFiles(s) {
		if f.Name == snapenv.ClientCRL {
			crl = filepath.Join(dir, f.Name)
			if err := os.WriteFile(crl, f.Data, 0o600); err != nil {
				t.Fatal(err)
			}
			if f.Restart {
				t.Errorf("a changed CRL asks for a restart, but etcd reads it on every connection")
			}
		}
	}
	if crl == "" {
		t.Fatalf("no %s in the TLS files", snapenv.ClientCRL)
	}
	cfg := &tls.Config{}
	transport.TLSInfo{CRLFile: crl}.ConfigureCRLVerification(cfg)
	if err := cfg.VerifyConnection(tls.ConnectionState{PeerCertificates: []*x509.Certificate{kept.Cert}}); err != nil {
		t.Errorf("etcd refuses a certificate the CRL does not list: %v", err)
	}
	if err := cfg.VerifyConnection(tls.ConnectionState{PeerCertificates: []*x509.Certificate{revoked.Cert}}); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("etcd does not refuse the revoked certificate as revoked: %v", err)
	}
}
