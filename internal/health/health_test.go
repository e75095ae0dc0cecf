package health_test

import (
	"strings"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/health"
)

func TestEvaluate(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	ca := certtest.NewCAWith(t, certtest.Options{CN: "peer-ca", NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)})
	leaf := func(cn string, notAfter time.Time) string {
		return ca.Issue(t, certtest.Options{CN: cn, IPs: []string{"10.99.0.11"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: notAfter}).CertPEM
	}
	fine := leaf("m1", now.Add(60*24*time.Hour))
	soon := leaf("m1", now.Add(3*24*time.Hour))
	sooner := leaf("m2", now.Add(2*24*time.Hour))
	gone := leaf("m3", now.Add(-time.Hour))
	long := leaf(strings.Repeat("a-very-long-common-name-", 4), now.Add(3*24*time.Hour))
	expiringCA := certtest.NewCAWith(t, certtest.Options{CN: "client-ca", NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(5 * 24 * time.Hour)})

	cases := []struct {
		name    string
		sources []health.Source
		want    health.Status
	}{
		{"no TLS", nil, health.Status{Status: "okay"}},
		{"all far from expiry", []health.Source{{"tls.peer.cert", []byte(fine)}, {"tls.peer.ca", []byte(ca.CertPEM)}}, health.Status{Status: "okay"}},
		{"leaf expires in 3 days", []health.Source{{"tls.peer.cert", []byte(soon)}},
			health.Status{"error", "tls.peer.cert (CN m1) expires 2026-11-23 12:00 UTC", "certificate-expiring"}},
		{"the one that ends first", []health.Source{{"tls.peer.cert", []byte(soon)}, {"tls.client.cert", []byte(sooner)}},
			health.Status{"error", "tls.client.cert (CN m2) expires 2026-11-22 12:00 UTC", "certificate-expiring"}},
		{"expired before expiring", []health.Source{{"tls.peer.cert", []byte(sooner)}, {"tls.client.cert", []byte(gone)}},
			health.Status{"error", "tls.client.cert (CN m3) expired 2026-11-20 11:00 UTC", "certificate-expired"}},
		{"a CA in a bundle", []health.Source{{"tls.client.ca", []byte(ca.CertPEM + expiringCA.CertPEM)}},
			health.Status{"error", "tls.client.ca (CN client-ca) expires 2026-11-25 12:00 UTC", "certificate-expiring"}},
		{"an intermediate in a chain", []health.Source{{"tls.peer.cert", []byte(fine + expiringCA.CertPEM)}},
			health.Status{"error", "tls.peer.cert (CN client-ca) expires 2026-11-25 12:00 UTC", "certificate-expiring"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := health.Evaluate(now, tc.sources)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if err := health.Valid(got); err != nil {
				t.Errorf("snapctl set-health would refuse %+v: %v", got, err)
			}
		})
	}

	t.Run("long common name is cut, the date kept", func(t *testing.T) {
		got := health.Evaluate(now, []health.Source{{"tls.client.cert", []byte(long)}})
		if err := health.Valid(got); err != nil {
			t.Fatalf("snapctl set-health would refuse %+v: %v", got, err)
		}
		if !strings.HasSuffix(got.Message, "expires 2026-11-23 12:00 UTC") || !strings.Contains(got.Message, "…") {
			t.Errorf("message %q lost its date or was not shortened", got.Message)
		}
	})
}

// TestValid pins snapd's set-health rules (ctlcmd/health.go) that the
// snap's messages must meet.
func TestValid(t *testing.T) {
	cases := []struct {
		st   health.Status
		okay bool
	}{
		{health.Status{Status: "okay"}, true},
		{health.Status{Status: "okay", Code: "certificate-expired"}, false},
		{health.Status{Status: "okay", Message: "all is well"}, false},
		{health.Status{Status: "error", Message: "short"}, false},
		{health.Status{Status: "error", Message: "seven c"}, true},
		{health.Status{Status: "error", Message: strings.Repeat("x", 70)}, true},
		{health.Status{Status: "error", Message: strings.Repeat("x", 71)}, false},
		{health.Status{Status: "error", Message: strings.Repeat("é", 70)}, true},
		{health.Status{Status: "error", Message: "something", Code: "ab"}, false},
		{health.Status{Status: "error", Message: "something", Code: strings.Repeat("a", 31)}, false},
		{health.Status{Status: "error", Message: "something", Code: "Cert-expired"}, false},
		{health.Status{Status: "error", Message: "something", Code: "cert--expired"}, false},
		{health.Status{Status: "error", Message: "something", Code: "cert-expired-"}, false},
		{health.Status{Status: "error", Message: "something", Code: "cert-exp1red"}, true},
		{health.Status{Status: "unknown", Message: "something"}, false},
	}
	for _, tc := range cases {
		if err := health.Valid(tc.st); (err == nil) != tc.okay {
			t.Errorf("Valid(%+v) = %v, want okay=%v", tc.st, err, tc.okay)
		}
	}
}
