package volumes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/herd-project/herd/pkg/volume"
)

// preparePVC resolves a claim to its bound volume's directory on this node
// and makes dir a symbolic link to it, so that mounting dir bind-mounts
// the volume.
func preparePVC(ctx context.Context, pod *corev1.Pod, dir, claim string, opts *Options) error {
	src, err := ClaimPath(ctx, opts.Client, pod.Namespace, claim)
	if err != nil {
		return err
	}
	return linkTo(dir, src)
}

// ClaimPath returns the host directory of the volume bound to a claim: a
// hostPath (checked, and created for DirectoryOrCreate, as a hostPath
// volume is) or a local path (which must be a directory). Other volume
// types have no meaning on this runtime.
func ClaimPath(ctx context.Context, client kubernetes.Interface, namespace, claim string) (string, error) {
	if client == nil {
		return "", fmt.Errorf("persistentvolumeclaim %q not found", claim)
	}
	pvc, err := client.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, claim, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("persistentvolumeclaim %q not found", claim)
	}
	if err != nil {
		return "", err
	}
	if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
		return "", fmt.Errorf("PVC %s/%s has non-bound phase (%q) or empty pvc.Spec.VolumeName (%q)",
			namespace, claim, pvc.Status.Phase, pvc.Spec.VolumeName)
	}
	pv, err := client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("persistentvolume %q not found", pvc.Spec.VolumeName)
	}
	if err != nil {
		return "", err
	}
	switch {
	case pv.Spec.HostPath != nil:
		_, statErr := os.Stat(pv.Spec.HostPath.Path)
		if err := checkHostPath(pv.Spec.HostPath); err != nil {
			return "", err
		}
		if os.IsNotExist(statErr) && pv.Annotations[volume.AnnDynamicallyProvisioned] == volume.LocalPathProvisioner {
			// A new local-path volume is writable by every user, as an
			// emptyDir (and the usual local-path provisioner's) is.
			if err := os.Chmod(pv.Spec.HostPath.Path, 0o777); err != nil {
				return "", err
			}
		}
		return pv.Spec.HostPath.Path, nil
	case pv.Spec.Local != nil:
		fi, err := os.Stat(pv.Spec.Local.Path)
		if err != nil || !fi.IsDir() {
			return "", fmt.Errorf("local volume %q: path %q does not exist or is not a directory", pv.Name, pv.Spec.Local.Path)
		}
		return pv.Spec.Local.Path, nil
	}
	return "", fmt.Errorf("volume %q of claim %q is neither a hostPath nor a local volume: the process runtime cannot mount it", pv.Name, claim)
}

// linkTo makes link a symbolic link to target, replacing an older link or
// an empty directory left there.
func linkTo(link, target string) error {
	if cur, err := os.Readlink(link); err == nil && cur == target {
		return nil
	}
	if fi, err := os.Lstat(link); err == nil {
		if fi.IsDir() {
			if err := os.Remove(link); err != nil {
				return fmt.Errorf("%s is in the way of the volume's link: %v", link, err)
			}
		}
	}
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}
