package settings_test

import (
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/settings"
)

// peerPEM checks the canonical files peer TLS would write.
func peerPEM(cert, key, ca string) func(*testing.T, *settings.Settings) {
	return func(t *testing.T, s *settings.Settings) {
		m := s.Peer()
		if m == nil {
			t.Fatalf("peer TLS is off")
		}
		if cert != "" && string(m.CertPEM) != cert {
			t.Errorf("peer certificate PEM is not the canonical one")
		}
		if key != "" && string(m.KeyPEM) != key {
			t.Errorf("peer key PEM is not the canonical one")
		}
		if ca != "" && string(m.CAPEM) != ca {
			t.Errorf("peer CA PEM is not the canonical one")
		}
		for _, b := range [][]byte{m.CertPEM, m.KeyPEM, m.CAPEM} {
			if strings.Contains(string(b), `\n`) || strings.Contains(string(b), "\r") {
				t.Errorf("canonical PEM holds a literal \\n or a CR")
			}
		}
	}
}

func clientAuth(want bool) func(*testing.T, *settings.Settings) {
	return func(t *testing.T, s *settings.Settings) {
		if s.Client() == nil {
			t.Fatalf("client TLS is off")
		}
		if s.Client().ClientCertAuth != want {
			t.Errorf("client-cert-auth %v, want %v", s.Client().ClientCertAuth, want)
		}
	}
}

func TestPeerAddress(t *testing.T) {
	l := newLab(t)
	issue := func(ips, dns []string) *certtest.Cert {
		return l.track(l.peerCA.Issue(t, certtest.Options{CN: "m2", IPs: ips, DNS: dns}))
	}
	v6 := issue([]string{"fd00:99::12"}, nil)
	dns := issue(nil, []string{"m2.etcd.test"})
	wild := issue(nil, []string{"*.etcd.test"})
	several := issue([]string{"10.99.0.11", "10.99.0.12", "10.99.0.13"}, []string{"m1.etcd.test", "m2.etcd.test"})
	ipOnly := issue([]string{"10.99.0.12"}, nil)
	ca := l.peerCA.CertPEM
	at := func(address string) map[string]any { return map[string]any{"address": address} }
	cases := []tcase{
		{name: "F1: m1's certificate on m2", opts: peerTLS(l.m1Peer, ca), want: []string{"cannot use tls.peer.cert", "IP:10.99.0.11, DNS:m1.etcd.test", "address 10.99.0.12"}},
		{name: "F1: m2's own certificate", opts: peerTLS(l.peer, ca), check: peerPEM(l.peer.CertPEM, l.peer.KeyPEM, ca)},
		{name: "IPv6 address", opts: with(peerTLS(v6, ca), at("fd00:99::12")), check: peerPEM(v6.CertPEM, "", "")},
		{name: "IPv6 address not covered", opts: with(peerTLS(v6, ca), at("fd00:99::13")), want: []string{"cannot use tls.peer.cert", "address fd00:99::13", "IP:fd00:99::12"}},
		{name: "DNS address, exact SAN", opts: with(peerTLS(dns, ca), at("m2.etcd.test")), check: peerPEM(dns.CertPEM, "", "")},
		{name: "DNS address, wildcard SAN", opts: with(peerTLS(wild, ca), at("m2.etcd.test")), check: peerPEM(wild.CertPEM, "", "")},
		{name: "DNS address, wildcard too deep", opts: with(peerTLS(wild, ca), at("a.m2.etcd.test")), want: []string{"cannot use tls.peer.cert", "DNS:*.etcd.test"}},
		{name: "several SANs", opts: peerTLS(several, ca), check: peerPEM(several.CertPEM, "", "")},
		{name: "IP-only certificate, DNS address", opts: with(peerTLS(ipOnly, ca), at("m2.etcd.test")), want: []string{"cannot use tls.peer.cert", "address m2.etcd.test", "IP:10.99.0.12"}},
		{name: "DNS-only certificate, IP address", opts: peerTLS(dns, ca), want: []string{"cannot use tls.peer.cert", "address 10.99.0.12", "DNS:m2.etcd.test"}},
		{name: "client surface: m1's certificate", opts: map[string]any{"tls.client.cert": l.m1Peer.CertPEM, "tls.client.key": l.m1Peer.KeyPEM}, want: []string{"cannot use tls.client.cert", "address 10.99.0.12"}},
	}
	run(t, cases, l.secrets)
}

