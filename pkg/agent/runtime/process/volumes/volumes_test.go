package volumes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func fileMode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestPrepare(t *testing.T) {
	client := fake.NewClientset(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "ns"},
			Data: map[string]string{"a.conf": "A", "b.conf": "B"}, BinaryData: map[string][]byte{"bin": {0, 1}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sec", Namespace: "ns"}, Data: map[string][]byte{"token": []byte("t0k")}},
	)
	host := t.TempDir()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1", Labels: map[string]string{"app": "web", "env": "prod"}, Annotations: map[string]string{"a": "1"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")}}}},
			Volumes: []corev1.Volume{
				{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
				{Name: "all", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
				{Name: "items", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, DefaultMode: ptr.To[int32](0o600),
					Items: []corev1.KeyToPath{{Key: "a.conf", Path: "sub/dir/a"}, {Key: "b.conf", Path: "b", Mode: ptr.To[int32](0o755)}}}}},
				{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec", DefaultMode: ptr.To[int32](0o400)}}},
				{Name: "optcm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: ptr.To(true)}}},
				{Name: "down", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
					{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
					{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
					{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}},
				}}}},
				{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Items: []corev1.KeyToPath{{Key: "a.conf", Path: "a"}}}},
					{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
					{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "ns", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
				}}}},
				{Name: "hp", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: filepath.Join(host, "made"), Type: ptr.To(corev1.HostPathDirectoryOrCreate)}}},
				{Name: "hpf", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: filepath.Join(host, "f", "file"), Type: ptr.To(corev1.HostPathFileOrCreate)}}},
			},
		},
	}
	dir := t.TempDir()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if err := Prepare(context.Background(), pod, dir, Options{Client: client, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "scratch")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir: %v %v", fi, err)
	}
	for p, want := range map[string]string{
		"all/a.conf": "A", "all/b.conf": "B", "all/bin": "\x00\x01",
		"items/sub/dir/a": "A", "items/b": "B",
		"sec/token":   "t0k",
		"down/labels": "app=\"web\"\nenv=\"prod\"", "down/name": "p", "down/mem": "32",
		"proj/a": "A", "proj/token": "t0k", "proj/ns": "ns",
	} {
		if got := readFile(t, filepath.Join(dir, p)); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	for p, want := range map[string]os.FileMode{"all/a.conf": 0o644, "items/sub/dir/a": 0o600, "items/b": 0o755, "sec/token": 0o400} {
		if got := fileMode(t, filepath.Join(dir, p)); got != want {
			t.Errorf("mode of %s = %o, want %o", p, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "items", "a.conf")); !os.IsNotExist(err) {
		t.Error("items: unlisted key written")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "optcm")); len(entries) != 2 { // ..<ts> and ..data
		t.Errorf("optional missing configMap: %v", entries)
	}
	// Atomic-writer layout.
	if target, err := os.Readlink(filepath.Join(dir, "all", "a.conf")); err != nil || target != "..data/a.conf" {
		t.Errorf("a.conf link: %q %v", target, err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "all", "..data")); err != nil || filepath.Dir(target) != "." || target[:22] != "..2026_11_23_10_00_00." {
		t.Errorf("..data: %q %v", target, err)
	}
	if fi, err := os.Stat(filepath.Join(host, "made")); err != nil || !fi.IsDir() {
		t.Errorf("DirectoryOrCreate: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(host, "f", "file")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("FileOrCreate: %v", err)
	}

	// An update swaps the data and drops removed keys.
	cm, _ := client.CoreV1().ConfigMaps("ns").Get(context.Background(), "cfg", metav1.GetOptions{})
	cm.Data = map[string]string{"a.conf": "A2", "b.conf": "B"}
	cm.BinaryData = nil
	_, _ = client.CoreV1().ConfigMaps("ns").Update(context.Background(), cm, metav1.UpdateOptions{})
	now = now.Add(time.Minute)
	if err := Prepare(context.Background(), pod, dir, Options{Client: client, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "all", "a.conf")); got != "A2" {
		t.Errorf("updated a.conf = %q", got)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "all"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 4 || names[1] != "..data" || names[2] != "a.conf" || names[3] != "b.conf" { // ..<ts>, ..data, a.conf, b.conf
		t.Errorf("after update: %q", names)
	}
}

func TestPrepareErrors(t *testing.T) {
	host := t.TempDir()
	file := filepath.Join(host, "file")
	_ = os.WriteFile(file, nil, 0o644)
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "ns"}, Data: map[string]string{"a": "1"}})
	cases := []struct {
		v    corev1.VolumeSource
		want string
	}{
		{corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}, `MountVolume.SetUp failed for volume "v" : configmap "x" not found`},
		{corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}, `MountVolume.SetUp failed for volume "v" : secret "s" not found`},
		{corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Items: []corev1.KeyToPath{{Key: "zz", Path: "z"}}}}, `MountVolume.SetUp failed for volume "v" : configMap references non-existent config key: zz`},
		{corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: file, Type: ptr.To(corev1.HostPathDirectory)}}, `MountVolume.SetUp failed for volume "v" : hostPath type check failed: ` + file + ` is not a directory`},
		{corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: host, Type: ptr.To(corev1.HostPathFile)}}, `MountVolume.SetUp failed for volume "v" : hostPath type check failed: ` + host + ` is not a file`},
		{corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: filepath.Join(host, "none"), Type: ptr.To(corev1.HostPathDirectory)}}, `MountVolume.SetUp failed for volume "v" : hostPath type check failed: ` + filepath.Join(host, "none") + ` is not a directory`},
	}
	for i, tc := range cases {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: tc.v}}}}
		err := Prepare(context.Background(), pod, t.TempDir(), Options{Client: client})
		var me *MountError
		if !errors.As(err, &me) || err.Error() != tc.want {
			t.Errorf("case %d: got %v, want %q", i, err, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	pod := &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
		{Name: "hp", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
	}}}
	c := &corev1.Container{Name: "c", VolumeMounts: []corev1.VolumeMount{
		{Name: "data", MountPath: "/data/sub/deep", SubPathExpr: "$(POD)"},
		{Name: "cfg", MountPath: "/etc/app/app.conf", SubPath: "app.conf"},
		{Name: "data", MountPath: "/data"},
		{Name: "hp", MountPath: "/host/log", ReadOnly: true},
	}}
	mounts, err := Resolve(pod, c, dir, []string{"POD=web-0"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{Source: filepath.Join(dir, "data"), Target: "/data"},
		{Source: "/var/log", Target: "/host/log", ReadOnly: true},
		{Source: filepath.Join(dir, "data", "web-0"), Target: "/data/sub/deep"},
		{Source: filepath.Join(dir, "cfg", "app.conf"), Target: "/etc/app/app.conf", ReadOnly: true},
	}
	if len(mounts) != len(want) {
		t.Fatalf("got %+v", mounts)
	}
	for i := range want {
		if mounts[i] != want[i] {
			t.Errorf("mount %d = %+v, want %+v", i, mounts[i], want[i])
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "data", "web-0")); err != nil || !fi.IsDir() {
		t.Errorf("subPath dir not created: %v", err)
	}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/x", SubPath: "../etc"}}
	if _, err := Resolve(pod, c, dir, nil); err == nil {
		t.Error("subPath with .. accepted")
	}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "nope", MountPath: "/x"}}
	if _, err := Resolve(pod, c, dir, nil); err == nil {
		t.Error("unknown volume accepted")
	}
}
