package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Cert is a certificate and its key, in memory and as PEM files.
type Cert struct {
	X509     *x509.Certificate
	Key      *ecdsa.PrivateKey
	CertPEM  []byte
	KeyPEM   []byte
	CertFile string
	KeyFile  string
}

// PKI is every certificate the benchmarks use. One CA signs both the
// server certificate of the client port and the benchmark clients'
// certificate, as the snap's model has it (tls.client.ca checks both); a
// second CA is the target of the CA change.
type PKI struct {
	CA1, CA2 *Cert
	// ServerA and ServerB are CA1 leaves for 127.0.0.1: a leaf renewal
	// switches between them. ServerC is CA2's leaf.
	ServerA, ServerB, ServerC *Cert
	// Client is the benchmark clients' certificate (CA1, clientAuth).
	Client *Cert
	// Bundle12 is CA1 and CA2 in one file: the CA bundle after a CA change,
	// and what every client trusts from the start.
	Bundle12File string
	Bundle12PEM  []byte
}

// NewPKI mints P-256 certificates under dir (ECDSA: RSA key generation is
// slow on two cores, and it is what the lab's openssl CAs use).
func NewPKI(dir string) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &PKI{}
	var err error
	if p.CA1, err = mint(dir, "ca1", nil, true, nil); err != nil {
		return nil, err
	}
	if p.CA2, err = mint(dir, "ca2", nil, true, nil); err != nil {
		return nil, err
	}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, l := range []struct {
		dst  **Cert
		name string
		ca   *Cert
		eku  []x509.ExtKeyUsage
	}{
		{&p.ServerA, "server-a", p.CA1, both},
		{&p.ServerB, "server-b", p.CA1, both},
		{&p.ServerC, "server-c", p.CA2, both},
		{&p.Client, "client", p.CA1, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	} {
		if *l.dst, err = mint(dir, l.name, l.ca, false, l.eku); err != nil {
			return nil, err
		}
	}
	p.Bundle12PEM = append(append([]byte{}, p.CA1.CertPEM...), p.CA2.CertPEM...)
	p.Bundle12File = filepath.Join(dir, "bundle12.pem")
	return p, os.WriteFile(p.Bundle12File, p.Bundle12PEM, 0o644)
}

var serial int64 = time.Now().UnixNano()

func mint(dir, name string, ca *Cert, isCA bool, eku []x509.ExtKeyUsage) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial++
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{Organization: []string{"charmed-etcd bench"}, CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(90 * 24 * time.Hour),
	}
	parent, signer := tmpl, key
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = eku
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost"}
		parent, signer = ca.X509, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("cannot mint %s: %v", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	c := &Cert{
		X509: cert, Key: key,
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		CertFile: filepath.Join(dir, name+".pem"),
		KeyFile:  filepath.Join(dir, name+".key"),
	}
	if err := os.WriteFile(c.CertFile, c.CertPEM, 0o644); err != nil {
		return nil, err
	}
	return c, os.WriteFile(c.KeyFile, c.KeyPEM, 0o600)
}

// ClientTLS is what every benchmark client presents: the client
// certificate, trust in both CAs, and no session cache, so that every new
// connection is a full handshake.
func (p *PKI) ClientTLS() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.CA1.X509)
	pool.AddCert(p.CA2.X509)
	return &tls.Config{
		RootCAs: pool,
		Certificates: []tls.Certificate{{
			Certificate: [][]byte{p.Client.X509.Raw},
			PrivateKey:  p.Client.Key,
			Leaf:        p.Client.X509,
		}},
		ServerName: "127.0.0.1",
		MinVersion: tls.VersionTLS12,
	}
}
