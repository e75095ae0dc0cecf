// Package harness measures what the charmed-etcd snap costs next to
// upstream etcd of the same version: the same rendered configuration, mutual
// TLS, the same filesystem, rounds interleaved so that noise from the
// machine hits both sides.
package harness

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The two sides of every comparison.
const (
	Ours     = "ours"
	Upstream = "upstream"
)

// Options size a run.
type Options struct {
	// Repo is the repository root: bin/ (snapsim, etcd-upstream,
	// benchmark) and prime/ (the snap tree) must be built.
	Repo string
	// Out is the work directory; it is emptied first.
	Out string
	// Rounds is how many times each A/B pair runs.
	Rounds int
	// Put shapes each P1/P2 put run.
	Put PutArgs
	// ConnWorkers and ConnTime shape each new-connections run (P5).
	ConnWorkers int
	ConnTime    time.Duration
	// SteadyInterval is the steady client's put period (P4); SteadyTimeout
	// the deadline of each put.
	SteadyInterval, SteadyTimeout time.Duration
	// Settle is how long the steady client runs before and after a P4 event.
	Settle time.Duration
	// Starts is how many times each side starts for P3.
	Starts int
	// HookRuns is how many times each P6 case runs.
	HookRuns int
	// ExtraSet are more KEY=VALUE options for both units' snap set (for
	// example an etcd.* key); upstream gets them through the rendered file.
	ExtraSet []string
	// Log receives progress lines.
	Log io.Writer `json:"-"`
}

// FullOptions are `make bench`.
func FullOptions(repo string) Options {
	return Options{Repo: repo, Out: filepath.Join(repo, "tests", "bench", "out", "full"), Rounds: 7,
		Put:         PutArgs{Total: 20000, Conns: 10, Clients: 50, KeySize: 8, ValSize: 256},
		ConnWorkers: 4, ConnTime: 3 * time.Second,
		SteadyInterval: 5 * time.Millisecond, SteadyTimeout: time.Second, Settle: 1500 * time.Millisecond,
		Starts: 15, HookRuns: 10, Log: os.Stderr}
}

// SmokeOptions are `make bench-smoke`: every measure once, tiny totals.
func SmokeOptions(repo string) Options {
	return Options{Repo: repo, Out: filepath.Join(repo, "tests", "bench", "out", "smoke"), Rounds: 1,
		Put:         PutArgs{Total: 300, Conns: 2, Clients: 4, KeySize: 8, ValSize: 256},
		ConnWorkers: 2, ConnTime: 300 * time.Millisecond,
		SteadyInterval: 5 * time.Millisecond, SteadyTimeout: time.Second, Settle: 300 * time.Millisecond,
		Starts: 1, HookRuns: 1, Log: os.Stderr}
}

// P4Run is one certificate change seen by the steady client and the prober.
type P4Run struct {
	Impl, Kind string
	Round      int
	// SetDone is when `snap set` returned (ours) or the files were written
	// and the restart done (upstream), NewCert when a handshake first
	// presented the new certificate, both since the event started.
	SetDone, NewCert time.Duration
	Failed           int
	Puts             int
	// FailedHandshakes counts the prober's new connections that failed
	// before the new certificate was presented (a restart refuses them; a
	// certificate and key replaced one after the other can mismatch).
	FailedHandshakes int
	MaxLatency       time.Duration
	// Samples are the steady client's puts, At relative to the event.
	Samples []RelSample
}

// RelSample is a Sample with its time relative to the event.
type RelSample struct {
	At      time.Duration
	Latency time.Duration
	Failed  bool
}

// Results is everything a run measured.
type Results struct {
	Options  Options
	Machine  Machine
	Started  time.Time
	Finished time.Time
	// Values[measure][impl] holds one value per round.
	Values map[string]map[string][]float64
	P4     []P4Run
	// TLSVersion is what the client port negotiated with the benchmark clients.
	TLSVersion string
	// RequestStatsWarnings counts etcd's warn-level "request stats" lines in
	// each side's P1/P2 logs (logged for every unary request slower than
	// warning-unary-request-duration, sampled by zap).
	RequestStatsWarnings map[string]int
	// HookCalls is how many snapctl calls one direct hook run made, per case.
	HookCalls map[string]int
	Notes     []string
}

