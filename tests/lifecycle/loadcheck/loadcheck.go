// Package loadcheck is the client side of the lifecycle scenarios. It runs
// inside a lab member's network namespace (ip netns exec), never in the
// root namespace, which has no route to the lab.
//
// "run" drives concurrent workers that write and read registers through
// clientv3 with every member's endpoint, polls every member's status for
// the leader and raft term, and optionally runs a long-lived client with a
// fixed certificate. The scenario driver steers it with lines on stdin:
//
//	endpoints URL,URL,...   the client URLs to use from now on
//	leader                  answer "leader NAME term N" on stdout
//	mark NAME               record a named point in time
//	stop                    stop, read back the write log, write the report
//
// and reads "ready", answers and "done" on stdout. End of input is "stop".
//
// "serial" dials one TLS address and prints the serial number of the
// certificate the server presents.
package loadcheck

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/canonical/charmed-etcd-snap/tests/lifecycle/history"
)

// Main runs the checker with args (without the program name) and returns
// the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: loadcheck run|serial [flags]")
		return 64
	}
	var err error
	switch args[0] {
	case "run":
		err = runMain(args[1:], stdin, stdout)
	case "serial":
		err = serialMain(args[1:], stdout)
	default:
		err = fmt.Errorf("unknown command %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadcheck:", err)
		return 1
	}
	return 0
}

// TLSFiles are a client's TLS files. CertKey holds the certificate and
// its key in one PEM file, read again on every handshake: the driver
// renews it by renaming a new file over it, so a handshake never sees a
// certificate with the key of another.
type TLSFiles struct {
	CA, CertKey string
}

func (f TLSFiles) config() (*tls.Config, error) {
	if f.CA == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", f.CA)
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if f.CertKey != "" {
		path := f.CertKey
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			pem, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			pair, err := tls.X509KeyPair(pem, pem)
			return &pair, err
		}
	}
	return tc, nil
}

type config struct {
	endpoints []string
	workers   int
	keys      int
	pace      time.Duration
	opTimeout time.Duration
	max       time.Duration
	out       string
	tls       TLSFiles
	legacy    TLSFiles
}

func runMain(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c config
	var eps string
	fs.StringVar(&eps, "endpoints", "", "comma-separated client URLs of every member")
	fs.IntVar(&c.workers, "workers", 4, "concurrent clients")
	fs.IntVar(&c.keys, "keys", 8, "registers")
	fs.DurationVar(&c.pace, "pace", 5*time.Millisecond, "pause between two operations of a worker")
	fs.DurationVar(&c.opTimeout, "op-timeout", 10*time.Second, "deadline of one operation")
	fs.DurationVar(&c.max, "max", 10*time.Minute, "stop by itself after this long")
	fs.StringVar(&c.out, "out", "", "report file (JSON)")
	fs.StringVar(&c.tls.CA, "cacert", "", "CA bundle that https members' certificates chain to")
	fs.StringVar(&c.tls.CertKey, "certkey", "", "client certificate and key (one PEM file, read on each handshake)")
	fs.StringVar(&c.legacy.CA, "legacy-cacert", "", "CA bundle of the long-lived client")
	fs.StringVar(&c.legacy.CertKey, "legacy-certkey", "", "certificate and key of the long-lived client")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if eps == "" || c.out == "" {
		return errors.New("run needs -endpoints and -out")
	}
	c.endpoints = strings.Split(eps, ",")
	ctx, cancel := context.WithTimeout(context.Background(), c.max)
	defer cancel()
	return run(ctx, c, stdin, stdout)
}

// checker holds the state shared by the workers, the poller and the
// control loop.
type checker struct {
	cfg   config
	base  time.Time
	tls   *tls.Config
	mu    sync.Mutex
	eps   map[string][]string // scheme -> endpoints in use
	all   []string
	ops   []history.Op
	marks []history.Mark
	names map[uint64]string
	samp  []history.Sample
	probe []history.Probe
}

func (c *checker) now() int64 { return int64(time.Since(c.base)) }

// group is one worker's clients, one per URL scheme: clientv3 picks the
// transport credentials of all its endpoints from the first one, so a
// client cannot use http and https members at once.
type group struct {
	c       *checker
	clients map[string]*clientv3.Client
}

func (c *checker) newClient(scheme string, eps []string, tc *tls.Config) (*clientv3.Client, error) {
	cfg := clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	if scheme == "https" {
		cfg.TLS = tc
	}
	return clientv3.New(cfg)
}

