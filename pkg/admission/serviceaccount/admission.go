// Package serviceaccount is the ServiceAccount admission plugin for pods,
// as Kubernetes' (plugin/pkg/admission/serviceaccount): on pod creation it
// defaults spec.serviceAccountName, rejects pods whose ServiceAccount does
// not exist, copies the ServiceAccount's imagePullSecrets, and — unless
// automountServiceAccountToken is false on the pod or, with the pod silent,
// on its ServiceAccount — adds the projected kube-api-access-XXXXX volume
// (token, kube-root-ca.crt's ca.crt, namespace) and mounts it read-only at
// /var/run/secrets/kubernetes.io/serviceaccount in every init and regular
// container that does not mount that path already. Tokens themselves are
// issued through the TokenRequest API (pkg/registry/core/serviceaccount).
package serviceaccount

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/storage/names"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

const (
	// PluginName is the plugin's name in Kubernetes.
	PluginName = "ServiceAccount"
	// DefaultServiceAccountName is used when a pod names none.
	DefaultServiceAccountName = "default"
	// DefaultAPITokenMountPath is where the token volume is mounted.
	DefaultAPITokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// VolumeNamePrefix starts the token volume's name.
	VolumeNamePrefix = "kube-api-access"
	// RootCAConfigMapName holds the cluster CA in every namespace.
	RootCAConfigMapName = "kube-root-ca.crt"
	// TokenExpirationSeconds is the projected token's requested lifetime.
	TokenExpirationSeconds int64 = 3607
	// mirrorPodAnnotation marks static pods' mirrors.
	mirrorPodAnnotation = "kubernetes.io/config.mirror"
)

// Plugin is the admission plugin.
type Plugin struct {
	*admission.Handler
	client   kubernetes.Interface
	accounts corelisters.ServiceAccountLister
	// generateName makes the volume name (names.SimpleNameGenerator).
	generateName func(base string) string
	// sleep waits between live lookups of a missing default account.
	sleep func(time.Duration)
}

var (
	_ admission.MutationInterface   = &Plugin{}
	_ admission.ValidationInterface = &Plugin{}
)

// New returns the plugin; it needs SetExternalKubeClientSet and
// SetExternalKubeInformerFactory before use.
func New() *Plugin {
	return &Plugin{
		Handler:      admission.NewHandler(admission.Create),
		generateName: names.SimpleNameGenerator.GenerateName,
		sleep:        time.Sleep,
	}
}

// Register adds the plugin to plugins under PluginName.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) { return New(), nil })
}

// SetExternalKubeClientSet implements initializer.WantsExternalKubeClientSet.
func (p *Plugin) SetExternalKubeClientSet(c kubernetes.Interface) { p.client = c }

// SetExternalKubeInformerFactory implements initializer.WantsExternalKubeInformerFactory.
func (p *Plugin) SetExternalKubeInformerFactory(f informers.SharedInformerFactory) {
	inf := f.Core().V1().ServiceAccounts()
	p.accounts = inf.Lister()
	p.SetReadyFunc(inf.Informer().HasSynced)
}

// ValidateInitialization implements admission.InitializationValidator.
func (p *Plugin) ValidateInitialization() error {
	if p.client == nil {
		return fmt.Errorf("%s admission plugin: missing client", PluginName)
	}
	if p.accounts == nil {
		return fmt.Errorf("%s admission plugin: missing service account lister", PluginName)
	}
	return nil
}

func podOf(a admission.Attributes) (*corev1.Pod, bool) {
	if a.GetResource().GroupResource() != corev1.Resource("pods") || a.GetSubresource() != "" {
		return nil, false
	}
	pod, ok := a.GetObject().(*corev1.Pod)
	return pod, ok
}

func isMirror(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[mirrorPodAnnotation]
	return ok
}