func (r *Results) add(measure, impl string, v float64) {
	if r.Values == nil {
		r.Values = map[string]map[string][]float64{}
	}
	if r.Values[measure] == nil {
		r.Values[measure] = map[string][]float64{}
	}
	r.Values[measure][impl] = append(r.Values[measure][impl], v)
}

// Stat summarizes one measure of one side.
func (r *Results) Stat(measure, impl string) Stat { return Summarize(r.Values[measure][impl]) }

type leafState struct {
	leaf *Cert
	ca   []byte // PEM bundle given as tls.client.ca
}

type bench struct {
	opt        Options
	res        *Results
	pki        *PKI
	tlsUnit    *Unit
	plainUnit  *Unit
	clientPort int
	peerPort   int
	upDir      string
	upConfTLS  string
	upConfPl   string
	upTLS      string
	ours, up   leafState
	etcdUp     string
	benchBin   string
}

// Run runs every measure and returns the results; the caller writes the
// report. Every process it started is stopped before it returns.
func Run(ctx context.Context, opt Options) (*Results, error) {
	defer StopAll()
	b := &bench{opt: opt, res: &Results{Options: opt, Started: time.Now()}}
	b.etcdUp = filepath.Join(opt.Repo, "bin", "etcd-upstream")
	b.benchBin = filepath.Join(opt.Repo, "bin", "benchmark")
	for _, f := range []string{b.etcdUp, b.benchBin, filepath.Join(opt.Repo, "bin", "snapsim"), filepath.Join(opt.Repo, "prime", "meta", "snap.yaml")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("cannot find %s: build it first (make prime bin/etcd-upstream bin/benchmark)", f)
		}
	}
	// The same etcd built by two Go releases is two programs: refuse to
	// compare them.
	if o, u := ReadBinary(filepath.Join(opt.Repo, "prime", "bin", "etcd")), ReadBinary(b.etcdUp); o.GoVersion != u.GoVersion {
		return nil, fmt.Errorf("cannot compare: the snap's etcd is built with %s, bin/etcd-upstream with %s; rebuild bin/etcd-upstream with the snap's toolchain (make bin/etcd-upstream)", o.GoVersion, u.GoVersion)
	}
	if err := b.setup(ctx); err != nil {
		b.stopUnits()
		return nil, err
	}
	defer b.stopUnits()
	steps := []struct {
		name string
		f    func(context.Context) error
	}{
		{"P1/P2/P5/memory", b.throughputRounds},
		{"P3 start to ready", b.startRuns},
		{"P4 leaf renewal", func(ctx context.Context) error { return b.p4Rounds(ctx, "leaf") }},
		{"P4 CA change", func(ctx context.Context) error { return b.p4Rounds(ctx, "ca") }},
		{"P6 configure hook", b.hookRuns},
	}
	for i, s := range steps {
		b.logf("== %s", s.name)
		if err := s.f(ctx); err != nil {
			return b.res, fmt.Errorf("%s: %v", s.name, err)
		}
		if i == 0 {
			b.countRequestStats()
		}
	}
	b.res.Machine.LoadAfter = loadavg()
	b.res.Finished = time.Now()
	data, _ := json.MarshalIndent(b.res, "", " ")
	return b.res, os.WriteFile(filepath.Join(opt.Out, "results.json"), data, 0o644)
}

func (b *bench) logf(format string, args ...any) {
	if b.opt.Log != nil {
		fmt.Fprintf(b.opt.Log, time.Now().Format("15:04:05 ")+format+"\n", args...)
	}
}

