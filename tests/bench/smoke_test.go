package bench_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/bench/harness"
)

// TestSmoke runs the whole harness once with tiny totals (about half a
// minute): both daemons, every measure, the report and the plots. It checks
// that every measure produced a value, not what the value is: numbers from a
// shared machine at this size say nothing.
func TestSmoke(t *testing.T) {
	repo := os.Getenv("CHARMED_ETCD_ROOT")
	if repo == "" {
		t.Skip("set CHARMED_ETCD_ROOT to the repository root with prime/, bin/etcd-upstream and bin/benchmark built (make bench-smoke)")
	}
	opt := harness.SmokeOptions(repo)
	opt.Log = testLog{t}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := harness.Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(opt.Out, "results.md")
	if err := harness.WriteReport(res, report, opt.Out); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{
		"p1.tls.rps", "p1.tls.p99_ms", "p1.plain.rps", "p3.tls.ready_ms", "p3.tls.listen_ms", "p5.tls.conns_per_s",
		"mem.tls.rss_mib", "p4.leaf.new_cert_ms", "p4.ca.new_cert_ms",
	} {
		want := opt.Rounds
		if strings.HasPrefix(m, "p3.") {
			want = opt.Starts
		}
		for _, impl := range []string{harness.Ours, harness.Upstream} {
			if s := res.Stat(m, impl); s.N != want || !(s.Median > 0) {
				t.Errorf("%s of %s: %+v", m, impl, s)
			}
		}
	}
	for _, m := range []string{"p6.noop.snap_set_ms", "p6.tls.snap_set_ms", "p6.noop.hook_ms", "p6.tls.hook_ms"} {
		if s := res.Stat(m, harness.Ours); s.N != opt.HookRuns || !(s.Median > 0) {
			t.Errorf("%s: %+v", m, s)
		}
	}
	for _, impl := range []string{harness.Ours, harness.Upstream} {
		if s := res.Stat("p1.tls.errors", impl); s.Max != 0 {
			t.Errorf("%s: %v put errors", impl, s.Max)
		}
	}
	for _, f := range []string{report, filepath.Join(opt.Out, "p4-leaf.png"), filepath.Join(opt.Out, "p4-ca.png")} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty", f)
		}
	}
	for _, tg := range res.Targets() {
		t.Logf("%-55s %-20s %s (met: %v)", tg.Name, tg.Mark, tg.Measured, tg.Met)
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
