package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// ExpiryWarning is how close to NotAfter a certificate is accepted with a warning.
const ExpiryWarning = 7 * 24 * time.Hour

const dateLayout = "2006-01-02 15:04:05 MST"

// Name describes a certificate for messages: its subject, or its serial
// when the subject is empty.
func Name(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return fmt.Sprintf("%q", s)
	}
	return "serial " + c.SerialNumber.Text(16)
}

// CheckValidity refuses a certificate outside its validity window at now,
// and warns when it ends within ExpiryWarning.
func CheckValidity(c *x509.Certificate, now time.Time) (warning string, err error) {
	window := fmt.Sprintf(i18n.G("valid from %s to %s"), c.NotBefore.UTC().Format(dateLayout), c.NotAfter.UTC().Format(dateLayout))
	if now.Before(c.NotBefore) {
		return "", fmt.Errorf(i18n.G("certificate %s is not valid yet (%s)"), Name(c), window)
	}
	if now.After(c.NotAfter) {
		return "", fmt.Errorf(i18n.G("certificate %s has expired (%s)"), Name(c), window)
	}
	if c.NotAfter.Sub(now) < ExpiryWarning {
		return fmt.Sprintf(i18n.G("certificate %s expires within a week (%s)"), Name(c), window), nil
	}
	return "", nil
}

// Usage is what a surface needs its certificate to be used for.
type Usage struct {
	Server bool
	Client bool
}

func (u Usage) describe() string {
	switch {
	case u.Server && u.Client:
		return i18n.G("both TLS server and client authentication")
	case u.Client:
		return i18n.G("TLS client authentication")
	default:
		return i18n.G("TLS server authentication")
	}
}

func (u Usage) ekus() []x509.ExtKeyUsage {
	var out []x509.ExtKeyUsage
	if u.Server {
		out = append(out, x509.ExtKeyUsageServerAuth)
	}
	if u.Client {
		out = append(out, x509.ExtKeyUsageClientAuth)
	}
	return out
}

// CheckUsage refuses a certificate whose extended key usage does not allow
// u. A certificate with no extended key usage allows everything, as in Go's
// and OpenSSL's verification. It applies to every certificate of a chain:
// an intermediate restricted to serverAuth makes clientAuth fail too.
func CheckUsage(c *x509.Certificate, u Usage) error {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return nil
	}
	has := map[x509.ExtKeyUsage]bool{}
	for _, e := range c.ExtKeyUsage {
		has[e] = true
	}
	if has[x509.ExtKeyUsageAny] {
		return nil
	}
	for _, need := range u.ekus() {
		if !has[need] {
			return fmt.Errorf(i18n.G("certificate %s must allow %s (or carry no extended key usage at all), but its extended key usage is %s"), Name(c), u.describe(), ekuNames(c))
		}
	}
	return nil
}

func ekuNames(c *x509.Certificate) string {
	names := map[x509.ExtKeyUsage]string{
		x509.ExtKeyUsageServerAuth: "serverAuth", x509.ExtKeyUsageClientAuth: "clientAuth",
		x509.ExtKeyUsageCodeSigning: "codeSigning", x509.ExtKeyUsageEmailProtection: "emailProtection",
		x509.ExtKeyUsageTimeStamping: "timeStamping", x509.ExtKeyUsageOCSPSigning: "OCSPSigning",
	}
	var out []string
	for _, e := range c.ExtKeyUsage {
		if n, ok := names[e]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("eku(%d)", e))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return strings.Join(out, ", ")
}

// SANs lists a certificate's subject alternative names as openssl prints them.
func SANs(c *x509.Certificate) string {
	var out []string
	for _, ip := range c.IPAddresses {
		out = append(out, "IP:"+ip.String())
	}
	for _, d := range c.DNSNames {
		out = append(out, "DNS:"+d)
	}
	if len(out) == 0 {
		return i18n.G("none")
	}
	return strings.Join(out, ", ")
}