// setup installs the snap twice through snapsim (plain HTTP and mutual
// TLS), lets the real configure hook render etcd.conf.yml, and derives
// upstream's configuration from it: the same file with its own data
// directory and its own copy of the TLS files.
func (b *bench) setup(ctx context.Context) error {
	// Empty the work directory, but only one this harness made.
	if entries, err := os.ReadDir(b.opt.Out); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(b.opt.Out, "pki")); err != nil {
			return fmt.Errorf("cannot use %s as the work directory: it is not empty and not one of this harness", b.opt.Out)
		}
	}
	if err := os.RemoveAll(b.opt.Out); err != nil {
		return err
	}
	if err := os.MkdirAll(b.opt.Out, 0o755); err != nil {
		return err
	}
	b.res.Machine = Describe(b.opt.Repo)
	var err error
	if b.pki, err = NewPKI(filepath.Join(b.opt.Out, "pki")); err != nil {
		return err
	}
	ports, err := FreePorts(2)
	if err != nil {
		return err
	}
	b.clientPort, b.peerPort = ports[0], ports[1]
	snapsim := filepath.Join(b.opt.Repo, "bin", "snapsim")
	prime := filepath.Join(b.opt.Repo, "prime")
	base := []string{"name=bench", "client-port=" + strconv.Itoa(b.clientPort), "peer-port=" + strconv.Itoa(b.peerPort)}
	base = append(base, b.opt.ExtraSet...)
	b.plainUnit = &Unit{Root: filepath.Join(b.opt.Out, "unit-plain"), Snapsim: snapsim}
	b.tlsUnit = &Unit{Root: filepath.Join(b.opt.Out, "unit-tls"), Snapsim: snapsim}
	b.logf("installing the snap in %s and %s", b.plainUnit.Root, b.tlsUnit.Root)
	if err := b.plainUnit.Install(ctx, prime, base...); err != nil {
		return err
	}
	b.ours = leafState{b.pki.ServerA, b.pki.CA1.CertPEM}
	tlsOpts := append(base, b.tlsSet(b.ours, true)...)
	if err := b.tlsUnit.Install(ctx, prime, tlsOpts...); err != nil {
		return err
	}

	b.upDir = filepath.Join(b.opt.Out, "upstream")
	b.upTLS = filepath.Join(b.upDir, "tls")
	if err := os.MkdirAll(b.upTLS, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(b.tlsUnit.TLSDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(b.tlsUnit.TLSDir(), e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(b.upTLS, e.Name()), data, 0o600); err != nil {
			return err
		}
	}
	b.up = b.ours
	upData := filepath.Join(b.upDir, "data")
	if b.upConfTLS, err = derive(b.tlsUnit, filepath.Join(b.upDir, "etcd-tls.conf.yml"), upData, b.upTLS); err != nil {
		return err
	}
	if b.upConfPl, err = derive(b.plainUnit, filepath.Join(b.upDir, "etcd-plain.conf.yml"), upData, b.upTLS); err != nil {
		return err
	}
	return nil
}

// tlsSet is the snap set arguments for a client TLS state.
func (b *bench) tlsSet(s leafState, withCA bool) []string {
	args := []string{"tls.client.cert=" + string(s.leaf.CertPEM), "tls.client.key=" + string(s.leaf.KeyPEM)}
	if withCA {
		args = append(args, "tls.client.ca="+string(s.ca))
	}
	return args
}

// derive writes upstream's configuration: the unit's rendered file with
// the data directory and the TLS directory replaced, nothing else.
func derive(u *Unit, dst, dataDir, tlsDir string) (string, error) {
	conf, err := os.ReadFile(u.Config())
	if err != nil {
		return "", err
	}
	s := strings.ReplaceAll(string(conf), u.EtcdData(), dataDir)
	s = strings.ReplaceAll(s, u.TLSDir(), tlsDir)
	if strings.Contains(s, u.Root) {
		return "", fmt.Errorf("cannot derive upstream's configuration: %s still names the snap's files", dst)
	}
	return dst, os.WriteFile(dst, []byte(s), 0o600)
}

func (b *bench) clientURL(scheme string) string {
	return fmt.Sprintf("%s://127.0.0.1:%d", scheme, b.clientPort)
}

func (b *bench) addr() string { return fmt.Sprintf("127.0.0.1:%d", b.clientPort) }

func (b *bench) upEnv() []string {
	return []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
}

