package scenario

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/lab"
)

// env is one scenario's lab and what the scenario knows about it.
type env struct {
	ctx context.Context
	l   *lab.Lab
	log io.Writer
	rep *lab.Report
	bin string // load checker

	peerLeaf, clientLeaf map[string]*lab.Leaf
	// peerTLS and clientTLS say which members have TLS on each surface.
	peerTLS, clientTLS map[string]bool
	// drained members are left out of the load checker's endpoints while
	// their client URL changes scheme.
	drained map[string]bool

	// The client side: the CA bundle clients verify members with, and the
	// client certificate (separate files for etcdctl, one file for the
	// load checker).
	clientCA              string
	clientCert, clientKey string
	clientCertKey         string
	chk                   *checker
	planned               int // leadership transfers the hooks should make
	restarts              int
	changesWithoutRestart int
}

func (e *env) member(i int) *lab.Member { return e.l.Members[i] }

// check records one expectation; a failed one ends the scenario.
func (e *env) check(what string, err error) error {
	if !e.rep.Check(what, err) {
		return fmt.Errorf("%s: %v", what, err)
	}
	return nil
}

func (e *env) step(title string) { e.rep.Step(title) }

// tlsOptions are the snap set arguments that give a member a surface's
// certificate, key and CA bundle.
func tlsOptions(surface string, leaf *lab.Leaf, caPEM string) []string {
	return []string{
		"tls." + surface + ".cert=" + lab.Read(leaf.Cert),
		"tls." + surface + ".key=" + lab.Read(leaf.Key),
		"tls." + surface + ".ca=" + caPEM,
	}
}

// leafOptions renew a surface's certificate and key only.
func leafOptions(surface string, leaf *lab.Leaf) []string {
	return []string{"tls." + surface + ".cert=" + lab.Read(leaf.Cert), "tls." + surface + ".key=" + lab.Read(leaf.Key)}
}

// issue makes a member's certificate for a surface from ca, under a file
// name of its own so that renewals do not overwrite the current one.
func issue(ctx context.Context, ca *lab.CA, m *lab.Member, file string) (*lab.Leaf, error) {
	return ca.Issue(ctx, lab.LeafOptions{CN: m.Name, File: m.Name + "-" + file,
		SANs: []string{"IP:" + m.Addr, "DNS:" + m.Name + ".etcd.test"}})
}