// CheckAddress refuses a leaf that a client dialling address would refuse:
// an IP address must be among the IP SANs, a DNS name must match a DNS SAN
// (wildcards as in TLS). The common name is not used, as in Go since 1.15.
func CheckAddress(leaf *x509.Certificate, address string) error {
	host := strings.Trim(address, "[]")
	var err error
	if ip := net.ParseIP(host); ip != nil {
		err = leaf.VerifyHostname(ip.String())
	} else {
		err = leaf.VerifyHostname(host)
	}
	if err != nil {
		return fmt.Errorf(i18n.G("certificate does not cover this member's address %s (its SANs: %s)"), address, SANs(leaf))
	}
	return nil
}

// CheckCABundle refuses a bundle holding anything but usable CA certificates.
func CheckCABundle(cas []*x509.Certificate, now time.Time) (warnings []string, err error) {
	for _, c := range cas {
		if !c.IsCA || !c.BasicConstraintsValid {
			return nil, fmt.Errorf(i18n.G("certificate %s is not a CA certificate (no CA:TRUE basic constraint)"), Name(c))
		}
		w, err := CheckValidity(c, now)
		if err != nil {
			return nil, err
		}
		if w != "" {
			warnings = append(warnings, w)
		}
	}
	return warnings, nil
}

// ChainError says why a chain does not verify; Unknown is set when the
// issuer is not in the CA bundle, so the caller can name the CA option.
type ChainError struct {
	Unknown bool
	// Leaf names the certificate that does not verify, Issuer the issuer
	// it names, so a caller can say which CA option lacks it.
	Leaf, Issuer string
	Msg          string
}

func (e *ChainError) Error() string { return e.Msg }

// VerifyChain checks the leaf and intermediates of chain against roots for
// usage u at now, after the per-certificate checks that give precise
// reasons (leaf not a CA, validity, extended key usage on every certificate).
func VerifyChain(chain, roots []*x509.Certificate, u Usage, now time.Time) (warnings []string, err error) {
	if len(chain) == 0 {
		return nil, errors.New(i18n.G("holds no certificate"))
	}
	leaf := chain[0]
	if leaf.BasicConstraintsValid && leaf.IsCA {
		return nil, fmt.Errorf(i18n.G("certificate %s is a CA certificate; give the member's own certificate first"), Name(leaf))
	}
	for _, c := range chain {
		w, err := CheckValidity(c, now)
		if err != nil {
			return nil, err
		}
		if w != "" {
			warnings = append(warnings, w)
		}
		if err := CheckUsage(c, u); err != nil {
			return nil, err
		}
	}
	rootPool := x509.NewCertPool()
	for _, r := range roots {
		rootPool.AddCert(r)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	// Verify accepts a chain that allows any one of KeyUsages, so it is
	// asked for every chain and each is checked for every usage below: an
	// intermediate from the CA bundle restricted to serverAuth must fail a
	// peer certificate too, as it fails the peer's handshake.
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         rootPool,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) {
			return nil, &ChainError{Unknown: true, Leaf: Name(leaf), Issuer: leaf.Issuer.String(), Msg: fmt.Sprintf(i18n.G("certificate %s is not signed by a CA in the bundle (its issuer: %q)"), Name(leaf), leaf.Issuer.String())}
		}
		return nil, &ChainError{Msg: fmt.Sprintf(i18n.G("certificate %s does not verify against the CA bundle: %v"), Name(leaf), err)}
	}
	var usageErr error
	for _, ch := range chains {
		usageErr = nil
		for _, c := range ch[1:] {
			if usageErr = CheckUsage(c, u); usageErr != nil {
				break
			}
		}
		if usageErr == nil {
			return warnings, nil
		}
	}
	return nil, usageErr
}

// CheckChainOrder refuses a chain whose certificates are not each signed by
// the next one: etcd serves the chain as given, and a client cannot build a
// path through a certificate that does not belong to it.
func CheckChainOrder(chain []*x509.Certificate) error {
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return fmt.Errorf(i18n.G("certificate %s is not signed by the certificate after it, %s; give the member's certificate first, then each issuer in order"), Name(chain[i]), Name(chain[i+1]))
		}
	}
	return nil
}
