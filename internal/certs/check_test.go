package certs_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/certs"
	"github.com/canonical/charmed-etcd-snap/internal/certtest"
)

// pemOf is the PEM of certificates, to check that no message quotes them.
func pemOf(cs ...*x509.Certificate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	return out
}

var (
	peerUsage   = certs.Usage{Server: true, Client: true}
	serverUsage = certs.Usage{Server: true}
)

func TestCheckAddress(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	issue := func(ips, dns []string) *x509.Certificate {
		return ca.Issue(t, certtest.Options{CN: "member", IPs: ips, DNS: dns}).Cert
	}
	m1 := issue([]string{"10.99.0.11"}, []string{"m1.etcd.test"})
	v6 := issue([]string{"fd00:99::12"}, nil)
	wild := issue(nil, []string{"*.etcd.test"})
	several := issue([]string{"10.99.0.11", "10.99.0.12", "10.99.0.13"}, []string{"m1.etcd.test", "m2.etcd.test"})
	ipOnly := issue([]string{"10.99.0.12"}, nil)
	dnsOnly := issue(nil, []string{"m2.etcd.test"})
	cnOnly := ca.Issue(t, certtest.Options{CN: "10.99.0.12"}).Cert
	tests := []struct {
		name    string
		leaf    *x509.Certificate
		address string
		want    []string // error substrings; nil: accepted
	}{
		{"F1: m1's certificate on m2", m1, "10.99.0.12", []string{"does not cover this member's address 10.99.0.12", "IP:10.99.0.11, DNS:m1.etcd.test"}},
		{"IPv4 SAN", m1, "10.99.0.11", nil},
		{"DNS SAN", m1, "m1.etcd.test", nil},
		{"DNS SAN, other case", m1, "M1.Etcd.Test", nil},
		{"DNS name not in SANs", m1, "m2.etcd.test", []string{"address m2.etcd.test", "IP:10.99.0.11, DNS:m1.etcd.test"}},
		{"IPv6 SAN", v6, "fd00:99::12", nil},
		{"IPv6 SAN, other spelling", v6, "fd00:99:0:0:0:0:0:12", nil},
		{"IPv6 SAN, bracketed address", v6, "[fd00:99::12]", nil},
		{"IPv6 address not in SANs", v6, "fd00:99::13", []string{"address fd00:99::13", "IP:fd00:99::12"}},
		{"IPv4 address, IPv6-only certificate", v6, "10.99.0.12", []string{"address 10.99.0.12"}},
		{"wildcard SAN", wild, "m2.etcd.test", nil},
		{"wildcard covers one label only", wild, "a.m2.etcd.test", []string{"DNS:*.etcd.test"}},
		{"wildcard does not cover its parent", wild, "etcd.test", []string{"DNS:*.etcd.test"}},
		{"wildcard does not cover an IP", wild, "10.99.0.12", []string{"DNS:*.etcd.test"}},
		{"several SANs, IP", several, "10.99.0.12", nil},
		{"several SANs, DNS", several, "m2.etcd.test", nil},
		{"several SANs, missing one", several, "10.99.0.14", []string{"IP:10.99.0.11, IP:10.99.0.12, IP:10.99.0.13, DNS:m1.etcd.test, DNS:m2.etcd.test"}},
		{"IP-only certificate, DNS address", ipOnly, "m2.etcd.test", []string{"address m2.etcd.test", "IP:10.99.0.12"}},
		{"DNS-only certificate, IP address", dnsOnly, "10.99.0.12", []string{"address 10.99.0.12", "DNS:m2.etcd.test"}},
		{"common name only is not a SAN", cnOnly, "10.99.0.12", []string{"its SANs: none"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := certs.CheckAddress(tc.leaf, tc.address)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q", tc.want)
			}
			certtest.AssertNoMaterial(t, err.Error(), pemOf(tc.leaf)...)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCheckUsage(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	eku := func(e ...x509.ExtKeyUsage) *x509.Certificate {
		return ca.Issue(t, certtest.Options{CN: "member", EKU: e}).Cert
	}
	tests := []struct {
		name  string
		cert  *x509.Certificate
		usage certs.Usage
		want  string // error substring; empty: accepted
	}{
		{"F2: serverAuth only, peer", eku(x509.ExtKeyUsageServerAuth), peerUsage, "must allow both TLS server and client authentication (or carry no extended key usage at all), but its extended key usage is serverAuth"},
		{"clientAuth only, peer", eku(x509.ExtKeyUsageClientAuth), peerUsage, "must allow both TLS server and client authentication"},
		{"both, peer", eku(x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth), peerUsage, ""},
		{"no extended key usage, peer", ca.Issue(t, certtest.Options{CN: "member", NoEKU: true}).Cert, peerUsage, ""},
		{"any, peer", eku(x509.ExtKeyUsageAny), peerUsage, ""},
		{"serverAuth only, server", eku(x509.ExtKeyUsageServerAuth), serverUsage, ""},
		{"clientAuth only, server", eku(x509.ExtKeyUsageClientAuth), serverUsage, "must allow TLS server authentication"},
		{"codeSigning, server", eku(x509.ExtKeyUsageCodeSigning), serverUsage, "its extended key usage is codeSigning"},
		{"clientAuth only, client", eku(x509.ExtKeyUsageClientAuth), certs.Usage{Client: true}, ""},
		{"serverAuth only, client", eku(x509.ExtKeyUsageServerAuth), certs.Usage{Client: true}, "must allow TLS client authentication"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := certs.CheckUsage(tc.cert, tc.usage)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want %q", err, tc.want)
			}
			certtest.AssertNoMaterial(t, err.Error(), pemOf(tc.cert)...)
		})
	}
}

func TestCheckValidity(t *testing.T) {
	now := time.Now()
	ca := certtest.NewCA(t, "peer-ca")
	valid := func(nb, na time.Time) *x509.Certificate {
		return ca.Issue(t, certtest.Options{CN: "member", NotBefore: nb, NotAfter: na}).Cert
	}
	day := 24 * time.Hour
	tests := []struct {
		name    string
		cert    *x509.Certificate
		wantErr string
		wantW   string
	}{
		{"F6: expired yesterday", valid(now.Add(-30*day), now.Add(-day)), "has expired (valid from ", ""},
		{"F6: valid from tomorrow", valid(now.Add(day), now.Add(30*day)), "is not valid yet (valid from ", ""},
		{"expires in 3 days", valid(now.Add(-day), now.Add(3*day)), "", "expires within a week (valid from "},
		{"expires in 30 days", valid(now.Add(-day), now.Add(30*day)), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := certs.CheckValidity(tc.cert, now)
			window := tc.cert.NotBefore.UTC().Format("2006-01-02 15:04:05") + " UTC to " + tc.cert.NotAfter.UTC().Format("2006-01-02 15:04:05") + " UTC"
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), window) {
					t.Fatalf("got error %v, want %q and the window %s", err, tc.wantErr, window)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.wantW == "" && w != "" {
				t.Errorf("unexpected warning %q", w)
			}
			if tc.wantW != "" && (!strings.Contains(w, tc.wantW) || !strings.Contains(w, window)) {
				t.Errorf("warning %q, want %q and the window %s", w, tc.wantW, window)
			}
		})
	}
}