func TestUsage(t *testing.T) {
	l := newLab(t)
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	peerServerOnly := l.track(l.peerCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, EKU: server}))
	peerNoEKU := l.track(l.peerCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, NoEKU: true}))
	serverInter := l.track(l.peerCA.Issue(t, certtest.Options{CN: "server-intermediate", IsCA: true, EKU: server}))
	viaServerInter := l.track(serverInter.Leaf(t, "m2", "10.99.0.12"))
	clientServerOnly := l.track(l.clientCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, EKU: server}))
	ca := l.peerCA.CertPEM
	both := "must allow both TLS server and client authentication (or carry no extended key usage at all)"
	client := func(c *certtest.Cert, extra map[string]any) map[string]any {
		return with(map[string]any{"tls.client.cert": c.CertPEM, "tls.client.key": c.KeyPEM}, extra)
	}
	cases := []tcase{
		{name: "F2: peer serverAuth only", opts: peerTLS(peerServerOnly, ca), want: []string{"cannot use tls.peer.cert", both, "its extended key usage is serverAuth"}},
		{name: "F2: peer serverAuth only, peer client-cert-auth=false", opts: with(peerTLS(peerServerOnly, ca), map[string]any{"tls.peer.client-cert-auth": false}), want: []string{"cannot use tls.peer.cert", both}},
		{name: "F2: peer without EKU", opts: peerTLS(peerNoEKU, ca), check: peerPEM(peerNoEKU.CertPEM, "", "")},
		{name: "F2: peer intermediate restricted to serverAuth", opts: with(peerTLS(viaServerInter, ca), map[string]any{"tls.peer.cert": certtest.Bundle(viaServerInter, serverInter)}), want: []string{"cannot use tls.peer.cert", `"CN=server-intermediate,O=certtest" ` + both}},
		{name: "F2: peer intermediate restricted to serverAuth, in the CA bundle", opts: with(peerTLS(viaServerInter, certtest.Bundle(l.peerCA, serverInter))), want: []string{"cannot use tls.peer.cert", `"CN=server-intermediate,O=certtest" ` + both}},
		{name: "F2: client serverAuth only with tls.client.ca", opts: client(clientServerOnly, map[string]any{"tls.client.ca": l.clientCA.CertPEM}), want: []string{"cannot use tls.client.cert", both}},
		{name: "F2: client serverAuth only with client-cert-auth=true", opts: client(clientServerOnly, map[string]any{"tls.client.ca": l.clientCA.CertPEM, "tls.client.client-cert-auth": "true"}), want: []string{"cannot use tls.client.cert", both}},
		{name: "F2: client serverAuth only with client-cert-auth=false", opts: client(clientServerOnly, map[string]any{"tls.client.ca": l.clientCA.CertPEM, "tls.client.client-cert-auth": false}), check: clientAuth(false)},
		{name: "F2: client serverAuth only, one-way without CA", opts: client(clientServerOnly, nil), check: clientAuth(false)},
		{name: "client with both usages and CA", opts: client(l.client, map[string]any{"tls.client.ca": l.clientCA.CertPEM}), check: clientAuth(true)},
	}
	run(t, cases, l.secrets)
}

