package cis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/i18n"
)

// prober asks the live member.
type prober struct {
	timeout time.Duration
	offline bool
}

// result is what one request to the member gave.
type result struct {
	url     string
	served  *x509.Certificate
	version uint16
	status  int
	err     error
}

// outcome says in a few words how a request ended, for evidence.
func (r result) outcome() string {
	if r.err != nil {
		return fmt.Sprintf(i18n.G("refused: %v"), r.err)
	}
	return fmt.Sprintf(i18n.G("accepted, HTTP %d over %s"), r.status, tls.VersionName(r.version))
}

// probe makes one HTTP/1.1 request to path at the endpoint's host and
// port, presenting cert when it is not nil, on a new connection. It
// accepts whatever certificate the member serves and records it: the
// probe checks what the member serves and whom it lets in, and does not
// authenticate the member.
func (p *prober) probe(ctx context.Context, endpoint *url.URL, path string, cert *tls.Certificate) result {
	u := url.URL{Scheme: endpoint.Scheme, Host: endpoint.Host, Path: path}
	res := result{url: u.String()}
	cfg := &tls.Config{
		InsecureSkipVerify: true, // see above: the served certificate is recorded and compared instead
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) > 0 {
				res.served, _ = x509.ParseCertificate(raw[0])
			}
			return nil
		},
	}
	if cert != nil {
		// Present cert whatever CAs the member asks for: a Go client
		// otherwise sends no certificate when its issuer is not in the
		// server's list, and the probe would not test the member's
		// verification at all.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true, TLSHandshakeTimeout: p.timeout}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		res.err = err
		return res
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		res.err = err
		return res
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	res.status = resp.StatusCode
	if resp.TLS != nil {
		res.version = resp.TLS.Version
	}
	return res
}