// startDirect starts one side as a plain process: our daemon binary from
// the installed snap tree with the snap's environment (it reads the
// rendered file and drops to snap_daemon as under snapd), or upstream's
// etcd with --config-file.
func (b *bench) startDirect(impl, mode string) (*Proc, error) {
	if err := waitPortFree(b.clientPort, 10*time.Second); err != nil {
		return nil, err
	}
	if err := waitPortFree(b.peerPort, 10*time.Second); err != nil {
		return nil, err
	}
	log := filepath.Join(b.opt.Out, impl+"-"+mode+".log")
	if impl == Ours {
		u := b.plainUnit
		if mode == "tls" {
			u = b.tlsUnit
		}
		if err := u.ResetData(); err != nil {
			return nil, err
		}
		return StartProc(Ours, []string{filepath.Join(u.SnapDir(), "bin", "etcd")}, u.Env(), log)
	}
	if err := os.RemoveAll(filepath.Join(b.upDir, "data")); err != nil {
		return nil, err
	}
	conf := b.upConfPl
	if mode == "tls" {
		conf = b.upConfTLS
	}
	return StartProc(Upstream, []string{b.etcdUp, "--config-file", conf}, b.upEnv(), log)
}

func order(round int) []string {
	if round%2 == 0 {
		return []string{Ours, Upstream}
	}
	return []string{Upstream, Ours}
}

// startRuns measures P3: each side starts Starts times with mutual TLS on
// an empty data directory, alternating. Ready includes the first election,
// whose randomized timeout (etcd's election-timeout, 1 s by default)
// spreads the values widely: hence more starts than rounds. Listening (the
// client port accepts TCP) is the part before raft.
func (b *bench) startRuns(ctx context.Context) error {
	tlsCfg := b.pki.ClientTLS()
	for i := 0; i < b.opt.Starts; i++ {
		for _, impl := range order(i) {
			p, err := b.startDirect(impl, "tls")
			if err != nil {
				return err
			}
			listening := make(chan time.Time, 1)
			go func() {
				for !p.Exited() {
					if c, err := net.DialTimeout("tcp", b.addr(), 100*time.Millisecond); err == nil {
						at := time.Now()
						c.Close()
						listening <- at
						return
					}
					time.Sleep(2 * time.Millisecond)
				}
				listening <- time.Time{}
			}()
			ready, err := WaitReady(ctx, b.clientURL("https"), tlsCfg, 5*time.Millisecond, 30*time.Second, p.Exited)
			listen := <-listening
			if err != nil {
				p.Stop(20 * time.Second)
				return fmt.Errorf("start %d, %s: %v", i+1, impl, err)
			}
			b.res.add("p3.tls.ready_ms", impl, ms(ready.Sub(p.Start)))
			b.res.add("p3.tls.listen_ms", impl, ms(listen.Sub(p.Start)))
			if err := p.Stop(20 * time.Second); err != nil {
				return err
			}
		}
	}
	o, u := b.res.Stat("p3.tls.ready_ms", Ours), b.res.Stat("p3.tls.ready_ms", Upstream)
	b.logf("P3 ready: ours median %.0f ms, upstream %.0f ms (%d starts each)", o.Median, u.Median, o.N)
	return nil
}

// throughputRounds: for each round, both sides with mutual TLS, then both
// with plain HTTP, the order swapped every round. Each run starts from an
// empty data directory: P1/P2 (put), memory, P5.
func (b *bench) throughputRounds(ctx context.Context) error {
	for r := 0; r < b.opt.Rounds; r++ {
		for _, mode := range []string{"tls", "plain"} {
			for _, impl := range order(r) {
				if err := b.throughputRun(ctx, r, impl, mode); err != nil {
					return fmt.Errorf("round %d, %s %s: %v", r+1, impl, mode, err)
				}
			}
		}
	}
	return nil
}