func TestKeyFormats(t *testing.T) {
	l := newLab(t)
	rsaKey := certtest.NewKey(t, certtest.RSA2048)
	rsaLeaf := l.track(l.peerCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, Key: rsaKey}))
	p384 := l.track(l.peerCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, KeyType: certtest.P384}))
	ed := l.track(l.peerCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, KeyType: certtest.Ed25519}))
	p224 := l.track(l.peerCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, KeyType: certtest.P224}))
	rsa1024 := l.track(l.peerCA.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, KeyType: certtest.RSA1024}))
	ca := l.peerCA.CertPEM
	withKey := func(c *certtest.Cert, key string) map[string]any {
		return map[string]any{"tls.peer.cert": c.CertPEM, "tls.peer.key": l.text(key), "tls.peer.ca": ca}
	}
	pkcs1 := certtest.PKCS1(t, rsaKey)
	sec1 := certtest.SEC1(t, l.peer.Key, false)
	cases := []tcase{
		{name: "F3: PKCS#1 RSA", opts: withKey(rsaLeaf, pkcs1), check: peerPEM(rsaLeaf.CertPEM, pkcs1, ca)},
		{name: "F3: PKCS#8 RSA", opts: withKey(rsaLeaf, rsaLeaf.KeyPEM), check: peerPEM(rsaLeaf.CertPEM, rsaLeaf.KeyPEM, ca)},
		{name: "F3: SEC1 P-256", opts: withKey(l.peer, sec1), check: peerPEM(l.peer.CertPEM, sec1, ca)},
		{name: "F3: SEC1 P-256 after EC PARAMETERS", opts: withKey(l.peer, certtest.SEC1(t, l.peer.Key, true)), check: peerPEM(l.peer.CertPEM, sec1, ca)},
		{name: "F3: PKCS#8 P-384", opts: withKey(p384, p384.KeyPEM), check: peerPEM(p384.CertPEM, p384.KeyPEM, ca)},
		{name: "F3: PKCS#8 Ed25519", opts: withKey(ed, ed.KeyPEM), check: peerPEM(ed.CertPEM, ed.KeyPEM, ca)},
		{name: "F3: encrypted PKCS#8", opts: withKey(l.peer, certtest.EncryptedPKCS8(t)), want: []string{"cannot use tls.peer.key", "is encrypted; provide an unencrypted key"}},
		{name: "F3: Proc-Type 4,ENCRYPTED", opts: withKey(l.peer, certtest.LegacyEncrypted(t, "EC PRIVATE KEY")), want: []string{"cannot use tls.peer.key", "is encrypted; provide an unencrypted key"}},
		{name: "F3: Proc-Type 4,ENCRYPTED RSA", opts: withKey(rsaLeaf, certtest.LegacyEncrypted(t, "RSA PRIVATE KEY")), want: []string{"cannot use tls.peer.key", "is encrypted; provide an unencrypted key"}},
		{name: "F3: secp256k1", opts: withKey(l.peer, certtest.Secp256k1SEC1(t)), want: []string{"cannot use tls.peer.key", "elliptic curve", "not support"}},
		{name: "F3: secp256k1 PKCS#8", opts: withKey(l.peer, certtest.Secp256k1PKCS8(t)), want: []string{"cannot use tls.peer.key", "elliptic curve", "not support"}},
		{name: "F3: P-224", opts: withKey(p224, p224.KeyPEM), want: []string{"cannot use tls.peer.key", "elliptic curve P-224", "not support"}},
		{name: "F3: RSA 1024", opts: withKey(rsa1024, certtest.PKCS1(t, rsa1024.Key)), want: []string{"cannot use tls.peer.key", "1024-bit RSA key"}},
	}
	run(t, cases, l.secrets)
}

func TestWrongFile(t *testing.T) {
	l := newLab(t)
	client := func(cert, key string) map[string]any {
		return map[string]any{"tls.client.cert": cert, "tls.client.key": key, "tls.client.ca": l.clientCA.CertPEM}
	}
	cases := []tcase{
		{name: "F4: key from another pair", opts: client(l.client.CertPEM, l.otherClient.KeyPEM), want: []string{"cannot use tls.client.key: it does not match tls.client.cert"}},
		{name: "F4: cert and key swapped", opts: client(l.client.KeyPEM, l.client.CertPEM), want: []string{"cannot use tls.client.cert: contains a PRIVATE KEY block where a CERTIFICATE was expected"}},
		{name: "F4: cert in the key option", opts: client(l.client.CertPEM, l.client.CertPEM), want: []string{"cannot use tls.client.key: contains a CERTIFICATE block where a PRIVATE KEY was expected"}},
		{name: "F4: CA certificate as the key", opts: client(l.client.CertPEM, l.clientCA.CertPEM), want: []string{"cannot use tls.client.key: contains a CERTIFICATE block where a PRIVATE KEY was expected"}},
		{name: "F4: CA key as the key", opts: client(l.client.CertPEM, l.clientCA.KeyPEM), want: []string{"cannot use tls.client.key: it does not match tls.client.cert"}},
		{name: "F4: key in the CA option", opts: with(client(l.client.CertPEM, l.client.KeyPEM), map[string]any{"tls.client.ca": l.clientCA.KeyPEM}), want: []string{"cannot use tls.client.ca: contains a PRIVATE KEY block where a CERTIFICATE was expected"}},
		{name: "F4: peer cert and key swapped", opts: map[string]any{"tls.peer.cert": l.peer.KeyPEM, "tls.peer.key": l.peer.CertPEM, "tls.peer.ca": l.peerCA.CertPEM}, want: []string{"cannot use tls.peer.cert: contains a PRIVATE KEY block where a CERTIFICATE was expected"}},
		{name: "F4: peer key from another pair", opts: with(peerTLS(l.peer, l.peerCA.CertPEM), map[string]any{"tls.peer.key": l.m1Peer.KeyPEM}), want: []string{"cannot use tls.peer.key: it does not match tls.peer.cert"}},
		{name: "F4: the client CA as tls.peer.ca", opts: peerTLS(l.peer, l.clientCA.CertPEM), want: []string{"cannot use tls.peer.cert", "not signed by a CA of tls.peer.ca", `its issuer: "CN=peer-ca,O=certtest"`}},
		{name: "F4: the leaf as the CA", opts: peerTLS(l.peer, l.peer.CertPEM), want: []string{"cannot use tls.peer.ca", "is not a CA certificate"}},
		{name: "F4: a CRL as the certificate", opts: client(l.clientCA.CRL(t), l.client.KeyPEM), want: []string{"cannot use tls.client.cert", "X509 CRL block where a CERTIFICATE was expected"}},
	}
	run(t, cases, l.secrets)
}

