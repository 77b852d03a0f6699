// Package pki creates and loads the certificates and secrets a herd server
// keeps in its data directory: the cluster CA, the API server's serving
// certificate, the admin client certificate, the node join token, the etcd CA
// with etcd's serving and client certificates, and the CA that signs the API
// server's client certificate towards node agents. As in Kubernetes, the
// etcd and agent-client CAs are separate from the cluster CA, so that no
// cluster client certificate opens etcd and the API server's agent client
// certificate is not a cluster client. It only handles files and crypto; it
// does not serve anything.
package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Files names the PEM files of one data directory.
type Files struct {
	Dir string
}

func (f Files) path(name string) string { return filepath.Join(f.Dir, name) }
func (f Files) CACert() string          { return f.path("ca.crt") }
func (f Files) CAKey() string           { return f.path("ca.key") }
func (f Files) ServingCert() string     { return f.path("serving.crt") }
func (f Files) ServingKey() string      { return f.path("serving.key") }
func (f Files) AdminCert() string       { return f.path("admin.crt") }
func (f Files) AdminKey() string        { return f.path("admin.key") }

// AgentClientCert and AgentClientKey are the API server's client
// certificate towards node agents (kube-apiserver's kubelet client), signed
// by the agent-client CA, which only node agents trust.
func (f Files) AgentClientCert() string   { return f.path("apiserver-agent-client.crt") }
func (f Files) AgentClientKey() string    { return f.path("apiserver-agent-client.key") }
func (f Files) AgentClientCACert() string { return f.path("agent-client-ca.crt") }
func (f Files) AgentClientCAKey() string  { return f.path("agent-client-ca.key") }

// The etcd CA signs the embedded etcd's serving certificate and the API
// server's etcd client certificate; nothing else trusts it.
func (f Files) EtcdCACert() string     { return f.path("etcd/ca.crt") }
func (f Files) EtcdCAKey() string      { return f.path("etcd/ca.key") }
func (f Files) EtcdServerCert() string { return f.path("etcd/server.crt") }
func (f Files) EtcdServerKey() string  { return f.path("etcd/server.key") }
func (f Files) EtcdClientCert() string { return f.path("etcd/apiserver-etcd-client.crt") }
func (f Files) EtcdClientKey() string  { return f.path("etcd/apiserver-etcd-client.key") }

// NodeClientCert and NodeClientKey are the in-process node agent's client
// certificate (user system:node:<name>, group system:nodes).
func (f Files) NodeClientCert() string { return f.path("node-client.crt") }
func (f Files) NodeClientKey() string  { return f.path("node-client.key") }

// CA is a loaded certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	PEM  []byte
}

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 5 * 365 * 24 * time.Hour
)

// AdminUser and AdminGroup are the identity in the admin client certificate.
const (
	AdminUser  = "herd-admin"
	AdminGroup = "system:masters"
)

// AgentClientUser is the common name node agents accept from the API
// server's client certificate.
const AgentClientUser = "herd-apiserver-agent-client"

// Ensure creates whatever is missing in f.Dir: the CA, a serving certificate
// valid for hosts (IPs or DNS names; it is re-issued when a host is missing),
// the admin client certificate and the API server's client certificate
// towards node agents. Existing files are reused so that a
// restart keeps every credential.
func Ensure(f Files, hosts []string) (*CA, error) {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return nil, err
	}
	ca, err := ensureCA(f)
	if err != nil {
		return nil, err
	}
	if !servingCovers(f.ServingCert(), ca, hosts) {
		if err := issue(ca, f.ServingCert(), f.ServingKey(), leafTemplate("herd-apiserver", nil, hosts, x509.ExtKeyUsageServerAuth)); err != nil {
			return nil, fmt.Errorf("issuing serving certificate: %w", err)
		}
	}
	if !exists(f.AdminCert()) || !exists(f.AdminKey()) {
		if err := issue(ca, f.AdminCert(), f.AdminKey(), leafTemplate(AdminUser, []string{AdminGroup}, nil, x509.ExtKeyUsageClientAuth)); err != nil {
			return nil, fmt.Errorf("issuing admin certificate: %w", err)
		}
	}
	agentCA, err := EnsureAgentClientCA(f)
	if err != nil {
		return nil, err
	}
	// Earlier versions signed this certificate with the cluster CA, which
	// made it a cluster client: re-issue it under the agent-client CA.
	if !signedBy(f.AgentClientCert(), agentCA) || !exists(f.AgentClientKey()) {
		if err := issue(agentCA, f.AgentClientCert(), f.AgentClientKey(), leafTemplate(AgentClientUser, nil, nil, x509.ExtKeyUsageClientAuth)); err != nil {
			return nil, fmt.Errorf("issuing the API server's agent client certificate: %w", err)
		}
	}
	return ca, nil
}

// EnsureAgentClientCA returns the CA that signs the API server's client
// certificate towards node agents, creating it on first use.
func EnsureAgentClientCA(f Files) (*CA, error) {
	return ensureCAAt(f.AgentClientCACert(), f.AgentClientCAKey(), "herd-agent-client-ca")
}