func (b *bench) throughputRun(ctx context.Context, round int, impl, mode string) error {
	var tlsCfg *tls.Config
	var tlsf *TLSFiles
	scheme := "http"
	if mode == "tls" {
		tlsCfg, scheme = b.pki.ClientTLS(), "https"
		tlsf = &TLSFiles{CA: b.pki.Bundle12File, Cert: b.pki.Client.CertFile, Key: b.pki.Client.KeyFile}
	}
	if l, err := strconv.ParseFloat(strings.Fields(loadavg())[0], 64); err == nil {
		b.res.add("load1", impl, l)
	}
	p, err := b.startDirect(impl, mode)
	if err != nil {
		return err
	}
	defer p.Stop(20 * time.Second)
	ready, err := WaitReady(ctx, b.clientURL(scheme), tlsCfg, 5*time.Millisecond, 30*time.Second, p.Exited)
	if err != nil {
		return err
	}
	if mode == "tls" && b.res.TLSVersion == "" {
		b.res.TLSVersion = negotiated(b.addr(), tlsCfg)
	}
	time.Sleep(300 * time.Millisecond)
	put, out, err := RunPut(ctx, b.benchBin, b.clientURL(scheme), tlsf, b.opt.Put)
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	b.res.add("p1."+mode+".rps", impl, put.RPS)
	b.res.add("p1."+mode+".p99_ms", impl, put.P99*1000)
	b.res.add("p1."+mode+".errors", impl, float64(put.Errors))
	if rss, hwm, err := RSS(p.PID); err == nil {
		b.res.add("mem."+mode+".rss_mib", impl, float64(rss)/1024)
		b.res.add("mem."+mode+".hwm_mib", impl, float64(hwm)/1024)
	} else {
		return err
	}
	conns := RunConns(ctx, b.addr(), tlsCfg, b.opt.ConnWorkers, b.opt.ConnTime)
	b.res.add("p5."+mode+".conns_per_s", impl, conns.PerSec)
	b.res.add("p5."+mode+".errors", impl, float64(conns.Errors))
	b.logf("round %d %-8s %-5s ready %6.0f ms  put %7.0f/s p99 %6.1f ms  rss %5.0f MiB  conns %6.0f/s (%d errors)",
		round+1, impl, mode, ms(ready.Sub(p.Start)), put.RPS, put.P99*1000, b.res.Values["mem."+mode+".rss_mib"][impl][len(b.res.Values["mem."+mode+".rss_mib"][impl])-1],
		conns.PerSec, conns.Errors)
	if err := p.Stop(20 * time.Second); err != nil {
		return err
	}
	return nil
}

func negotiated(addr string, cfg *tls.Config) string {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer c.Close()
	st := c.ConnectionState()
	return tls.VersionName(st.Version) + " " + tls.CipherSuiteName(st.CipherSuite)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// startServed starts one side for P4 and P6: ours under snapsim (so that
// snap set runs the real hook and snapsim restarts the daemon), upstream
// as a process. It returns when the member is ready.
func (b *bench) startServed(ctx context.Context, impl string) (*Proc, error) {
	if err := waitPortFree(b.clientPort, 10*time.Second); err != nil {
		return nil, err
	}
	tlsCfg := b.pki.ClientTLS()
	if impl == Ours {
		if err := b.tlsUnit.ResetData(); err != nil {
			return nil, err
		}
		if _, _, err := b.tlsUnit.Snap(ctx, "start", Service); err != nil {
			return nil, err
		}
		_, err := WaitReady(ctx, b.clientURL("https"), tlsCfg, 10*time.Millisecond, 30*time.Second, nil)
		return nil, err
	}
	p, err := b.startDirect(Upstream, "tls")
	if err != nil {
		return nil, err
	}
	_, err = WaitReady(ctx, b.clientURL("https"), tlsCfg, 10*time.Millisecond, 30*time.Second, p.Exited)
	return p, err
}

func (b *bench) stopServed(ctx context.Context, impl string, p *Proc) error {
	if impl == Ours {
		_, _, err := b.tlsUnit.Snap(ctx, "stop", Service)
		return err
	}
	return p.Stop(20 * time.Second)
}

// stopUnits stops our daemon wherever snapsim runs it (snapsim stops it by
// the PID it recorded).
func (b *bench) stopUnits() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, u := range []*Unit{b.tlsUnit, b.plainUnit} {
		if u != nil && u.DaemonPID() > 0 {
			u.Snap(ctx, "stop", Service)
		}
	}
}