// Admit implements admission.MutationInterface.
func (p *Plugin) Admit(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pod, ok := podOf(a)
	if !ok || a.GetOperation() != admission.Create || isMirror(pod) {
		return nil
	}
	if !p.WaitForReady() {
		return admission.NewForbidden(a, fmt.Errorf("not yet ready to handle request"))
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultServiceAccountName
	}
	pod.Spec.DeprecatedServiceAccount = pod.Spec.ServiceAccountName
	sa, err := p.getServiceAccount(ctx, a.GetNamespace(), pod.Spec.ServiceAccountName)
	if err != nil {
		return admission.NewForbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.GetNamespace(), pod.Spec.ServiceAccountName, err))
	}
	if shouldAutomount(sa, pod) {
		p.mountToken(pod)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = append([]corev1.LocalObjectReference(nil), sa.ImagePullSecrets...)
	}
	return nil
}

// Validate implements admission.ValidationInterface: mirror pods may not
// use service accounts; other pods' accounts must exist.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pod, ok := podOf(a)
	if !ok || a.GetOperation() != admission.Create {
		return nil
	}
	if isMirror(pod) {
		if pod.Spec.ServiceAccountName != "" {
			return admission.NewForbidden(a, fmt.Errorf("a mirror pod may not reference service accounts"))
		}
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		return admission.NewForbidden(a, fmt.Errorf("no service account specified for pod %s/%s", a.GetNamespace(), pod.Name))
	}
	if !p.WaitForReady() {
		return admission.NewForbidden(a, fmt.Errorf("not yet ready to handle request"))
	}
	if _, err := p.getServiceAccount(ctx, a.GetNamespace(), pod.Spec.ServiceAccountName); err != nil {
		return admission.NewForbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.GetNamespace(), pod.Spec.ServiceAccountName, err))
	}
	return nil
}

// getServiceAccount reads the cache, then the API; the default account is
// looked up several times, as the service account controller creates it
// shortly after its namespace.
func (p *Plugin) getServiceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	if sa, err := p.accounts.ServiceAccounts(ns).Get(name); err == nil {
		return sa, nil
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	}
	attempts := 1
	if name == DefaultServiceAccountName {
		attempts = 10
	}
	interval := time.Duration(rand.Int63n(100)+100) * time.Millisecond
	for i := 0; i < attempts; i++ {
		if i > 0 {
			p.sleep(interval)
		}
		sa, err := p.client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return sa, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, apierrors.NewNotFound(corev1.Resource("serviceaccount"), name)
}

// shouldAutomount: the pod's setting wins; else the account's; else true.
func shouldAutomount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// mountToken adds the token volume (unless a kube-api-access-* volume is
// there already) and its mount to every container without one at
// DefaultAPITokenMountPath.
func (p *Plugin) mountToken(pod *corev1.Pod) {
	volName := ""
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, VolumeNamePrefix+"-") {
			volName = v.Name
			break
		}
	}
	hasVolume := volName != ""
	if !hasVolume {
		volName = p.generateName(VolumeNamePrefix + "-")
	}
	mount := corev1.VolumeMount{Name: volName, ReadOnly: true, MountPath: DefaultAPITokenMountPath}
	needed := false
	addTo := func(cs []corev1.Container) {
		for i := range cs {
			if !mountsTokenPath(&cs[i]) {
				cs[i].VolumeMounts = append(cs[i].VolumeMounts, mount)
				needed = true
			}
		}
	}
	addTo(pod.Spec.InitContainers)
	addTo(pod.Spec.Containers)
	if !hasVolume && needed {
		pod.Spec.Volumes = append(pod.Spec.Volumes, TokenVolume(volName))
	}
}

func mountsTokenPath(c *corev1.Container) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == DefaultAPITokenMountPath {
			return true
		}
	}
	return false
}

// TokenVolume is the projected volume Kubernetes' plugin adds.
func TokenVolume(name string) corev1.Volume {
	exp := TokenExpirationSeconds
	mode := int32(corev1.ProjectedVolumeSourceDefaultMode)
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &exp, Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: RootCAConfigMapName},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path:     "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
			}}}},
		},
	}}}
}