// EnsureEtcd creates what is missing of the embedded etcd's credentials: its
// CA, a serving certificate for the loopback address (also used between
// etcd's own peer endpoints) and the API server's client certificate.
func EnsureEtcd(f Files) (*CA, error) {
	if err := os.MkdirAll(filepath.Dir(f.EtcdCACert()), 0o700); err != nil {
		return nil, err
	}
	ca, err := ensureCAAt(f.EtcdCACert(), f.EtcdCAKey(), "herd-etcd-ca")
	if err != nil {
		return nil, err
	}
	hosts := []string{"127.0.0.1", "localhost"}
	if !servingCovers(f.EtcdServerCert(), ca, hosts) || !exists(f.EtcdServerKey()) {
		// Peers present the same certificate as clients and servers.
		tmpl := leafTemplate("herd-etcd", nil, hosts, x509.ExtKeyUsageServerAuth)
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
		if err := issue(ca, f.EtcdServerCert(), f.EtcdServerKey(), tmpl); err != nil {
			return nil, fmt.Errorf("issuing etcd serving certificate: %w", err)
		}
	}
	if !signedBy(f.EtcdClientCert(), ca) || !exists(f.EtcdClientKey()) {
		if err := issue(ca, f.EtcdClientCert(), f.EtcdClientKey(), leafTemplate("herd-apiserver-etcd-client", nil, nil, x509.ExtKeyUsageClientAuth)); err != nil {
			return nil, fmt.Errorf("issuing etcd client certificate: %w", err)
		}
	}
	return ca, nil
}

// EnsureClient makes sure certPath/keyPath hold a client certificate signed
// by ca for user and groups, re-issuing it when the identity differs, the CA
// changed or it expires within 30 days.
func EnsureClient(ca *CA, certPath, keyPath, user string, groups []string) error {
	if b, err := os.ReadFile(certPath); err == nil && exists(keyPath) {
		if cert, err := parseCert(b); err == nil && cert.CheckSignatureFrom(ca.Cert) == nil &&
			cert.Subject.CommonName == user && slices.Equal(cert.Subject.Organization, groups) &&
			time.Now().Before(cert.NotAfter.Add(-30*24*time.Hour)) {
			return nil
		}
	}
	return IssueClient(ca, certPath, keyPath, user, groups)
}

// signedBy reports whether the certificate at path exists and is signed by ca.
func signedBy(path string, ca *CA) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	cert, err := parseCert(b)
	return err == nil && cert.CheckSignatureFrom(ca.Cert) == nil
}

// EnsureToken returns the secret in path, creating a random one on first use.
func EnsureToken(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		tok := string(bytes.TrimSpace(b))
		if tok != "" {
			return tok, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(buf)
	if err := WriteFileAtomic(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	return tok, nil
}

func ensureCA(f Files) (*CA, error) {
	return ensureCAAt(f.CACert(), f.CAKey(), "herd-ca")
}

func ensureCAAt(certPath, keyPath, cn string) (*CA, error) {
	if exists(certPath) && exists(keyPath) {
		return loadCAAt(certPath, keyPath)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s@%d", cn, now.Unix())},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	if err := writeKeyPair(certPath, keyPath, der, key); err != nil {
		return nil, err
	}
	return loadCAAt(certPath, keyPath)
}

// LoadCA reads the cluster CA certificate and key.
func LoadCA(f Files) (*CA, error) { return loadCAAt(f.CACert(), f.CAKey()) }

func loadCAAt(certPath, keyPath string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, fmt.Errorf("%s: no PEM data", keyPath)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	return &CA{Cert: cert, Key: key, PEM: certPEM}, nil
}

// IssueClient writes a client certificate for user/groups signed by ca.
func IssueClient(ca *CA, certPath, keyPath, user string, groups []string) error {
	return issue(ca, certPath, keyPath, leafTemplate(user, groups, nil, x509.ExtKeyUsageClientAuth))
}

func leafTemplate(cn string, orgs, hosts []string, usage x509.ExtKeyUsage) *x509.Certificate {
	now := time.Now()
	t := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			t.IPAddresses = append(t.IPAddresses, ip)
		} else if h != "" {
			t.DNSNames = append(t.DNSNames, h)
		}
	}
	return t
}

func issue(ca *CA, certPath, keyPath string, tmpl *x509.Certificate) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return err
	}
	return writeKeyPair(certPath, keyPath, der, key)
}

func writeKeyPair(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	return WriteFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func servingCovers(certPath string, ca *CA, hosts []string) bool {
	b, err := os.ReadFile(certPath)
	if err != nil {
		return false
	}
	cert, err := parseCert(b)
	if err != nil || time.Now().After(cert.NotAfter.Add(-30*24*time.Hour)) {
		return false
	}
	if cert.CheckSignatureFrom(ca.Cert) != nil {
		return false
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
				return false
			}
		} else if h != "" && !slices.Contains(cert.DNSNames, h) {
			return false
		}
	}
	return true
}

func parseCert(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM data")
	}
	return x509.ParseCertificate(blk.Bytes)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// WriteFileAtomic writes data to path through a temporary file and a rename,
// so readers never see a partial file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// EnsureServing makes sure certPath/keyPath hold a serving certificate signed
// by ca for hosts, issuing a new one when missing or when a host is not
// covered (node agents' HTTPS endpoints).
func EnsureServing(ca *CA, certPath, keyPath, cn string, hosts []string) error {
	if servingCovers(certPath, ca, hosts) && exists(keyPath) {
		return nil
	}
	return issue(ca, certPath, keyPath, leafTemplate(cn, nil, hosts, x509.ExtKeyUsageServerAuth))
}