func TestPEMForms(t *testing.T) {
	l := newLab(t)
	cert, key, ca := l.peer.CertPEM, l.peer.KeyPEM, certtest.Bundle(l.peerCA, l.peerCA2)
	form := func(f func(string) string) map[string]any {
		return map[string]any{"tls.peer.cert": l.text(f(cert)), "tls.peer.key": l.text(f(key)), "tls.peer.ca": l.text(f(ca))}
	}
	canonical := peerPEM(cert, key, ca)
	trim := func(s string) string { return strings.TrimSuffix(s, "\n") }
	lines := strings.Split(trim(cert), "\n")
	tcs := []tcase{
		{name: "F5: as written", opts: form(func(s string) string { return s }), check: canonical},
		{name: "F5: $(cat file), no final newline", opts: form(trim), check: canonical},
		{name: "F5: CRLF", opts: form(func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }), check: canonical},
		{name: "F5: leading spaces and trailing blank lines", opts: form(func(s string) string { return "  " + strings.ReplaceAll(trim(s), "\n", "\n  ") + "\n\n \n" }), check: canonical},
		{name: `F5: literal \n escapes on one line`, opts: form(func(s string) string { return strings.ReplaceAll(trim(s), "\n", `\n`) }), check: canonical},
		{name: `F5: literal \r\n escapes on one line`, opts: form(func(s string) string { return strings.ReplaceAll(trim(s), "\n", `\r\n`) }), check: canonical},
		{name: "F5: base64 of the whole PEM", opts: form(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }), check: canonical},
		{name: "F5: byte order mark and CRLF", opts: form(func(s string) string { return "\ufeff" + strings.ReplaceAll(s, "\n", "\r\n") }), check: canonical},
		{name: "F5: empty certificate", opts: with(form(trim), map[string]any{"tls.peer.cert": ""}), want: []string{"cannot turn peer TLS on: tls.peer.cert is missing"}},
		{name: "F5: blank certificate", opts: with(form(trim), map[string]any{"tls.peer.cert": " \n \r\n"}), want: []string{"cannot turn peer TLS on: tls.peer.cert is missing"}},
		{name: "F5: hello", opts: with(form(trim), map[string]any{"tls.peer.cert": "hello"}), want: []string{"cannot use tls.peer.cert", "no valid PEM CERTIFICATE block"}},
		{name: "F5: cut before its END line", opts: with(form(trim), map[string]any{"tls.peer.cert": strings.Join(lines[:len(lines)-1], "\n")}), want: []string{"cannot use tls.peer.cert", "no valid PEM CERTIFICATE block"}},
		{name: "F5: garbage after its END line", opts: with(form(trim), map[string]any{"tls.peer.cert": cert + "garbage"}), want: []string{"cannot use tls.peer.cert", "no valid PEM CERTIFICATE block"}},
		{name: "F5: CA bundle with a cut first CA", opts: with(form(trim), map[string]any{"tls.peer.ca": strings.Join(strings.Split(trim(l.peerCA2.CertPEM), "\n")[:5], "\n") + "\n" + l.peerCA.CertPEM}), want: []string{"cannot use tls.peer.ca", "no valid PEM CERTIFICATE block"}},
		{name: "F5: hello as the key", opts: with(form(trim), map[string]any{"tls.peer.key": "hello"}), want: []string{"cannot use tls.peer.key", "no valid PEM PRIVATE KEY block"}},
	}
	run(t, tcs, l.secrets)
}