func TestCheckCABundle(t *testing.T) {
	now := time.Now()
	ca := certtest.NewCA(t, "peer-ca")
	ca2 := certtest.NewCA(t, "peer-ca-2")
	leaf := ca.Leaf(t, "m2", "10.99.0.12")
	expired := certtest.NewCAWith(t, certtest.Options{CN: "old-ca", NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)})
	soon := certtest.NewCAWith(t, certtest.Options{CN: "soon-ca", NotAfter: now.Add(72 * time.Hour)})
	noBC := ca.Issue(t, certtest.Options{CN: "no-basic-constraints", NoEKU: true})
	tests := []struct {
		name    string
		bundle  []*certtest.Cert
		wantErr string
		wantW   int
	}{
		{"one CA", []*certtest.Cert{ca}, "", 0},
		{"F10: two CAs", []*certtest.Cert{ca, ca2}, "", 0},
		{"F10: a leaf in the bundle", []*certtest.Cert{ca, leaf}, "is not a CA certificate", 0},
		{"a leaf without CA:TRUE", []*certtest.Cert{noBC}, "is not a CA certificate", 0},
		{"an expired CA", []*certtest.Cert{ca, expired}, "has expired", 0},
		{"a CA that expires in 3 days", []*certtest.Cert{soon}, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cas []*x509.Certificate
			for _, c := range tc.bundle {
				cas = append(cas, c.Cert)
			}
			w, err := certs.CheckCABundle(cas, now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if len(w) != tc.wantW {
				t.Errorf("got %d warnings, want %d", len(w), tc.wantW)
			}
		})
	}
}

