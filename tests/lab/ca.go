package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// CA is a certificate authority made with openssl, as an operator makes one.
type CA struct {
	Name string
	Dir  string
	Cert string // path of the CA certificate
	Key  string
}

// CAs are the lab's authorities: one per surface, as the snap's model has it.
type CAs struct {
	Peer, Client *CA
}

func openssl(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cannot run openssl %s: %v: %s", args[0], err, out)
	}
	return nil
}

// NewCA makes a self-signed P-256 CA under dir/name.
func NewCA(ctx context.Context, dir, name string) (*CA, error) {
	ca := &CA{Name: name, Dir: filepath.Join(dir, name)}
	if err := os.MkdirAll(ca.Dir, 0o700); err != nil {
		return nil, err
	}
	ca.Cert, ca.Key = filepath.Join(ca.Dir, "ca.pem"), filepath.Join(ca.Dir, "ca.key")
	err := openssl(ctx, ca.Dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", ca.Key, "-out", ca.Cert, "-days", "365", "-subj", "/O=charmed-etcd lab/CN="+name,
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	return ca, err
}

// Leaf is a certificate and key issued by a CA.
type Leaf struct {
	Cert, Key string // paths
}

// LeafOptions shape an issued certificate.
type LeafOptions struct {
	CN   string
	SANs []string // "IP:10.99.0.11", "DNS:m1.etcd.test"
	EKU  string   // "serverAuth,clientAuth" when empty
	Days int      // 90 when 0
	File string   // base file name; CN when empty
}

// Issue makes a P-256 key and a certificate for it signed by ca.
func (ca *CA) Issue(ctx context.Context, o LeafOptions) (*Leaf, error) {
	if o.EKU == "" {
		o.EKU = "serverAuth,clientAuth"
	}
	if o.Days == 0 {
		o.Days = 90
	}
	if o.File == "" {
		o.File = o.CN
	}
	base := filepath.Join(ca.Dir, o.File)
	ext := base + ".ext"
	extText := "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=" + o.EKU + "\n"
	if len(o.SANs) > 0 {
		extText += "subjectAltName=" + strings.Join(o.SANs, ",") + "\n"
	}
	if err := os.WriteFile(ext, []byte(extText), 0o600); err != nil {
		return nil, err
	}
	leaf := &Leaf{Cert: base + ".pem", Key: base + ".key"}
	if err := openssl(ctx, ca.Dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", leaf.Key, "-out", base+".csr", "-subj", "/O=charmed-etcd lab/CN="+o.CN); err != nil {
		return nil, err
	}
	if err := openssl(ctx, ca.Dir, "x509", "-req", "-in", base+".csr", "-CA", ca.Cert, "-CAkey", ca.Key,
		"-CAcreateserial", "-days", fmt.Sprint(o.Days), "-out", leaf.Cert, "-extfile", ext); err != nil {
		return nil, err
	}
	return leaf, nil
}

// MemberLeaf issues the certificate a member uses on one surface: its
// address as IP SAN (or DNS name), and a DNS name of its own.
func (ca *CA) MemberLeaf(ctx context.Context, m *Member, surface string) (*Leaf, error) {
	return ca.Issue(ctx, LeafOptions{CN: m.Name, File: m.Name + "-" + surface,
		SANs: []string{"IP:" + m.Addr, "DNS:" + m.Name + ".etcd.test"}})
}

// Read returns a file's content, for snap set values.
func Read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}
