package settings_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/canonical/charmed-etcd-snap/internal/certtest"
	"github.com/canonical/charmed-etcd-snap/internal/settings"
	"github.com/canonical/charmed-etcd-snap/internal/snapctl"
)

// doc turns dotted options into the document snapctl get -d prints, decoded
// as the hook decodes it (numbers as json.Number). Later maps win.
func doc(t *testing.T, flats ...map[string]any) map[string]any {
	t.Helper()
	root := map[string]any{}
	for _, flat := range flats {
		for k, v := range flat {
			parts := strings.Split(k, ".")
			m := root
			for _, p := range parts[:len(parts)-1] {
				next, ok := m[p].(map[string]any)
				if !ok {
					next = map[string]any{}
					m[p] = next
				}
				m = next
			}
			m[parts[len(parts)-1]] = v
		}
	}
	b, err := json.Marshal(root)
	if err != nil {
		t.Fatalf("cannot encode options: %v", err)
	}
	d, err := snapctl.DecodeDocument(b)
	if err != nil {
		t.Fatalf("cannot decode options: %v", err)
	}
	return d
}

// m2 is the member the cases run on (cases/README.md lab).
var m2 = map[string]any{"name": "m2", "address": "10.99.0.12"}

// load runs what the configure hook runs: Load, then Validate.
func load(t *testing.T, flats ...map[string]any) (*settings.Settings, error) {
	t.Helper()
	s, err := settings.Load(doc(t, append([]map[string]any{m2}, flats...)...))
	if err != nil {
		return nil, err
	}
	return s, s.Validate()
}

// tcase is one set of options and what must come of it: an error holding
// every string of want, or (want nil) settings that check accepts.
type tcase struct {
	name  string
	opts  map[string]any
	want  []string
	check func(t *testing.T, s *settings.Settings)
}

// run runs cases; every refusal must start with "cannot", and never hold
// any of the PEM material in secrets (rule 10).
func run(t *testing.T, cases []tcase, secrets func() []string) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := load(t, tc.opts)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tc.check != nil {
					tc.check(t, s)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error containing %q", tc.want)
			}
			msg := err.Error()
			certtest.AssertNoMaterial(t, msg, secrets()...)
			if t.Failed() {
				return
			}
			if !strings.HasPrefix(msg, "cannot ") {
				t.Errorf("error %q does not start with \"cannot \"", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// lab mints the lab's certificates and remembers every PEM it made, so a
// refusal can be checked against all of them.
type lab struct {
	t                                 *testing.T
	peerCA, peerCA2, clientCA, other  *certtest.Cert
	peer, client, m1Peer, otherClient *certtest.Cert
	minted                            []string
}

func newLab(t *testing.T) *lab {
	l := &lab{t: t}
	l.peerCA = l.track(certtest.NewCA(t, "peer-ca"))
	l.peerCA2 = l.track(certtest.NewCA(t, "peer-ca-2"))
	l.clientCA = l.track(certtest.NewCA(t, "client-ca"))
	l.other = l.track(certtest.NewCA(t, "other-ca"))
	l.peer = l.track(l.peerCA.Leaf(t, "m2", "10.99.0.12"))
	l.m1Peer = l.track(l.peerCA.Leaf(t, "m1", "10.99.0.11"))
	l.client = l.track(l.clientCA.Leaf(t, "m2", "10.99.0.12"))
	l.otherClient = l.track(l.clientCA.Leaf(t, "m3", "10.99.0.12"))
	return l
}

func (l *lab) track(c *certtest.Cert) *certtest.Cert {
	l.minted = append(l.minted, c.CertPEM, c.KeyPEM)
	return c
}

// text remembers PEM text made outside track (other key encodings).
func (l *lab) text(s string) string {
	l.minted = append(l.minted, s)
	return s
}

func (l *lab) secrets() []string { return l.minted }

// peerTLS sets tls.peer.* to leaf, its key and ca.
func peerTLS(leaf *certtest.Cert, ca string) map[string]any {
	return map[string]any{"tls.peer.cert": leaf.CertPEM, "tls.peer.key": leaf.KeyPEM, "tls.peer.ca": ca}
}

// with merges option maps, later ones winning.
func with(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
