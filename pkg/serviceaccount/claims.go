package serviceaccount

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Well-known names of Kubernetes' service account identities.
const (
	// DefaultIssuer is kube-apiserver's usual --service-account-issuer.
	DefaultIssuer = "https://kubernetes.default.svc.cluster.local"
	// UsernamePrefix starts every service account user name.
	UsernamePrefix = "system:serviceaccount:"
	// AllGroup holds every service account; GroupPrefix+NS those of NS.
	AllGroup    = "system:serviceaccounts"
	GroupPrefix = "system:serviceaccounts:"

	// User extra keys Kubernetes sets for service account tokens.
	PodNameKey      = "authentication.kubernetes.io/pod-name"
	PodUIDKey       = "authentication.kubernetes.io/pod-uid"
	NodeNameKey     = "authentication.kubernetes.io/node-name"
	NodeUIDKey      = "authentication.kubernetes.io/node-uid"
	CredentialIDKey = "authentication.kubernetes.io/credential-id"

	// WarnOnlyExpirationSeconds is the lifetime the ServiceAccount
	// admission plugin asks for in kube-api-access volumes; such pod-bound
	// tokens are extended to ExtendedExpirationSeconds with a warnafter
	// claim at the requested lifetime (--service-account-extend-token-expiration).
	WarnOnlyExpirationSeconds = 3607
	ExtendedExpirationSeconds = 365 * 24 * 60 * 60
)

// Username is the user name of service account ns/name.
func Username(ns, name string) string { return UsernamePrefix + ns + ":" + name }

// SplitUsername returns the namespace and name of a service account user
// name; ok is false for other users.
func SplitUsername(user string) (ns, name string, ok bool) {
	rest, found := strings.CutPrefix(user, UsernamePrefix)
	if !found {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, ":")
	if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return ns, name, true
}

// Claims is a token's payload.
type Claims struct {
	Issuer    string    `json:"iss,omitempty"`
	Subject   string    `json:"sub,omitempty"`
	Audience  audiences `json:"aud,omitempty"`
	Expiry    int64     `json:"exp,omitempty"`
	IssuedAt  int64     `json:"iat,omitempty"`
	NotBefore int64     `json:"nbf,omitempty"`
	ID        string    `json:"jti,omitempty"`
	// Kubernetes is the private "kubernetes.io" claim.
	Kubernetes *PrivateClaims `json:"kubernetes.io,omitempty"`
}

// PrivateClaims says whom the token is for and what it is bound to.
type PrivateClaims struct {
	Namespace      string `json:"namespace,omitempty"`
	ServiceAccount Ref    `json:"serviceaccount"`
	Pod            *Ref   `json:"pod,omitempty"`
	Secret         *Ref   `json:"secret,omitempty"`
	Node           *Ref   `json:"node,omitempty"`
	WarnAfter      *int64 `json:"warnafter,omitempty"`
}

// Ref names an object and its UID.
type Ref struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// audiences is written as a JSON array and read from an array or a single
// string, as RFC 7519 allows.
type audiences []string

func (a *audiences) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audiences{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("aud must be a string or an array of strings")
	}
	*a = l
	return nil
}
