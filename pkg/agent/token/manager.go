// Package token is the node agent's service account token cache, as the
// kubelet's token manager: projected serviceAccountToken volumes get their
// tokens through the TokenRequest API, bound to the pod; a token is reused
// until 80% of its lifetime has passed or it is older than 24 hours (with a
// few seconds of jitter), then requested again. When a refresh fails the old
// token is used until it expires. Writing the token into the pod's volume is
// the runtime's job.
package token

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

const (
	// maxTTL: a token older than this is refreshed whatever its lifetime.
	maxTTL = 24 * time.Hour
	// maxJitter spreads refreshes of tokens issued together.
	maxJitter = 10 * time.Second
	// gcPeriod is how often expired tokens are dropped from the cache.
	gcPeriod = time.Minute
)

// Manager caches service account tokens. It is safe for concurrent use.
type Manager struct {
	create func(ctx context.Context, ns, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error)
	clock  clock.PassiveClock
	jitter func() time.Duration

	mu     sync.Mutex
	cache  map[string]*authenticationv1.TokenRequest
	lastGC time.Time
}

// NewManager returns a Manager that requests tokens through client.
func NewManager(client kubernetes.Interface, clk clock.PassiveClock) *Manager {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Manager{
		create: func(ctx context.Context, ns, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
			return client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, tr, metav1.CreateOptions{})
		},
		clock:  clk,
		jitter: func() time.Duration { return time.Duration(rand.Float64() * float64(maxJitter)) },
		cache:  map[string]*authenticationv1.TokenRequest{},
		lastGC: clk.Now(),
	}
}

func key(ns, name string, tr *authenticationv1.TokenRequest) string {
	var exp int64
	if tr.Spec.ExpirationSeconds != nil {
		exp = *tr.Spec.ExpirationSeconds
	}
	ref := authenticationv1.BoundObjectReference{}
	if tr.Spec.BoundObjectRef != nil {
		ref = *tr.Spec.BoundObjectRef
	}
	return fmt.Sprintf("%q/%q/%q/%d/%#v", ns, name, tr.Spec.Audiences, exp, ref)
}

// GetServiceAccountToken returns a valid token for service account ns/name
// as tr asks, from the cache when it needs no refresh yet.
func (m *Manager) GetServiceAccountToken(ctx context.Context, ns, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	k := key(ns, name, tr)
	m.mu.Lock()
	cached, ok := m.cache[k]
	m.gcLocked()
	m.mu.Unlock()
	if ok && !m.requiresRefresh(cached) {
		return cached, nil
	}
	fresh, err := m.create(ctx, ns, name, tr)
	if err != nil {
		switch {
		case !ok:
			return nil, fmt.Errorf("failed to fetch token: %w", err)
		case m.expired(cached):
			return nil, fmt.Errorf("token expired and refresh failed: %w", err)
		default:
			klog.FromContext(ctx).Error(err, "Couldn't update service account token; using the cached one", "serviceAccount", klog.KRef(ns, name))
			return cached, nil
		}
	}
	m.mu.Lock()
	m.cache[k] = fresh
	m.mu.Unlock()
	return fresh, nil
}

// DeleteServiceAccountToken drops the tokens bound to pod podUID.
func (m *Manager) DeleteServiceAccountToken(podUID types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, tr := range m.cache {
		if ref := tr.Spec.BoundObjectRef; ref != nil && ref.UID == podUID {
			delete(m.cache, k)
		}
	}
}

func (m *Manager) expired(tr *authenticationv1.TokenRequest) bool {
	return m.clock.Now().After(tr.Status.ExpirationTimestamp.Time)
}

// requiresRefresh: older than 24 h, or less than 20% of its lifetime left
// (both less a jitter).
func (m *Manager) requiresRefresh(tr *authenticationv1.TokenRequest) bool {
	if tr.Spec.ExpirationSeconds == nil {
		return false
	}
	now := m.clock.Now()
	life := time.Duration(*tr.Spec.ExpirationSeconds) * time.Second
	exp := tr.Status.ExpirationTimestamp.Time
	iat := exp.Add(-life)
	j := m.jitter()
	if now.After(iat.Add(maxTTL - j)) {
		return true
	}
	return now.After(exp.Add(-life/5 - j))
}

func (m *Manager) gcLocked() {
	now := m.clock.Now()
	if now.Sub(m.lastGC) < gcPeriod {
		return
	}
	m.lastGC = now
	for k, tr := range m.cache {
		if now.After(tr.Status.ExpirationTimestamp.Time) {
			delete(m.cache, k)
		}
	}
}
