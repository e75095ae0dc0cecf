// Command bench measures the charmed-etcd snap next to upstream etcd of
// the same version (issue 6) and writes BENCHMARKS.md and its plots.
//
//	go run ./cmd/bench -repo ../.. -report ../../BENCHMARKS.md -plots ../../docs/bench
//	go run ./cmd/bench -repo ../.. -smoke
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/canonical/charmed-etcd-snap/tests/bench/harness"
)

func main() {
	repo := flag.String("repo", "../..", "repository root (bin/ and prime/ built)")
	smoke := flag.Bool("smoke", false, "run every measure once with tiny totals")
	rounds := flag.Int("rounds", 0, "A/B rounds (default 7, 1 with -smoke)")
	report := flag.String("report", "", "markdown report to write (default: results.md in the work directory)")
	plots := flag.String("plots", "", "directory for the PNG plots (default: the work directory)")
	out := flag.String("out", "", "work directory, emptied first (default tests/bench/out/full, or .../smoke)")
	from := flag.String("from", "", "write the report and plots from this results.json instead of measuring")
	var extra multi
	flag.Var(&extra, "set", "extra KEY=VALUE snap option for both sides (repeatable), e.g. etcd.log-level=warn")
	flag.Parse()

	root, err := filepath.Abs(*repo)
	if err != nil {
		fail(err)
	}
	opt := harness.FullOptions(root)
	if *smoke {
		opt = harness.SmokeOptions(root)
	}
	opt.ExtraSet = extra
	if *out != "" {
		if opt.Out, err = filepath.Abs(*out); err != nil {
			fail(err)
		}
	}
	if *rounds > 0 {
		opt.Rounds = *rounds
	}
	if *report == "" {
		*report = filepath.Join(opt.Out, "results.md")
	}
	if *plots == "" {
		*plots = opt.Out
	}
	var res *harness.Results
	if *from != "" {
		if res, err = harness.LoadResults(*from); err != nil {
			fail(err)
		}
		if res.Machine.Benchmark.EtcdRoot == "" {
			res.Machine.Benchmark = harness.ReadBinary(filepath.Join(root, "bin", "benchmark"))
		}
	} else {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		if res, err = harness.Run(ctx, opt); err != nil {
			fail(err)
		}
	}
	if err := harness.WriteReport(res, *report, *plots); err != nil {
		fail(err)
	}
	fmt.Fprintln(os.Stderr, "report:", *report)
	for _, t := range res.Targets() {
		met := "NOT MET"
		if t.Met {
			met = "met"
		}
		fmt.Fprintf(os.Stderr, "  %-55s %-20s %-40s %s\n", t.Name, t.Mark, t.Measured, met)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

type multi []string

func (m *multi) String() string     { return fmt.Sprint(*m) }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