// nextLeaf is the CA1 leaf that is not in use: a renewal.
func (b *bench) nextLeaf(s leafState) *Cert {
	if s.leaf == b.pki.ServerA {
		return b.pki.ServerB
	}
	return b.pki.ServerA
}

// p4Rounds measures certificate changes on a member under a steady client:
// "leaf" renews the client port's certificate (same CA: files only, etcd
// reads them on each new handshake); "ca" moves the leaf to CA2 and the CA
// bundle to CA1+CA2, or back (a restart). Clients trust both CAs and hold a
// CA1 certificate, as in a real rotation, so a correct change fails no
// request that the restart itself does not.
func (b *bench) p4Rounds(ctx context.Context, kind string) error {
	for r := 0; r < b.opt.Rounds; r++ {
		for _, impl := range order(r) {
			run, err := b.p4Run(ctx, r, impl, kind)
			if err != nil {
				return fmt.Errorf("round %d, %s: %v", r+1, impl, err)
			}
			b.res.P4 = append(b.res.P4, *run)
			b.res.add("p4."+kind+".new_cert_ms", impl, ms(run.NewCert))
			b.res.add("p4."+kind+".set_ms", impl, ms(run.SetDone))
			b.res.add("p4."+kind+".failed", impl, float64(run.Failed))
			b.res.add("p4."+kind+".max_put_ms", impl, ms(run.MaxLatency))
			b.res.add("p4."+kind+".failed_handshakes", impl, float64(run.FailedHandshakes))
			b.logf("round %d %-8s %-4s new certificate after %6.0f ms (set done %6.0f ms), %d/%d puts failed, max put %5.0f ms, %d failed handshakes",
				r+1, impl, kind, ms(run.NewCert), ms(run.SetDone), run.Failed, run.Puts, ms(run.MaxLatency), run.FailedHandshakes)
		}
	}
	return nil
}

func (b *bench) p4Run(ctx context.Context, round int, impl, kind string) (*P4Run, error) {
	p, err := b.startServed(ctx, impl)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			b.stopServed(ctx, impl, p)
		}
	}()
	tlsCfg := b.pki.ClientTLS()
	st, err := StartSteady(b.clientURL("https"), tlsCfg, b.opt.SteadyInterval, b.opt.SteadyTimeout)
	if err != nil {
		return nil, err
	}
	time.Sleep(b.opt.Settle)

	state := &b.ours
	if impl == Upstream {
		state = &b.up
	}
	next := leafState{b.nextLeaf(*state), state.ca}
	if kind == "ca" {
		if state.leaf == b.pki.ServerC {
			next = leafState{b.pki.ServerA, b.pki.CA1.CertPEM}
		} else {
			next = leafState{b.pki.ServerC, b.pki.Bundle12PEM}
		}
	}
	want := new(big.Int).Set(next.leaf.X509.SerialNumber)

	type probe struct {
		at     time.Time
		failed int
		err    error
	}
	probed := make(chan probe, 1)
	t0 := time.Now()
	go func() {
		at, failed, err := WaitForCert(ctx, b.addr(), tlsCfg, want, kind == "ca", 2*time.Millisecond, 60*time.Second)
		probed <- probe{at, failed, err}
	}()
	var setDone time.Time
	if impl == Ours {
		_, _, err = b.tlsUnit.Snap(ctx, append([]string{"set", SnapName}, b.tlsSet(next, kind == "ca")...)...)
		setDone = time.Now()
	} else {
		p, err = b.upstreamChange(ctx, p, next, kind == "ca")
		setDone = time.Now()
	}
	if err != nil {
		st.Stop()
		return nil, err
	}
	*state = next
	pr := <-probed
	if pr.err != nil {
		st.Stop()
		return nil, pr.err
	}
	// Let the client recover (a restarted server makes it reconnect) and
	// show the steady state after the change.
	after := setDone
	if pr.at.After(after) {
		after = pr.at
	}
	recovered := time.Now().Add(30 * time.Second)
	for st.LastOK().Before(after) && time.Now().Before(recovered) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(b.opt.Settle)
	samples := st.Stop()
	run := &P4Run{Impl: impl, Kind: kind, Round: round + 1, SetDone: setDone.Sub(t0), NewCert: pr.at.Sub(t0), FailedHandshakes: pr.failed}
	for _, s := range samples {
		run.Samples = append(run.Samples, RelSample{At: s.At.Sub(t0), Latency: s.Latency, Failed: s.Failed})
		run.Puts++
		if s.Failed {
			run.Failed++
		}
		if s.Latency > run.MaxLatency {
			run.MaxLatency = s.Latency
		}
	}
	stopped = true
	return run, b.stopServed(ctx, impl, p)
}

