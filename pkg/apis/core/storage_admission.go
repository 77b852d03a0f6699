package core

import (
	corev1 "k8s.io/api/core/v1"
)

// Finalizers of the StorageObjectInUseProtection admission plugin: a claim
// used by a pod, or a volume bound to a claim, is not removed until the
// protection controllers take them off.
const (
	PVCProtectionFinalizer = "kubernetes.io/pvc-protection"
	PVProtectionFinalizer  = "kubernetes.io/pv-protection"
)

// AddProtectionFinalizerPVC adds kubernetes.io/pvc-protection to a new claim.
func AddProtectionFinalizerPVC(pvc *corev1.PersistentVolumeClaim) {
	pvc.Finalizers = addFinalizer(pvc.Finalizers, PVCProtectionFinalizer)
}

// AddProtectionFinalizerPV adds kubernetes.io/pv-protection to a new volume.
func AddProtectionFinalizerPV(pv *corev1.PersistentVolume) {
	pv.Finalizers = addFinalizer(pv.Finalizers, PVProtectionFinalizer)
}

func addFinalizer(list []string, f string) []string {
	for _, x := range list {
		if x == f {
			return list
		}
	}
	return append(list, f)
}
