package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// PutResult is what etcd's benchmark tool reports for one put run.
type PutResult struct {
	RPS    float64 // requests per second
	P99    float64 // seconds
	P50    float64 // seconds
	Errors int
}

// PutArgs shape one run of etcd's benchmark put.
type PutArgs struct {
	Total, Conns, Clients, KeySize, ValSize int
}

// TLSFiles are the benchmark tool's client TLS flags.
type TLSFiles struct{ CA, Cert, Key string }

// RunPut runs `benchmark put` against endpoint (with mutual TLS when tls is
// not nil) and parses its summary.
func RunPut(ctx context.Context, bin, endpoint string, tlsf *TLSFiles, a PutArgs) (PutResult, string, error) {
	args := []string{"--endpoints", endpoint, "--conns", strconv.Itoa(a.Conns), "--clients", strconv.Itoa(a.Clients),
		"--dial-timeout", "5s"}
	if tlsf != nil {
		args = append(args, "--cacert", tlsf.CA, "--cert", tlsf.Cert, "--key", tlsf.Key)
	}
	args = append(args, "put", "--total", strconv.Itoa(a.Total), "--key-size", strconv.Itoa(a.KeySize),
		"--val-size", strconv.Itoa(a.ValSize), "--key-space-size", strconv.Itoa(a.Total))
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = io.Discard // the progress bar
	if err := cmd.Run(); err != nil {
		return PutResult{}, out.String(), fmt.Errorf("benchmark put failed: %v", err)
	}
	r, err := ParsePut(out.String())
	return r, out.String(), err
}

var (
	rpsRe   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	pctRe   = regexp.MustCompile(`(?m)^\s+([0-9.]+)% in ([0-9.]+) secs`)
	errorRe = regexp.MustCompile(`(?m)^\s+\[(\d+)\]\t`)
)

// ParsePut reads the summary that etcd's pkg/report prints.
func ParsePut(out string) (PutResult, error) {
	var r PutResult
	m := rpsRe.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in the benchmark output")
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range pctRe.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[1] {
		case "99":
			r.P99 = v
		case "50":
			r.P50 = v
		}
	}
	if r.P99 == 0 {
		return r, fmt.Errorf("no 99%% latency in the benchmark output")
	}
	if i := strings.Index(out, "Error distribution:"); i >= 0 {
		sc := bufio.NewScanner(strings.NewReader(out[i:]))
		for sc.Scan() {
			if m := errorRe.FindStringSubmatch(sc.Text()); m != nil {
				n, _ := strconv.Atoi(m[1])
				r.Errors += n
			}
		}
	}
	return r, nil
}

// ConnResult is the outcome of a new-connections run.
type ConnResult struct {
	PerSec float64
	Count  int64
	Errors int64
}

// RunConns opens new connections to addr from workers goroutines for d:
// TCP connect, full TLS handshake with the client certificate when tlsCfg
// is set (no session cache, so no resumption), then GET /version and
// close. The request makes the server finish its side of the handshake
// (with TLS 1.3 the client is done before the server has checked the
// client certificate) and proves the connection was accepted.
func RunConns(ctx context.Context, addr string, tlsCfg *tls.Config, workers int, d time.Duration) ConnResult {
	var n, errs atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	req := []byte("GET /version HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n")
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for time.Now().Before(stop) && ctx.Err() == nil {
				if err := oneConn(addr, tlsCfg, req, buf); err != nil {
					errs.Add(1)
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	return ConnResult{PerSec: float64(n.Load()) / el.Seconds(), Count: n.Load(), Errors: errs.Load()}
}

func oneConn(addr string, tlsCfg *tls.Config, req, buf []byte) error {
	raw, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(2 * time.Second))
	c := raw
	if tlsCfg != nil {
		tc := tls.Client(raw, tlsCfg)
		if err := tc.Handshake(); err != nil {
			return err
		}
		c = tc
	}
	if _, err := c.Write(req); err != nil {
		return err
	}
	got := 0
	for {
		k, err := c.Read(buf[got:])
		got += k
		if bytes.Contains(buf[:got], []byte("etcdserver")) {
			return nil
		}
		if err != nil || got == len(buf) {
			return fmt.Errorf("no /version answer: %v", err)
		}
	}
}
