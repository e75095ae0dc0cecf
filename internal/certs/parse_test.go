package certs_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/canonical/charmed-etcd-snap/internal/certs"
	"github.com/canonical/charmed-etcd-snap/internal/certtest"
)

// wrap breaks s into lines of n characters, as base64(1) does.
func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// pemForms are the ways one PEM text arrives through `snap set` (F5).
func pemForms(orig string) map[string]string {
	trimmed := strings.TrimSuffix(orig, "\n")
	return map[string]string{
		"as written":                         orig,
		"$(cat file): no final newline":      trimmed,
		"CRLF line ends":                     strings.ReplaceAll(orig, "\n", "\r\n"),
		"CRLF, no final newline":             strings.ReplaceAll(trimmed, "\n", "\r\n"),
		"leading spaces and trailing blanks": "  " + strings.ReplaceAll(trimmed, "\n", "\n    ") + "\n\n  \n\t\n",
		"blank lines between lines":          strings.ReplaceAll(orig, "\n", "\n\n"),
		`literal \n escapes on one line`:     strings.ReplaceAll(trimmed, "\n", `\n`),
		`literal \n escapes, final one`:      strings.ReplaceAll(orig, "\n", `\n`),
		`literal \r\n escapes on one line`:   strings.ReplaceAll(trimmed, "\n", `\r\n`),
		"base64 of the whole PEM":            base64.StdEncoding.EncodeToString([]byte(orig)),
		"base64 of the whole PEM, wrapped":   wrap(base64.StdEncoding.EncodeToString([]byte(orig)), 76) + "\n",
		"base64 without padding":             base64.RawStdEncoding.EncodeToString([]byte(orig + "x\n")),
		"UTF-8 byte order mark":              "\ufeff" + orig,
	}
}

func assertCanonical(t *testing.T, got []byte) {
	t.Helper()
	if bytes.Contains(got, []byte(`\n`)) || bytes.Contains(got, []byte("\r")) {
		t.Errorf("canonical PEM holds a literal \\n or a CR")
	}
	if !bytes.HasSuffix(got, []byte("-----\n")) || bytes.HasSuffix(got, []byte("\n\n")) {
		t.Errorf("canonical PEM does not end with exactly one newline after its END line")
	}
}

func TestParseCertificatesForms(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	inter := ca.Issue(t, certtest.Options{CN: "peer-intermediate", IsCA: true})
	leaf := inter.Leaf(t, "m2", "10.99.0.12")
	for _, in := range []struct {
		name string
		pem  string
		n    int
	}{
		{"one certificate", leaf.CertPEM, 1},
		{"leaf and intermediate", certtest.Bundle(leaf, inter), 2},
	} {
		for form, text := range pemForms(in.pem) {
			if form == "base64 without padding" {
				// The "x\n" added to force a length that needs padding
				// is text after the last block: refused below.
				continue
			}
			t.Run(in.name+"/"+form, func(t *testing.T) {
				got, canon, err := certs.ParseCertificates(text)
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(got) != in.n {
					t.Fatalf("got %d certificates, want %d", len(got), in.n)
				}
				if !bytes.Equal(canon, []byte(in.pem)) {
					t.Errorf("canonical PEM differs from the original")
				}
				assertCanonical(t, canon)
			})
		}
	}
}

