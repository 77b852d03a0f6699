// Package volume holds what herd's storage pieces share: the annotation and
// finalizer names Kubernetes uses on claims and volumes, the local-path
// provisioner's names, the rules that decide whether a PersistentVolume can
// satisfy a claim (class, mode, access modes, capacity, selector, node), and
// node affinity matching. The PV controller, the provisioner, the scheduler
// and the node agent use it; it talks to no API.
package volume

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Annotations Kubernetes' PV controller, provisioners and scheduler write.
const (
	AnnBindCompleted          = "pv.kubernetes.io/bind-completed"
	AnnBoundByController      = "pv.kubernetes.io/bound-by-controller"
	AnnDynamicallyProvisioned = "pv.kubernetes.io/provisioned-by"
	AnnStorageProvisioner     = "volume.kubernetes.io/storage-provisioner"
	AnnBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	AnnSelectedNode           = "volume.kubernetes.io/selected-node"
)

// Finalizers of the protection controllers.
const (
	PVCProtectionFinalizer = "kubernetes.io/pvc-protection"
	PVProtectionFinalizer  = "kubernetes.io/pv-protection"
)

// The built-in local-path provisioner.
const (
	// LocalPathProvisioner is the provisioner name of the local-path class.
	LocalPathProvisioner = "herd.dev/local-path"
	// LocalPathClass is the name of the default StorageClass herd creates.
	LocalPathClass = "local-path"
	// AnnLocalPathDir is the node annotation where a node's agent says in
	// which directory its local volumes live (<data dir>/storage).
	AnnLocalPathDir = "storage.herd.dev/local-path-dir"
	// LocalPathCleanupFinalizer holds a provisioned volume until the agent
	// of its node has removed the volume's directory.
	LocalPathCleanupFinalizer = "storage.herd.dev/local-path-cleanup"
	// NoProvisioner is the provisioner of classes whose volumes are made by hand.
	NoProvisioner = "kubernetes.io/no-provisioner"
)

// ClaimClass returns the class a claim asks for ("" for none): the beta
// annotation wins over spec.storageClassName, as in Kubernetes.
func ClaimClass(pvc *corev1.PersistentVolumeClaim) string {
	if c, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return c
	}
	if pvc.Spec.StorageClassName != nil {
		return *pvc.Spec.StorageClassName
	}
	return ""
}

// VolumeClass returns a volume's class ("" for none).
func VolumeClass(pv *corev1.PersistentVolume) string {
	if c, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return c
	}
	return pv.Spec.StorageClassName
}

// IsWaitForFirstConsumer reports whether a class delays binding until a pod
// is scheduled.
func IsWaitForFirstConsumer(sc *storagev1.StorageClass) bool {
	return sc != nil && sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
}

// IsPreboundTo reports whether a volume's claimRef names the claim (by
// namespace and name, and by UID when the ref has one).
func IsPreboundTo(pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) bool {
	ref := pv.Spec.ClaimRef
	if ref == nil || ref.Namespace != pvc.Namespace || ref.Name != pvc.Name {
		return false
	}
	return ref.UID == "" || ref.UID == pvc.UID
}

// Mismatch says why a volume cannot serve a claim, "" when it can. Node
// placement is checked separately (NodeMatches).
func Mismatch(pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) string {
	if VolumeClass(pv) != ClaimClass(pvc) {
		return "storage class differs"
	}
	if volumeMode(pv.Spec.VolumeMode) != volumeMode(pvc.Spec.VolumeMode) {
		return "volume mode differs"
	}
	for _, m := range pvc.Spec.AccessModes {
		if !hasMode(pv.Spec.AccessModes, m) {
			return "access modes do not include " + string(m)
		}
	}
	want := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	have := pv.Spec.Capacity[corev1.ResourceStorage]
	if have.Cmp(want) < 0 {
		return "capacity " + have.String() + " is less than the request " + want.String()
	}
	if pvc.Spec.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(pvc.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pv.Labels)) {
			return "labels do not match the claim's selector"
		}
	}
	return ""
}

