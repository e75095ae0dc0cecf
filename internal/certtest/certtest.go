// Package certtest mints certificates for tests: CAs, intermediates and
// leaves with chosen key types, usages, SANs and validity. One helper for
// every test, so that a case reads as the property it tests.
package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// KeyType selects the key algorithm.
type KeyType int

// Key types. ECDSA P-256 is the default: RSA generation is slow on 2 cores.
const (
	P256 KeyType = iota
	P384
	RSA2048
	Ed25519
	// RSA1024 is too short for the snap: tests use it to check the refusal.
	RSA1024
	// P224 is a curve x509 parses but TLS does not serve.
	P224
)

// Cert is a certificate with its key, in parsed and PEM forms.
type Cert struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM string
	// KeyPEM is PKCS#8.
	KeyPEM string
}

// Options shape a certificate.
type Options struct {
	CN        string
	IPs       []string
	DNS       []string
	EKU       []x509.ExtKeyUsage // nil: serverAuth and clientAuth; use NoEKU for none
	NoEKU     bool
	KeyType   KeyType
	NotBefore time.Time // zero: an hour ago
	NotAfter  time.Time // zero: in 90 days
	IsCA      bool
	// Key is the certificate's key; nil: a new key of KeyType.
	Key crypto.Signer
}

var serial atomic.Int64

// NewKey makes a private key of type t.
func NewKey(t testing.TB, kt KeyType) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch kt {
	case P256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case Ed25519:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	case RSA1024:
		k, err = rsa.GenerateKey(rand.Reader, 1024)
	case P224:
		k, err = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	}
	if err != nil {
		t.Fatalf("cannot generate key: %v", err)
	}
	return k
}

// PKCS8 encodes a key as a PEM "PRIVATE KEY" block.
func PKCS8(t testing.TB, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatalf("cannot marshal key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func issue(t testing.TB, o Options, parent *Cert) *Cert {
	t.Helper()
	key := o.Key
	if key == nil {
		key = NewKey(t, o.KeyType)
	}
	now := time.Now()
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.Add(90 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1) + 1000),
		Subject:               pkix.Name{CommonName: o.CN, Organization: []string{"certtest"}},
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		BasicConstraintsValid: true,
		IsCA:                  o.IsCA,
		DNSNames:              o.DNS,
	}
	for _, ip := range o.IPs {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	if o.IsCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := key.(*rsa.PrivateKey); ok {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
	}
	switch {
	case o.NoEKU:
	case o.EKU != nil:
		tmpl.ExtKeyUsage = o.EKU
	case !o.IsCA:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	signer, parentCert := key, tmpl
	if parent != nil {
		signer, parentCert = parent.Key, parent.Cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), signer)
	if err != nil {
		t.Fatalf("cannot create certificate %s: %v", o.CN, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("cannot parse certificate %s: %v", o.CN, err)
	}
	return &Cert{Cert: c, Key: key, CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), KeyPEM: PKCS8(t, key)}
}

// NewCA makes a self-signed CA.
func NewCA(t testing.TB, cn string) *Cert {
	t.Helper()
	return issue(t, Options{CN: cn, IsCA: true}, nil)
}

// NewCAWith makes a self-signed CA with options.
func NewCAWith(t testing.TB, o Options) *Cert {
	t.Helper()
	o.IsCA = true
	return issue(t, o, nil)
}

// Issue signs a certificate with ca (a leaf, or an intermediate with IsCA).
func (ca *Cert) Issue(t testing.TB, o Options) *Cert {
	t.Helper()
	return issue(t, o, ca)
}

// Leaf is the usual member certificate: IP and DNS SANs, server and client auth.
func (ca *Cert) Leaf(t testing.TB, name, ip string) *Cert {
	t.Helper()
	return ca.Issue(t, Options{CN: name, IPs: []string{ip}, DNS: []string{name + ".etcd.test"}})
}

// PKCS1 encodes an RSA key as a PEM "RSA PRIVATE KEY" block, as
// openssl genrsa -traditional writes it.
func PKCS1(t testing.TB, k crypto.Signer) string {
	t.Helper()
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("PKCS#1 needs an RSA key, got %T", k)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}))
}

// SEC1 encodes an EC key as a PEM "EC PRIVATE KEY" block; withParams puts
// the "EC PARAMETERS" block before it, as openssl ecparam -genkey does.
func SEC1(t testing.TB, k crypto.Signer, withParams bool) string {
	t.Helper()
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("SEC1 needs an EC key, got %T", k)
	}
	der, err := x509.MarshalECPrivateKey(ek)
	if err != nil {
		t.Fatalf("cannot marshal EC key: %v", err)
	}
	var out []byte
	if withParams {
		oid, ok := curveOIDs[ek.Curve]
		if !ok {
			t.Fatalf("no OID for curve %s", ek.Curve.Params().Name)
		}
		params, err := asn1.Marshal(oid)
		if err != nil {
			t.Fatalf("cannot marshal curve OID: %v", err)
		}
		out = pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: params})
	}
	return string(append(out, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})...))
}