func TestParseCertificatesRefused(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	leaf := ca.Leaf(t, "m2", "10.99.0.12")
	lines := strings.Split(strings.TrimSuffix(leaf.CertPEM, "\n"), "\n")
	cutBeforeEnd := strings.Join(lines[:len(lines)-1], "\n")
	cutMidBody := strings.Join(lines[:len(lines)/2], "\n")
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", "no valid PEM CERTIFICATE block"},
		{"blank lines only", " \n\r\n\t", "no valid PEM CERTIFICATE block"},
		{"hello", "hello", "no valid PEM CERTIFICATE block"},
		{"base64 of hello", base64.StdEncoding.EncodeToString([]byte("hello")), "no valid PEM CERTIFICATE block"},
		{"cut before its END line", cutBeforeEnd, "no valid PEM CERTIFICATE block"},
		{"cut in the middle of the body", cutMidBody, "no valid PEM CERTIFICATE block"},
		{"only the BEGIN line", lines[0], "no valid PEM CERTIFICATE block"},
		{"garbage after the END line", leaf.CertPEM + "garbage\n", "no valid PEM CERTIFICATE block"},
		{"garbage on the END line", strings.TrimSuffix(leaf.CertPEM, "\n") + "garbage", "no valid PEM CERTIFICATE block"},
		{"text before the BEGIN line", "subject=CN=m2\n" + leaf.CertPEM, "no valid PEM CERTIFICATE block"},
		{"a cut block before a good one", cutBeforeEnd + "\n" + ca.CertPEM, "no valid PEM CERTIFICATE block"},
		{"a good block, then a cut one", ca.CertPEM + cutBeforeEnd, "no valid PEM CERTIFICATE block"},
		{"END type differs from BEGIN type", strings.Replace(leaf.CertPEM, "END CERTIFICATE", "END X509 CRL", 1), "no valid PEM CERTIFICATE block"},
		{"base64 body damaged", strings.Replace(leaf.CertPEM, lines[2], "!!!!"+lines[2][4:], 1), "no valid PEM CERTIFICATE block"},
		{"DER damaged", strings.Replace(leaf.CertPEM, lines[1], "MIIB"+strings.Repeat("A", len(lines[1])-4), 1), "CERTIFICATE block that does not parse"},
		{"a private key (F4)", leaf.KeyPEM, "contains a PRIVATE KEY block where a CERTIFICATE was expected"},
		{"certificate then its key", leaf.CertPEM + leaf.KeyPEM, "contains a PRIVATE KEY block where a CERTIFICATE was expected (block 2)"},
		{"an SEC1 key", certtest.SEC1(t, leaf.Key, false), "contains a PRIVATE KEY block where a CERTIFICATE was expected"},
		{"a CRL", ca.CRL(t), "contains a X509 CRL block where a CERTIFICATE was expected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, canon, err := certs.ParseCertificates(tc.in)
			if err == nil {
				t.Fatalf("accepted, want an error containing %q", tc.want)
			}
			if canon != nil {
				t.Errorf("returned canonical PEM with an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			certtest.AssertNoMaterial(t, err.Error(), leaf.CertPEM, leaf.KeyPEM, ca.CertPEM, ca.KeyPEM)
		})
	}
}

func TestParsePrivateKeyAccepted(t *testing.T) {
	p256 := certtest.NewKey(t, certtest.P256)
	p384 := certtest.NewKey(t, certtest.P384)
	ed := certtest.NewKey(t, certtest.Ed25519)
	rsa := certtest.NewKey(t, certtest.RSA2048)
	tests := []struct {
		name string
		in   string
		want string // canonical PEM; the input itself when empty
	}{
		{"PKCS#8 P-256", certtest.PKCS8(t, p256), ""},
		{"SEC1 P-256", certtest.SEC1(t, p256, false), ""},
		{"SEC1 P-256 after EC PARAMETERS", certtest.SEC1(t, p256, true), certtest.SEC1(t, p256, false)},
		{"PKCS#8 P-384", certtest.PKCS8(t, p384), ""},
		{"SEC1 P-384", certtest.SEC1(t, p384, false), ""},
		{"PKCS#8 Ed25519", certtest.PKCS8(t, ed), ""},
		{"PKCS#1 RSA 2048", certtest.PKCS1(t, rsa), ""},
		{"PKCS#8 RSA 2048", certtest.PKCS8(t, rsa), ""},
		{"PKCS#1 RSA, CRLF", strings.ReplaceAll(certtest.PKCS1(t, rsa), "\n", "\r\n"), certtest.PKCS1(t, rsa)},
		{`SEC1 P-256, literal \n`, strings.ReplaceAll(certtest.SEC1(t, p256, true), "\n", `\n`), certtest.SEC1(t, p256, false)},
		{"PKCS#8 P-256, base64", base64.StdEncoding.EncodeToString([]byte(certtest.PKCS8(t, p256))), certtest.PKCS8(t, p256)},
		{"PKCS#8 P-256, indented", "    " + strings.ReplaceAll(certtest.PKCS8(t, p256), "\n", "\n    "), certtest.PKCS8(t, p256)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, canon, err := certs.ParsePrivateKey(tc.in)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			want := tc.want
			if want == "" {
				want = tc.in
			}
			if string(canon) != want {
				t.Errorf("canonical PEM differs from the expected block")
			}
			assertCanonical(t, canon)
			if key == nil {
				t.Fatalf("no key returned")
			}
		})
	}
}

