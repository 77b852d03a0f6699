package apps

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/herd-project/herd/pkg/apis/core"
)

// RegisterDefaults registers the apps/v1 defaulting functions with the scheme
// (each type and its list type).
func RegisterDefaults(s *runtime.Scheme) {
	registerReplicationControllerDefaults(s)
	s.AddTypeDefaultingFunc(&appsv1.Deployment{}, func(obj interface{}) { SetDefaultsDeployment(obj.(*appsv1.Deployment)) })
	s.AddTypeDefaultingFunc(&appsv1.DeploymentList{}, func(obj interface{}) {
		l := obj.(*appsv1.DeploymentList)
		for i := range l.Items {
			SetDefaultsDeployment(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&appsv1.ReplicaSet{}, func(obj interface{}) { SetDefaultsReplicaSet(obj.(*appsv1.ReplicaSet)) })
	s.AddTypeDefaultingFunc(&appsv1.ReplicaSetList{}, func(obj interface{}) {
		l := obj.(*appsv1.ReplicaSetList)
		for i := range l.Items {
			SetDefaultsReplicaSet(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&appsv1.StatefulSet{}, func(obj interface{}) { SetDefaultsStatefulSet(obj.(*appsv1.StatefulSet)) })
	s.AddTypeDefaultingFunc(&appsv1.StatefulSetList{}, func(obj interface{}) {
		l := obj.(*appsv1.StatefulSetList)
		for i := range l.Items {
			SetDefaultsStatefulSet(&l.Items[i])
		}
	})
	s.AddTypeDefaultingFunc(&appsv1.DaemonSet{}, func(obj interface{}) { SetDefaultsDaemonSet(obj.(*appsv1.DaemonSet)) })
	s.AddTypeDefaultingFunc(&appsv1.DaemonSetList{}, func(obj interface{}) {
		l := obj.(*appsv1.DaemonSetList)
		for i := range l.Items {
			SetDefaultsDaemonSet(&l.Items[i])
		}
	})
}

// SetDefaultsDeployment applies Kubernetes' apps/v1 Deployment defaults.
func SetDefaultsDeployment(d *appsv1.Deployment) {
	spec := &d.Spec
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.Strategy.Type == "" {
		spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if spec.Strategy.RollingUpdate == nil {
			spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if spec.Strategy.RollingUpdate.MaxUnavailable == nil {
			spec.Strategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("25%"))
		}
		if spec.Strategy.RollingUpdate.MaxSurge == nil {
			spec.Strategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromString("25%"))
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	if spec.ProgressDeadlineSeconds == nil {
		spec.ProgressDeadlineSeconds = ptr.To[int32](600)
	}
	core.SetDefaultsPodSpec(&spec.Template.Spec)
}

// SetDefaultsReplicaSet applies Kubernetes' apps/v1 ReplicaSet defaults.
func SetDefaultsReplicaSet(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr.To[int32](1)
	}
	core.SetDefaultsPodSpec(&rs.Spec.Template.Spec)
}

// SetDefaultsStatefulSet applies Kubernetes' apps/v1 StatefulSet defaults
// (MaxUnavailableStatefulSet and StatefulSetAutoDeletePVC on, as in 1.36),
// including the volume claim templates' PersistentVolumeClaim defaults.
func SetDefaultsStatefulSet(ss *appsv1.StatefulSet) {
	spec := &ss.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if spec.UpdateStrategy.Type == "" {
		spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if spec.UpdateStrategy.RollingUpdate == nil {
			spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && spec.UpdateStrategy.RollingUpdate != nil {
		if spec.UpdateStrategy.RollingUpdate.Partition == nil {
			spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](0)
		}
		if spec.UpdateStrategy.RollingUpdate.MaxUnavailable == nil {
			spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		}
	}
	if spec.PersistentVolumeClaimRetentionPolicy == nil {
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted == "" {
		spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.PersistentVolumeClaimRetentionPolicy.WhenScaled == "" {
		spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	core.SetDefaultsPodSpec(&spec.Template.Spec)
	for i := range spec.VolumeClaimTemplates {
		setDefaultsPersistentVolumeClaim(&spec.VolumeClaimTemplates[i])
	}
}

// SetDefaultsDaemonSet applies Kubernetes' apps/v1 DaemonSet defaults.
func SetDefaultsDaemonSet(ds *appsv1.DaemonSet) {
	strategy := &ds.Spec.UpdateStrategy
	if strategy.Type == "" {
		strategy.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if strategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if strategy.RollingUpdate == nil {
			strategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if strategy.RollingUpdate.MaxUnavailable == nil {
			strategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		}
		if strategy.RollingUpdate.MaxSurge == nil {
			strategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(0))
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	core.SetDefaultsPodSpec(&ds.Spec.Template.Spec)
}

// setDefaultsPersistentVolumeClaim applies the core/v1 PVC defaults that
// Kubernetes' generated defaulters apply to volume claim templates.
func setDefaultsPersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) {
	if pvc.Spec.VolumeMode == nil {
		pvc.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
	}
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
	roundUpResourceList(pvc.Spec.Resources.Limits)
	roundUpResourceList(pvc.Spec.Resources.Requests)
}

// roundUpResourceList rounds quantities up to milli precision, like
// Kubernetes' SetDefaults_ResourceList.
func roundUpResourceList(list corev1.ResourceList) {
	for name, q := range list {
		q.RoundUp(-3)
		list[name] = q
	}
}