func TestVerifyChain(t *testing.T) {
	now := time.Now()
	root := certtest.NewCA(t, "peer-ca")
	root2 := certtest.NewCA(t, "peer-ca-2")
	other := certtest.NewCA(t, "other-ca")
	inter := root.Issue(t, certtest.Options{CN: "peer-intermediate", IsCA: true})
	serverInter := root.Issue(t, certtest.Options{CN: "server-intermediate", IsCA: true, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	expiredInter := root.Issue(t, certtest.Options{CN: "expired-intermediate", IsCA: true, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)})
	serverRoot := certtest.NewCAWith(t, certtest.Options{CN: "server-root", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	viaServerRoot := serverRoot.Leaf(t, "m2", "10.99.0.12")
	leaf := root.Leaf(t, "m2", "10.99.0.12")
	viaInter := inter.Leaf(t, "m2", "10.99.0.12")
	viaServerInter := serverInter.Leaf(t, "m2", "10.99.0.12")
	viaExpiredInter := expiredInter.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, NotAfter: now.Add(-2 * time.Hour)})
	foreign := other.Leaf(t, "m2", "10.99.0.12")
	byRoot2 := root2.Leaf(t, "m2", "10.99.0.12")
	leafCA := root.Issue(t, certtest.Options{CN: "m2", IsCA: true, IPs: []string{"10.99.0.12"}})
	expired := root.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	soon := root.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, NotAfter: now.Add(72 * time.Hour)})
	serverOnly := root.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	noEKU := root.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, NoEKU: true})

	tests := []struct {
		name        string
		chain       []*certtest.Cert
		roots       []*certtest.Cert
		usage       certs.Usage
		wantErr     string
		wantUnknown bool
		wantW       int
	}{
		{"leaf signed by the root", []*certtest.Cert{leaf}, []*certtest.Cert{root}, peerUsage, "", false, 0},
		{"leaf without EKU", []*certtest.Cert{noEKU}, []*certtest.Cert{root}, peerUsage, "", false, 0},
		{"leaf and intermediate", []*certtest.Cert{viaInter, inter}, []*certtest.Cert{root}, peerUsage, "", false, 0},
		{"intermediate in the CA bundle", []*certtest.Cert{viaInter}, []*certtest.Cert{root, inter}, peerUsage, "", false, 0},
		{"F10: leaf signed by the second CA", []*certtest.Cert{byRoot2}, []*certtest.Cert{root, root2}, peerUsage, "", false, 0},
		{"expires in 3 days", []*certtest.Cert{soon}, []*certtest.Cert{root}, peerUsage, "", false, 1},
		{"F2: serverAuth-only leaf, peer", []*certtest.Cert{serverOnly}, []*certtest.Cert{root}, peerUsage, "must allow both TLS server and client authentication", false, 0},
		{"serverAuth-only leaf, server", []*certtest.Cert{serverOnly}, []*certtest.Cert{root}, serverUsage, "", false, 0},
		{"F2: serverAuth-only intermediate, peer", []*certtest.Cert{viaServerInter, serverInter}, []*certtest.Cert{root}, peerUsage, `certificate "CN=server-intermediate,O=certtest" must allow both TLS server and client authentication`, false, 0},
		{"serverAuth-only intermediate, server", []*certtest.Cert{viaServerInter, serverInter}, []*certtest.Cert{root}, serverUsage, "", false, 0},
		{"serverAuth-only intermediate in the CA bundle, peer", []*certtest.Cert{viaServerInter}, []*certtest.Cert{root, serverInter}, peerUsage, `certificate "CN=server-intermediate,O=certtest" must allow both`, false, 0},
		{"serverAuth-only intermediate in the CA bundle, server", []*certtest.Cert{viaServerInter}, []*certtest.Cert{root, serverInter}, serverUsage, "", false, 0},
		{"serverAuth-only root, peer", []*certtest.Cert{viaServerRoot}, []*certtest.Cert{serverRoot}, peerUsage, `certificate "CN=server-root,O=certtest" must allow both`, false, 0},
		{"leaf signed by another CA", []*certtest.Cert{foreign}, []*certtest.Cert{root}, peerUsage, `is not signed by a CA in the bundle (its issuer: "CN=other-ca,O=certtest")`, true, 0},
		{"intermediate missing", []*certtest.Cert{viaInter}, []*certtest.Cert{root}, peerUsage, "peer-intermediate", true, 0},
		{"leaf is a CA", []*certtest.Cert{leafCA}, []*certtest.Cert{root}, peerUsage, "is a CA certificate; give the member's own certificate first", false, 0},
		{"intermediate first", []*certtest.Cert{inter, viaInter}, []*certtest.Cert{root}, peerUsage, "is a CA certificate", false, 0},
		{"F6: expired leaf", []*certtest.Cert{expired}, []*certtest.Cert{root}, peerUsage, "has expired", false, 0},
		{"expired intermediate", []*certtest.Cert{viaExpiredInter, expiredInter}, []*certtest.Cert{root}, peerUsage, "has expired", false, 0},
		{"no certificate", nil, []*certtest.Cert{root}, peerUsage, "holds no certificate", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var chain, roots []*x509.Certificate
			for _, c := range tc.chain {
				chain = append(chain, c.Cert)
			}
			for _, c := range tc.roots {
				roots = append(roots, c.Cert)
			}
			w, err := certs.VerifyChain(chain, roots, tc.usage, now)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(w) != tc.wantW {
					t.Errorf("got %d warnings, want %d", len(w), tc.wantW)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got error %v, want %q", err, tc.wantErr)
			}
			certtest.AssertNoMaterial(t, err.Error(), pemOf(append(chain, roots...)...)...)
			var ce *certs.ChainError
			if unknown := errors.As(err, &ce) && ce.Unknown; unknown != tc.wantUnknown {
				t.Errorf("unknown authority = %v, want %v", unknown, tc.wantUnknown)
			}
		})
	}
}

