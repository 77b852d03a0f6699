// Package volumes materialises a pod's volumes in a host directory —
// emptyDir, hostPath, configMap, secret, downwardAPI, projected and
// persistentVolumeClaim (bound to a hostPath or local volume: the volume's
// directory, linked from the pod's volumes dir) — and
// resolves a container's volumeMounts to host paths. Files of API-backed
// volumes are written like the kubelet's atomic writer (a timestamped
// directory, a "..data" symlink swapped atomically, and one symlink per
// top-level name). It does not mount anything; the caller does.
package volumes

import (
	"github.com/herd-project/herd/pkg/agent/runtime/process/shim"

	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/herd-project/herd/pkg/agent/runtime/process/podenv"
)

// MountError is a volume that cannot be set up; the pod waits in
// ContainerCreating and the kubelet reports the message in a FailedMount
// event.
type MountError struct{ Volume, Message string }

func (e *MountError) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %s", e.Volume, e.Message)
}

// Options are the facts volumes are filled from besides the pod.
type Options struct {
	Client   kubernetes.Interface
	HostIP   string
	PodIP    string
	NodeName string
	// NodeAllocatable stands in for unset limits in resourceFieldRef items.
	NodeAllocatable corev1.ResourceList
	Now             func() time.Time
	// Token, when set, issues the tokens of serviceAccountToken
	// projections (the agent's token cache); otherwise each one is
	// requested from Client.
	Token func(ctx context.Context, ns, name string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error)
}

// Dir is where volume name of a pod lives under the pod's volumes dir.
func Dir(volumesDir, name string) string { return filepath.Join(volumesDir, name) }

// HostPath returns the host path backing volume v: the hostPath itself or
// its directory under volumesDir.
func HostPath(volumesDir string, v *corev1.Volume) string {
	if v.HostPath != nil {
		return v.HostPath.Path
	}
	return Dir(volumesDir, v.Name)
}

// ReadOnly says whether a volume is always mounted read-only (API-backed
// volumes, as in the kubelet).
func ReadOnly(v *corev1.Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil ||
		(v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ReadOnly)
}

// Prepare creates or refreshes every volume of pod under volumesDir. A
// volume that cannot be set up is a *MountError.
func Prepare(ctx context.Context, pod *corev1.Pod, volumesDir string, opts Options) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// Secrets and tokens are for the pod's containers only: no other
	// host user may reach the volumes.
	if err := os.MkdirAll(volumesDir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(volumesDir, 0o700); err != nil {
		return err
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if err := prepareOne(ctx, pod, volumesDir, v, &opts); err != nil {
			var me *MountError
			if errors.As(err, &me) {
				return err
			}
			return &MountError{Volume: v.Name, Message: err.Error()}
		}
	}
	return nil
}

// RefreshTokens rewrites the projected volumes of pod that hold service
// account tokens, so that their tokens are renewed before they expire (and
// their other sources follow their objects). Unchanged volumes are not
// touched; changed ones are swapped atomically.
func RefreshTokens(ctx context.Context, pod *corev1.Pod, volumesDir string, opts Options) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if !HasToken(v) {
			continue
		}
		if _, err := os.Stat(Dir(volumesDir, v.Name)); err != nil {
			// Not set up (yet): Prepare does it.
			continue
		}
		if err := prepareOne(ctx, pod, volumesDir, v, &opts); err != nil {
			return &MountError{Volume: v.Name, Message: err.Error()}
		}
	}
	return nil
}

// HasToken says whether v is a projected volume with a service account token.
func HasToken(v *corev1.Volume) bool {
	if v.Projected == nil {
		return false
	}
	for _, s := range v.Projected.Sources {
		if s.ServiceAccountToken != nil {
			return true
		}
	}
	return false
}

func prepareOne(ctx context.Context, pod *corev1.Pod, volumesDir string, v *corev1.Volume, opts *Options) error {
	dir := Dir(volumesDir, v.Name)
	switch {
	case v.HostPath != nil:
		return checkHostPath(v.HostPath)
	case v.PersistentVolumeClaim != nil:
		return preparePVC(ctx, pod, dir, v.PersistentVolumeClaim.ClaimName, opts)
	case v.EmptyDir != nil:
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		return os.Chmod(dir, 0o777)
	case v.ConfigMap != nil:
		files, err := configMapFiles(ctx, pod, v.ConfigMap.LocalObjectReference.Name, v.ConfigMap.Items, v.ConfigMap.Optional, mode(v.ConfigMap.DefaultMode), opts)
		if err != nil {
			return err
		}
		return WriteAtomic(dir, files, opts.Now())
	case v.Secret != nil:
		files, err := secretFiles(ctx, pod, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, mode(v.Secret.DefaultMode), opts)
		if err != nil {
			return err
		}
		return WriteAtomic(dir, files, opts.Now())
	case v.DownwardAPI != nil:
		files, err := downwardFiles(pod, v.DownwardAPI.Items, mode(v.DownwardAPI.DefaultMode), opts)
		if err != nil {
			return err
		}
		return WriteAtomic(dir, files, opts.Now())
	case v.Projected != nil:
		files := map[string]File{}
		def := mode(v.Projected.DefaultMode)
		for _, s := range v.Projected.Sources {
			var part map[string]File
			var err error
			switch {
			case s.ConfigMap != nil:
				part, err = configMapFiles(ctx, pod, s.ConfigMap.Name, s.ConfigMap.Items, s.ConfigMap.Optional, def, opts)
			case s.Secret != nil:
				part, err = secretFiles(ctx, pod, s.Secret.Name, s.Secret.Items, s.Secret.Optional, def, opts)
			case s.DownwardAPI != nil:
				part, err = downwardFiles(pod, s.DownwardAPI.Items, def, opts)
			case s.ServiceAccountToken != nil:
				part, err = tokenFile(ctx, pod, s.ServiceAccountToken, def, opts)
			}
			if err != nil {
				return err
			}
			for k, f := range part {
				files[k] = f
			}
		}
		return WriteAtomic(dir, files, opts.Now())
	default:
		// Volume types without a node-local meaning here (PVCs, CSI, …)
		// become plain directories.
		return os.MkdirAll(dir, 0o777)
	}
}

