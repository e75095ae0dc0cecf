package security

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Get makes one request on a new connection (no keep-alive, HTTP/1.1) with
// the client TLS settings cfg, and returns the status and body. Each call
// is a new TLS handshake, so it sees the member's current certificates,
// CRLs and policy.
func Get(ctx context.Context, url string, cfg *tls.Config) (int, string, error) {
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true, TLSHandshakeTimeout: 5 * time.Second,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// Handshake dials addr and completes a TLS handshake with cfg, and returns
// the negotiated state or the handshake's error. It shows what the server
// negotiates (versions, suites); whether a client certificate is accepted
// shows only on a request (Get): in TLS 1.3 the server refuses it after
// the client's side of the handshake has finished.
func Handshake(ctx context.Context, addr string, cfg *tls.Config) (*tls.ConnectionState, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tc := c.(*tls.Conn)
	st := tc.ConnectionState()
	return &st, nil
}

// ClientConfig is a TLS client that trusts ca and presents cert and key
// (PEM; empty for none), limited to versions [min, max] and, when given,
// to the TLS 1.2 suites.
func ClientConfig(caPEM, certPEM, keyPEM string, min, max uint16, suites ...uint16) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if caPEM != "" && !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return nil, fmt.Errorf("cannot read the CA bundle")
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: min, MaxVersion: max, CipherSuites: suites}
	if certPEM != "" {
		pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			return nil, fmt.Errorf("cannot load the client key pair: %v", err)
		}
		// Present the certificate whatever CAs the server asks for, so
		// that the server's verification is what decides.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	return cfg, nil
}