func TestParsePrivateKeyRefused(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	leaf := ca.Leaf(t, "m2", "10.99.0.12")
	p224 := certtest.NewKey(t, certtest.P224)
	rsa1024 := certtest.NewKey(t, certtest.RSA1024)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", "no valid PEM PRIVATE KEY block"},
		{"hello", "hello", "no valid PEM PRIVATE KEY block"},
		{"cut before its END line", strings.TrimSuffix(strings.TrimSuffix(leaf.KeyPEM, "\n"), "-----END PRIVATE KEY-----"), "no valid PEM PRIVATE KEY block"},
		{"encrypted PKCS#8", certtest.EncryptedPKCS8(t), "is encrypted; provide an unencrypted key"},
		{"legacy encrypted RSA", certtest.LegacyEncrypted(t, "RSA PRIVATE KEY"), "is encrypted; provide an unencrypted key"},
		{"legacy encrypted EC", certtest.LegacyEncrypted(t, "EC PRIVATE KEY"), "is encrypted; provide an unencrypted key"},
		{"legacy encrypted EC, CRLF", strings.ReplaceAll(certtest.LegacyEncrypted(t, "EC PRIVATE KEY"), "\n", "\r\n"), "is encrypted; provide an unencrypted key"},
		{"SEC1 secp256k1", certtest.Secp256k1SEC1(t), "elliptic curve"},
		{"PKCS#8 secp256k1", certtest.Secp256k1PKCS8(t), "elliptic curve"},
		{"SEC1 P-224", certtest.SEC1(t, p224, false), "elliptic curve P-224, which Go's TLS does not support"},
		{"PKCS#8 P-224", certtest.PKCS8(t, p224), "elliptic curve P-224, which Go's TLS does not support"},
		{"PKCS#1 RSA 1024", certtest.PKCS1(t, rsa1024), "is a 1024-bit RSA key; use at least 2048 bits"},
		{"PKCS#8 RSA 1024", certtest.PKCS8(t, rsa1024), "is a 1024-bit RSA key; use at least 2048 bits"},
		{"a certificate (F4)", leaf.CertPEM, "contains a CERTIFICATE block where a PRIVATE KEY was expected"},
		{"the CA certificate (F4)", ca.CertPEM, "contains a CERTIFICATE block where a PRIVATE KEY was expected"},
		{"key then certificate", leaf.KeyPEM + leaf.CertPEM, "contains a CERTIFICATE block where a PRIVATE KEY was expected"},
		{"two keys", leaf.KeyPEM + ca.KeyPEM, "holds more than one PRIVATE KEY block"},
		{"EC PARAMETERS alone", strings.Split(certtest.SEC1(t, leaf.Key, true), "-----END EC PARAMETERS-----")[0] + "-----END EC PARAMETERS-----\n", "has no PRIVATE KEY block"},
		{"OpenSSH key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "not a private key format etcd reads"},
		{"PKCS#8 DER damaged", "-----BEGIN PRIVATE KEY-----\nMIIBAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n", "holds a PRIVATE KEY block that does not parse"},
		{"SEC1 label, PKCS#8 body", strings.ReplaceAll(leaf.KeyPEM, "PRIVATE KEY", "EC PRIVATE KEY"), "holds a EC PRIVATE KEY block that does not parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, canon, err := certs.ParsePrivateKey(tc.in)
			if err == nil {
				t.Fatalf("accepted, want an error containing %q", tc.want)
			}
			if key != nil || canon != nil {
				t.Errorf("returned a key with an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			certtest.AssertNoMaterial(t, err.Error(), tc.in, leaf.KeyPEM, leaf.CertPEM, ca.CertPEM)
		})
	}
}

func TestKeyMatches(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	leaf := ca.Leaf(t, "m2", "10.99.0.12")
	other := ca.Leaf(t, "m3", "10.99.0.13")
	ed := ca.Issue(t, certtest.Options{CN: "ed", KeyType: certtest.Ed25519, IPs: []string{"10.99.0.12"}})
	tests := []struct {
		name string
		cert *certtest.Cert
		key  string
		want bool
	}{
		{"own key, PKCS#8", leaf, leaf.KeyPEM, true},
		{"own key, SEC1", leaf, certtest.SEC1(t, leaf.Key, false), true},
		{"own Ed25519 key", ed, ed.KeyPEM, true},
		{"key of another pair", leaf, other.KeyPEM, false},
		{"CA key", leaf, ca.KeyPEM, false},
		{"Ed25519 key for an ECDSA cert", leaf, ed.KeyPEM, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, _, err := certs.ParsePrivateKey(tc.key)
			if err != nil {
				t.Fatalf("cannot parse key: %v", err)
			}
			if got := certs.KeyMatches(tc.cert.Cert, key); got != tc.want {
				t.Errorf("KeyMatches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	key := certtest.PKCS8(t, certtest.NewKey(t, certtest.P256))
	fp := certs.Fingerprint([]byte(key))
	if fp != certs.Fingerprint([]byte(key)) {
		t.Fatalf("fingerprint is not stable")
	}
	certtest.AssertNoMaterial(t, fp, key)
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"a fingerprint", fp, true},
		{"upper-case hex", "sha256:" + strings.ToUpper(strings.TrimPrefix(fp, "sha256:")), true},
		{"no prefix", strings.TrimPrefix(fp, "sha256:"), false},
		{"short", fp[:len(fp)-2], false},
		{"not hex", fp[:len(fp)-1] + "z", false},
		{"another digest", "sha1:" + strings.TrimPrefix(fp, "sha256:"), false},
		{"a key", key, false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := certs.IsFingerprint(tc.in); got != tc.want {
				t.Errorf("IsFingerprint = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseCRL(t *testing.T) {
	ca := certtest.NewCA(t, "peer-ca")
	other := certtest.NewCA(t, "other-ca")
	leaf := ca.Leaf(t, "m2", "10.99.0.12")
	crl := ca.CRL(t, leaf.Cert.SerialNumber)
	tests := []struct {
		name    string
		in      string
		issuers []*certtest.Cert
		want    string // error substring; empty: accepted
	}{
		{"signed by the CA", crl, []*certtest.Cert{ca}, ""},
		{"signed by the second CA of a bundle", crl, []*certtest.Cert{other, ca}, ""},
		{"CRLF", strings.ReplaceAll(crl, "\n", "\r\n"), []*certtest.Cert{ca}, ""},
		{"signed by another CA", crl, []*certtest.Cert{other}, "is not signed by a CA of the CA bundle"},
		{"a certificate", leaf.CertPEM, []*certtest.Cert{ca}, "expected exactly one PEM X509 CRL block"},
		{"two CRLs", crl + crl, []*certtest.Cert{ca}, "expected exactly one PEM X509 CRL block"},
		{"hello", "hello", []*certtest.Cert{ca}, "has no valid PEM X509 CRL block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var issuers []*x509.Certificate
			for _, c := range tc.issuers {
				issuers = append(issuers, c.Cert)
			}
			out, err := certs.ParseCRL(tc.in, issuers)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if string(out) != crl {
					t.Errorf("canonical CRL differs from the original")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want %q", err, tc.want)
			}
			certtest.AssertNoMaterial(t, err.Error(), crl, leaf.CertPEM)
		})
	}
}
