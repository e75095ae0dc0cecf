// Package cis checks a running member against the etcd section of the CIS
// Kubernetes Benchmark (items 2.1 to 2.7) and the related file and
// profiling items. Each item passes only when both the rendered
// configuration says so and, unless the check is offline, the live member
// behaves so: a setting that etcd ignored, or a member that runs another
// configuration than the file on disk, fails.
package cis

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"gopkg.in/yaml.v3"

	"github.com/canonical/charmed-etcd-snap/internal/daemon"
	"github.com/canonical/charmed-etcd-snap/internal/i18n"
	"github.com/canonical/charmed-etcd-snap/internal/snapenv"
)

// Item is one checked recommendation and what was seen.
type Item struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Pass     bool     `json:"pass"`
	Evidence []string `json:"evidence"`
}

// Report is every item, in the benchmark's order.
type Report struct {
	Config  string `json:"config"`
	Offline bool   `json:"offline"`
	Items   []Item `json:"items"`
}

// Failed counts the items that did not pass.
func (r *Report) Failed() int {
	n := 0
	for _, it := range r.Items {
		if !it.Pass {
			n++
		}
	}
	return n
}

// Item returns the item with id, or nil.
func (r *Report) Item(id string) *Item {
	for i := range r.Items {
		if r.Items[i].ID == id {
			return &r.Items[i]
		}
	}
	return nil
}

// Options say what to check and how.
type Options struct {
	Paths snapenv.Paths
	// Owner is the uid every file must belong to, or -1 not to check
	// owners: the hook gives files to snap_daemon only when it runs as
	// root, so only a check run as root can expect that.
	Owner int
	// Offline skips the live probes: only the files are checked.
	Offline bool
	// Timeout bounds each live probe.
	Timeout time.Duration
}

// check is one item being decided: it passes unless a step fails.
type check struct {
	Item
}

func newCheck(id, title string) *check {
	return &check{Item{ID: id, Title: title, Pass: true}}
}

func (c *check) ok(format string, a ...any) {
	c.Evidence = append(c.Evidence, fmt.Sprintf(format, a...))
}

func (c *check) fail(format string, a ...any) {
	c.Pass = false
	c.Evidence = append(c.Evidence, "FAIL: "+fmt.Sprintf(format, a...))
}

// expect records cond as evidence: a pass with what, or a failure.
func (c *check) expect(cond bool, what string, a ...any) bool {
	if cond {
		c.ok(what, a...)
	} else {
		c.fail(what, a...)
	}
	return cond
}

// surface is one of etcd's two TLS surfaces as the configuration sets it.
type surface struct {
	name     string // "client" or "peer"
	section  string // the key in etcd's file
	info     transport.TLSInfo
	autoTLS  bool
	listen   []url.URL
	endpoint *url.URL // the first advertised URL: where the probe dials
}

func (s *surface) tlsOn() bool { return s.info.CertFile != "" || s.info.KeyFile != "" }

func surfaces(cfg *embed.Config) (client, peer *surface) {
	client = &surface{name: "client", section: "client-transport-security", info: cfg.ClientTLSInfo, autoTLS: cfg.ClientAutoTLS, listen: cfg.ListenClientUrls}
	if len(cfg.AdvertiseClientUrls) > 0 {
		client.endpoint = &cfg.AdvertiseClientUrls[0]
	}
	peer = &surface{name: "peer", section: "peer-transport-security", info: cfg.PeerTLSInfo, autoTLS: cfg.PeerAutoTLS, listen: cfg.ListenPeerUrls}
	if len(cfg.AdvertisePeerUrls) > 0 {
		peer.endpoint = &cfg.AdvertisePeerUrls[0]
	}
	return client, peer
}

// Check runs every item.
func Check(ctx context.Context, o Options) *Report {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	r := &Report{Config: o.Paths.Config, Offline: o.Offline}
	cfg, err := LoadConfig(o.Paths.Config)
	if err != nil {
		for _, t := range titles {
			c := newCheck(t.id, i18n.G(t.title))
			c.fail(i18n.G("cannot read the rendered configuration: %v"), err)
			r.Items = append(r.Items, c.Item)
		}
		r.Items = append(r.Items, fileItems(o, "")...)
		return r
	}
	client, peer := surfaces(cfg)
	p := &prober{timeout: o.Timeout, offline: o.Offline}
	r.Items = append(r.Items,
		certItem(ctx, p, "2.1", client),
		clientAuthItem(ctx, p, "2.2", client),
		autoTLSItem(ctx, p, "2.3", client),
		certItem(ctx, p, "2.4", peer),
		clientAuthItem(ctx, p, "2.5", peer),
		autoTLSItem(ctx, p, "2.6", peer),
		uniqueCAItem(ctx, p, client, peer),
	)
	r.Items = append(r.Items, fileItems(o, cfg.Dir)...)
	r.Items = append(r.Items, pprofItem(ctx, p, cfg, client))
	return r
}

