package serviceaccount

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
)

type fixture struct {
	client *fake.Clientset
	clock  *clocktesting.FakeClock
	issuer *Issuer
	sa     *corev1.ServiceAccount
	pod    *corev1.Pod
	node   *corev1.Node
	secret *corev1.Secret
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	key, err := EnsureKey(filepath.Join(t.TempDir(), KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		clock:  clocktesting.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		sa:     &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa", Namespace: "ns", UID: "sa-uid"}},
		pod:    &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "pod-uid"}, Spec: corev1.PodSpec{ServiceAccountName: "sa", NodeName: "n"}},
		node:   &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", UID: "node-uid"}},
		secret: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", UID: "secret-uid"}},
	}
	f.client = fake.NewClientset(f.sa, f.pod, f.node, f.secret)
	f.issuer, err = NewIssuer(key, "", nil, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	f.issuer.SetGetter(NewGetter(f.client, nil))
	return f
}

func (f *fixture) issue(t *testing.T, r Request) string {
	t.Helper()
	if r.ServiceAccount == nil {
		r.ServiceAccount = f.sa
	}
	if r.Audiences == nil {
		r.Audiences = f.issuer.APIAudiences
	}
	if r.Lifetime == 0 {
		r.Lifetime = time.Hour
	}
	tok, _, err := f.issuer.Issue(r, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) authn(tok string, auds ...string) (*authenticator.Response, bool, error) {
	ctx := context.Background()
	if len(auds) > 0 {
		ctx = authenticator.WithAudiences(ctx, auds)
	}
	return f.issuer.AuthenticateToken(ctx, tok)
}

func TestEnsureKeyIsCreatedOnceWithMode0600(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tls", KeyFile)
	k1, err := EnsureKey(p)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	k2, err := EnsureKey(p)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second EnsureKey gave another key (%v)", err)
	}
	os.WriteFile(p, []byte("garbage"), 0o600)
	if _, err := EnsureKey(p); err == nil || !strings.Contains(err.Error(), "no PEM block") {
		t.Errorf("corrupt key: %v", err)
	}
}

func TestTokenClaimsAndUser(t *testing.T) {
	f := newFixture(t)
	tok := f.issue(t, Request{Pod: f.pod, Node: f.node, WarnAfter: 10 * time.Minute})
	_, payload, _, _, err := parseUnverified(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"iss":"https://kubernetes.default.svc.cluster.local"`, `"sub":"system:serviceaccount:ns:sa"`,
		`"aud":["https://kubernetes.default.svc.cluster.local"]`, `"exp":1767326645`, `"iat":1767323045`, `"nbf":1767323045`, `"jti":"`,
		`"kubernetes.io":{"namespace":"ns","serviceaccount":{"name":"sa","uid":"sa-uid"},"pod":{"name":"p","uid":"pod-uid"},"node":{"name":"n","uid":"node-uid"},"warnafter":1767323645}`} {
		if !strings.Contains(string(payload), want) {
			t.Errorf("payload lacks %s:\n%s", want, payload)
		}
	}
	resp, ok, err := f.authn(tok)
	if !ok || err != nil {
		t.Fatalf("authenticate: %v %v", ok, err)
	}
	u := resp.User
	if u.GetName() != "system:serviceaccount:ns:sa" || u.GetUID() != "sa-uid" ||
		strings.Join(u.GetGroups(), ",") != "system:serviceaccounts,system:serviceaccounts:ns" {
		t.Errorf("user %+v", u)
	}
	ex := u.GetExtra()
	if ex[PodNameKey][0] != "p" || ex[PodUIDKey][0] != "pod-uid" || ex[NodeNameKey][0] != "n" || ex[NodeUIDKey][0] != "node-uid" ||
		!strings.HasPrefix(ex[CredentialIDKey][0], "JTI=") {
		t.Errorf("extra %v", ex)
	}
	if len(resp.Audiences) != 1 || resp.Audiences[0] != DefaultIssuer {
		t.Errorf("audiences %v", resp.Audiences)
	}
}

