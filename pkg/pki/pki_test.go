package pki

import (
	"crypto/x509"
	"os"
	"testing"
)

func load(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCert(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The etcd and agent-client CAs are not the cluster CA: no cluster client
// certificate opens etcd, and the API server's agent client certificate is
// not a cluster client.
func TestSeparateCAs(t *testing.T) {
	f := Files{Dir: t.TempDir()}
	ca, err := Ensure(f, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	etcdCA, err := EnsureEtcd(f)
	if err != nil {
		t.Fatal(err)
	}
	agentCA, err := EnsureAgentClientCA(f)
	if err != nil {
		t.Fatal(err)
	}
	agentClient := load(t, f.AgentClientCert())
	if agentClient.CheckSignatureFrom(ca.Cert) == nil {
		t.Error("the agent client certificate is signed by the cluster CA")
	}
	if err := agentClient.CheckSignatureFrom(agentCA.Cert); err != nil {
		t.Errorf("agent client certificate: %v", err)
	}
	for _, p := range []string{f.EtcdClientCert(), f.EtcdServerCert()} {
		c := load(t, p)
		if c.CheckSignatureFrom(ca.Cert) == nil {
			t.Errorf("%s is signed by the cluster CA", p)
		}
		if err := c.CheckSignatureFrom(etcdCA.Cert); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if load(t, f.AdminCert()).CheckSignatureFrom(etcdCA.Cert) == nil {
		t.Error("the admin certificate is signed by the etcd CA")
	}
	// A second call keeps every file.
	before := load(t, f.EtcdClientCert()).SerialNumber
	if _, err := EnsureEtcd(f); err != nil {
		t.Fatal(err)
	}
	if load(t, f.EtcdClientCert()).SerialNumber.Cmp(before) != 0 {
		t.Error("EnsureEtcd re-issued an existing certificate")
	}
}

// An agent client certificate from before the agent-client CA existed
// (signed by the cluster CA) is re-issued.
func TestAgentClientReissued(t *testing.T) {
	f := Files{Dir: t.TempDir()}
	ca, err := Ensure(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := IssueClient(ca, f.AgentClientCert(), f.AgentClientKey(), AgentClientUser, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(f, nil); err != nil {
		t.Fatal(err)
	}
	if load(t, f.AgentClientCert()).CheckSignatureFrom(ca.Cert) == nil {
		t.Error("old agent client certificate kept")
	}
}

func TestEnsureClient(t *testing.T) {
	f := Files{Dir: t.TempDir()}
	ca, err := Ensure(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureClient(ca, f.NodeClientCert(), f.NodeClientKey(), "system:node:a", []string{"system:nodes"}); err != nil {
		t.Fatal(err)
	}
	first := load(t, f.NodeClientCert())
	if first.Subject.CommonName != "system:node:a" || len(first.Subject.Organization) != 1 || first.Subject.Organization[0] != "system:nodes" {
		t.Fatalf("subject %v", first.Subject)
	}
	if err := EnsureClient(ca, f.NodeClientCert(), f.NodeClientKey(), "system:node:a", []string{"system:nodes"}); err != nil {
		t.Fatal(err)
	}
	if load(t, f.NodeClientCert()).SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Error("same identity re-issued")
	}
	if err := EnsureClient(ca, f.NodeClientCert(), f.NodeClientKey(), "system:node:b", []string{"system:nodes"}); err != nil {
		t.Fatal(err)
	}
	if got := load(t, f.NodeClientCert()).Subject.CommonName; got != "system:node:b" {
		t.Errorf("renamed node: certificate for %s", got)
	}
}