func mode(m *int32) os.FileMode {
	if m == nil {
		return 0o644
	}
	return os.FileMode(*m) & 0o777
}

func checkHostPath(h *corev1.HostPathVolumeSource) error {
	t := corev1.HostPathUnset
	if h.Type != nil {
		t = *h.Type
	}
	fi, err := os.Stat(h.Path)
	exists := err == nil
	switch t {
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			return os.MkdirAll(h.Path, 0o755)
		}
		if !fi.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", h.Path)
		}
	case corev1.HostPathDirectory:
		if !exists || !fi.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", h.Path)
		}
	case corev1.HostPathFileOrCreate:
		if !exists {
			if err := os.MkdirAll(filepath.Dir(h.Path), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(h.Path, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			return f.Close()
		}
		if fi.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a file", h.Path)
		}
	case corev1.HostPathFile:
		if !exists || fi.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a file", h.Path)
		}
	case corev1.HostPathSocket:
		if !exists || fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a socket file", h.Path)
		}
	case corev1.HostPathCharDev:
		if !exists || fi.Mode()&os.ModeCharDevice == 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a character device", h.Path)
		}
	case corev1.HostPathBlockDev:
		if !exists || fi.Mode()&os.ModeDevice == 0 || fi.Mode()&os.ModeCharDevice != 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a block device", h.Path)
		}
	}
	return nil
}

// File is one file of an API-backed volume.
type File struct {
	Data []byte
	Mode os.FileMode
}

func keyFiles(kind, name string, data map[string][]byte, items []corev1.KeyToPath, def os.FileMode, optional bool) (map[string]File, error) {
	files := map[string]File{}
	if len(items) == 0 {
		for k, v := range data {
			files[k] = File{Data: v, Mode: def}
		}
		return files, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("%s references non-existent config key: %s", kind, it.Key)
		}
		m := def
		if it.Mode != nil {
			m = os.FileMode(*it.Mode) & 0o777
		}
		files[it.Path] = File{Data: v, Mode: m}
	}
	return files, nil
}

func configMapFiles(ctx context.Context, pod *corev1.Pod, name string, items []corev1.KeyToPath, opt *bool, def os.FileMode, opts *Options) (map[string]File, error) {
	optional := opt != nil && *opt
	var cm *corev1.ConfigMap
	var err error
	if opts.Client == nil {
		err = apierrors.NewNotFound(corev1.Resource("configmap"), name)
	} else {
		cm, err = opts.Client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		if apierrors.IsNotFound(err) {
			if optional {
				return map[string]File{}, nil
			}
			return nil, fmt.Errorf("configmap %q not found", name)
		}
		return nil, err
	}
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles("configMap", name, data, items, def, optional)
}

func secretFiles(ctx context.Context, pod *corev1.Pod, name string, items []corev1.KeyToPath, opt *bool, def os.FileMode, opts *Options) (map[string]File, error) {
	optional := opt != nil && *opt
	var s *corev1.Secret
	var err error
	if opts.Client == nil {
		err = apierrors.NewNotFound(corev1.Resource("secret"), name)
	} else {
		s, err = opts.Client.CoreV1().Secrets(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		if apierrors.IsNotFound(err) {
			if optional {
				return map[string]File{}, nil
			}
			return nil, fmt.Errorf("secret %q not found", name)
		}
		return nil, err
	}
	return keyFiles("secret", name, s.Data, items, def, optional)
}

func downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, def os.FileMode, opts *Options) (map[string]File, error) {
	files := map[string]File{}
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = podenv.FieldValue(pod, it.FieldRef.FieldPath, opts.HostIP, opts.PodIP, opts.NodeName)
		case it.ResourceFieldRef != nil:
			v, err = podenv.ResourceValue(pod, nil, it.ResourceFieldRef, opts.NodeAllocatable)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		m := def
		if it.Mode != nil {
			m = os.FileMode(*it.Mode) & 0o777
		}
		files[it.Path] = File{Data: []byte(v), Mode: m}
	}
	return files, nil
}

