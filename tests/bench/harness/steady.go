package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/big"
	"net"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Sample is one put of the steady client.
type Sample struct {
	At      time.Time
	Latency time.Duration
	Failed  bool
}

// Steady is a client doing one put every Interval over one long-lived
// connection with all TLS files, as an application would, recording every
// outcome.
type Steady struct {
	mu      sync.Mutex
	samples []Sample
	cancel  context.CancelFunc
	done    chan struct{}
}

// StartSteady connects to endpoint and starts putting.
func StartSteady(endpoint string, tlsCfg *tls.Config, interval, timeout time.Duration) (*Steady, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{endpoint},
		TLS:         tlsCfg,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("cannot connect the steady client: %v", err)
	}
	// Stopping does not cancel a put in flight: a put stalled by a restart
	// is the sample that matters most.
	ctx, cancel := context.WithCancel(context.Background())
	s := &Steady{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer cli.Close()
		next := time.Now()
		for i := 0; ctx.Err() == nil; i++ {
			if d := time.Until(next); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			start := time.Now()
			next = start.Add(interval)
			octx, ocancel := context.WithTimeout(context.Background(), timeout)
			_, err := cli.Put(octx, fmt.Sprintf("steady/%d", i%1000), "v")
			ocancel()
			s.mu.Lock()
			s.samples = append(s.samples, Sample{At: start, Latency: time.Since(start), Failed: err != nil})
			s.mu.Unlock()
		}
	}()
	return s, nil
}

// LastOK is when the last successful put started (zero if none).
func (s *Steady) LastOK() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.samples) - 1; i >= 0; i-- {
		if !s.samples[i].Failed {
			return s.samples[i].At
		}
	}
	return time.Time{}
}

// Stop ends the client and returns its samples.
func (s *Steady) Stop() []Sample {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// WaitForCert makes a new connection (full handshake, client certificate,
// no resumption) every interval until the server presents the certificate
// with serial want, and returns when that handshake completed and how many
// attempts failed before. With afterRestart, only a handshake after a
// refused connection counts: the new certificate must come from the new
// process (the old one serves the new leaf as soon as the files are
// replaced, with the old CA bundle still in force).
func WaitForCert(ctx context.Context, addr string, tlsCfg *tls.Config, want *big.Int, afterRestart bool, interval, timeout time.Duration) (time.Time, int, error) {
	deadline := time.Now().Add(timeout)
	var last string
	gap := !afterRestart
	failed := 0
	for {
		d := net.Dialer{Timeout: time.Second}
		c, err := tls.DialWithDialer(&d, "tcp", addr, tlsCfg)
		if err == nil {
			at := time.Now()
			leaf := c.ConnectionState().PeerCertificates[0]
			c.Close()
			if gap && leaf.SerialNumber.Cmp(want) == 0 {
				return at, failed, nil
			}
			last = "old certificate " + leaf.Subject.CommonName
		} else {
			failed++
			if errors.Is(err, syscall.ECONNREFUSED) {
				gap = true
			}
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return time.Time{}, failed, fmt.Errorf("the new certificate was not presented within %s (last: %s)", timeout, last)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, failed, ctx.Err()
		case <-time.After(interval):
		}
	}
}
