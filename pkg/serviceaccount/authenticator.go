package serviceaccount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

// leeway is the clock skew allowed on exp, nbf and iat (go-jose's default,
// which Kubernetes' validator uses).
const leeway = time.Minute

// deletedPodGrace: a token bound to a pod stays valid this long after the
// pod got its deletionTimestamp, as in Kubernetes.
const deletedPodGrace = 60 * time.Second

var _ authenticator.Token = (*Issuer)(nil)

// AuthenticateToken implements authenticator.Token. A token that is not a
// JWT of this issuer is left to other authenticators (false, nil); one of
// ours that fails a check is an error saying which.
func (i *Issuer) AuthenticateToken(ctx context.Context, tok string) (*authenticator.Response, bool, error) {
	h, payload, sig, input, err := parseUnverified(tok)
	if err != nil {
		return nil, false, nil
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil || c.Issuer != i.Name {
		return nil, false, nil
	}
	if h.Alg != "ES256" {
		return nil, false, fmt.Errorf("service account token uses algorithm %q; only ES256 is accepted", h.Alg)
	}
	if err := verify(&i.key.PublicKey, input, sig); err != nil {
		return nil, false, errors.New("service account token has an invalid signature")
	}
	now := i.clock.Now()
	if err := checkTimes(&c, now); err != nil {
		return nil, false, err
	}
	wanted := authenticator.Audiences(i.APIAudiences)
	if auds, ok := authenticator.AudiencesFrom(ctx); ok && len(auds) > 0 {
		wanted = auds
	}
	matched := wanted.Intersect(authenticator.Audiences(c.Audience))
	if len(matched) == 0 {
		return nil, false, fmt.Errorf("token audiences %q is invalid for the target audiences %q", []string(c.Audience), []string(wanted))
	}
	info, err := i.validateObjects(ctx, &c, now)
	if err != nil {
		return nil, false, err
	}
	return &authenticator.Response{User: info, Audiences: matched}, true, nil
}

func checkTimes(c *Claims, now time.Time) error {
	n := now.Unix()
	skew := int64(leeway / time.Second)
	if c.Expiry == 0 {
		return errors.New("service account token has no expiry")
	}
	if n > c.Expiry+skew {
		return errors.New("service account token has expired")
	}
	if c.NotBefore != 0 && n+skew < c.NotBefore {
		return errors.New("service account token is not valid yet")
	}
	if c.IssuedAt != 0 && n+skew < c.IssuedAt {
		return errors.New("service account token is issued in the future")
	}
	return nil
}

// validateObjects checks that the service account and the bound objects
// still exist as the ones the token was issued for, and builds the user.
func (i *Issuer) validateObjects(ctx context.Context, c *Claims, now time.Time) (*user.DefaultInfo, error) {
	pc := c.Kubernetes
	if pc == nil || pc.Namespace == "" || pc.ServiceAccount.Name == "" || pc.ServiceAccount.UID == "" {
		return nil, errors.New("service account token lacks the kubernetes.io claims")
	}
	if c.Subject != Username(pc.Namespace, pc.ServiceAccount.Name) {
		return nil, errors.New("service account token's subject does not match its kubernetes.io claims")
	}
	g := i.Getter()
	if g == nil {
		return nil, errors.New("service account tokens cannot be validated yet: the API server is starting")
	}
	ns := pc.Namespace
	sa, err := g.ServiceAccount(ctx, ns, pc.ServiceAccount.Name, types.UID(pc.ServiceAccount.UID))
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("service account %s/%s has been deleted", ns, pc.ServiceAccount.Name)
		}
		return nil, fmt.Errorf("looking up service account %s/%s: %w", ns, pc.ServiceAccount.Name, err)
	}
	if sa.DeletionTimestamp != nil {
		return nil, fmt.Errorf("service account %s/%s has been deleted", ns, sa.Name)
	}
	if string(sa.UID) != pc.ServiceAccount.UID {
		return nil, fmt.Errorf("service account UID (%s) does not match claim (%s)", sa.UID, pc.ServiceAccount.UID)
	}
	info := &user.DefaultInfo{
		Name:   Username(ns, sa.Name),
		UID:    string(sa.UID),
		Groups: []string{AllGroup, GroupPrefix + ns},
		Extra:  map[string][]string{},
	}
	if pc.Pod != nil {
		pod, err := g.Pod(ctx, ns, pc.Pod.Name, types.UID(pc.Pod.UID))
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("pod %s/%s has been deleted", ns, pc.Pod.Name)
			}
			return nil, fmt.Errorf("looking up pod %s/%s: %w", ns, pc.Pod.Name, err)
		}
		if string(pod.UID) != pc.Pod.UID {
			return nil, fmt.Errorf("pod UID (%s) does not match claim (%s)", pod.UID, pc.Pod.UID)
		}
		if pod.DeletionTimestamp != nil && pod.DeletionTimestamp.Time.Before(now.Add(-deletedPodGrace)) {
			return nil, fmt.Errorf("pod %s/%s is being deleted", ns, pod.Name)
		}
		info.Extra[PodNameKey] = []string{pod.Name}
		info.Extra[PodUIDKey] = []string{string(pod.UID)}
	}
	if pc.Secret != nil {
		s, err := g.Secret(ctx, ns, pc.Secret.Name, types.UID(pc.Secret.UID))
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("secret %s/%s has been deleted", ns, pc.Secret.Name)
			}
			return nil, fmt.Errorf("looking up secret %s/%s: %w", ns, pc.Secret.Name, err)
		}
		if string(s.UID) != pc.Secret.UID {
			return nil, fmt.Errorf("secret UID (%s) does not match claim (%s)", s.UID, pc.Secret.UID)
		}
		if s.DeletionTimestamp != nil {
			return nil, fmt.Errorf("secret %s/%s has been deleted", ns, s.Name)
		}
	}
	if pc.Node != nil {
		// A token bound to a node is checked against it; the node of a
		// pod-bound token is information only.
		if pc.Pod == nil {
			n, err := g.Node(ctx, pc.Node.Name, types.UID(pc.Node.UID))
			if err != nil {
				if apierrors.IsNotFound(err) {
					return nil, fmt.Errorf("node %s has been deleted", pc.Node.Name)
				}
				return nil, fmt.Errorf("looking up node %s: %w", pc.Node.Name, err)
			}
			if string(n.UID) != pc.Node.UID {
				return nil, fmt.Errorf("node UID (%s) does not match claim (%s)", n.UID, pc.Node.UID)
			}
			if n.DeletionTimestamp != nil {
				return nil, fmt.Errorf("node %s has been deleted", n.Name)
			}
		}
		info.Extra[NodeNameKey] = []string{pc.Node.Name}
		info.Extra[NodeUIDKey] = []string{pc.Node.UID}
	}
	if c.ID != "" {
		info.Extra[CredentialIDKey] = []string{"JTI=" + c.ID}
	}
	if len(info.Extra) == 0 {
		info.Extra = nil
	}
	return info, nil
}
