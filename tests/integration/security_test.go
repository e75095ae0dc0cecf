package integration

// Security posture (issue 7) with real daemons through snapsim: TLS
// policy, identity restrictions, revocation without a restart, separate
// CAs, the CIS check and the health the snap reports. One member runs on
// 127.0.0.1 with free ports and the test dials it from Go; the test with
// two members runs in network namespaces (tests/lab).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/tests/lab"
	"github.com/canonical/charmed-etcd-snap/tests/security"
)

// secRoot is the repository root with bin/ and prime/ (make test-integration).
func secRoot(t *testing.T) string {
	t.Helper()
	root := os.Getenv("CHARMED_ETCD_ROOT")
	if root == "" {
		t.Fatal("CHARMED_ETCD_ROOT is not set: run the integration tests with make test-integration")
	}
	return root
}

type secLog struct{ t *testing.T }

func (w secLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// secPKI is one member's certificates on 127.0.0.1 from a peer CA and a
// separate client CA, and a client application's certificate.
type secPKI struct {
	peerCA, clientCA, peer, client, app *certtest.Cert
}

func newSecPKI(t *testing.T) *secPKI {
	p := &secPKI{peerCA: certtest.NewCA(t, "peer-ca"), clientCA: certtest.NewCA(t, "client-ca")}
	p.peer = p.peerCA.Leaf(t, "m1", "127.0.0.1")
	p.client = p.clientCA.Leaf(t, "m1", "127.0.0.1")
	p.app = p.clientCA.Issue(t, certtest.Options{CN: "app", DNS: []string{"app.etcd.test"}, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return p
}

func (p *secPKI) fullTLS() []string {
	return []string{
		"tls.peer.cert=" + p.peer.CertPEM, "tls.peer.key=" + p.peer.KeyPEM, "tls.peer.ca=" + p.peerCA.CertPEM,
		"tls.client.cert=" + p.client.CertPEM, "tls.client.key=" + p.client.KeyPEM, "tls.client.ca=" + p.clientCA.CertPEM,
	}
}

// secMember is one running member and the test's handle on it.
type secMember struct {
	*security.Unit
	t   *testing.T
	ctx context.Context
	pki *secPKI
}

// startSecMember installs the snap in a new root, sets opts and starts
// the member; it is stopped and removed when the test ends.
func startSecMember(t *testing.T, pki *secPKI, opts ...string) *secMember {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	dir := secDir(t)
	u, err := security.NewUnit(secRoot(t), filepath.Join(dir, "unit"), secLog{t})
	if err != nil {
		t.Fatal(err)
	}
	m := &secMember{Unit: u, t: t, ctx: ctx, pki: pki}
	t.Cleanup(func() {
		u.Stop(context.Background())
		if t.Failed() {
			t.Logf("daemon log:\n%s", tail(u.DaemonLog(), 60))
		}
	})
	if err := u.Install(ctx, opts...); err != nil {
		t.Fatal(err)
	}
	if err := u.Start(ctx); err != nil {
		t.Fatal(err)
	}
	m.waitReady()
	return m
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// secDir is a directory for a unit's root, removed when the test ends.
// The hooks and the daemon work as snap_daemon, which must reach the root.
func secDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "charmed-etcd-security-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mtls is the client configuration of the member's own client
// certificate, trusting the client CA.
func (m *secMember) mtls() *tls.Config {
	return m.clientCfg(m.pki.clientCA, m.pki.client, 0, 0)
}

func (m *secMember) clientCfg(ca, leaf *certtest.Cert, min, max uint16, suites ...uint16) *tls.Config {
	m.t.Helper()
	caPEM, certPEM, keyPEM := "", "", ""
	if ca != nil {
		caPEM = ca.CertPEM
	}
	if leaf != nil {
		certPEM, keyPEM = leaf.CertPEM, leaf.KeyPEM
	}
	cfg, err := security.ClientConfig(caPEM, certPEM, keyPEM, min, max, suites...)
	if err != nil {
		m.t.Fatal(err)
	}
	return cfg
}

func (m *secMember) waitReady() {
	m.t.Helper()
	if err := m.WaitReady(m.ctx, "https", m.mtls(), 60*time.Second); err != nil {
		m.t.Fatal(err)
	}
}

func (m *secMember) pid() int {
	m.t.Helper()
	pid, err := m.PID()
	if err != nil {
		m.t.Fatal(err)
	}
	return pid
}

// set runs snap set and waits for the member. restart says whether the
// change must restart the daemon (a new PID) or must not (the same PID).
func (m *secMember) set(restart bool, opts ...string) {
	m.t.Helper()
	before := m.pid()
	if err := m.Set(m.ctx, opts...); err != nil {
		m.t.Fatal(err)
	}
	m.waitReady()
	after := m.pid()
	switch {
	case restart && after == before:
		m.t.Fatalf("the change did not restart the daemon (PID %d)", before)
	case !restart && after != before:
		m.t.Fatalf("the change restarted the daemon (PID %d, now %d)", before, after)
	}
}

// get asks the member for path on a new connection.
func (m *secMember) get(base, path string, cfg *tls.Config) (int, error) {
	status, _, err := security.Get(m.ctx, base+path, cfg)
	return status, err
}

// accepted fails the test unless the request succeeds with 200.
func (m *secMember) accepted(what, base, path string, cfg *tls.Config) {
	m.t.Helper()
	if status, err := m.get(base, path, cfg); err != nil || status != http.StatusOK {
		m.t.Errorf("%s: want HTTP 200, got %d, %v", what, status, err)
	}
}

// refused fails the test unless the request fails in TLS, with want in
// the error when want is not empty.
func (m *secMember) refused(what, base, path string, cfg *tls.Config, want string) {
	m.t.Helper()
	status, err := m.get(base, path, cfg)
	switch {
	case err == nil:
		m.t.Errorf("%s: accepted (HTTP %d), want refused", what, status)
	case want != "" && !strings.Contains(err.Error(), want):
		m.t.Errorf("%s: refused with %q, want %q", what, err, want)
	default:
		m.t.Logf("%s: refused: %v", what, err)
	}
}

func (m *secMember) clientAddr() string {
	return net.JoinHostPort(m.Addr, fmt.Sprint(m.ClientPort))
}

func (m *secMember) peerAddr() string {
	return net.JoinHostPort(m.Addr, fmt.Sprint(m.PeerPort))
}

// controlServer is a Go TLS server that accepts TLS 1.0 to 1.3 and every
// suite Go has: a client refused by the member but accepted here is
// refused for the member's policy, not for its own configuration.
func controlServer(t *testing.T, leaf *certtest.Cert) string {
	pair, err := tls.X509KeyPair([]byte(leaf.CertPEM), []byte(leaf.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	var all []uint16
	for _, c := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		all = append(all, c.ID)
	}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS10, CipherSuites: all}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

// TestTLSPolicy: the default policy (TLS 1.2 minimum, ECDHE with AEAD for
// RSA and ECDSA keys) as a running member enforces it, and changes to it.
func TestTLSPolicy(t *testing.T) {
	p := newSecPKI(t)
	m := startSecMember(t, p, p.fullTLS()...)
	control := controlServer(t, p.client)
	const (
		ecdsaCBC = tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
		ecdsa128 = tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
		ecdsa256 = tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
		rsa128   = tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	)
	tls11 := m.clientCfg(p.clientCA, p.client, tls.VersionTLS10, tls.VersionTLS11)
	tls11.CipherSuites = []uint16{ecdsaCBC}
	cbc := m.clientCfg(p.clientCA, p.client, tls.VersionTLS12, tls.VersionTLS12, ecdsaCBC)
	mtls12 := func(suites ...uint16) *tls.Config {
		return m.clientCfg(p.clientCA, p.client, tls.VersionTLS12, tls.VersionTLS12, suites...)
	}

	t.Run("the clients work against a permissive server", func(t *testing.T) {
		for name, cfg := range map[string]*tls.Config{"TLS 1.1": tls11, "TLS 1.2 CBC": cbc} {
			c := cfg.Clone()
			c.InsecureSkipVerify = true
			if _, err := security.Handshake(m.ctx, control, c); err != nil {
				t.Fatalf("%s client cannot reach a server that allows it: %v", name, err)
			}
		}
	})
	for _, port := range []struct{ name, addr, url string }{{"client", m.clientAddr(), m.ClientURL("https")}, {"peer", m.peerAddr(), m.PeerURL("https")}} {
		t.Run(port.name+" port", func(t *testing.T) {
			if st, err := security.Handshake(m.ctx, port.addr, tls11); err == nil {
				t.Errorf("TLS 1.1 client accepted (%s)", tls.VersionName(st.Version))
			} else if !strings.Contains(err.Error(), "protocol version") {
				t.Errorf("TLS 1.1 client refused with %q, want a protocol version alert", err)
			}
			if st, err := security.Handshake(m.ctx, port.addr, cbc); err == nil {
				t.Errorf("TLS 1.2 client offering only %s accepted", tls.CipherSuiteName(st.CipherSuite))
			} else if !strings.Contains(err.Error(), "handshake failure") {
				t.Errorf("TLS 1.2 client with a suite outside the list refused with %q, want a handshake failure", err)
			}
			// In TLS 1.2 the client certificate is part of the handshake.
			ca, leaf := p.clientCA, p.client
			if port.name == "peer" {
				ca, leaf = p.peerCA, p.peer
			}
			for _, s := range []uint16{ecdsa128, ecdsa256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256} {
				st, err := security.Handshake(m.ctx, port.addr, m.clientCfg(ca, leaf, tls.VersionTLS12, tls.VersionTLS12, s))
				if err != nil || st.CipherSuite != s {
					t.Errorf("TLS 1.2 with %s: %v", tls.CipherSuiteName(s), err)
				}
			}
		})
	}
	m.accepted("TLS 1.3 with the client certificate", m.ClientURL("https"), "/version", m.clientCfg(p.clientCA, p.client, tls.VersionTLS13, tls.VersionTLS13))

	t.Run("refused settings", func(t *testing.T) {
		for _, c := range []struct{ opt, want string }{
			{"tls.cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "can serve the ECDSA key"},
			{"tls.cipher-suites=TLS_AES_128_GCM_SHA256", "TLS 1.3 suite"},
			{"tls.cipher-suites=TLS_ECDHE_RSA_WITH_RC4_128_SHA", "insecure"},
			{"tls.min-version=TLS1.1", "expected TLS1.2 or TLS1.3"},
			// etcd's client port (HTTP/2) does not start without it.
			{"tls.cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "AES_128_GCM_SHA256"},
		} {
			err := m.Set(m.ctx, c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("snap set %s: %v, want a refusal with %q", c.opt, err, c.want)
			}
			if err == nil {
				key, _, _ := strings.Cut(c.opt, "=")
				if err := m.Unset(m.ctx, key); err != nil {
					t.Fatal(err)
				}
				m.waitReady()
			}
		}
	})

	t.Run("a narrower suite list", func(t *testing.T) {
		m.set(true, "tls.cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
		for _, port := range []string{m.clientAddr(), m.peerAddr()} {
			if _, err := security.Handshake(m.ctx, port, mtls12(ecdsa256)); err == nil {
				t.Errorf("%s: AES-256-GCM accepted after the list was narrowed to AES-128-GCM", port)
			}
		}
		if st, err := security.Handshake(m.ctx, m.clientAddr(), mtls12(ecdsa256, ecdsa128)); err != nil || st.CipherSuite != ecdsa128 {
			t.Errorf("AES-128-GCM: %v", err)
		}
	})

	t.Run("TLS 1.3 only", func(t *testing.T) {
		m.set(true, "tls.min-version=TLS1.3")
		if _, err := security.Handshake(m.ctx, m.clientAddr(), mtls12()); err == nil {
			t.Errorf("a TLS 1.2 client is accepted with tls.min-version=TLS1.3")
		}
		m.accepted("TLS 1.3", m.ClientURL("https"), "/version", m.mtls())
	})

	t.Run("an RSA certificate is served by the default suites, without a restart", func(t *testing.T) {
		if err := m.Unset(m.ctx, "tls.min-version", "tls.cipher-suites"); err != nil {
			t.Fatal(err)
		}
		m.waitReady()
		rsaLeaf := p.clientCA.Issue(t, certtest.Options{CN: "m1", IPs: []string{"127.0.0.1"}, KeyType: certtest.RSA2048})
		m.set(false, "tls.client.cert="+rsaLeaf.CertPEM, "tls.client.key="+rsaLeaf.KeyPEM)
		st, err := security.Handshake(m.ctx, m.clientAddr(), mtls12(rsa128))
		if err != nil {
			t.Fatalf("TLS 1.2 with %s: %v", tls.CipherSuiteName(rsa128), err)
		}
		if !st.PeerCertificates[0].Equal(rsaLeaf.Cert) {
			t.Errorf("the member does not serve the new RSA certificate")
		}
	})
}

// TestIdentityRestrictions: tls.peer.allowed-cn, tls.peer.allowed-hostname
// and tls.client.allowed-hostname refuse certificates from the right CA
// that name someone else.
func TestIdentityRestrictions(t *testing.T) {
	p := newSecPKI(t)
	m := startSecMember(t, p, append(p.fullTLS(), "tls.peer.allowed-cn=m1")...)
	peerAs := func(cn string, dns ...string) *tls.Config {
		return m.clientCfg(p.peerCA, p.peerCA.Issue(t, certtest.Options{CN: cn, IPs: []string{"127.0.0.1"}, DNS: dns}), 0, 0)
	}
	peers := m.PeerURL("https")

	m.accepted("peer-CA certificate with CN m1", peers, "/members", peerAs("m1"))
	m.refused("peer-CA certificate with CN m9 (allowed-cn=m1)", peers, "/members", peerAs("m9"), "bad certificate")

	m.set(true, "tls.peer.allowed-cn!", "tls.peer.allowed-hostname=m1.etcd.test")
	m.accepted("peer-CA certificate for m1.etcd.test", peers, "/members", peerAs("m9", "m1.etcd.test"))
	m.refused("peer-CA certificate with CN m1 for m9.etcd.test (allowed-hostname=m1.etcd.test)", peers, "/members", peerAs("m1", "m9.etcd.test"), "bad certificate")

	// The member's own client certificate (m1.etcd.test) must stay
	// allowed: etcd dials its own client port with it.
	m.set(true, "tls.client.allowed-hostname=m1.etcd.test,app.etcd.test")
	clients := m.ClientURL("https")
	m.accepted("client-CA certificate for app.etcd.test", clients, "/version", m.clientCfg(p.clientCA, p.app, 0, 0))
	other := p.clientCA.Issue(t, certtest.Options{CN: "app", DNS: []string{"other.etcd.test"}})
	m.refused("client-CA certificate for other.etcd.test", clients, "/version", m.clientCfg(p.clientCA, other, 0, 0), "bad certificate")
	if !strings.Contains(m.DaemonLog(), "rejected connection on client endpoint") {
		t.Errorf("the daemon did not log the rejected client")
	}
}

// TestPeerWithAnotherCN: two members in network namespaces; m1 allows
// only CN m1 on its peer port, so m2 (CN m2, same CA) is refused and the
// cluster has no leader, until m1 allows m2.
func TestPeerWithAnotherCN(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	l, err := lab.New(ctx, lab.Options{Repo: secRoot(t), Members: 2, Log: secLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	peerLeaf, _, err := l.MakeCAs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m1, m2 := l.Members[0], l.Members[1]
	for _, m := range l.Members {
		opts := []string{"tls.peer.cert=" + lab.Read(peerLeaf[m.Name].Cert), "tls.peer.key=" + lab.Read(peerLeaf[m.Name].Key), "tls.peer.ca=" + lab.Read(l.CA.Peer.Cert)}
		if m == m1 {
			opts = append(opts, "tls.peer.allowed-cn=m1")
		}
		if err := m.Install(ctx, opts...); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	err = lab.Retry(ctx, 60*time.Second, func() error {
		logs := m1.SnapQuiet(ctx, "logs", "-n=all", "charmed-etcd.etcd").Out
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, "rejected connection on peer endpoint") && strings.Contains(line, m2.Addr) && strings.Contains(line, "client certificate authentication failed") {
				return nil
			}
		}
		return fmt.Errorf("m1 has not logged a refusal of m2 (%s)", m2.Addr)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Healthy(ctx, "http", nil); err == nil {
		t.Fatalf("the cluster is healthy although m1 refuses m2's peer certificate")
	}
	if r := m1.Snap(ctx, "set", "charmed-etcd", "tls.peer.allowed-cn=m1,m2"); r.Err != nil {
		t.Fatal(r.Err)
	}
	if err := l.WaitHealthy(ctx, "http", nil); err != nil {
		t.Fatalf("m1 allows m2, yet: %v", err)
	}
}

// TestRevocationWithoutRestart: a new tls.client.crl or tls.peer.crl
// refuses a revoked certificate on its next connection, with the daemon
// still the same process: etcd reads the CRL file on every handshake
// (client/pkg/v3/transport checkCRL) and the hook does not restart for a
// changed CRL. The first CRL of a surface restarts once: the daemon gives
// etcd a CRL path only when the file exists at start.
func TestRevocationWithoutRestart(t *testing.T) {
	p := newSecPKI(t)
	m := startSecMember(t, p, p.fullTLS()...)
	appB := p.clientCA.Issue(t, certtest.Options{CN: "app-b", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	clients := m.ClientURL("https")
	a, b := m.clientCfg(p.clientCA, p.app, 0, 0), m.clientCfg(p.clientCA, appB, 0, 0)
	m.accepted("app A before any CRL", clients, "/version", a)

	m.set(true, "tls.client.crl="+p.clientCA.CRL(t, big.NewInt(1)))
	m.accepted("app A with a CRL that does not list it", clients, "/version", a)
	pid := m.pid()

	m.set(false, "tls.client.crl="+p.clientCA.CRL(t, p.app.Cert.SerialNumber))
	m.refused("app A once revoked", clients, "/version", a, "")
	m.accepted("app B, not revoked", clients, "/version", b)
	m.accepted("the member's own client certificate", clients, "/version", m.mtls())

	m.set(false, "tls.client.crl="+p.clientCA.CRL(t, p.app.Cert.SerialNumber, appB.Cert.SerialNumber))
	m.refused("app B once revoked", clients, "/version", b, "")
	m.set(false, "tls.client.crl="+p.clientCA.CRL(t))
	m.accepted("app A after an empty CRL", clients, "/version", a)
	if got := m.pid(); got != pid {
		t.Errorf("daemon PID %d, was %d", got, pid)
	}
	if !strings.Contains(m.DaemonLog(), "revoked") {
		t.Errorf("the daemon did not log the revoked certificate")
	}

	peers := m.PeerURL("https")
	other := p.peerCA.Issue(t, certtest.Options{CN: "m1", IPs: []string{"127.0.0.1"}})
	m.set(true, "tls.peer.crl="+p.peerCA.CRL(t))
	m.accepted("a second peer certificate", peers, "/members", m.clientCfg(p.peerCA, other, 0, 0))
	m.set(false, "tls.peer.crl="+p.peerCA.CRL(t, other.Cert.SerialNumber))
	m.refused("the second peer certificate once revoked", peers, "/members", m.clientCfg(p.peerCA, other, 0, 0), "")
	m.accepted("the member's own peer certificate", peers, "/members", m.clientCfg(p.peerCA, p.peer, 0, 0))
}

// TestSeparateCAs: a certificate from the client CA is refused on the
// peer port, one from the peer CA on the client port, although both
// allow TLS client authentication.
func TestSeparateCAs(t *testing.T) {
	p := newSecPKI(t)
	m := startSecMember(t, p, p.fullTLS()...)
	fromClientCA := p.clientCA.Issue(t, certtest.Options{CN: "m1", IPs: []string{"127.0.0.1"}})
	fromPeerCA := p.peerCA.Issue(t, certtest.Options{CN: "m1", IPs: []string{"127.0.0.1"}})
	// Each client trusts both CAs: only the member's verification decides.
	both := &certtest.Cert{CertPEM: p.peerCA.CertPEM + p.clientCA.CertPEM}
	m.refused("client-CA certificate on the peer port", m.PeerURL("https"), "/members", m.clientCfg(both, fromClientCA, 0, 0), "unknown certificate authority")
	m.refused("peer-CA certificate on the client port", m.ClientURL("https"), "/version", m.clientCfg(both, fromPeerCA, 0, 0), "unknown certificate authority")
	m.accepted("peer-CA certificate on the peer port", m.PeerURL("https"), "/members", m.clientCfg(both, fromPeerCA, 0, 0))
	m.accepted("client-CA certificate on the client port", m.ClientURL("https"), "/version", m.clientCfg(both, fromClientCA, 0, 0))
}

// TestCISCheck: charmed-etcd.check passes every item with full TLS and
// fails the right ones, exiting non-zero, when a setting weakens.
func TestCISCheck(t *testing.T) {
	p := newSecPKI(t)
	m := startSecMember(t, p, p.fullTLS()...)
	check := func(wantFailed ...string) {
		t.Helper()
		r, code, err := m.Check(m.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Items) != 12 {
			t.Errorf("the report has %d items, want 12 (2.1-2.7, four file items, pprof)", len(r.Items))
		}
		var failed []string
		for _, it := range r.Items {
			if !it.Pass {
				failed = append(failed, it.ID)
			}
		}
		if strings.Join(failed, ",") != strings.Join(wantFailed, ",") {
			t.Errorf("failed items %v, want %v", failed, wantFailed)
		}
		if (code != 0) != (len(wantFailed) > 0) {
			t.Errorf("exit status %d with %d failed items", code, len(failed))
		}
	}
	check()
	m.set(true, "tls.client.client-cert-auth=false")
	check("2.2", "2.7")
	m.set(true, "tls.client.client-cert-auth=true", "etcd.enable-pprof=true")
	check("pprof")
}

// TestHealth: the hook reports error, naming the certificate and its end
// date, when one expires within a week, and okay once it is replaced;
// snapsim applies snapd's set-health rules, so a message snapd would
// refuse fails here.
func TestHealth(t *testing.T) {
	p := newSecPKI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	u, err := security.NewUnit(secRoot(t), filepath.Join(secDir(t), "unit"), secLog{t})
	if err != nil {
		t.Fatal(err)
	}
	soon := p.clientCA.Issue(t, certtest.Options{CN: "m1", IPs: []string{"127.0.0.1"}, NotAfter: time.Now().Add(72 * time.Hour)})
	if err := u.Install(ctx, p.fullTLS()...); err != nil {
		t.Fatal(err)
	}
	if st, msg, code, err := u.Health(ctx); err != nil || st != "okay" || msg != "" || code != "" {
		t.Errorf("health %q %q %q, %v; want okay", st, msg, code, err)
	}
	if err := u.Set(ctx, "tls.client.cert="+soon.CertPEM, "tls.client.key="+soon.KeyPEM); err != nil {
		t.Fatal(err)
	}
	want := "tls.client.cert (CN m1) expires " + soon.Cert.NotAfter.UTC().Format("2006-01-02 15:04 MST")
	if st, msg, code, err := u.Health(ctx); err != nil || st != "error" || msg != want || code != "certificate-expiring" {
		t.Errorf("health %q %q %q, %v; want error %q certificate-expiring", st, msg, code, err, want)
	}
	if err := u.Set(ctx, "tls.client.cert="+p.client.CertPEM, "tls.client.key="+p.client.KeyPEM); err != nil {
		t.Fatal(err)
	}
	if st, _, _, err := u.Health(ctx); err != nil || st != "okay" {
		t.Errorf("health %q, %v after the certificate was replaced; want okay", st, err)
	}
}
