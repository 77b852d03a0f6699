package serviceaccount

import (
	"crypto/ecdsa"
	"fmt"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/utils/clock"
)

// Issuer signs tokens and validates them (Authenticator). One Issuer
// serves the whole API server; its Getter is set once the API server's
// clients exist (SetGetter) — until then validation fails.
type Issuer struct {
	key *ecdsa.PrivateKey
	kid string
	// Name is the iss claim.
	Name string
	// APIAudiences are the audiences tokens get when a request names none,
	// and those the API accepts when the request context names none.
	APIAudiences []string

	clock  clock.PassiveClock
	getter atomic.Pointer[Getter]
}

// NewIssuer returns an Issuer signing with key. An empty name is
// DefaultIssuer; empty audiences are [name].
func NewIssuer(key *ecdsa.PrivateKey, name string, apiAudiences []string, clk clock.PassiveClock) (*Issuer, error) {
	if name == "" {
		name = DefaultIssuer
	}
	if len(apiAudiences) == 0 {
		apiAudiences = []string{name}
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	kid, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Issuer{key: key, kid: kid, Name: name, APIAudiences: apiAudiences, clock: clk}, nil
}

// SetGetter gives the issuer what it reads objects with.
func (i *Issuer) SetGetter(g Getter) { i.getter.Store(&g) }

// Getter returns the getter set by SetGetter, or nil.
func (i *Issuer) Getter() Getter {
	if p := i.getter.Load(); p != nil {
		return *p
	}
	return nil
}

// Now is the issuer's clock.
func (i *Issuer) Now() time.Time { return i.clock.Now() }

// Request is what a token is issued for.
type Request struct {
	ServiceAccount *corev1.ServiceAccount
	// At most one of Pod, Secret, Node is the bound object; Node may also
	// accompany Pod (the node the pod runs on).
	Pod    *corev1.Pod
	Secret *corev1.Secret
	Node   *corev1.Node
	// Audiences of the token (required).
	Audiences []string
	// Lifetime is the time from issue to exp; WarnAfter, when positive,
	// adds the warnafter claim that far from issue.
	Lifetime  time.Duration
	WarnAfter time.Duration
}

// Issue signs a token for r at now.
func (i *Issuer) Issue(r Request, now time.Time) (string, *Claims, error) {
	sa := r.ServiceAccount
	if sa == nil {
		return "", nil, fmt.Errorf("no service account")
	}
	if len(r.Audiences) == 0 {
		return "", nil, fmt.Errorf("no audiences")
	}
	c := &Claims{
		Issuer:    i.Name,
		Subject:   Username(sa.Namespace, sa.Name),
		Audience:  audiences(r.Audiences),
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		Expiry:    now.Add(r.Lifetime).Unix(),
		ID:        string(uuid.NewUUID()),
		Kubernetes: &PrivateClaims{
			Namespace:      sa.Namespace,
			ServiceAccount: Ref{Name: sa.Name, UID: string(sa.UID)},
		},
	}
	pc := c.Kubernetes
	if r.Pod != nil {
		pc.Pod = &Ref{Name: r.Pod.Name, UID: string(r.Pod.UID)}
	}
	if r.Secret != nil {
		pc.Secret = &Ref{Name: r.Secret.Name, UID: string(r.Secret.UID)}
	}
	if r.Node != nil {
		pc.Node = &Ref{Name: r.Node.Name, UID: string(r.Node.UID)}
	}
	if r.WarnAfter > 0 {
		w := now.Add(r.WarnAfter).Unix()
		pc.WarnAfter = &w
	}
	tok, err := sign(i.key, i.kid, c)
	if err != nil {
		return "", nil, err
	}
	return tok, c, nil
}
