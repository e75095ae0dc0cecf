package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/canonical/charmed-etcd-snap/tests/lab"
	"github.com/canonical/charmed-etcd-snap/tests/lifecycle/history"
)

// peerTLSOn is F9: peer TLS on a running cluster member by member. First,
// without quorum, the hook must refuse and change nothing.
func peerTLSOn(e *env) error {
	if err := e.newCluster(false, false); err != nil {
		return err
	}
	m1, m2, m3 := e.member(0), e.member(1), e.member(2)

	e.step("without quorum (m2 and m3 stopped) m1 refuses peer TLS and changes nothing")
	for _, m := range []*lab.Member{m2, m3} {
		if err := e.check("stop "+m.Name, m.Snap(e.ctx, "stop", "charmed-etcd.etcd").Err); err != nil {
			return err
		}
	}
	args := append([]string{"set", "charmed-etcd"}, tlsOptions("peer", e.peerLeaf[m1.Name], lab.Read(e.l.CA.Peer.Cert))...)
	if err := e.refused(m1, "peer TLS without quorum", "no quorum", args); err != nil {
		return err
	}
	for _, m := range []*lab.Member{m2, m3} {
		if err := e.check("start "+m.Name, m.Snap(e.ctx, "start", "charmed-etcd.etcd").Err); err != nil {
			return err
		}
	}
	if err := e.check("cluster healthy again", lab.Retry(e.ctx, 60*time.Second, e.healthy)); err != nil {
		return err
	}

	e.step("under load, peer TLS member by member (snap set tls.peer.*)")
	if err := e.startLoad(); err != nil {
		return err
	}
	for _, m := range e.l.Members {
		args := append([]string{"set", "charmed-etcd"}, tlsOptions("peer", e.peerLeaf[m.Name], lab.Read(e.l.CA.Peer.Cert))...)
		if err := e.change(m, args, true, ptr(true), nil); err != nil {
			return err
		}
	}
	return nil
}

// clientTLSOn turns mutual client TLS on member by member; clients move
// each member from its http URL to its https URL.
func clientTLSOn(e *env) error {
	if err := e.newCluster(false, false); err != nil {
		return err
	}
	e.step("under load, client TLS member by member (snap set tls.client.*)")
	if err := e.startLoad(); err != nil {
		return err
	}
	for _, m := range e.l.Members {
		args := append([]string{"set", "charmed-etcd"}, tlsOptions("client", e.clientLeaf[m.Name], lab.Read(e.l.CA.Client.Cert))...)
		if err := e.change(m, args, true, nil, ptr(true)); err != nil {
			return err
		}
	}
	// Mutual TLS: a client without a certificate is refused.
	m1 := e.member(0)
	r := m1.EtcdctlQuiet(e.ctx, "--endpoints", e.clientURL(m1), "--dial-timeout=2s", "--command-timeout=3s", "--cacert", e.clientCA, "get", "x")
	var err error
	if r.Err == nil {
		err = errors.New("a client without a certificate was served")
	}
	return e.check("a client without a certificate is refused", err)
}

// leafRenewal renews every member's peer and client certificate from the
// same CAs: no restart, and the next handshake presents the new serial.
func leafRenewal(e *env) error {
	if err := e.newCluster(true, true); err != nil {
		return err
	}
	e.step("under load, new peer and client certificates member by member (same CAs)")
	if err := e.startLoad(); err != nil {
		return err
	}
	for _, m := range e.l.Members {
		peer, err := issue(e.ctx, e.l.CA.Peer, m, "peer-2")
		if err != nil {
			return e.check("renewed peer certificate issued", err)
		}
		client, err := issue(e.ctx, e.l.CA.Client, m, "client-2")
		if err != nil {
			return e.check("renewed client certificate issued", err)
		}
		args := append(append([]string{"set", "charmed-etcd"}, leafOptions("peer", peer)...), leafOptions("client", client)...)
		if err := e.change(m, args, false, nil, nil); err != nil {
			return err
		}
		if err := e.presents(m, m.PeerPort, "peer", peer, e.l.CA.Peer.Cert); err != nil {
			return err
		}
		if err := e.presents(m, m.ClientPort, "client", client, e.clientCA); err != nil {
			return err
		}
	}
	return nil
}

// presents checks that a new TLS connection to m's port gets leaf.
func (e *env) presents(m *lab.Member, port int, surface string, leaf *lab.Leaf, ca string) error {
	want, err := certSerial(leaf.Cert)
	if err != nil {
		return err
	}
	// The peer port asks for a peer certificate: use the member's own.
	certKey := e.clientCertKey
	if surface == "peer" {
		certKey = filepath.Join(e.l.Dir, m.Name+"-peer-pair.pem")
		if err := writeCertKey(certKey, leaf); err != nil {
			return err
		}
	}
	var got string
	err = lab.Retry(e.ctx, 10*time.Second, func() error {
		if got, err = e.serial(m, port, ca, certKey); err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("serial %s, want %s", got, want)
		}
		return nil
	})
	return e.check(fmt.Sprintf("%s %s port presents the new certificate (serial %s)", m.Name, surface, want), err)
}