func TestCheckChainOrder(t *testing.T) {
	root := certtest.NewCA(t, "peer-ca")
	inter := root.Issue(t, certtest.Options{CN: "peer-intermediate", IsCA: true})
	other := root.Issue(t, certtest.Options{CN: "other-intermediate", IsCA: true})
	leaf := inter.Leaf(t, "m2", "10.99.0.12")
	tests := []struct {
		name  string
		chain []*certtest.Cert
		want  string // error substring; empty: accepted
	}{
		{"leaf alone", []*certtest.Cert{leaf}, ""},
		{"leaf, intermediate", []*certtest.Cert{leaf, inter}, ""},
		{"leaf, intermediate, root", []*certtest.Cert{leaf, inter, root}, ""},
		{"intermediate first", []*certtest.Cert{inter, leaf}, `certificate "CN=peer-intermediate,O=certtest" is not signed by the certificate after it, "CN=m2,O=certtest"`},
		{"unrelated intermediate", []*certtest.Cert{leaf, other}, `certificate "CN=m2,O=certtest" is not signed by the certificate after it, "CN=other-intermediate,O=certtest"`},
		{"root before intermediate", []*certtest.Cert{leaf, root, inter}, "is not signed by the certificate after it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var chain []*x509.Certificate
			for _, c := range tc.chain {
				chain = append(chain, c.Cert)
			}
			err := certs.CheckChainOrder(chain)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want %q", err, tc.want)
			}
		})
	}
}