// upstreamChange is what an operator of upstream etcd does: replace the
// files (each by rename, so no reader sees half a file), and restart the
// process when the CA bundle changed (etcd reads it only at start).
func (b *bench) upstreamChange(ctx context.Context, p *Proc, next leafState, restart bool) (*Proc, error) {
	files := []struct {
		name string
		data []byte
	}{{"client.key", next.leaf.KeyPEM}, {"client.pem", next.leaf.CertPEM}}
	if restart {
		files = append(files, struct {
			name string
			data []byte
		}{"client_ca.pem", next.ca})
	}
	for _, f := range files {
		if err := writeAtomic(filepath.Join(b.upTLS, f.name), f.data); err != nil {
			return p, err
		}
	}
	if !restart {
		return p, nil
	}
	if err := p.Stop(20 * time.Second); err != nil {
		return p, err
	}
	if err := waitPortFree(b.clientPort, 10*time.Second); err != nil {
		return p, err
	}
	// The data directory is kept: a restart, not a new member.
	return StartProc(Upstream, []string{b.etcdUp, "--config-file", b.upConfTLS}, b.upEnv(),
		filepath.Join(b.opt.Out, "upstream-tls.log"))
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// hookRuns measures P6: `snap set` through snapsim with the daemon running
// (a no-op set, and a TLS set that renews the leaf), then the hook binary
// alone, run directly with a fake snapctl on a copy of the unit.
func (b *bench) hookRuns(ctx context.Context) error {
	if _, err := b.startServed(ctx, Ours); err != nil {
		return err
	}
	// One unmeasured set of each kind first, so that both start from a
	// warm page cache.
	for i := -1; i < b.opt.HookRuns; i++ {
		_, noop, err := b.tlsUnit.Snap(ctx, "set", SnapName, "name=bench")
		if err != nil {
			return err
		}
		next := leafState{b.nextLeaf(b.ours), b.ours.ca}
		_, tlsSet, err := b.tlsUnit.Snap(ctx, append([]string{"set", SnapName}, b.tlsSet(next, false)...)...)
		if err != nil {
			return err
		}
		b.ours = next
		if i >= 0 {
			b.res.add("p6.noop.snap_set_ms", Ours, ms(noop))
			b.res.add("p6.tls.snap_set_ms", Ours, ms(tlsSet))
		}
	}
	if _, _, err := b.tlsUnit.Snap(ctx, "stop", Service); err != nil {
		return err
	}
	return b.hookDirect(ctx)
}

func (b *bench) hookDirect(ctx context.Context) error {
	dir := filepath.Join(b.opt.Out, "hook")
	fakebin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(fakebin, 0o755); err != nil {
		return err
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(fakebin, "snapctl"), "./cmd/fakesnapctl")
	build.Dir = moduleDir(b.opt.Repo)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("cannot build the fake snapctl: %v: %s", err, out)
	}
	// A copy of the unit's data (options, TLS files, rendered file): the
	// hook then finds exactly what it finds under snapsim.
	copyRoot := filepath.Join(dir, "var")
	if out, err := exec.CommandContext(ctx, "cp", "-a", filepath.Join(b.tlsUnit.Root, "var", "snap"), copyRoot).CombinedOutput(); err != nil {
		return fmt.Errorf("cannot copy the unit: %v: %s", err, out)
	}
	rev := filepath.Base(b.tlsUnit.Data())
	data := filepath.Join(copyRoot, SnapName, rev)
	common := filepath.Join(copyRoot, SnapName, "common")
	docOut, _, err := b.tlsUnit.Snap(ctx, "get", "-d", SnapName)
	if err != nil {
		return err
	}
	docPath, logPath := filepath.Join(dir, "options.json"), filepath.Join(dir, "snapctl.log")
	if err := os.WriteFile(docPath, []byte(docOut), 0o600); err != nil {
		return err
	}
	hook := filepath.Join(b.tlsUnit.SnapDir(), "meta", "hooks", "configure")
	env := []string{
		"PATH=" + fakebin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"SNAP=" + b.tlsUnit.SnapDir(), "SNAP_DATA=" + data, "SNAP_COMMON=" + common,
		"SNAP_NAME=" + SnapName, "SNAP_INSTANCE_NAME=" + SnapName, "SNAP_REVISION=" + rev,
		"TMPDIR=/tmp", "HOME=/root",
		"FAKE_SNAPCTL_DOC=" + docPath, "FAKE_SNAPCTL_LOG=" + logPath,
	}
	runHook := func(kind string) (time.Duration, int, error) {
		os.Remove(logPath)
		cmd := exec.CommandContext(ctx, hook)
		cmd.Env, cmd.Dir = env, "/"
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			return d, 0, fmt.Errorf("the configure hook failed (%s): %v: %s", kind, err, strings.TrimSpace(string(out)))
		}
		calls, _ := os.ReadFile(logPath)
		return d, strings.Count(string(calls), "\n"), nil
	}
	if b.res.HookCalls == nil {
		b.res.HookCalls = map[string]int{}
	}
	// What one snapctl call costs the hook here: an exec of the fake.
	for i := 0; i < 5; i++ {
		cmd := exec.CommandContext(ctx, filepath.Join(fakebin, "snapctl"), "services", Service)
		cmd.Env = env
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("the fake snapctl failed: %v: %s", err, out)
		}
		b.res.add("p6.fake_snapctl_ms", Ours, ms(time.Since(start)))
	}
	// The first run re-renders for the copy's paths; it is not measured.
	if _, _, err := runHook("warm-up"); err != nil {
		return err
	}
	for i := -1; i < b.opt.HookRuns; i++ {
		d, n, err := runHook("no-op")
		if err != nil {
			return err
		}
		if i >= 0 {
			b.res.add("p6.noop.hook_ms", Ours, ms(d))
			b.res.HookCalls["noop"] = n
		}
		next := b.nextLeaf(b.ours)
		if err := setDocLeaf(docPath, next); err != nil {
			return err
		}
		d, n, err = runHook("tls")
		if err != nil {
			return err
		}
		b.ours.leaf = next
		if i >= 0 {
			b.res.add("p6.tls.hook_ms", Ours, ms(d))
			b.res.HookCalls["tls"] = n
		}
	}
	return nil
}

// setDocLeaf puts a leaf into the fake snapctl's options, as snap set would.
func setDocLeaf(path string, c *Cert) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc := map[string]any{}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	t, _ := doc["tls"].(map[string]any)
	if t == nil {
		return fmt.Errorf("no tls options in %s", path)
	}
	cl, _ := t["client"].(map[string]any)
	if cl == nil {
		return fmt.Errorf("no tls.client options in %s", path)
	}
	cl["cert"], cl["key"] = string(c.CertPEM), string(c.KeyPEM)
	out, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

// moduleDir is this tools module's directory.
func moduleDir(repo string) string { return filepath.Join(repo, "tests", "bench") }

func (b *bench) countRequestStats() {
	b.res.RequestStatsWarnings = map[string]int{}
	for _, impl := range []string{Ours, Upstream} {
		for _, mode := range []string{"tls", "plain"} {
			data, _ := os.ReadFile(filepath.Join(b.opt.Out, impl+"-"+mode+".log"))
			b.res.RequestStatsWarnings[impl] += countWarn(string(data), "request stats")
		}
	}
}

func countWarn(log, msg string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"level":"warn"`) && strings.Contains(line, `"msg":"`+msg+`"`) {
			n++
		}
	}
	return n
}