// caFileCerts counts the certificates in a member's CA file.
func caFileCerts(m *lab.Member, name string) int {
	return strings.Count(lab.Read(filepath.Join(m.Common(), "tls", name)), "-----BEGIN CERTIFICATE-----")
}

func (e *env) caFileHolds(m *lab.Member, name string, n int) error {
	var err error
	if got := caFileCerts(m, name); got != n {
		err = fmt.Errorf("%d certificates", got)
	}
	return e.check(fmt.Sprintf("%s %s holds %d certificate(s)", m.Name, name, n), err)
}

// peerCARotation is F10 for the peer surface.
func peerCARotation(e *env) error {
	if err := e.newCluster(true, false); err != nil {
		return err
	}
	oldCA := e.l.CA.Peer
	newCA, err := lab.NewCA(e.ctx, e.l.Dir, "peer-ca-2")
	if err != nil {
		return e.check("new peer CA", err)
	}
	m1 := e.member(0)
	e.step("a bundle holding a certificate that is not a CA is refused")
	bad := "tls.peer.ca=" + lab.Read(oldCA.Cert) + lab.Read(e.peerLeaf[m1.Name].Cert)
	if err := e.refused(m1, "a CA bundle with a leaf certificate", "tls.peer.ca", []string{"set", "charmed-etcd", bad}); err != nil {
		return err
	}
	if err := e.startLoad(); err != nil {
		return err
	}
	e.step("step 1, member by member: tls.peer.ca = old CA + new CA")
	for _, m := range e.l.Members {
		if err := e.change(m, []string{"set", "charmed-etcd", "tls.peer.ca=" + bundle(oldCA, newCA)}, true, nil, nil); err != nil {
			return err
		}
		if err := e.caFileHolds(m, "peer_ca.pem", 2); err != nil {
			return err
		}
	}
	e.step("step 2, member by member: peer certificates from the new CA")
	caBoth := filepath.Join(e.l.Dir, "peer-bundle.pem")
	if err := os.WriteFile(caBoth, []byte(bundle(oldCA, newCA)), 0o644); err != nil {
		return err
	}
	for _, m := range e.l.Members {
		leaf, err := issue(e.ctx, newCA, m, "peer-new-ca")
		if err != nil {
			return e.check("peer certificate from the new CA", err)
		}
		if err := e.change(m, append([]string{"set", "charmed-etcd"}, leafOptions("peer", leaf)...), false, nil, nil); err != nil {
			return err
		}
		if err := e.presents(m, m.PeerPort, "peer", leaf, newCA.Cert); err != nil {
			return err
		}
	}
	e.step("step 3, member by member: tls.peer.ca = new CA only")
	for _, m := range e.l.Members {
		if err := e.change(m, []string{"set", "charmed-etcd", "tls.peer.ca=" + bundle(newCA)}, true, nil, nil); err != nil {
			return err
		}
		if err := e.caFileHolds(m, "peer_ca.pem", 1); err != nil {
			return err
		}
	}
	return nil
}

