package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/herd-project/herd/pkg/pki"
)

// EncryptionConfigPath is the encryption configuration herd writes when none
// is given: Secrets encrypted with secretbox under a key generated once.
func EncryptionConfigPath(dataDir string) string {
	return filepath.Join(dataDir, "encryption-config.yaml")
}

// ensureEncryptionConfig returns the default encryption configuration of
// dataDir, writing it (0600) with a new random key on first start. The
// identity provider comes last so that Secrets stored before encryption was
// on stay readable; they are encrypted on their next write.
func ensureEncryptionConfig(dataDir string) (string, error) {
	path := EncryptionConfigPath(dataDir)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	cfg := fmt.Sprintf(`# Written by herd on first start: how resources are encrypted in etcd
# (kube-apiserver's --encryption-provider-config format). Keep this file:
# without its key the Secrets stored in etcd cannot be read.
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - secretbox:
          keys:
            - name: key1
              secret: %s
      - identity: {}
`, base64.StdEncoding.EncodeToString(key))
	if err := pki.WriteFileAtomic(path, []byte(cfg), 0o600); err != nil {
		return "", fmt.Errorf("writing the encryption configuration %s: %w", path, err)
	}
	return path, nil
}

// DefaultAuditPolicyPath is the policy used when --audit-log-path is given
// without --audit-policy-file.
func DefaultAuditPolicyPath(dataDir string) string {
	return filepath.Join(dataDir, "audit-policy.yaml")
}

// ensureDefaultAuditPolicy writes the default audit policy, if missing: the
// metadata (who, what, when, answer) of every request but health checks.
func ensureDefaultAuditPolicy(dataDir string) (string, error) {
	path := DefaultAuditPolicyPath(dataDir)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	policy := `# Written by herd: the audit policy used when --audit-log-path is given
# without --audit-policy-file (Kubernetes' audit.k8s.io/v1 Policy format).
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  - level: None
    nonResourceURLs:
      - /healthz*
      - /livez*
      - /readyz*
      - /version
  - level: Metadata
`
	if err := pki.WriteFileAtomic(path, []byte(policy), 0o600); err != nil {
		return "", fmt.Errorf("writing the default audit policy %s: %w", path, err)
	}
	return path, nil
}
