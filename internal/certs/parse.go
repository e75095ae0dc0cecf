package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// ParseCertificates reads every block of a PEM bundle; each must be a
// CERTIFICATE. It returns the certificates in order and their canonical PEM
// (re-encoded from DER, LF line ends, one final newline).
func ParseCertificates(text string) ([]*x509.Certificate, []byte, error) {
	data := Normalize(text)
	if len(data) == 0 {
		return nil, nil, errors.New(i18n.G("is empty: no valid PEM CERTIFICATE block"))
	}
	bs, err := blocks(data)
	if err != nil {
		return nil, nil, fmt.Errorf(i18n.G("has no valid PEM CERTIFICATE block: %v"), err)
	}
	var certs []*x509.Certificate
	var out []byte
	for i, b := range bs {
		if b.Type != "CERTIFICATE" {
			return nil, nil, fmt.Errorf(i18n.G("contains %s block where a CERTIFICATE was expected (block %d)"), describeBlock(b.Type), i+1)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf(i18n.G("holds a CERTIFICATE block that does not parse (block %d): %v"), i+1, err)
		}
		certs = append(certs, c)
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.Bytes})...)
	}
	return certs, out, nil
}

// ParsePrivateKey reads one unencrypted private key in PKCS#1, PKCS#8 or
// SEC1 form (an EC PARAMETERS block before it, as openssl ecparam -genkey
// writes, is allowed). It returns the key and its canonical PEM: the same
// block type and DER the user gave, without headers.
func ParsePrivateKey(text string) (crypto.Signer, []byte, error) {
	data := Normalize(text)
	if len(data) == 0 {
		return nil, nil, errors.New(i18n.G("is empty: no valid PEM PRIVATE KEY block"))
	}
	bs, err := blocks(data)
	if err != nil {
		return nil, nil, fmt.Errorf(i18n.G("has no valid PEM PRIVATE KEY block: %v"), err)
	}
	var key *pem.Block
	for _, b := range bs {
		switch {
		case b.Type == "EC PARAMETERS":
			continue
		case b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] == "4,ENCRYPTED":
			return nil, nil, errors.New(i18n.G("is encrypted; provide an unencrypted key"))
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			if key != nil {
				return nil, nil, errors.New(i18n.G("holds more than one PRIVATE KEY block"))
			}
			key = b
		default:
			return nil, nil, fmt.Errorf(i18n.G("contains %s block where a PRIVATE KEY was expected"), describeBlock(b.Type))
		}
	}
	if key == nil {
		return nil, nil, errors.New(i18n.G("has no PRIVATE KEY block"))
	}
	var parsed any
	switch key.Type {
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(key.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(key.Bytes)
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(key.Bytes)
	default:
		return nil, nil, fmt.Errorf(i18n.G("has a %s block, which is not a private key format etcd reads (use PKCS#8, PKCS#1 RSA or SEC1 EC)"), key.Type)
	}
	if err != nil {
		if strings.Contains(err.Error(), "unknown elliptic curve") || strings.Contains(err.Error(), "unsupported elliptic curve") {
			return nil, nil, errors.New(i18n.G("uses an elliptic curve Go's TLS does not support (use P-256, P-384 or P-521)"))
		}
		return nil, nil, fmt.Errorf(i18n.G("holds a %s block that does not parse: %v"), key.Type, err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New(i18n.G("holds a key type that cannot sign TLS handshakes"))
	}
	switch k := signer.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, nil, fmt.Errorf(i18n.G("is a %d-bit RSA key; use at least 2048 bits"), k.N.BitLen())
		}
	case *ecdsa.PrivateKey:
		// x509 also reads P-224 keys, but TLS signs only with these curves.
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return nil, nil, fmt.Errorf(i18n.G("uses the elliptic curve %s, which Go's TLS does not support (use P-256, P-384 or P-521)"), k.Curve.Params().Name)
		}
	case ed25519.PrivateKey:
	default:
		return nil, nil, fmt.Errorf(i18n.G("holds a %T key, which TLS does not use"), signer)
	}
	return signer, pem.EncodeToMemory(&pem.Block{Type: key.Type, Bytes: key.Bytes}), nil
}

// KeyMatches reports whether key is the private half of cert's public key.
func KeyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}
