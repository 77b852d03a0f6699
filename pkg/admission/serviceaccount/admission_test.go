package serviceaccount

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func newPlugin(t *testing.T, objs ...*corev1.ServiceAccount) (*Plugin, *fake.Clientset) {
	t.Helper()
	c := fake.NewClientset()
	f := informers.NewSharedInformerFactory(c, 0)
	for _, sa := range objs {
		c.Tracker().Add(sa)
		f.Core().V1().ServiceAccounts().Informer().GetIndexer().Add(sa)
	}
	p := New()
	p.SetExternalKubeClientSet(c)
	p.SetExternalKubeInformerFactory(f)
	p.SetReadyFunc(func() bool { return true })
	p.generateName = func(base string) string { return base + "abcde" }
	p.sleep = func(time.Duration) {}
	if err := p.ValidateInitialization(); err != nil {
		t.Fatal(err)
	}
	return p, c
}

func attrs(pod *corev1.Pod) admission.Attributes {
	return admission.NewAttributesRecord(pod, nil, corev1.SchemeGroupVersion.WithKind("Pod"), "ns", pod.Name,
		corev1.SchemeGroupVersion.WithResource("pods"), "", admission.Create, &metav1.CreateOptions{}, false, nil)
}

func testPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "i"}},
		Containers: []corev1.Container{{Name: "a"}, {Name: "b", VolumeMounts: []corev1.VolumeMount{
			{Name: "own", MountPath: DefaultAPITokenMountPath}}}},
	}}
}

func sa(name string, automount *bool) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, AutomountServiceAccountToken: automount,
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "pull"}}}
}

func admit(t *testing.T, p *Plugin, pod *corev1.Pod) error {
	t.Helper()
	if err := p.Admit(context.Background(), attrs(pod), nil); err != nil {
		return err
	}
	return p.Validate(context.Background(), attrs(pod), nil)
}

func TestAdmitMountsTokenVolume(t *testing.T) {
	p, _ := newPlugin(t, sa("default", nil))
	pod := testPod()
	if err := admit(t, p, pod); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "default" || pod.Spec.DeprecatedServiceAccount != "default" {
		t.Errorf("service account %q/%q", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
	want := corev1.VolumeMount{Name: "kube-api-access-abcde", ReadOnly: true, MountPath: DefaultAPITokenMountPath}
	if m := pod.Spec.InitContainers[0].VolumeMounts; len(m) != 1 || m[0] != want {
		t.Errorf("init container mounts %v", m)
	}
	if m := pod.Spec.Containers[0].VolumeMounts; len(m) != 1 || m[0] != want {
		t.Errorf("container a mounts %v", m)
	}
	if m := pod.Spec.Containers[1].VolumeMounts; len(m) != 1 || m[0].Name != "own" {
		t.Errorf("container b, which mounts the path itself, got %v", m)
	}
	if len(pod.Spec.Volumes) != 1 {
		t.Fatalf("volumes %v", pod.Spec.Volumes)
	}
	v := pod.Spec.Volumes[0]
	exp, mode := int64(3607), int32(0o644)
	wantVol := corev1.Volume{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &exp, Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		}}}}
	if !reflect.DeepEqual(v, wantVol) {
		t.Errorf("volume\n got %+v\nwant %+v", v, wantVol)
	}
	if len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != "pull" {
		t.Errorf("imagePullSecrets %v", pod.Spec.ImagePullSecrets)
	}
}

func TestAdmitKeepsExistingTokenVolume(t *testing.T) {
	p, _ := newPlugin(t, sa("default", nil))
	pod := testPod()
	pod.Spec.Volumes = []corev1.Volume{TokenVolume("kube-api-access-zzzzz")}
	if err := admit(t, p, pod); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Containers[0].VolumeMounts[0].Name != "kube-api-access-zzzzz" {
		t.Errorf("volumes %v mounts %v", pod.Spec.Volumes, pod.Spec.Containers[0].VolumeMounts)
	}
}

func TestAdmitHonoursAutomount(t *testing.T) {
	f, tr := false, true
	cases := []struct {
		name      string
		sa, pod   *bool
		wantMount bool
	}{
		{"both unset", nil, nil, true},
		{"account false", &f, nil, false},
		{"pod false", nil, &f, false},
		{"pod true wins over account false", &f, &tr, true},
		{"pod false wins over account true", &tr, &f, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newPlugin(t, sa("default", tc.sa))
			pod := testPod()
			pod.Spec.AutomountServiceAccountToken = tc.pod
			if err := admit(t, p, pod); err != nil {
				t.Fatal(err)
			}
			if got := len(pod.Spec.Volumes) == 1; got != tc.wantMount {
				t.Errorf("mounted %v, want %v", got, tc.wantMount)
			}
		})
	}
}

func TestAdmitRejectsMissingServiceAccount(t *testing.T) {
	p, c := newPlugin(t)
	pod := testPod()
	pod.Spec.ServiceAccountName = "nosuch"
	err := admit(t, p, pod)
	if !apierrors.IsForbidden(err) || err.Error() != `pods "p" is forbidden: error looking up service account ns/nosuch: serviceaccount "nosuch" not found` {
		t.Errorf("err = %v", err)
	}
	if len(pod.Spec.Volumes) != 0 {
		t.Errorf("volumes added to a rejected pod")
	}
	// The default account is looked up again and again (the controller
	// creates it right after the namespace): found on a later attempt.
	gets := 0
	c.PrependReactor("get", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		gets++
		if gets >= 3 {
			return true, sa("default", nil), nil
		}
		return false, nil, nil
	})
	if err := admit(t, p, testPod()); err != nil {
		t.Errorf("default account appearing on the 3rd lookup: %v", err)
	}
	gets = -100
	err = admit(t, p, testPod())
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `serviceaccount "default" not found`) || gets != -90 {
		t.Errorf("missing default account: %v after %d lookups", err, gets+100)
	}
}

func TestAdmitIgnoresOtherRequests(t *testing.T) {
	p, _ := newPlugin(t)
	pod := testPod()
	pod.Annotations = map[string]string{mirrorPodAnnotation: "x"}
	if err := p.Admit(context.Background(), attrs(pod), nil); err != nil || len(pod.Spec.Volumes) != 0 {
		t.Errorf("mirror pod: %v %v", err, pod.Spec.Volumes)
	}
	pod.Spec.ServiceAccountName = "default"
	if err := p.Validate(context.Background(), attrs(pod), nil); !apierrors.IsForbidden(err) {
		t.Errorf("mirror pod with a service account: %v", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}
	a := admission.NewAttributesRecord(cm, nil, corev1.SchemeGroupVersion.WithKind("ConfigMap"), "ns", "c",
		corev1.SchemeGroupVersion.WithResource("configmaps"), "", admission.Create, &metav1.CreateOptions{}, false, nil)
	if err := p.Admit(context.Background(), a, nil); err != nil {
		t.Errorf("configmap: %v", err)
	}
}
