// Command demo runs the seed walkthrough (enable-tls.md) on three local
// members: make demo.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/lab"
)

func main() {
	repo := flag.String("repo", ".", "repository root (bin/ and prime/ are read from it)")
	flag.Parse()
	// Interrupted, the walkthrough returns and its deferred cleanup stops
	// every daemon and removes every namespace it made.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	err := lab.Walkthrough(ctx, lab.Options{Repo: *repo, Members: 3, Log: os.Stdout, Loopback: os.Geteuid() != 0})
	fmt.Printf("\nwalkthrough finished in %s\n", time.Since(start).Round(time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("PASS: every step of the walkthrough had the expected outcome")
}