func TestTokenRejected(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(f *fixture) string
		auds    []string
		err     string // "" means: not ours, (nil, false, nil)
	}{
		{name: "expired", prepare: func(f *fixture) string {
			tok := f.issue(t, Request{Lifetime: 10 * time.Minute})
			f.clock.Step(12 * time.Minute)
			return tok
		}, err: "has expired"},
		{name: "not yet valid", prepare: func(f *fixture) string {
			tok, _, _ := f.issuer.Issue(Request{ServiceAccount: f.sa, Audiences: []string{DefaultIssuer}, Lifetime: time.Hour}, f.clock.Now().Add(5*time.Minute))
			return tok
		}, err: "not valid yet"},
		{name: "wrong audience", prepare: func(f *fixture) string {
			return f.issue(t, Request{Audiences: []string{"vault"}})
		}, err: "token audiences"},
		{name: "audience not asked for", prepare: func(f *fixture) string {
			return f.issue(t, Request{})
		}, auds: []string{"vault"}, err: "token audiences"},
		{name: "deleted service account", prepare: func(f *fixture) string {
			tok := f.issue(t, Request{})
			f.client.CoreV1().ServiceAccounts("ns").Delete(context.Background(), "sa", metav1.DeleteOptions{})
			return tok
		}, err: "service account ns/sa has been deleted"},
		{name: "recreated service account", prepare: func(f *fixture) string {
			tok := f.issue(t, Request{})
			f.client.CoreV1().ServiceAccounts("ns").Delete(context.Background(), "sa", metav1.DeleteOptions{})
			f.client.CoreV1().ServiceAccounts("ns").Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa", Namespace: "ns", UID: "new"}}, metav1.CreateOptions{})
			return tok
		}, err: "does not match claim"},
		{name: "deleted bound pod", prepare: func(f *fixture) string {
			tok := f.issue(t, Request{Pod: f.pod})
			f.client.CoreV1().Pods("ns").Delete(context.Background(), "p", metav1.DeleteOptions{})
			return tok
		}, err: "pod ns/p has been deleted"},
		{name: "pod deleting for over a minute", prepare: func(f *fixture) string {
			tok := f.issue(t, Request{Pod: f.pod})
			p := f.pod.DeepCopy()
			ts := metav1.NewTime(f.clock.Now().Add(-2 * time.Minute))
			p.DeletionTimestamp = &ts
			f.client.CoreV1().Pods("ns").Update(context.Background(), p, metav1.UpdateOptions{})
			return tok
		}, err: "is being deleted"},
		{name: "deleted bound secret", prepare: func(f *fixture) string {
			tok := f.issue(t, Request{Secret: f.secret})
			f.client.CoreV1().Secrets("ns").Delete(context.Background(), "s", metav1.DeleteOptions{})
			return tok
		}, err: "secret ns/s has been deleted"},
		{name: "deleted bound node", prepare: func(f *fixture) string {
			tok := f.issue(t, Request{Node: f.node})
			f.client.CoreV1().Nodes().Delete(context.Background(), "n", metav1.DeleteOptions{})
			return tok
		}, err: "node n has been deleted"},
		{name: "tampered signature", prepare: func(f *fixture) string {
			tok := f.issue(t, Request{})
			parts := strings.Split(tok, ".")
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			sig[5] ^= 1
			return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
		}, err: "invalid signature"},
		{name: "tampered payload", prepare: func(f *fixture) string {
			tok := f.issue(t, Request{})
			parts := strings.Split(tok, ".")
			p, _ := base64.RawURLEncoding.DecodeString(parts[1])
			p = []byte(strings.Replace(string(p), "ns:sa", "ns:xx", 1))
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
		}, err: "invalid signature"},
		{name: "signed by another key", prepare: func(f *fixture) string {
			other := newFixture(t)
			return other.issue(t, Request{})
		}, err: "invalid signature"},
		{name: "not a JWT", prepare: func(f *fixture) string { return "abcdef" }},
		{name: "another issuer", prepare: func(f *fixture) string {
			f2 := newFixture(t)
			f2.issuer.Name = "https://elsewhere"
			return f2.issue(t, Request{})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tok := tc.prepare(f)
			resp, ok, err := f.authn(tok, tc.auds...)
			if ok || resp != nil {
				t.Fatalf("token accepted: %+v", resp)
			}
			if tc.err == "" {
				if err != nil {
					t.Fatalf("foreign token gave an error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestTokenValidWithinLeewayAndForRequestedAudience(t *testing.T) {
	f := newFixture(t)
	tok := f.issue(t, Request{Lifetime: 10 * time.Minute, Audiences: []string{"vault", DefaultIssuer}})
	f.clock.Step(10*time.Minute + 30*time.Second)
	if _, ok, err := f.authn(tok); !ok {
		t.Fatalf("token 30 s past exp (within the 1 min leeway) rejected: %v", err)
	}
	resp, ok, err := f.authn(tok, "vault")
	if !ok || len(resp.Audiences) != 1 || resp.Audiences[0] != "vault" {
		t.Fatalf("audience vault: %v %v %+v", ok, err, resp)
	}
}

func TestCachedGetterFallsBackToLiveLookup(t *testing.T) {
	f := newFixture(t)
	factory := informers.NewSharedInformerFactory(f.client, 0)
	g := NewGetter(f.client, factory)
	// The informers never started: every answer comes from the API.
	sa, err := g.ServiceAccount(context.Background(), "ns", "sa", "sa-uid")
	if err != nil || sa.UID != "sa-uid" {
		t.Fatalf("live lookup: %v %v", sa, err)
	}
	// A cached pod of another incarnation is looked up again.
	factory.Core().V1().Pods().Informer().GetIndexer().Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "old"}})
	p, err := g.Pod(context.Background(), "ns", "p", "pod-uid")
	if err != nil || p.UID != "pod-uid" {
		t.Fatalf("stale cache: %v %v", p, err)
	}
	if p, _ := g.Pod(context.Background(), "ns", "p", ""); p.UID != "old" {
		t.Errorf("without a UID the cache answers; got %s", p.UID)
	}
}

func TestSplitUsername(t *testing.T) {
	if ns, n, ok := SplitUsername("system:serviceaccount:a:b"); !ok || ns != "a" || n != "b" {
		t.Errorf("split: %s %s %v", ns, n, ok)
	}
	for _, bad := range []string{"alice", "system:serviceaccount:a", "system:serviceaccount::b", "system:serviceaccount:a:b:c"} {
		if _, _, ok := SplitUsername(bad); ok {
			t.Errorf("%q split", bad)
		}
	}
}