func volumeMode(m *corev1.PersistentVolumeMode) corev1.PersistentVolumeMode {
	if m == nil {
		return corev1.PersistentVolumeFilesystem
	}
	return *m
}

func hasMode(modes []corev1.PersistentVolumeAccessMode, m corev1.PersistentVolumeAccessMode) bool {
	for _, x := range modes {
		if x == m {
			return true
		}
	}
	return false
}

// NodeMatches reports whether a volume may be used on node: true when the
// volume has no required node affinity or one of its terms matches.
func NodeMatches(pv *corev1.PersistentVolume, node *corev1.Node) bool {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return true
	}
	return MatchNodeSelector(pv.Spec.NodeAffinity.Required, node)
}

// MatchNodeSelector ORs the terms of a node selector; a term ANDs its
// expressions and fields, and an empty term matches nothing.
func MatchNodeSelector(ns *corev1.NodeSelector, node *corev1.Node) bool {
	for i := range ns.NodeSelectorTerms {
		if termMatches(&ns.NodeSelectorTerms[i], node) {
			return true
		}
	}
	return false
}

func termMatches(t *corev1.NodeSelectorTerm, node *corev1.Node) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	for _, r := range t.MatchExpressions {
		v, ok := node.Labels[r.Key]
		if !requirementMatches(r, v, ok) {
			return false
		}
	}
	for _, r := range t.MatchFields {
		if r.Key != metav1.ObjectNameField || !requirementMatches(r, node.Name, true) {
			return false
		}
	}
	return true
}

func requirementMatches(r corev1.NodeSelectorRequirement, v string, present bool) bool {
	switch r.Operator {
	case corev1.NodeSelectorOpIn:
		return present && contains(r.Values, v)
	case corev1.NodeSelectorOpNotIn:
		return !present || !contains(r.Values, v)
	case corev1.NodeSelectorOpExists:
		return present
	case corev1.NodeSelectorOpDoesNotExist:
		return !present
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !present || len(r.Values) != 1 {
			return false
		}
		a, err1 := strconv.ParseInt(v, 10, 64)
		b, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == corev1.NodeSelectorOpGt {
			return a > b
		}
		return a < b
	}
	return false
}

func contains(values []string, v string) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}

// HostnameAffinity is the required node affinity of a volume that lives on
// one node (kubernetes.io/hostname In [node]).
func HostnameAffinity(node *corev1.Node) *corev1.VolumeNodeAffinity {
	host := node.Labels[corev1.LabelHostname]
	key := corev1.LabelHostname
	if host == "" {
		host = node.Name
		key = metav1.ObjectNameField
		return &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: []string{host}}},
		}}}}
	}
	return &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: []string{host}}},
	}}}}
}

// FindMatchingVolume picks the volume for an unbound claim: one pre-bound
// to it by claimRef first, else the smallest available matching volume (on
// node when node is not nil). Delayed (WaitForFirstConsumer) claims without
// a node only take pre-bound volumes.
func FindMatchingVolume(pvc *corev1.PersistentVolumeClaim, pvs []*corev1.PersistentVolume, delayed bool, node *corev1.Node) *corev1.PersistentVolume {
	var best *corev1.PersistentVolume
	for _, pv := range pvs {
		if pv.DeletionTimestamp != nil || Mismatch(pv, pvc) != "" {
			continue
		}
		if pv.Spec.ClaimRef != nil {
			if IsPreboundTo(pv, pvc) {
				if node == nil || NodeMatches(pv, node) {
					return pv
				}
			}
			continue
		}
		if pv.Status.Phase != corev1.VolumeAvailable && pv.Status.Phase != corev1.VolumePending && pv.Status.Phase != "" {
			continue
		}
		if delayed && node == nil {
			continue
		}
		if node != nil && !NodeMatches(pv, node) {
			continue
		}
		if best == nil {
			best = pv
			continue
		}
		a, b := pv.Spec.Capacity[corev1.ResourceStorage], best.Spec.Capacity[corev1.ResourceStorage]
		if a.Cmp(b) < 0 || (a.Cmp(b) == 0 && pv.Name < best.Name) {
			best = pv
		}
	}
	return best
}