func tokenFile(ctx context.Context, pod *corev1.Pod, p *corev1.ServiceAccountTokenProjection, def os.FileMode, opts *Options) (map[string]File, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: p.ExpirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if p.Audience != "" {
		tr.Spec.Audiences = []string{p.Audience}
	}
	var out *authenticationv1.TokenRequest
	var err error
	switch {
	case opts.Token != nil:
		out, err = opts.Token(ctx, pod.Namespace, sa, tr)
	case opts.Client != nil:
		out, err = opts.Client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, tr, metav1.CreateOptions{})
	default:
		err = errors.New("no API client to request the token with")
	}
	if err != nil {
		return nil, fmt.Errorf("failed to fetch token: %w", err)
	}
	return map[string]File{p.Path: {Data: []byte(out.Status.Token), Mode: def}}, nil
}

// WriteAtomic makes dir hold exactly files (relative paths), atomically for
// readers: the files go into a new "..<timestamp>" directory, the "..data"
// symlink is swapped to it by rename, and each top-level name is a symlink
// through "..data". Old data directories are removed afterwards.
func WriteAtomic(dir string, files map[string]File, now time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if unchanged(dir, files) {
		return nil
	}
	for p := range files {
		if p == "" || strings.HasPrefix(p, "..") || filepath.IsAbs(p) || strings.Contains(p, "/../") {
			return fmt.Errorf("invalid path %q", p)
		}
	}
	tsName := now.UTC().Format("..2006_01_02_15_04_05.")
	tsDir, err := os.MkdirTemp(dir, tsName)
	if err != nil {
		return err
	}
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return err
	}
	for p, f := range files {
		full := filepath.Join(tsDir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, f.Data, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(full, f.Mode); err != nil {
			return err
		}
	}
	dataLink := filepath.Join(dir, "..data")
	tmpLink := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		return err
	}
	if err := os.Rename(tmpLink, dataLink); err != nil {
		return err
	}
	// Top-level names.
	want := map[string]bool{}
	for p := range files {
		top, _, _ := strings.Cut(p, "/")
		want[top] = true
	}
	tops := make([]string, 0, len(want))
	for t := range want {
		tops = append(tops, t)
	}
	sort.Strings(tops)
	for _, t := range tops {
		link := filepath.Join(dir, t)
		target := filepath.Join("..data", t)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		_ = os.RemoveAll(link)
		if err := os.Symlink(target, link); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		switch {
		case n == "..data" || n == filepath.Base(tsDir):
		case strings.HasPrefix(n, ".."):
			_ = os.RemoveAll(filepath.Join(dir, n))
		case !want[n]:
			_ = os.RemoveAll(filepath.Join(dir, n))
		}
	}
	return nil
}

// unchanged says whether dir's current data holds exactly files (the same
// paths, contents and modes), so that nothing needs writing.
func unchanged(dir string, files map[string]File) bool {
	data := filepath.Join(dir, "..data")
	if _, err := os.Stat(data); err != nil {
		return false
	}
	seen := 0
	err := filepath.WalkDir(data+"/", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(data, path)
		if err != nil {
			return err
		}
		f, ok := files[rel]
		if !ok {
			return errChanged
		}
		info, err := d.Info()
		if err != nil || info.Mode().Perm() != f.Mode {
			return errChanged
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != string(f.Data) {
			return errChanged
		}
		seen++
		return nil
	})
	return err == nil && seen == len(files)
}

var errChanged = errors.New("changed")

// Mount is one volumeMount resolved to the host, as the shim mounts it.
type Mount = shim.Mount

// Resolve maps container c's volumeMounts to host paths, creating subPath
// directories in writable volumes as the kubelet does. subPathExpr is
// expanded with env (NAME=VALUE).
func Resolve(pod *corev1.Pod, c *corev1.Container, volumesDir string, env []string) ([]Mount, error) {
	byName := map[string]*corev1.Volume{}
	for i := range pod.Spec.Volumes {
		byName[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	var out []Mount
	for _, vm := range c.VolumeMounts {
		v, ok := byName[vm.Name]
		if !ok {
			return nil, fmt.Errorf("cannot find volume %q to mount into container %q", vm.Name, c.Name)
		}
		src := HostPath(volumesDir, v)
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			sub = podenv.Expand(vm.SubPathExpr, podenv.MapFunc(env))
		}
		if sub != "" {
			if filepath.IsAbs(sub) || strings.HasPrefix(filepath.Clean(sub), "..") {
				return nil, fmt.Errorf("subPath %q must be a relative path without ..", sub)
			}
			src = filepath.Join(src, sub)
			if _, err := os.Lstat(src); os.IsNotExist(err) && !ReadOnly(v) {
				if err := os.MkdirAll(src, 0o755); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, Mount{Source: src, Target: vm.MountPath, ReadOnly: vm.ReadOnly || ReadOnly(v)})
	}
	// Parents before children.
	sort.SliceStable(out, func(i, j int) bool {
		return strings.Count(filepath.Clean(out[i].Target), "/") < strings.Count(filepath.Clean(out[j].Target), "/")
	})
	return out, nil
}
