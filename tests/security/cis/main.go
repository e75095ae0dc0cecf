// Command cis is make cis: it installs the primed snap in a temporary
// snapsim root, gives one member full TLS (peer and client certificates
// from two openssl CAs, mutual TLS), starts it on 127.0.0.1, runs
// charmed-etcd.check against it, prints the report, stops the member and
// removes the root. It exits with the check's status.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/lab"
	"github.com/canonical/charmed-etcd-snap/tests/security"
)

func main() {
	repo := flag.String("repo", ".", "repository root holding bin/ and prime/")
	verbose := flag.Bool("v", false, "show every snapsim command")
	keep := flag.Bool("keep", false, "keep the temporary root (the member is stopped)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, *repo, *verbose, *keep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		if code == 0 {
			code = 2
		}
	}
	os.Exit(code)
}

func run(ctx context.Context, repo string, verbose, keep bool) (int, error) {
	repo, err := filepath.Abs(repo)
	if err != nil {
		return 2, err
	}
	dir, err := os.MkdirTemp("", "charmed-etcd-cis-")
	if err != nil {
		return 2, err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	// The daemon drops to snap_daemon: it must be able to reach its files.
	if err := os.Chmod(dir, 0o755); err != nil {
		return 2, err
	}
	log := os.Stderr
	u, err := security.NewUnit(repo, filepath.Join(dir, "unit"), nil)
	if err != nil {
		return 2, err
	}
	if verbose {
		u.Log = log
	}
	defer u.Stop(context.Background())

	fmt.Fprintln(log, "make cis: a peer CA and a client CA (openssl), member m1 on", u.Addr)
	peerCA, err := lab.NewCA(ctx, dir, "peer-ca")
	if err != nil {
		return 2, err
	}
	clientCA, err := lab.NewCA(ctx, dir, "client-ca")
	if err != nil {
		return 2, err
	}
	sans := []string{"IP:" + u.Addr, "DNS:" + u.Name + ".etcd.test"}
	peer, err := peerCA.Issue(ctx, lab.LeafOptions{CN: u.Name, SANs: sans, File: "m1-peer"})
	if err != nil {
		return 2, err
	}
	client, err := clientCA.Issue(ctx, lab.LeafOptions{CN: u.Name, SANs: sans, File: "m1-client"})
	if err != nil {
		return 2, err
	}
	fmt.Fprintln(log, "make cis: install, set full TLS, start")
	if err := u.Install(ctx,
		"tls.peer.cert="+lab.Read(peer.Cert), "tls.peer.key="+lab.Read(peer.Key), "tls.peer.ca="+lab.Read(peerCA.Cert),
		"tls.client.cert="+lab.Read(client.Cert), "tls.client.key="+lab.Read(client.Key), "tls.client.ca="+lab.Read(clientCA.Cert),
	); err != nil {
		return 2, err
	}
	if err := u.Start(ctx); err != nil {
		return 2, err
	}
	cfg, err := security.ClientConfig(lab.Read(clientCA.Cert), lab.Read(client.Cert), lab.Read(client.Key), 0, 0)
	if err != nil {
		return 2, err
	}
	if err := u.WaitReady(ctx, "https", cfg, 60*time.Second); err != nil {
		return 2, fmt.Errorf("%v\n%s", err, u.DaemonLog())
	}
	fmt.Fprintln(log, "make cis: snap run charmed-etcd.check")
	fmt.Fprintln(log)
	return runCheck(ctx, u)
}

// runCheck runs the check as an operator would and passes its report and
// exit status through.
func runCheck(ctx context.Context, u *security.Unit) (int, error) {
	cmd := security.CheckCommand(ctx, u)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	if ee, ok := err.(interface{ ExitCode() int }); ok && err != nil {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 2, err
	}
	return 0, nil
}
