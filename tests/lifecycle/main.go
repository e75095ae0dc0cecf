// Command lifecycle runs the live TLS lifecycle scenarios on fresh 3-member
// labs under load and prints one line per scenario (make lifecycle):
//
//	go run ./tests/lifecycle -repo . [-v] [SCENARIO...]
//
// It needs root (network namespaces) and the primed snap (make prime).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/lab"
	"github.com/canonical/charmed-etcd-snap/tests/lifecycle/scenario"
)

func main() {
	repo := flag.String("repo", ".", "repository root (bin/ and prime/ are read from it)")
	verbose := flag.Bool("v", false, "print every step, not only the result lines")
	strict := flag.Bool("strict", false, "count the writes etcd drops during a planned leadership transfer as failures too")
	keep := flag.String("keep-logs", "", "directory to copy each member's daemon log to")
	flag.Parse()
	scs, err := scenario.Find(flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Interrupted, the scenario returns and its deferred clean-up stops
	// every daemon and removes every namespace it made.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	bin, err := scenario.BuildChecker(ctx, *repo)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var log io.Writer = io.Discard
	if *verbose {
		log = os.Stdout
	}
	failed := 0
	for _, sc := range scs {
		o := scenario.Run(ctx, scenario.Options{Lab: lab.Options{Repo: *repo, Log: log, Loopback: os.Geteuid() != 0}, Checker: bin, Strict: *strict, KeepLogs: *keep}, sc)
		fmt.Println(o.Line())
		if err := o.Err(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL (%s): %v\n", o.Elapsed.Round(time.Second), err)
			failed++
		} else if *verbose {
			fmt.Printf("PASS (%s)\n", o.Elapsed.Round(time.Second))
		}
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Printf("lifecycle: %d scenario(s), %d failed, in %s\n", len(scs), failed, time.Since(start).Round(time.Second))
	if failed > 0 {
		os.Exit(1)
	}
}