func TestValidity(t *testing.T) {
	l := newLab(t)
	now := time.Now()
	day := 24 * time.Hour
	leaf := func(ca *certtest.Cert, nb, na time.Time) *certtest.Cert {
		return l.track(ca.Issue(t, certtest.Options{CN: "m2", IPs: []string{"10.99.0.12"}, NotBefore: nb, NotAfter: na}))
	}
	expired := leaf(l.peerCA, now.Add(-30*day), now.Add(-day))
	future := leaf(l.peerCA, now.Add(day), now.Add(30*day))
	soon := leaf(l.peerCA, now.Add(-day), now.Add(3*day))
	clientExpired := leaf(l.clientCA, now.Add(-30*day), now.Add(-day))
	expiredCA := l.track(certtest.NewCAWith(t, certtest.Options{CN: "old-ca", NotBefore: now.Add(-30 * day), NotAfter: now.Add(-day)}))
	ca := l.peerCA.CertPEM
	window := func(c *certtest.Cert) string {
		return "valid from " + c.Cert.NotBefore.UTC().Format("2006-01-02 15:04:05") + " UTC to " + c.Cert.NotAfter.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
	cases := []tcase{
		{name: "F6: expired yesterday", opts: peerTLS(expired, ca), want: []string{"cannot use tls.peer.cert", "has expired", window(expired)}},
		{name: "F6: valid from tomorrow", opts: peerTLS(future, ca), want: []string{"cannot use tls.peer.cert", "is not valid yet", window(future)}},
		{name: "F6: expires in 3 days", opts: peerTLS(soon, ca), check: func(t *testing.T, s *settings.Settings) {
			if w := s.Warnings(); len(w) != 1 || !strings.Contains(w[0], "tls.peer.cert") || !strings.Contains(w[0], "expires within a week") || !strings.Contains(w[0], window(soon)) {
				t.Errorf("warnings %q, want one about tls.peer.cert expiring", w)
			}
		}},
		{name: "valid for 90 days: no warning", opts: peerTLS(l.peer, ca), check: func(t *testing.T, s *settings.Settings) {
			if w := s.Warnings(); len(w) != 0 {
				t.Errorf("unexpected warnings %q", w)
			}
		}},
		{name: "F6: expired client certificate, one-way", opts: map[string]any{"tls.client.cert": clientExpired.CertPEM, "tls.client.key": clientExpired.KeyPEM}, want: []string{"cannot use tls.client.cert", "has expired", window(clientExpired)}},
		{name: "F6: expired CA", opts: peerTLS(l.peer, certtest.Bundle(l.peerCA, expiredCA)), want: []string{"cannot use tls.peer.ca", "has expired", window(expiredCA)}},
	}
	run(t, cases, l.secrets)
}

func TestChains(t *testing.T) {
	l := newLab(t)
	inter := l.track(l.peerCA.Issue(t, certtest.Options{CN: "peer-intermediate", IsCA: true}))
	viaInter := l.track(inter.Leaf(t, "m2", "10.99.0.12"))
	otherInter := l.track(l.peerCA.Issue(t, certtest.Options{CN: "other-intermediate", IsCA: true}))
	foreign := l.track(l.other.Leaf(t, "m2", "10.99.0.12"))
	leafCA := l.track(l.peerCA.Issue(t, certtest.Options{CN: "m2", IsCA: true, IPs: []string{"10.99.0.12"}}))
	byCA2 := l.track(l.peerCA2.Leaf(t, "m2", "10.99.0.12"))
	clientInter := l.track(l.clientCA.Issue(t, certtest.Options{CN: "client-intermediate", IsCA: true}))
	clientViaInter := l.track(clientInter.Leaf(t, "m2", "10.99.0.12"))
	ca := l.peerCA.CertPEM
	chain := func(leaf *certtest.Cert, certs ...*certtest.Cert) map[string]any {
		return map[string]any{"tls.peer.cert": certtest.Bundle(certs...), "tls.peer.key": leaf.KeyPEM, "tls.peer.ca": ca}
	}
	twoCAs := certtest.Bundle(l.peerCA, l.peerCA2)
	cases := []tcase{
		{name: "leaf and intermediate, root as CA", opts: chain(viaInter, viaInter, inter), check: peerPEM(viaInter.CertPEM+inter.CertPEM, viaInter.KeyPEM, ca)},
		{name: "leaf and intermediate, CRLF", opts: with(chain(viaInter), map[string]any{"tls.peer.cert": l.text(strings.ReplaceAll(certtest.Bundle(viaInter, inter), "\n", "\r\n"))}), check: func(t *testing.T, s *settings.Settings) {
			if got := len(strings.Split(string(s.Peer().CertPEM), "-----BEGIN CERTIFICATE-----")) - 1; got != 2 {
				t.Errorf("canonical chain holds %d certificates, want 2", got)
			}
		}},
		{name: "intermediate before leaf", opts: chain(viaInter, inter, viaInter), want: []string{"cannot use tls.peer.cert", "give the member's certificate first"}},
		{name: "leaf with an unrelated intermediate", opts: chain(viaInter, viaInter, otherInter), want: []string{"cannot use tls.peer.cert", `"CN=m2,O=certtest" is not signed by the certificate after it, "CN=other-intermediate,O=certtest"`}},
		{name: "intermediate missing", opts: chain(viaInter, viaInter), want: []string{"cannot use tls.peer.cert", "not signed by a CA of tls.peer.ca", "peer-intermediate"}},
		{name: "leaf signed by another CA", opts: peerTLS(foreign, ca), want: []string{"cannot use tls.peer.cert", `certificate "CN=m2,O=certtest" is not signed by a CA of tls.peer.ca (its issuer: "CN=other-ca,O=certtest")`}},
		{name: "leaf is a CA", opts: peerTLS(leafCA, ca), want: []string{"cannot use tls.peer.cert", "is a CA certificate"}},
		{name: "the CA itself as the leaf", opts: peerTLS(l.peerCA, ca), want: []string{"cannot use tls.peer.cert", "is a CA certificate"}},
		{name: "F10: CA bundle holding a leaf", opts: peerTLS(l.peer, certtest.Bundle(l.peerCA, l.m1Peer)), want: []string{"cannot use tls.peer.ca", `certificate "CN=m1,O=certtest" is not a CA certificate`}},
		{name: "F10: two CAs, leaf signed by the second", opts: peerTLS(byCA2, twoCAs), check: peerPEM(byCA2.CertPEM, "", twoCAs)},
		{name: "F10: two CAs, leaf signed by the first", opts: peerTLS(l.peer, twoCAs), check: peerPEM(l.peer.CertPEM, "", twoCAs)},
		{name: "F10: new CA only, old leaf", opts: peerTLS(l.peer, l.peerCA2.CertPEM), want: []string{"cannot use tls.peer.cert", "not signed by a CA of tls.peer.ca"}},
		{name: "one-way client chain", opts: map[string]any{"tls.client.cert": certtest.Bundle(clientViaInter, clientInter), "tls.client.key": clientViaInter.KeyPEM}, check: clientAuth(false)},
		{name: "one-way client chain, unrelated intermediate", opts: map[string]any{"tls.client.cert": certtest.Bundle(clientViaInter, otherInter), "tls.client.key": clientViaInter.KeyPEM}, want: []string{"cannot use tls.client.cert", "is not signed by the certificate after it"}},
		{name: "one-way client, a CA as the leaf", opts: map[string]any{"tls.client.cert": l.clientCA.CertPEM, "tls.client.key": l.clientCA.KeyPEM}, want: []string{"cannot use tls.client.cert", "is a CA certificate"}},
	}
	run(t, cases, l.secrets)
}

func TestPartialTLS(t *testing.T) {
	l := newLab(t)
	pc, pk, pca := l.peer.CertPEM, l.peer.KeyPEM, l.peerCA.CertPEM
	cc, ck, cca := l.client.CertPEM, l.client.KeyPEM, l.clientCA.CertPEM
	cases := []tcase{
		{name: "peer cert without key", opts: map[string]any{"tls.peer.cert": pc, "tls.peer.ca": pca}, want: []string{"cannot turn peer TLS on: tls.peer.key is missing (set: tls.peer.cert, tls.peer.ca)"}},
		{name: "peer key without cert", opts: map[string]any{"tls.peer.key": pk, "tls.peer.ca": pca}, want: []string{"cannot turn peer TLS on: tls.peer.cert is missing (set: tls.peer.key, tls.peer.ca)"}},
		{name: "peer cert alone", opts: map[string]any{"tls.peer.cert": pc}, want: []string{"cannot turn peer TLS on: tls.peer.key and tls.peer.ca are missing"}},
		{name: "peer cert and key without ca", opts: map[string]any{"tls.peer.cert": pc, "tls.peer.key": pk}, want: []string{"cannot turn peer TLS on: tls.peer.ca is missing (set: tls.peer.cert, tls.peer.key)"}},
		{name: "peer ca alone", opts: map[string]any{"tls.peer.ca": pca}, want: []string{"cannot turn peer TLS on: tls.peer.cert and tls.peer.key are missing (set: tls.peer.ca)"}},
		{name: "peer crl without TLS", opts: map[string]any{"tls.peer.crl": l.peerCA.CRL(t)}, want: []string{"cannot use tls.peer.crl: peer TLS is off"}},
		{name: "client cert without key", opts: map[string]any{"tls.client.cert": cc}, want: []string{"cannot turn client TLS on: tls.client.key is missing"}},
		{name: "client key without cert", opts: map[string]any{"tls.client.key": ck}, want: []string{"cannot turn client TLS on: tls.client.cert is missing"}},
		{name: "client ca alone", opts: map[string]any{"tls.client.ca": cca}, want: []string{"cannot use tls.client.ca: tls.client.cert and tls.client.key must be set too"}},
		{name: "client-cert-auth=true without ca", opts: map[string]any{"tls.client.cert": cc, "tls.client.key": ck, "tls.client.client-cert-auth": true}, want: []string{"cannot use tls.client.client-cert-auth=true: tls.client.ca must hold the CA"}},
		{name: "client-cert-auth=true alone", opts: map[string]any{"tls.client.client-cert-auth": "true"}, want: []string{"cannot use tls.client.client-cert-auth=true: client TLS is off"}},
		{name: "client crl without ca", opts: map[string]any{"tls.client.cert": cc, "tls.client.key": ck, "tls.client.client-cert-auth": false, "tls.client.crl": l.clientCA.CRL(t)}, want: []string{"cannot use tls.client.crl: a revocation list needs tls.client.ca"}},
		{name: "client one-way", opts: map[string]any{"tls.client.cert": cc, "tls.client.key": ck}, check: clientAuth(false)},
		{name: "F7: client ca with client-cert-auth=false", opts: map[string]any{"tls.client.cert": cc, "tls.client.key": ck, "tls.client.ca": cca, "tls.client.client-cert-auth": "false"}, check: clientAuth(false)},
		{name: "client mutual by default with ca", opts: map[string]any{"tls.client.cert": cc, "tls.client.key": ck, "tls.client.ca": cca}, check: clientAuth(true)},
		{name: "client crl", opts: map[string]any{"tls.client.cert": cc, "tls.client.key": ck, "tls.client.ca": cca, "tls.client.crl": l.clientCA.CRL(t)}, check: func(t *testing.T, s *settings.Settings) {
			if len(s.Client().CRLPEM) == 0 {
				t.Errorf("no CRL")
			}
		}},
		{name: "client crl from another CA", opts: map[string]any{"tls.client.cert": cc, "tls.client.key": ck, "tls.client.ca": cca, "tls.client.crl": l.other.CRL(t)}, want: []string{"cannot use tls.client.crl", "is not signed by a CA of the CA bundle"}},
		{name: "peer and client on", opts: with(peerTLS(l.peer, pca), map[string]any{"tls.client.cert": cc, "tls.client.key": ck, "tls.client.ca": cca}), check: func(t *testing.T, s *settings.Settings) {
			if s.Peer() == nil || s.Client() == nil || !s.Peer().ClientCertAuth {
				t.Errorf("peer %v client %v", s.Peer() != nil, s.Client() != nil)
			}
		}},
	}
	run(t, cases, l.secrets)
}
