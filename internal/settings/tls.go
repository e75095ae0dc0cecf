package settings

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/canonical/charmed-etcd-snap/internal/certs"
	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

var tlsVersions = map[string]uint16{"TLS1.2": tls.VersionTLS12, "TLS1.3": tls.VersionTLS13}

func (s *Settings) validateTLS() error {
	minV, ok := tlsVersions[s.TLS.MinVersion]
	if !ok {
		return fmt.Errorf(i18n.G("cannot use tls.min-version %s: expected TLS1.2 or TLS1.3"), show(s.TLS.MinVersion))
	}
	maxV, ok := tlsVersions[s.TLS.MaxVersion]
	if !ok {
		return fmt.Errorf(i18n.G("cannot use tls.max-version %s: expected TLS1.2 or TLS1.3"), show(s.TLS.MaxVersion))
	}
	if minV > maxV {
		return fmt.Errorf(i18n.G("cannot use tls.min-version %s: it is above tls.max-version %s"), s.TLS.MinVersion, s.TLS.MaxVersion)
	}
	suites, err := cipherSuites(s.TLS.CipherSuites)
	if err != nil {
		return err
	}
	if s.peer, err = s.validateSurface("peer", &s.TLS.Peer, true); err != nil {
		return err
	}
	if s.client, err = s.validateSurface("client", &s.TLS.Client, false); err != nil {
		return err
	}
	if minV == tls.VersionTLS12 && len(suites) > 0 && !hasHTTP2Suite(suites) {
		// etcd serves HTTP/2, which refuses a TLS 1.2 list without an ECDHE
		// AES-128-GCM suite: etcd would not start.
		return errors.New(i18n.G("cannot use tls.cipher-suites: HTTP/2 (etcd's gRPC) needs TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 or TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 in the list"))
	}
	if minV == tls.VersionTLS12 {
		for _, m := range []struct {
			name string
			mat  *Material
		}{{"peer", s.peer}, {"client", s.client}} {
			if m.mat != nil {
				if err := suitesServe(suites, m.mat.Leaf, m.name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// CipherSuiteIDs maps the configured suites to Go's ids.
func cipherSuites(names []string) ([]*tls.CipherSuite, error) {
	byName := map[string]*tls.CipherSuite{}
	for _, c := range tls.CipherSuites() {
		byName[c.Name] = c
	}
	insecure := map[string]bool{}
	for _, c := range tls.InsecureCipherSuites() {
		insecure[c.Name] = true
	}
	var out []*tls.CipherSuite
	for _, n := range names {
		if insecure[n] {
			return nil, fmt.Errorf(i18n.G("cannot use tls.cipher-suites: %s is insecure"), show(n))
		}
		c, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf(i18n.G("cannot use tls.cipher-suites: %s is not a cipher suite name Go knows (use IANA names such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)"), show(n))
		}
		tls12 := false
		for _, v := range c.SupportedVersions {
			if v == tls.VersionTLS12 {
				tls12 = true
			}
		}
		if !tls12 {
			return nil, fmt.Errorf(i18n.G("cannot use tls.cipher-suites: %s is a TLS 1.3 suite, which cannot be configured"), show(n))
		}
		out = append(out, c)
	}
	return out, nil
}

// suitesServe refuses a TLS 1.2 suite list that cannot serve the leaf's key
// type: TLS 1.2 suites name the signature algorithm, so an RSA key needs an
// ECDHE_RSA suite and an ECDSA or Ed25519 key an ECDHE_ECDSA one.
func suitesServe(suites []*tls.CipherSuite, leaf *x509.Certificate, surface string) error {
	if len(suites) == 0 {
		return nil
	}
	want := "_ECDSA_"
	keyType := "ECDSA"
	switch leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		want, keyType = "_RSA_", "RSA"
	case ed25519.PublicKey:
		keyType = "Ed25519"
	case *ecdsa.PublicKey:
	}
	for _, c := range suites {
		if strings.Contains(c.Name, want) {
			return nil
		}
	}
	return fmt.Errorf(i18n.G("cannot use tls.cipher-suites: no suite in the list can serve the %s key of tls.%s.cert over TLS 1.2"), keyType, surface)
}

// validateSurface checks one surface. Peer TLS is on when cert, key and ca
// are all set; client TLS when cert and key are set. Anything between is
// refused, naming what is missing.
func (s *Settings) validateSurface(name string, sf *Surface, peer bool) (*Material, error) {
	opt := func(k string) string { return "tls." + name + "." + k }
	set := map[string]bool{"cert": strings.TrimSpace(sf.Cert) != "", "key": strings.TrimSpace(sf.Key) != "", "ca": strings.TrimSpace(sf.CA) != ""}
	required := []string{"cert", "key"}
	if peer {
		required = append(required, "ca")
	}
	var missing, present []string
	for _, k := range required {
		if set[k] {
			present = append(present, opt(k))
		} else {
			missing = append(missing, opt(k))
		}
	}
	if len(present) == 0 {
		if set["ca"] {
			return nil, fmt.Errorf(i18n.G("cannot use %s: %s and %s must be set too"), opt("ca"), opt("cert"), opt("key"))
		}
		if strings.TrimSpace(sf.CRL) != "" {
			return nil, fmt.Errorf(i18n.G("cannot use %s: %s TLS is off"), opt("crl"), name)
		}
		if sf.ClientCertAuth != nil && *sf.ClientCertAuth && !peer {
			return nil, fmt.Errorf(i18n.G("cannot use %s=true: client TLS is off (set %s, %s and %s)"), opt("client-cert-auth"), opt("cert"), opt("key"), opt("ca"))
		}
		return nil, nil
	}
	if len(missing) > 0 {
		if len(missing) == 1 {
			return nil, fmt.Errorf(i18n.G("cannot turn %s TLS on: %s is missing (set: %s)"), name, missing[0], strings.Join(present, ", "))
		}
		return nil, fmt.Errorf(i18n.G("cannot turn %s TLS on: %s are missing (set: %s)"), name, strings.Join(missing, " and "), strings.Join(present, ", "))
	}

	chain, certPEM, err := certs.ParseCertificates(sf.Cert)
	if err != nil {
		return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), opt("cert"), err)
	}
	if err := certs.CheckChainOrder(chain); err != nil {
		return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), opt("cert"), err)
	}
	key, keyPEM, err := certs.ParsePrivateKey(sf.Key)
	if err != nil {
		return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), opt("key"), err)
	}
	if !certs.KeyMatches(chain[0], key) {
		return nil, fmt.Errorf(i18n.G("cannot use %s: it does not match %s (certificate %s)"), opt("key"), opt("cert"), certs.Name(chain[0]))
	}
	if len(sf.AllowedCN) > 0 && len(sf.AllowedHostname) > 0 {
		// etcd's rule: a surface restricts peers by common name or by
		// host name, not both.
		return nil, fmt.Errorf(i18n.G("cannot use %s: %s is set too, and etcd takes one or the other"), opt("allowed-hostname"), opt("allowed-cn"))
	}
	m := &Material{CertPEM: certPEM, KeyPEM: keyPEM, Leaf: chain[0], KeyFingerprint: certs.Fingerprint(keyPEM),
		AllowedCN: sf.AllowedCN, AllowedHostname: sf.AllowedHostname}

	var roots []*x509.Certificate
	if set["ca"] {
		roots, m.CAPEM, err = certs.ParseCertificates(sf.CA)
		if err != nil {
			return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), opt("ca"), err)
		}
		w, err := certs.CheckCABundle(roots, s.Now)
		if err != nil {
			return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), opt("ca"), err)
		}
		s.warn(opt("ca"), w)
	}
	switch {
	case peer:
		m.ClientCertAuth = sf.ClientCertAuth == nil || *sf.ClientCertAuth
	case sf.ClientCertAuth == nil:
		m.ClientCertAuth = set["ca"]
	default:
		m.ClientCertAuth = *sf.ClientCertAuth
	}
	if m.ClientCertAuth && !set["ca"] {
		return nil, fmt.Errorf(i18n.G("cannot use %s=true: %s must hold the CA that signs client certificates"), opt("client-cert-auth"), opt("ca"))
	}
	// Peers dial each other with their peer certificate, and with client
	// certificate authentication etcd dials its own client port with the
	// client certificate: both then need client authentication too.
	usage := certs.Usage{Server: true, Client: peer || m.ClientCertAuth}
	if len(roots) > 0 {
		w, err := certs.VerifyChain(chain, roots, usage, s.Now)
		if err != nil {
			var ce *certs.ChainError
			if errors.As(err, &ce) && ce.Unknown {
				return nil, fmt.Errorf(i18n.G("cannot use %s: certificate %s is not signed by a CA of %s (its issuer: %q)"), opt("cert"), ce.Leaf, opt("ca"), ce.Issuer)
			}
			return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), opt("cert"), err)
		}
		s.warn(opt("cert"), w)
	} else {
		// One-way client TLS without a CA option: check what does not
		// need the issuer.
		for _, c := range chain {
			w, err := certs.CheckValidity(c, s.Now)
			if err != nil {
				return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), opt("cert"), err)
			}
			s.warn(opt("cert"), []string{w})
			if err := certs.CheckUsage(c, usage); err != nil {
				return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), opt("cert"), err)
			}
		}
		if chain[0].IsCA {
			return nil, fmt.Errorf(i18n.G("cannot use %s: certificate %s is a CA certificate; give the member's own certificate first"), opt("cert"), certs.Name(chain[0]))
		}
	}
	if err := certs.CheckAddress(chain[0], s.Address); err != nil {
		return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), opt("cert"), err)
	}
	if strings.TrimSpace(sf.CRL) != "" {
		if !set["ca"] {
			return nil, fmt.Errorf(i18n.G("cannot use %s: a revocation list needs %s"), opt("crl"), opt("ca"))
		}
		crlPEM, err := certs.ParseCRL(sf.CRL, roots)
		if err != nil {
			return nil, fmt.Errorf(i18n.G("cannot use %s: %v"), opt("crl"), err)
		}
		m.CRLPEM = crlPEM
	}
	return m, nil
}

func (s *Settings) warn(opt string, ws []string) {
	for _, w := range ws {
		if w != "" {
			s.warnings = append(s.warnings, opt+": "+w)
		}
	}
}

func hasHTTP2Suite(suites []*tls.CipherSuite) bool {
	for _, c := range suites {
		if c.ID == tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 || c.ID == tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 {
			return true
		}
	}
	return false
}
