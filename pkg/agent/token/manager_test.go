package token

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

type fakeAPI struct {
	clock *clocktesting.FakeClock
	calls int
	fail  bool
}

func (f *fakeAPI) create(_ context.Context, ns, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	f.calls++
	if f.fail {
		return nil, errors.New("API down")
	}
	out := tr.DeepCopy()
	out.Status.Token = fmt.Sprintf("%s/%s#%d", ns, name, f.calls)
	out.Status.ExpirationTimestamp = metav1.NewTime(f.clock.Now().Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second))
	return out, nil
}

func newManager() (*Manager, *fakeAPI, *clocktesting.FakeClock) {
	clk := clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0))
	api := &fakeAPI{clock: clk}
	m := NewManager(nil, clk)
	m.create = api.create
	m.jitter = func() time.Duration { return 0 }
	return m, api, clk
}

func request(exp int64, uid types.UID) *authenticationv1.TokenRequest {
	return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &exp,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p", UID: uid},
	}}
}

func get(t *testing.T, m *Manager, tr *authenticationv1.TokenRequest) string {
	t.Helper()
	out, err := m.GetServiceAccountToken(context.Background(), "ns", "sa", tr)
	if err != nil {
		t.Fatal(err)
	}
	return out.Status.Token
}

func TestTokenIsReusedUntil80PercentOfItsLifetime(t *testing.T) {
	m, api, clk := newManager()
	tr := request(1000, "u1")
	if tok := get(t, m, tr); tok != "ns/sa#1" {
		t.Fatalf("first token %q", tok)
	}
	clk.Step(799 * time.Second)
	if tok := get(t, m, tr); tok != "ns/sa#1" || api.calls != 1 {
		t.Fatalf("at 79.9%%: %q after %d calls", tok, api.calls)
	}
	clk.Step(2 * time.Second)
	if tok := get(t, m, tr); tok != "ns/sa#2" {
		t.Fatalf("at 80.1%%: %q", tok)
	}
	// Another pod's request is another token.
	if tok := get(t, m, request(1000, "u2")); tok != "ns/sa#3" {
		t.Fatalf("other pod: %q", tok)
	}
}

func TestTokenOlderThan24HoursIsRefreshed(t *testing.T) {
	m, _, clk := newManager()
	tr := request(10*24*3600, "u1")
	get(t, m, tr)
	clk.Step(24*time.Hour - time.Second)
	if tok := get(t, m, tr); tok != "ns/sa#1" {
		t.Fatalf("before 24 h: %q", tok)
	}
	clk.Step(2 * time.Second)
	if tok := get(t, m, tr); tok != "ns/sa#2" {
		t.Fatalf("after 24 h: %q", tok)
	}
}

func TestFailedRefreshUsesCachedTokenUntilItExpires(t *testing.T) {
	m, api, clk := newManager()
	tr := request(1000, "u1")
	get(t, m, tr)
	api.fail = true
	clk.Step(900 * time.Second)
	if tok := get(t, m, tr); tok != "ns/sa#1" {
		t.Fatalf("refresh failed: %q", tok)
	}
	clk.Step(101 * time.Second)
	if _, err := m.GetServiceAccountToken(context.Background(), "ns", "sa", tr); err == nil {
		t.Fatal("expired token served while the API fails")
	}
	if _, err := m.GetServiceAccountToken(context.Background(), "ns", "sa", request(1000, "new")); err == nil {
		t.Fatal("no error for a token never fetched")
	}
}

func TestDeleteServiceAccountTokenForgetsThePodsTokens(t *testing.T) {
	m, api, _ := newManager()
	get(t, m, request(1000, "u1"))
	get(t, m, request(1000, "u2"))
	m.DeleteServiceAccountToken("u1")
	get(t, m, request(1000, "u1"))
	get(t, m, request(1000, "u2"))
	if api.calls != 3 {
		t.Errorf("%d API calls, want 3 (u1 fetched again, u2 cached)", api.calls)
	}
}

func TestExpiredTokensAreCollected(t *testing.T) {
	m, _, clk := newManager()
	get(t, m, request(600, "u1"))
	clk.Step(2 * time.Hour)
	get(t, m, request(1000, "u2"))
	m.mu.Lock()
	n := len(m.cache)
	m.mu.Unlock()
	if n != 1 {
		t.Errorf("%d cached tokens, want 1", n)
	}
}