var curveOIDs = map[elliptic.Curve]asn1.ObjectIdentifier{
	elliptic.P224(): {1, 3, 132, 0, 33},
	elliptic.P256(): {1, 2, 840, 10045, 3, 1, 7},
	elliptic.P384(): {1, 3, 132, 0, 34},
	elliptic.P521(): {1, 3, 132, 0, 35},
}

// EncryptedPKCS8 is an "ENCRYPTED PRIVATE KEY" block, as openssl pkcs8
// -topk8 writes it without -nocrypt. Its body is random: nothing may try to
// decrypt it.
func EncryptedPKCS8(t testing.TB) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: randomBytes(t, 256)}))
}

// LegacyEncrypted is a traditional key block of blockType ("RSA PRIVATE
// KEY", "EC PRIVATE KEY") with the Proc-Type: 4,ENCRYPTED and DEK-Info
// headers openssl writes with -aes128. Its body is random.
func LegacyEncrypted(t testing.TB, blockType string) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{
		Type:    blockType,
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"},
		Bytes:   randomBytes(t, 128),
	}))
}

// Secp256k1SEC1 is an "EC PRIVATE KEY" on secp256k1, a curve Go does not
// implement, built by hand as RFC 5915 lays it out.
func Secp256k1SEC1(t testing.TB) string {
	t.Helper()
	der, err := asn1.Marshal(struct {
		Version    int
		PrivateKey []byte
		Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	}{1, randomBytes(t, 32), asn1.ObjectIdentifier{1, 3, 132, 0, 10}})
	if err != nil {
		t.Fatalf("cannot marshal secp256k1 key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// Bundle concatenates certificates' PEM, in order.
func Bundle(cs ...*Cert) string {
	var out string
	for _, c := range cs {
		out += c.CertPEM
	}
	return out
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("cannot read random bytes: %v", err)
	}
	return b
}

// Secp256k1PKCS8 is the same kind of key as Secp256k1SEC1 in a PKCS#8
// "PRIVATE KEY" block, as openssl pkey writes it.
func Secp256k1PKCS8(t testing.TB) string {
	t.Helper()
	secp256k1 := asn1.ObjectIdentifier{1, 3, 132, 0, 10}
	inner, err := asn1.Marshal(struct {
		Version    int
		PrivateKey []byte
	}{1, randomBytes(t, 32)})
	if err != nil {
		t.Fatalf("cannot marshal secp256k1 key: %v", err)
	}
	params, err := asn1.Marshal(secp256k1)
	if err != nil {
		t.Fatalf("cannot marshal curve OID: %v", err)
	}
	der, err := asn1.Marshal(struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, Parameters: asn1.RawValue{FullBytes: params}}, inner})
	if err != nil {
		t.Fatalf("cannot marshal PKCS#8 secp256k1 key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// CRL is a PEM X509 CRL signed by ca, revoking the given serials.
func (ca *Cert) CRL(t testing.TB, revoked ...*big.Int) string {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(serial.Add(1)), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour)}
	for _, s := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		t.Fatalf("cannot create CRL: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
}

// AssertNoMaterial fails t when msg (an error or warning shown to people)
// holds a PEM marker or any 40 characters of the body of one of pems, in
// base64 as written, as the base64 of the whole PEM, or as hex. It never
// prints msg: that would put the material in the test output.
func AssertNoMaterial(t testing.TB, msg string, pems ...string) {
	t.Helper()
	if strings.Contains(msg, "BEGIN") || strings.Contains(msg, "-----") {
		t.Errorf("message holds a PEM marker (%d characters, not shown)", len(msg))
		return
	}
	const window = 40
	for n, p := range pems {
		var body strings.Builder
		for _, line := range strings.Split(p, "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "-----") || strings.Contains(line, ":") {
				continue
			}
			body.WriteString(line)
		}
		forms := []string{body.String(), base64.StdEncoding.EncodeToString([]byte(p))}
		for rest := []byte(p); ; {
			b, r := pem.Decode(rest)
			if b == nil {
				break
			}
			forms = append(forms, hex.EncodeToString(b.Bytes), strings.ToUpper(hex.EncodeToString(b.Bytes)))
			rest = r
		}
		for _, form := range forms {
			for i := 0; i+window <= len(msg); i++ {
				if strings.Contains(form, msg[i:i+window]) {
					t.Errorf("message holds %d characters of PEM material %d at offset %d (not shown)", window, n, i)
					return
				}
			}
		}
	}
}

// Load wraps a CA made elsewhere (openssl in the lab) so tests can issue
// certificates from it.
func Load(t testing.TB, certPEM, keyPEM string) *Cert {
	t.Helper()
	cb, _ := pem.Decode([]byte(certPEM))
	kb, _ := pem.Decode([]byte(keyPEM))
	if cb == nil || kb == nil {
		t.Fatalf("cannot load a certificate and key: no PEM block")
	}
	c, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatalf("cannot parse certificate: %v", err)
	}
	var k any
	switch kb.Type {
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	}
	if err != nil {
		t.Fatalf("cannot parse key: %v", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		t.Fatalf("key of type %T cannot sign", k)
	}
	return &Cert{Cert: c, Key: signer, CertPEM: certPEM, KeyPEM: keyPEM}
}
