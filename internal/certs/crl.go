package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// ParseCRL reads one PEM X509 CRL signed by one of issuers and returns its
// canonical PEM. etcd checks revocation against this file on every new
// connection, so a damaged list would refuse every peer or client.
func ParseCRL(text string, issuers []*x509.Certificate) ([]byte, error) {
	data := Normalize(text)
	bs, err := blocks(data)
	if err != nil {
		return nil, fmt.Errorf(i18n.G("has no valid PEM X509 CRL block: %v"), err)
	}
	if len(bs) != 1 || bs[0].Type != "X509 CRL" {
		return nil, errors.New(i18n.G("expected exactly one PEM X509 CRL block"))
	}
	crl, err := x509.ParseRevocationList(bs[0].Bytes)
	if err != nil {
		return nil, fmt.Errorf(i18n.G("holds an X509 CRL block that does not parse: %v"), err)
	}
	for _, ca := range issuers {
		if crl.CheckSignatureFrom(ca) == nil {
			return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: bs[0].Bytes}), nil
		}
	}
	return nil, fmt.Errorf(i18n.G("is not signed by a CA of the CA bundle (its issuer: %q)"), crl.Issuer.String())
}