// clientCARotation is F10 for the client surface, with a long-lived
// client that keeps a certificate from the old CA.
func clientCARotation(e *env) error {
	if err := e.newCluster(false, true); err != nil {
		return err
	}
	oldCA := e.l.CA.Client
	newCA, err := lab.NewCA(e.ctx, e.l.Dir, "client-ca-2")
	if err != nil {
		return e.check("new client CA", err)
	}
	// Clients trust both CAs from the start (the new CA is handed to them
	// before the rotation begins); the long-lived client keeps its
	// certificate from the old CA throughout.
	if err := os.WriteFile(e.clientCA, []byte(bundle(oldCA, newCA)), 0o644); err != nil {
		return err
	}
	old, err := oldCA.Issue(e.ctx, lab.LeafOptions{CN: "long-lived", EKU: "clientAuth", File: "long-lived"})
	if err != nil {
		return e.check("long-lived client certificate", err)
	}
	longLived := filepath.Join(e.l.Dir, "long-lived.pem")
	if err := writeCertKey(longLived, old); err != nil {
		return err
	}
	if err := e.startLoad("-legacy-cacert", e.clientCA, "-legacy-certkey", longLived); err != nil {
		return err
	}
	e.step("step 1, member by member: tls.client.ca = old CA + new CA")
	for _, m := range e.l.Members {
		if err := e.change(m, []string{"set", "charmed-etcd", "tls.client.ca=" + bundle(oldCA, newCA)}, true, nil, nil); err != nil {
			return err
		}
		if err := e.caFileHolds(m, "client_ca.pem", 2); err != nil {
			return err
		}
	}
	e.step("step 2, member by member: client certificates from the new CA; the load's clients get one too")
	for _, m := range e.l.Members {
		leaf, err := issue(e.ctx, newCA, m, "client-new-ca")
		if err != nil {
			return e.check("client certificate from the new CA", err)
		}
		if err := e.change(m, append([]string{"set", "charmed-etcd"}, leafOptions("client", leaf)...), false, nil, nil); err != nil {
			return err
		}
		if err := e.presents(m, m.ClientPort, "client", leaf, e.clientCA); err != nil {
			return err
		}
	}
	pair, err := newCA.Issue(e.ctx, lab.LeafOptions{CN: "loadcheck", EKU: "clientAuth", File: "loadcheck-new-ca"})
	if err != nil {
		return e.check("client certificate from the new CA for the load", err)
	}
	e.clientCert, e.clientKey = pair.Cert, pair.Key
	if err := e.check("the load's clients use a certificate from the new CA", writeCertKey(e.clientCertKey, pair)); err != nil {
		return err
	}
	e.step("step 3, member by member: tls.client.ca = new CA only")
	if err := e.chk.mark("withdraw"); err != nil {
		return err
	}
	for _, m := range e.l.Members {
		if err := e.change(m, []string{"set", "charmed-etcd", "tls.client.ca=" + bundle(newCA)}, true, nil, nil); err != nil {
			return err
		}
		if err := e.caFileHolds(m, "client_ca.pem", 1); err != nil {
			return err
		}
	}
	if err := e.chk.mark("withdrawn"); err != nil {
		return err
	}
	m1 := e.member(0)
	r := m1.EtcdctlQuiet(e.ctx, "--endpoints", e.clientURL(m1), "--dial-timeout=2s", "--command-timeout=3s",
		"--cacert", e.clientCA, "--cert", old.Cert, "--key", old.Key, "get", "x")
	err = nil
	if r.Err == nil {
		err = errors.New("served")
	}
	if err := e.check("a client certificate from the old CA is refused", err); err != nil {
		return err
	}
	// Give the long-lived client time to meet the withdrawal: its
	// requests give up after 2s.
	time.Sleep(5 * time.Second)
	return nil
}

// judgeLongLived: the long-lived client never failed before the old CA
// was withdrawn, and fails once it is withdrawn everywhere.
func judgeLongLived(e *env, r *history.Report) error {
	var withdraw, withdrawn int64 = -1, -1
	for _, m := range r.Marks {
		switch m.Name {
		case "withdraw":
			withdraw = m.At
		case "withdrawn":
			withdrawn = m.At
		}
	}
	if withdraw < 0 || withdrawn < 0 {
		return errors.New("the withdrawal was not marked")
	}
	var before, beforeFailed, after, afterFailed int
	for _, p := range r.Probes {
		switch {
		case p.End < withdraw:
			before++
			if p.Err != "" {
				beforeFailed++
			}
		case p.Start > withdrawn:
			after++
			if p.Err != "" {
				afterFailed++
			}
		}
	}
	fmt.Fprintf(e.log, "    long-lived client: %d requests before the withdrawal (%d failed), %d after (%d failed)\n", before, beforeFailed, after, afterFailed)
	switch {
	case before == 0 || beforeFailed > 0:
		return fmt.Errorf("the long-lived client failed %d of %d requests before its CA was withdrawn", beforeFailed, before)
	case after == 0:
		return errors.New("no request of the long-lived client ended after its CA was withdrawn")
	case afterFailed < after:
		return fmt.Errorf("the long-lived client was served %d times after its CA was withdrawn", after-afterFailed)
	}
	return nil
}

// tlsOff unsets tls.peer member by member, then tls.client.
func tlsOff(e *env) error {
	if err := e.newCluster(true, true); err != nil {
		return err
	}
	if err := e.startLoad(); err != nil {
		return err
	}
	e.step("under load, snap unset charmed-etcd tls.peer, member by member")
	for _, m := range e.l.Members {
		if err := e.change(m, []string{"unset", "charmed-etcd", "tls.peer"}, true, ptr(false), nil); err != nil {
			return err
		}
	}
	e.step("under load, snap unset charmed-etcd tls.client, member by member")
	for _, m := range e.l.Members {
		if err := e.change(m, []string{"unset", "charmed-etcd", "tls.client"}, true, nil, ptr(false)); err != nil {
			return err
		}
	}
	return nil
}