// writeCertKey puts a certificate and its key in one file, replaced by a
// rename so that a reader never sees one without the other.
func writeCertKey(path string, leaf *lab.Leaf) error {
	data := lab.Read(leaf.Cert) + lab.Read(leaf.Key)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func bundle(cas ...*lab.CA) string {
	var b strings.Builder
	for _, ca := range cas {
		b.WriteString(lab.Read(ca.Cert))
	}
	return b.String()
}

// newCluster makes the CAs and certificates, installs three members with
// TLS on the surfaces asked for from the first start, starts them and
// waits until all are healthy.
func (e *env) newCluster(peerTLS, clientTLS bool) error {
	e.step(fmt.Sprintf("form a 3-member cluster (peer TLS %t, client TLS %t from the first start)", peerTLS, clientTLS))
	var err error
	if e.peerLeaf, e.clientLeaf, err = e.l.MakeCAs(e.ctx); err != nil {
		return e.check("certificates issued", err)
	}
	pair, err := e.l.CA.Client.Issue(e.ctx, lab.LeafOptions{CN: "loadcheck", EKU: "clientAuth", File: "loadcheck"})
	if err != nil {
		return e.check("client certificate issued", err)
	}
	e.clientCA = filepath.Join(e.l.Dir, "client-bundle.pem")
	e.clientCert, e.clientKey = pair.Cert, pair.Key
	e.clientCertKey = filepath.Join(e.l.Dir, "loadcheck.pem")
	if err := os.WriteFile(e.clientCA, []byte(lab.Read(e.l.CA.Client.Cert)), 0o644); err != nil {
		return err
	}
	if err := writeCertKey(e.clientCertKey, pair); err != nil {
		return err
	}
	for _, m := range e.l.Members {
		var extra []string
		if peerTLS {
			extra = append(extra, tlsOptions("peer", e.peerLeaf[m.Name], lab.Read(e.l.CA.Peer.Cert))...)
		}
		if clientTLS {
			extra = append(extra, tlsOptions("client", e.clientLeaf[m.Name], lab.Read(e.l.CA.Client.Cert))...)
		}
		if err := e.check("install and configure "+m.Name, m.Install(e.ctx, extra...)); err != nil {
			return err
		}
		e.peerTLS[m.Name], e.clientTLS[m.Name] = peerTLS, clientTLS
	}
	if err := e.check("start the daemons", e.l.StartAll(e.ctx)); err != nil {
		return err
	}
	return e.check("cluster healthy", lab.Retry(e.ctx, 60*time.Second, e.healthy))
}

func scheme(on bool) string {
	if on {
		return "https"
	}
	return "http"
}

// clientURL is the URL a member serves clients on now.
func (e *env) clientURL(m *lab.Member) string { return m.ClientURL(scheme(e.clientTLS[m.Name])) }

// tlsArgs are etcdctl's flags for a member's client surface as it is now.
func (e *env) tlsArgs(m *lab.Member) lab.TLSArgs {
	if !e.clientTLS[m.Name] {
		return nil
	}
	return lab.TLSArgs{"--cacert", e.clientCA, "--cert", e.clientCert, "--key", e.clientKey}
}

// endpoints are the client URLs the load checker should use.
func (e *env) endpoints() []string {
	var out []string
	for _, m := range e.l.Members {
		if !e.drained[m.Name] {
			out = append(out, e.clientURL(m))
		}
	}
	return out
}

// healthy checks from inside each member's namespace that its endpoint
// answers a linearizable health check, and that the cluster lists every
// member, started, with the URL schemes it should have.
func (e *env) healthy() error {
	for _, m := range e.l.Members {
		args := append([]string{"--endpoints", e.clientURL(m), "--dial-timeout=2s", "--command-timeout=4s", "endpoint", "health"}, e.tlsArgs(m)...)
		if r := m.EtcdctlQuiet(e.ctx, args...); r.Err != nil {
			return fmt.Errorf("%s is not healthy: %s", m.Name, lastLine(r.Out))
		}
	}
	m1 := e.member(0)
	list, err := m1.Members(e.ctx, scheme(e.clientTLS[m1.Name]), e.tlsArgs(m1))
	if err != nil {
		return err
	}
	if len(list) != len(e.l.Members) {
		return fmt.Errorf("the cluster lists %d members", len(list))
	}
	for _, m := range e.l.Members {
		i := slices.IndexFunc(list, func(mi lab.MemberInfo) bool { return mi.Name == m.Name })
		if i < 0 {
			return fmt.Errorf("%s is not listed as started", m.Name)
		}
		peer := fmt.Sprintf("%s://%s:%d", scheme(e.peerTLS[m.Name]), m.Addr, m.PeerPort)
		if !slices.Equal(list[i].PeerURLs, []string{peer}) || !slices.Equal(list[i].ClientURLs, []string{e.clientURL(m)}) {
			return fmt.Errorf("%s is listed with peer URLs %v and client URLs %v, expected %s and %s", m.Name, list[i].PeerURLs, list[i].ClientURLs, peer, e.clientURL(m))
		}
	}
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// startLoad starts the load checker in m1's namespace with the clients'
// TLS files, and extra flags.
func (e *env) startLoad(extra ...string) error {
	args := append([]string{"-endpoints", strings.Join(e.endpoints(), ","), "-cacert", e.clientCA, "-certkey", e.clientCertKey}, extra...)
	c, err := startChecker(e.ctx, e.bin, e.member(0), filepath.Join(e.l.Dir, "report.json"), e.log, args...)
	if err != nil {
		return e.check("load checker started", err)
	}
	e.chk = c
	fmt.Fprintln(e.log, "--- ok: load checker running (4 clients, every member's endpoint)")
	return nil
}

// change is how a scenario changes one member: snap set (or unset), then
// the expectations every rolling change has. restart says whether the
// change needs one (the daemon's PID must change, or must not); newClientTLS,
// when not nil, is the client TLS state after the change, whose URL
// then changes scheme: the member is left out of the clients' endpoints
// for the change and added back with its new URL once it answers.
func (e *env) change(m *lab.Member, args []string, restart bool, peerTLS, newClientTLS *bool) error {
	leader, _, err := e.chk.leader()
	if err != nil {
		return e.check("the cluster has a leader before changing "+m.Name, err)
	}
	if restart && leader == m.Name {
		e.planned++
	}
	pid, err := daemonPID(m)
	if err != nil {
		return e.check("daemon PID of "+m.Name, err)
	}
	if newClientTLS != nil {
		e.drained[m.Name] = true
		if err := e.chk.endpoints(e.endpoints()); err != nil {
			return err
		}
	}
	_ = e.chk.mark("snap " + args[0] + " on " + m.Name)
	r := m.Snap(e.ctx, args...)
	_ = e.chk.mark("snap " + args[0] + " on " + m.Name + " returned")
	if err := e.check("snap "+args[0]+" on "+m.Name, r.Err); err != nil {
		return err
	}
	if peerTLS != nil {
		e.peerTLS[m.Name] = *peerTLS
	}
	if newClientTLS != nil {
		e.clientTLS[m.Name] = *newClientTLS
	}
	if err := e.check("cluster healthy, "+m.Name+" and every member listed with the expected URLs", lab.Retry(e.ctx, 60*time.Second, e.healthy)); err != nil {
		return err
	}
	_ = e.chk.mark(m.Name + " healthy")
	now, err := daemonPID(m)
	switch {
	case err != nil:
	case restart && now == pid:
		err = fmt.Errorf("the daemon was not restarted (PID %d)", pid)
	case !restart && now != pid:
		err = fmt.Errorf("the daemon was restarted (PID %d, now %d)", pid, now)
	}
	what := "daemon restarted"
	if !restart {
		what = "daemon not restarted"
	}
	if err := e.check(fmt.Sprintf("%s: %s (leader before: %s)", m.Name, what, leader), err); err != nil {
		return err
	}
	if restart {
		e.restarts++
	} else {
		e.changesWithoutRestart++
	}
	if newClientTLS != nil {
		delete(e.drained, m.Name)
		if err := e.chk.endpoints(e.endpoints()); err != nil {
			return err
		}
	}
	return nil
}

// daemonPID is the PID snapsim records for the member's daemon.
func daemonPID(m *lab.Member) (int, error) {
	data, err := os.ReadFile(filepath.Join(m.Root, "var", "lib", "snapsim", "run", "snap.charmed-etcd.etcd.json"))
	if err != nil {
		return 0, err
	}
	var rt struct {
		MainPID int    `json:"main-pid"`
		State   string `json:"state"`
	}
	if err := json.Unmarshal(data, &rt); err != nil {
		return 0, err
	}
	if rt.MainPID == 0 || rt.State != "active" {
		return 0, fmt.Errorf("the daemon of %s is %s", m.Name, rt.State)
	}
	return rt.MainPID, nil
}

// state is what a refused change must leave as it was: the options, every
// TLS file, the rendered configuration and the daemon's PID.
type state struct {
	options string
	files   map[string][]byte
	pid     int
}

func snapshotOf(ctx context.Context, m *lab.Member) (*state, error) {
	r := m.SnapQuiet(ctx, "get", "-d", "charmed-etcd")
	if r.Err != nil {
		return nil, fmt.Errorf("snap get: %v", r.Err)
	}
	st := &state{options: r.Out, files: map[string][]byte{}}
	tlsDir := filepath.Join(m.Common(), "tls")
	entries, _ := os.ReadDir(tlsDir)
	for _, en := range entries {
		b, err := os.ReadFile(filepath.Join(tlsDir, en.Name()))
		if err != nil {
			return nil, err
		}
		st.files["tls/"+en.Name()] = b
	}
	conf, err := os.ReadFile(filepath.Join(m.Root, "var", "snap", "charmed-etcd", "current", "etcd.conf.yml"))
	if err != nil {
		return nil, err
	}
	st.files["etcd.conf.yml"] = conf
	st.pid, err = daemonPID(m)
	return st, err
}

func (a *state) same(b *state) error {
	if a.options != b.options {
		return errors.New("the options changed")
	}
	if a.pid != b.pid {
		return fmt.Errorf("the daemon's PID changed from %d to %d", a.pid, b.pid)
	}
	for name, data := range a.files {
		if !bytes.Equal(data, b.files[name]) {
			return fmt.Errorf("%s changed", name)
		}
	}
	for name := range b.files {
		if _, ok := a.files[name]; !ok {
			return fmt.Errorf("%s appeared", name)
		}
	}
	return nil
}

// refused runs a snap set that must be refused with a message holding
// want, and checks that nothing changed.
func (e *env) refused(m *lab.Member, what, want string, args []string) error {
	before, err := snapshotOf(e.ctx, m)
	if err != nil {
		return e.check("state of "+m.Name+" before "+what, err)
	}
	r := m.Snap(e.ctx, args...)
	switch {
	case r.Err == nil:
		err = errors.New("the change was accepted")
	case !strings.Contains(r.Out, want):
		err = fmt.Errorf("refused, but without %q: %s", want, lastLine(r.Out))
	}
	if err := e.check(what+" is refused", err); err != nil {
		return err
	}
	after, err := snapshotOf(e.ctx, m)
	if err == nil {
		err = before.same(after)
	}
	return e.check("nothing changed on "+m.Name+" (options, files, daemon PID)", err)
}

// serial is the serial number of the certificate a member presents on
// addr, read with crypto/tls from inside its namespace.
func (e *env) serial(m *lab.Member, port int, ca, certKey string) (string, error) {
	cmd := m.Cmd(e.ctx, e.bin, "serial", "-addr", fmt.Sprintf("%s:%d", m.Addr, port), "-cacert", ca, "-certkey", certKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	return strings.TrimSpace(string(out)), nil
}

// certSerial is the serial of a certificate file, as the serial command prints it.
func certSerial(path string) (string, error) {
	block, _ := pem.Decode([]byte(lab.Read(path)))
	if block == nil {
		return "", fmt.Errorf("no certificate in %s", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", cert.SerialNumber), nil
}