// pick returns the client for the next operation: a scheme chosen with a
// weight of its number of endpoints, with its endpoints brought up to date.
func (g *group) pick() (*clientv3.Client, error) {
	g.c.mu.Lock()
	eps := map[string][]string{}
	n := 0
	for s, l := range g.c.eps {
		eps[s] = l
		n += len(l)
	}
	g.c.mu.Unlock()
	if n == 0 {
		return nil, errors.New("no endpoints")
	}
	i := rand.IntN(n)
	schemes := make([]string, 0, len(eps))
	for s := range eps {
		schemes = append(schemes, s)
	}
	sort.Strings(schemes)
	for _, s := range schemes {
		if i >= len(eps[s]) {
			i -= len(eps[s])
			continue
		}
		cli := g.clients[s]
		if cli == nil {
			var err error
			if cli, err = g.c.newClient(s, eps[s], g.c.tls); err != nil {
				return nil, err
			}
			g.clients[s] = cli
		} else if !sameSet(cli.Endpoints(), eps[s]) {
			cli.SetEndpoints(eps[s]...)
		}
		return cli, nil
	}
	return nil, errors.New("no endpoints")
}

func (g *group) close() {
	for _, cli := range g.clients {
		cli.Close()
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x := append([]string(nil), a...)
	y := append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

func (c *checker) setEndpoints(eps []string) {
	by := map[string][]string{}
	for _, e := range eps {
		s, _, _ := strings.Cut(e, "://")
		by[s] = append(by[s], e)
	}
	c.mu.Lock()
	c.eps = by
	c.all = eps
	c.mu.Unlock()
}

func (c *checker) record(op history.Op) {
	c.mu.Lock()
	c.ops = append(c.ops, op)
	c.mu.Unlock()
}

// worker writes and reads registers until ctx is done. A write puts the
// register and a log key named after the value in one transaction.
func (c *checker) worker(ctx context.Context, id int) {
	g := &group{c: c, clients: map[string]*clientv3.Client{}}
	defer g.close()
	for seq := 0; ctx.Err() == nil; seq++ {
		key := fmt.Sprintf("%s%d", history.RegisterPrefix, rand.IntN(c.cfg.keys))
		op := history.Op{Worker: id, Key: key, Kind: history.Get}
		if rand.IntN(2) == 0 {
			op.Kind, op.Value = history.Put, fmt.Sprintf("w%d-%d", id, seq)
		}
		cli, err := g.pick()
		// Operations run to their own deadline, not the checker's: a stop
		// must not turn an operation in flight into a failure.
		octx, cancel := context.WithTimeout(context.Background(), c.cfg.opTimeout)
		op.Start = c.now()
		if err == nil {
			if op.Kind == history.Put {
				_, err = cli.Txn(octx).Then(clientv3.OpPut(key, op.Value), clientv3.OpPut(history.LogPrefix+op.Value, "")).Commit()
			} else {
				var resp *clientv3.GetResponse
				if resp, err = cli.Get(octx, key); err == nil && len(resp.Kvs) > 0 {
					op.Found, op.Value = true, string(resp.Kvs[0].Value)
				}
			}
		}
		op.End = c.now()
		cancel()
		if err != nil {
			op.Err = err.Error()
		}
		c.record(op)
		select {
		case <-ctx.Done():
		case <-time.After(c.cfg.pace):
		}
	}
}

// status asks every member in use for its view of the leader and term.
func (c *checker) status(ctx context.Context, cli *clientv3.Client) history.Sample {
	c.mu.Lock()
	eps := append([]string(nil), c.all...)
	c.mu.Unlock()
	s := history.Sample{At: c.now()}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var leader uint64
	for _, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			st, err := cli.Status(sctx, ep)
			if err != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			// The highest term wins: a member that was away may report
			// the leader of an older term.
			if st.RaftTerm > s.Term || (st.RaftTerm == s.Term && leader == 0) {
				s.Term, leader = st.RaftTerm, st.Leader
			}
		}()
	}
	wg.Wait()
	if leader != 0 {
		s.Leader = c.name(ctx, cli, leader)
	}
	return s
}

func (c *checker) name(ctx context.Context, cli *clientv3.Client, id uint64) string {
	c.mu.Lock()
	n, ok := c.names[id]
	c.mu.Unlock()
	if ok {
		return n
	}
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if resp, err := cli.MemberList(lctx); err == nil {
		c.mu.Lock()
		for _, m := range resp.Members {
			if m.Name != "" {
				c.names[m.ID] = m.Name
			}
		}
		n, ok = c.names[id]
		c.mu.Unlock()
	}
	if !ok {
		n = fmt.Sprintf("%x", id)
	}
	return n
}