var titles = []struct{ id, title string }{
	{"2.1", "client cert-file and key-file are set (client traffic is TLS)"},
	{"2.2", "client client-cert-auth is true"},
	{"2.3", "client auto-tls is not true"},
	{"2.4", "peer cert-file and key-file are set (peer traffic is TLS)"},
	{"2.5", "peer client-cert-auth is true"},
	{"2.6", "peer auto-tls is not true"},
	{"2.7", "a unique CA for etcd: the peer CA is not the client CA"},
	{"pprof", "profiling (/debug/pprof) is off"},
}

func title(id string) string {
	for _, t := range titles {
		if t.id == id {
			return i18n.G(t.title)
		}
	}
	return id
}

func certItem(ctx context.Context, p *prober, id string, s *surface) Item {
	c := newCheck(id, title(id))
	if !c.expect(s.info.CertFile != "" && s.info.KeyFile != "", i18n.G("%s.cert-file %s, %s.key-file %s"), s.section, show(s.info.CertFile), s.section, show(s.info.KeyFile)) {
		return c.Item
	}
	pair, err := tls.LoadX509KeyPair(s.info.CertFile, s.info.KeyFile)
	if err != nil {
		c.fail(i18n.G("cannot load the key pair: %v"), err)
		return c.Item
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	c.ok(i18n.G("key-file matches cert-file: %s"), describe(leaf))
	for _, u := range s.listen {
		c.expect(u.Scheme == "https", i18n.G("listen URL %s"), u.String())
	}
	if s.endpoint == nil || p.offline {
		return c.Item
	}
	res := p.probe(ctx, s.endpoint, "/version", nil)
	switch {
	case res.served == nil:
		c.fail(i18n.G("live: %s served no certificate: %v"), res.url, res.err)
	case !leaf.Equal(res.served):
		c.fail(i18n.G("live: %s serves %s, not cert-file's certificate"), res.url, describe(res.served))
	default:
		c.ok(i18n.G("live: %s serves cert-file's certificate"), res.url)
	}
	return c.Item
}

func clientAuthItem(ctx context.Context, p *prober, id string, s *surface) Item {
	c := newCheck(id, title(id))
	if !c.expect(s.tlsOn(), i18n.G("%s: TLS is %s"), s.section, onOff(s.tlsOn())) {
		return c.Item
	}
	c.expect(s.info.ClientCertAuth, i18n.G("%s.client-cert-auth: %v"), s.section, s.info.ClientCertAuth)
	if c.expect(s.info.TrustedCAFile != "", i18n.G("%s.trusted-ca-file %s"), s.section, show(s.info.TrustedCAFile)) {
		if cas, err := readCerts(s.info.TrustedCAFile); err != nil || len(cas) == 0 {
			c.fail(i18n.G("cannot read the CA bundle: %v"), orEmpty(err))
		} else {
			c.ok(i18n.G("trusted CAs: %s"), describeAll(cas))
		}
	}
	if s.endpoint == nil || p.offline {
		return c.Item
	}
	res := p.probe(ctx, s.endpoint, "/version", nil)
	c.expect(res.err != nil, i18n.G("live: a connection without a client certificate to %s is refused (%s)"), res.url, res.outcome())
	if pair, err := tls.LoadX509KeyPair(s.info.CertFile, s.info.KeyFile); err == nil {
		ctl := p.probe(ctx, s.endpoint, "/version", &pair)
		c.ok(i18n.G("live, control: with this member's own %s certificate: %s"), s.name, ctl.outcome())
	}
	return c.Item
}

func autoTLSItem(ctx context.Context, p *prober, id string, s *surface) Item {
	c := newCheck(id, title(id))
	c.expect(!s.autoTLS, i18n.G("%s.auto-tls: %v"), s.section, s.autoTLS)
	if !s.tlsOn() || s.endpoint == nil || p.offline {
		return c.Item
	}
	pair, err := tls.LoadX509KeyPair(s.info.CertFile, s.info.KeyFile)
	if err != nil {
		return c.Item
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	res := p.probe(ctx, s.endpoint, "/version", nil)
	if res.served == nil {
		c.fail(i18n.G("live: %s served no certificate: %v"), res.url, res.err)
		return c.Item
	}
	c.expect(leaf.Equal(res.served), i18n.G("live: %s serves %s (cert-file's certificate, not a self-signed one)"), res.url, describe(res.served))
	return c.Item
}

func uniqueCAItem(ctx context.Context, p *prober, client, peer *surface) Item {
	c := newCheck("2.7", title("2.7"))
	var bundles [2][]*x509.Certificate
	for i, s := range []*surface{peer, client} {
		if !c.expect(s.info.TrustedCAFile != "", i18n.G("%s.trusted-ca-file %s"), s.section, show(s.info.TrustedCAFile)) {
			continue
		}
		cas, err := readCerts(s.info.TrustedCAFile)
		if err != nil || len(cas) == 0 {
			c.fail(i18n.G("cannot read %s: %v"), s.info.TrustedCAFile, orEmpty(err))
			continue
		}
		bundles[i] = cas
		c.ok(i18n.G("%s CAs: %s"), s.name, describeAll(cas))
	}
	if bundles[0] != nil && bundles[1] != nil {
		var shared []string
		for _, a := range bundles[0] {
			for _, b := range bundles[1] {
				// The same key re-issued is the same authority.
				if string(a.RawSubjectPublicKeyInfo) == string(b.RawSubjectPublicKeyInfo) {
					shared = append(shared, describe(a))
				}
			}
		}
		c.expect(len(shared) == 0, i18n.G("CAs trusted on both surfaces: %s"), noneOr(shared))
	}
	if p.offline || client.endpoint == nil || peer.endpoint == nil || !client.tlsOn() || !peer.tlsOn() {
		return c.Item
	}
	// Each surface's own certificate, presented to the other surface: a
	// shared CA would let it in.
	for _, x := range []struct{ from, to *surface }{{peer, client}, {client, peer}} {
		pair, err := tls.LoadX509KeyPair(x.from.info.CertFile, x.from.info.KeyFile)
		if err != nil {
			c.fail(i18n.G("cannot load the %s key pair: %v"), x.from.name, err)
			continue
		}
		res := p.probe(ctx, x.to.endpoint, "/version", &pair)
		c.expect(res.err != nil, i18n.G("live: the %s certificate is refused on the %s port %s (%s)"), x.from.name, x.to.name, res.url, res.outcome())
	}
	return c.Item
}

func pprofItem(ctx context.Context, p *prober, cfg *embed.Config, client *surface) Item {
	c := newCheck("pprof", title("pprof"))
	c.expect(!cfg.EnablePprof, i18n.G("enable-pprof: %v"), cfg.EnablePprof)
	// etcd also serves the profiler when it logs at debug level.
	c.expect(cfg.LogLevel != "debug", i18n.G("log-level: %s"), cfg.LogLevel)
	if p.offline || client.endpoint == nil {
		return c.Item
	}
	var pair *tls.Certificate
	if client.tlsOn() {
		if kp, err := tls.LoadX509KeyPair(client.info.CertFile, client.info.KeyFile); err == nil {
			pair = &kp
		}
	}
	res := p.probe(ctx, client.endpoint, "/debug/pprof/", pair)
	switch {
	case res.err != nil:
		c.fail(i18n.G("live: cannot ask %s: %v"), res.url, res.err)
	default:
		c.expect(res.status != 200, i18n.G("live: %s answers %d"), res.url, res.status)
	}
	return c.Item
}

// LoadConfig reads the rendered file as the daemon does (daemon.Load:
// strict keys, etcd's own loader, the CRL files beside the certificates),
// from a copy whose log-outputs is /dev/null: etcd's loader logs its
// warnings to the file's outputs, stderr, where they would mix with the
// report.
func LoadConfig(path string) (*embed.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the etcd configuration: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("cannot use %s: it is not a YAML mapping", path)
	}
	top := doc.Content[0]
	quiet := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: os.DevNull}}}
	replaced := false
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "log-outputs" {
			top.Content[i+1], replaced = quiet, true
		}
	}
	if !replaced {
		top.Content = append(top.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "log-outputs"}, quiet)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "charmed-etcd-check")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	copyPath := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(copyPath, out, 0o600); err != nil {
		return nil, err
	}
	cfg, err := daemon.Load(copyPath)
	if err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), copyPath, path))
	}
	return cfg, nil
}

func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out, nil
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
}

// describe names a certificate for evidence: subject CN, end date and the
// start of its SHA-256 fingerprint. Never key material.
func describe(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	cn := c.Subject.CommonName
	if cn == "" {
		cn = "(no CN)"
	}
	return fmt.Sprintf("CN %s, not after %s, sha256 %s", cn, c.NotAfter.UTC().Format("2006-01-02"), hex.EncodeToString(sum[:8]))
}

func describeAll(cs []*x509.Certificate) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = "[" + describe(c) + "]"
	}
	return strings.Join(out, " ")
}

func show(s string) string {
	if s == "" {
		return "(unset)"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func noneOr(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}

func orEmpty(err error) any {
	if err == nil {
		return "no certificate in it"
	}
	return err
}
