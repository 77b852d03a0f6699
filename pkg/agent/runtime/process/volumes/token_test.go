package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func tokenPod() *corev1.Pod {
	exp, mode := int64(3607), int32(0o640)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "pod-uid"},
		Spec: corev1.PodSpec{ServiceAccountName: "sa", Volumes: []corev1.Volume{{Name: "kube-api-access-x", VolumeSource: corev1.VolumeSource{
			Projected: &corev1.ProjectedVolumeSource{DefaultMode: &mode, Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &exp, Path: "token", Audience: "vault"}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
					Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			}}}}}},
	}
}

func TestProjectedTokenIsRequestedBoundToThePod(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "volumes")
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: "ns"}, Data: map[string]string{"ca.crt": "CA"}})
	var got *authenticationv1.TokenRequest
	token := "t1"
	opts := Options{Client: client, Token: func(_ context.Context, ns, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
		if ns != "ns" || name != "sa" {
			return nil, fmt.Errorf("token for %s/%s", ns, name)
		}
		got = tr
		out := tr.DeepCopy()
		out.Status.Token = token
		return out, nil
	}}
	pod := tokenPod()
	if err := Prepare(context.Background(), pod, dir, opts); err != nil {
		t.Fatal(err)
	}
	ref := got.Spec.BoundObjectRef
	if ref == nil || ref.Kind != "Pod" || ref.Name != "p" || ref.UID != "pod-uid" || *got.Spec.ExpirationSeconds != 3607 ||
		len(got.Spec.Audiences) != 1 || got.Spec.Audiences[0] != "vault" {
		t.Errorf("token request %+v", got.Spec)
	}
	vol := filepath.Join(dir, "kube-api-access-x")
	if readFile(t, filepath.Join(vol, "token")) != "t1" || readFile(t, filepath.Join(vol, "ca.crt")) != "CA" {
		t.Fatal("volume contents")
	}
	if m := fileMode(t, filepath.Join(vol, "token")); m != 0o640 {
		t.Errorf("token mode %v, want the volume's 0640", m)
	}
	// Other host users cannot reach the pod's volumes.
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("volumes dir mode %v (%v)", fi.Mode(), err)
	}

	// Unchanged token: the data directory stays.
	before, _ := os.Readlink(filepath.Join(vol, "..data"))
	if err := RefreshTokens(context.Background(), pod, dir, opts); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Readlink(filepath.Join(vol, "..data")); after != before {
		t.Errorf("unchanged volume rewritten: %s -> %s", before, after)
	}
	// New token: swapped atomically in place.
	token = "t2"
	opts.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if err := RefreshTokens(context.Background(), pod, dir, opts); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Readlink(filepath.Join(vol, "..data"))
	if after == before || readFile(t, filepath.Join(vol, "token")) != "t2" {
		t.Errorf("token not refreshed: %s -> %s, token %q", before, after, readFile(t, filepath.Join(vol, "token")))
	}
	if _, err := os.Stat(filepath.Join(vol, before)); !os.IsNotExist(err) {
		t.Errorf("old data directory %s kept", before)
	}
}

func TestProjectedTokenFailureIsAMountError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "volumes")
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: "ns"}, Data: map[string]string{"ca.crt": "CA"}})
	opts := Options{Client: client, Token: func(context.Context, string, string, *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
		return nil, errors.New(`serviceaccounts "sa" not found`)
	}}
	err := Prepare(context.Background(), tokenPod(), dir, opts)
	var me *MountError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), `MountVolume.SetUp failed for volume "kube-api-access-x" : failed to fetch token: serviceaccounts "sa" not found`) {
		t.Errorf("err = %v", err)
	}
}

func TestRefreshSkipsVolumesNotSetUp(t *testing.T) {
	calls := 0
	opts := Options{Token: func(context.Context, string, string, *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
		calls++
		return nil, errors.New("unexpected")
	}}
	if err := RefreshTokens(context.Background(), tokenPod(), t.TempDir(), opts); err != nil || calls != 0 {
		t.Errorf("refresh before setup: %v, %d token requests", err, calls)
	}
}
