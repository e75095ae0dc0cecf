package harness

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleOutput follows etcd's pkg/report String() for a put run with errors.
const sampleOutput = `
Summary:
  Total:	2.5000 secs.
  Slowest:	0.0400 secs.
  Fastest:	0.0010 secs.
  Average:	0.0050 secs.
  Stddev:	0.0020 secs.
  Requests/sec:	3996.4000

Response time histogram:
  0.0010 [1]	|
  0.0400 [12]	|∎∎∎∎

Latency distribution:
  10% in 0.0020 secs.
  50% in 0.0045 secs.
  99% in 0.0210 secs.
  99.9% in 0.0350 secs.

Error distribution:
  [3]	context deadline exceeded
  [2]	rpc error: code = Unavailable
`

func TestParsePut(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    PutResult
		wantErr bool
	}{
		{name: "summary and errors", out: sampleOutput, want: PutResult{RPS: 3996.4, P99: 0.021, P50: 0.0045, Errors: 5}},
		{name: "no errors", out: strings.Split(sampleOutput, "Error distribution")[0], want: PutResult{RPS: 3996.4, P99: 0.021, P50: 0.0045}},
		{name: "every request failed", out: "\nError distribution:\n  [10]\tconnection refused\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePut(tc.out)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("expected an error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name             string
		in               []float64
		median, min, max float64
	}{
		{"odd", []float64{5, 1, 3}, 3, 1, 5},
		{"even", []float64{4, 1, 3, 2}, 2.5, 1, 4},
		{"one", []float64{7}, 7, 7, 7},
	}
	for _, tc := range tests {
		s := Summarize(tc.in)
		if s.Median != tc.median || s.Min != tc.min || s.Max != tc.max || s.N != len(tc.in) {
			t.Errorf("%s: got %+v", tc.name, s)
		}
	}
	if s := Summarize(nil); !math.IsNaN(s.Median) {
		t.Errorf("empty: median %v, want NaN", s.Median)
	}
}

func TestTargets(t *testing.T) {
	r := &Results{}
	for _, v := range []struct {
		m         string
		ours, ups float64
	}{
		{"p1.tls.rps", 960, 1000},         // 0.96: met
		{"p1.tls.p99_ms", 11, 10},         // upstream/ours 0.909: not met
		{"p3.tls.ready_ms", 100, 100},     // 1: met
		{"p5.tls.conns_per_s", 900, 1000}, // 0.9: not met
	} {
		r.add(v.m, Ours, v.ours)
		r.add(v.m, Upstream, v.ups)
	}
	r.add("p4.leaf.failed", Ours, 0)
	r.add("p4.leaf.failed", Ours, 1)
	r.add("p6.tls.snap_set_ms", Ours, 80)
	r.add("p6.tls.hook_ms", Ours, 120)
	want := []bool{true, false, true, false, false, true, false}
	got := r.Targets()
	if len(got) != len(want) {
		t.Fatalf("got %d targets, want %d", len(got), len(want))
	}
	for i, tg := range got {
		if tg.Met != want[i] {
			t.Errorf("%s: met %v, want %v (%s)", tg.Name, tg.Met, want[i], tg.Measured)
		}
	}
}

func TestPKIChains(t *testing.T) {
	p, err := NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.ClientTLS()
	for _, c := range []*Cert{p.ServerA, p.ServerB, p.ServerC} {
		if err := c.X509.VerifyHostname("127.0.0.1"); err != nil {
			t.Errorf("%s: %v", c.X509.Subject.CommonName, err)
		}
		if _, err := os.Stat(c.KeyFile); err != nil {
			t.Error(err)
		}
	}
	if cfg.ClientSessionCache != nil {
		t.Error("the client TLS configuration must not resume sessions")
	}
	if b, _ := os.ReadFile(filepath.Join(filepath.Dir(p.Bundle12File), "bundle12.pem")); strings.Count(string(b), "BEGIN CERTIFICATE") != 2 {
		t.Error("the CA bundle must hold both CAs")
	}
}