// poll samples leader and term every 100ms and keeps the samples where
// either changes.
func (c *checker) poll(ctx context.Context, cli *clientv3.Client) {
	var last history.Sample
	for ctx.Err() == nil {
		s := c.status(ctx, cli)
		if s.Term == 0 {
			s.Term = last.Term
		}
		if s.Leader != last.Leader || s.Term != last.Term {
			c.mu.Lock()
			c.samp = append(c.samp, s)
			c.mu.Unlock()
			last = s
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// longLived reads through one client that keeps its TLS files for the
// whole run, every 200ms.
func (c *checker) longLived(ctx context.Context) error {
	tc, err := c.cfg.legacy.config()
	if err != nil {
		return err
	}
	cli, err := c.newClient("https", c.cfg.endpoints, tc)
	if err != nil {
		return err
	}
	go func() {
		defer cli.Close()
		for ctx.Err() == nil {
			// Its own deadline, short enough that a refused client
			// records a failure before the run ends.
			octx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			p := history.Probe{Start: c.now()}
			_, err := cli.Get(octx, history.RegisterPrefix+"0")
			cancel()
			p.End = c.now()
			if err != nil {
				p.Err = err.Error()
			}
			c.mu.Lock()
			c.probe = append(c.probe, p)
			c.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return nil
}

func run(ctx context.Context, cfg config, stdin io.Reader, stdout io.Writer) error {
	c := &checker{cfg: cfg, base: time.Now(), names: map[uint64]string{}}
	var err error
	if c.tls, err = cfg.tls.config(); err != nil {
		return err
	}
	c.setEndpoints(cfg.endpoints)
	// The poller's client only serves Status calls, which dial the named
	// endpoint with the credentials its scheme needs.
	pollCli, err := c.newClient("https", cfg.endpoints[:1], c.tls)
	if err != nil {
		return err
	}
	defer pollCli.Close()

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.poll(loadCtx, pollCli) }()
	if cfg.legacy.CA != "" {
		if err := c.longLived(loadCtx); err != nil {
			return err
		}
	}
	for i := 0; i < cfg.workers; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); c.worker(loadCtx, i) }()
	}
	fmt.Fprintln(stdout, "ready")

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
control:
	for {
		select {
		case <-ctx.Done():
			break control
		case line, ok := <-lines:
			if !ok {
				break control
			}
			verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch verb {
			case "endpoints":
				c.setEndpoints(strings.Split(arg, ","))
				fmt.Fprintln(stdout, "ok")
			case "leader":
				s := c.status(ctx, pollCli)
				fmt.Fprintf(stdout, "leader %s term %d\n", s.Leader, s.Term)
			case "mark":
				c.mu.Lock()
				c.marks = append(c.marks, history.Mark{At: c.now(), Name: arg})
				c.mu.Unlock()
				fmt.Fprintln(stdout, "ok")
			case "stop":
				break control
			default:
				fmt.Fprintf(stdout, "error unknown command %q\n", verb)
			}
		}
	}
	stopLoad()
	wg.Wait()
	rep := c.finish(pollCli)
	if err := writeReport(cfg.out, rep); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "done")
	return nil
}

// finish reads back the write log through every member in use, retrying
// for up to 30 seconds.
func (c *checker) finish(pollCli *clientv3.Client) *history.Report {
	c.mu.Lock()
	rep := &history.Report{Base: c.base.UnixNano(), Ops: c.ops, Samples: c.samp, Marks: c.marks, Probes: c.probe, Duration: c.now()}
	eps := c.eps
	c.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		for scheme, l := range eps {
			var cli *clientv3.Client
			if cli, err = c.newClient(scheme, l, c.tls); err != nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			var resp *clientv3.GetResponse
			resp, err = cli.Get(ctx, history.LogPrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
			cancel()
			cli.Close()
			if err == nil {
				for _, kv := range resp.Kvs {
					rep.Logged = append(rep.Logged, strings.TrimPrefix(string(kv.Key), history.LogPrefix))
				}
				return rep
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err == nil {
		err = errors.New("no endpoint")
	}
	rep.FinalErr = err.Error()
	return rep
}

func writeReport(path string, rep *history.Report) error {
	data, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func serialMain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serial", flag.ContinueOnError)
	addr := fs.String("addr", "", "host:port")
	var f TLSFiles
	fs.StringVar(&f.CA, "cacert", "", "CA bundle to verify the server with")
	fs.StringVar(&f.CertKey, "certkey", "", "client certificate and key (one PEM file)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" || f.CA == "" {
		return errors.New("serial needs -addr and -cacert")
	}
	tc, err := f.config()
	if err != nil {
		return err
	}
	d := &net.Dialer{Timeout: 3 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", *addr, tc)
	if err != nil {
		return err
	}
	defer conn.Close()
	certs := conn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return errors.New("the server presented no certificate")
	}
	fmt.Fprintf(stdout, "%x\n", certs[0].SerialNumber)
	return nil
}
