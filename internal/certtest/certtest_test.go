package certtest_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/canonical/charmed-etcd-snap/internal/certtest"
)

// recorder is a testing.TB that notes a failure instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }

func TestAssertNoMaterial(t *testing.T) {
	c := certtest.NewCA(t, "peer-ca")
	keyLines := strings.Split(c.KeyPEM, "\n")
	block, _ := pem.Decode([]byte(c.KeyPEM))
	tests := []struct {
		name string
		msg  string
		want bool // flagged
	}{
		{"clean message", "cannot use tls.peer.key: is encrypted; provide an unencrypted key", false},
		{"a PEM marker", "cannot use tls.peer.key: -----BEGIN PRIVATE KEY", true},
		{"the word BEGIN", "cannot use tls.peer.key: has a BEGIN line", true},
		{"40 characters of the body", "cannot use x: " + keyLines[1][3:43], true},
		{"40 characters across two body lines", "cannot use x: " + keyLines[1][44:] + keyLines[2][:40-len(keyLines[1][44:])], true},
		{"39 characters of the body", "cannot use x: " + keyLines[1][3:42], false},
		{"40 characters of the whole PEM in base64", "cannot use x: " + base64.StdEncoding.EncodeToString([]byte(c.KeyPEM))[8:48], true},
		{"40 hex digits of the DER", "cannot use x: " + hex.EncodeToString(block.Bytes)[10:50], true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			certtest.AssertNoMaterial(r, tc.msg, c.CertPEM, c.KeyPEM)
			if r.failed != tc.want {
				t.Errorf("flagged = %v, want %v", r.failed, tc.want)
			}
		})
	}
}

func TestKeyEncodings(t *testing.T) {
	ec := certtest.NewKey(t, certtest.P256)
	tests := []struct {
		name   string
		pem    string
		blocks []string
	}{
		{"PKCS#8", certtest.PKCS8(t, ec), []string{"PRIVATE KEY"}},
		{"SEC1", certtest.SEC1(t, ec, false), []string{"EC PRIVATE KEY"}},
		{"SEC1 with parameters", certtest.SEC1(t, ec, true), []string{"EC PARAMETERS", "EC PRIVATE KEY"}},
		{"encrypted PKCS#8", certtest.EncryptedPKCS8(t), []string{"ENCRYPTED PRIVATE KEY"}},
		{"legacy encrypted", certtest.LegacyEncrypted(t, "EC PRIVATE KEY"), []string{"EC PRIVATE KEY"}},
		{"secp256k1 SEC1", certtest.Secp256k1SEC1(t), []string{"EC PRIVATE KEY"}},
		{"secp256k1 PKCS#8", certtest.Secp256k1PKCS8(t), []string{"PRIVATE KEY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for rest := []byte(tc.pem); ; {
				b, r := pem.Decode(rest)
				if b == nil {
					break
				}
				got = append(got, b.Type)
				rest = r
			}
			if strings.Join(got, ",") != strings.Join(tc.blocks, ",") {
				t.Errorf("blocks %q, want %q", got, tc.blocks)
			}
		})
	}
}
