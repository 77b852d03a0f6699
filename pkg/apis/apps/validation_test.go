package apps

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default"}
}

func validDeployment() *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: testLabels},
		Template: validPodTemplate(),
	}}
	SetDefaultsDeployment(d)
	return d
}

func TestValidateDeployment(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(d *appsv1.Deployment)
		want   []want
	}{
		{name: "valid", mutate: func(d *appsv1.Deployment) {}},
		{name: "negative replicas and minReadySeconds", mutate: func(d *appsv1.Deployment) {
			d.Spec.Replicas = ptr.To[int32](-1)
			d.Spec.MinReadySeconds = -1
		}, want: []want{{field.ErrorTypeInvalid, "spec.replicas"}, {field.ErrorTypeInvalid, "spec.minReadySeconds"}}},
		{name: "missing selector", mutate: func(d *appsv1.Deployment) { d.Spec.Selector = nil },
			want: []want{{field.ErrorTypeRequired, "spec.selector"}, {field.ErrorTypeInvalid, "spec.template.metadata.labels"}}},
		{name: "empty selector", mutate: func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} },
			want: []want{{field.ErrorTypeInvalid, "spec.selector"}}},
		{name: "selector not matching", mutate: func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels = map[string]string{"app": "db"} },
			want: []want{{field.ErrorTypeInvalid, "spec.template.metadata.labels"}}},
		{name: "invalid selector", mutate: func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}
		}, want: []want{{field.ErrorTypeInvalid, "spec.selector.matchExpressions[0].operator"}, {field.ErrorTypeInvalid, "spec.selector"}}},
		{name: "restartPolicy not Always", mutate: func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			want: []want{{field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy"}}},
		{name: "activeDeadlineSeconds forbidden", mutate: func(d *appsv1.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](5) },
			want: []want{{field.ErrorTypeForbidden, "spec.template.spec.activeDeadlineSeconds"}}},
		{name: "writable GCE PD with several replicas", mutate: func(d *appsv1.Deployment) {
			d.Spec.Replicas = ptr.To[int32](2)
			d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "pd", VolumeSource: corev1.VolumeSource{GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: "x"}}}}
		}, want: []want{{field.ErrorTypeInvalid, "spec.template.spec.volumes[0].gcePersistentDisk.readOnly"}}},
		{name: "Recreate with rollingUpdate", mutate: func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType },
			want: []want{{field.ErrorTypeForbidden, "spec.strategy.rollingUpdate"}}},
		{name: "Recreate alone", mutate: func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		}},
		{name: "unknown strategy", mutate: func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "BlueGreen" },
			want: []want{{field.ErrorTypeNotSupported, "spec.strategy"}}},
		{name: "RollingUpdate without parameters", mutate: func(d *appsv1.Deployment) { d.Spec.Strategy.RollingUpdate = nil },
			want: []want{{field.ErrorTypeRequired, "spec.strategy.rollingUpdate"}}},
		{name: "both zero", mutate: func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(0))
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("0%"))
		}, want: []want{{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxUnavailable"}}},
		{name: "bad percentages", mutate: func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromString("abc"))
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("150%"))
		}, want: []want{{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxSurge"}, {field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxUnavailable"}}},
		{name: "negative maxSurge", mutate: func(d *appsv1.Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(-1)) },
			want: []want{{field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxSurge"}}},
		{name: "maxSurge above 100% allowed", mutate: func(d *appsv1.Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromString("200%")) }},
		{name: "progress deadline not above minReadySeconds", mutate: func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds = 600
		}, want: []want{{field.ErrorTypeInvalid, "spec.progressDeadlineSeconds"}}},
		{name: "negative revisionHistoryLimit", mutate: func(d *appsv1.Deployment) { d.Spec.RevisionHistoryLimit = ptr.To[int32](-1) },
			want: []want{{field.ErrorTypeInvalid, "spec.revisionHistoryLimit"}}},
		{name: "paused is fine", mutate: func(d *appsv1.Deployment) { d.Spec.Paused = true }},
		{name: "bad name", mutate: func(d *appsv1.Deployment) { d.Name = "Web!" },
			want: []want{{field.ErrorTypeInvalid, "metadata.name"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := validDeployment()
			tc.mutate(d)
			checkErrors(t, ValidateDeployment(d), tc.want...)
		})
	}
}

func TestValidateDeploymentUpdateAndStatus(t *testing.T) {
	old := validDeployment()
	old.ResourceVersion = "1"

	scaled := old.DeepCopy()
	scaled.Spec.Replicas = ptr.To[int32](5)
	scaled.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	checkErrors(t, ValidateDeploymentUpdate(scaled, old))

	reselect := old.DeepCopy()
	reselect.Spec.Selector.MatchLabels = map[string]string{"app": "web", "tier": "front"}
	reselect.Spec.Template.Labels["tier"] = "front"
	checkErrors(t, ValidateDeploymentUpdate(reselect, old), want{field.ErrorTypeInvalid, "spec.selector"})

	status := old.DeepCopy()
	status.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 2, AvailableReplicas: 3, UpdatedReplicas: 2,
		UnavailableReplicas: -1, TerminatingReplicas: ptr.To[int32](-1)}
	checkErrors(t, ValidateDeploymentStatusUpdate(status, old),
		want{field.ErrorTypeInvalid, "status.unavailableReplicas"},
		want{field.ErrorTypeInvalid, "status.terminatingReplicas"},
		want{field.ErrorTypeInvalid, "status.updatedReplicas"},
		want{field.ErrorTypeInvalid, "status.readyReplicas"},
		want{field.ErrorTypeInvalid, "status.availableReplicas"},
		want{field.ErrorTypeInvalid, "status.availableReplicas"})

	withCollisions := old.DeepCopy()
	withCollisions.Status.CollisionCount = ptr.To[int32](2)
	lower := withCollisions.DeepCopy()
	lower.Status.CollisionCount = ptr.To[int32](1)
	checkErrors(t, ValidateDeploymentStatusUpdate(lower, withCollisions), want{field.ErrorTypeInvalid, "status.collisionCount"})
	higher := withCollisions.DeepCopy()
	higher.Status.CollisionCount = ptr.To[int32](3)
	checkErrors(t, ValidateDeploymentStatusUpdate(higher, withCollisions))
}

func validReplicaSet() *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: meta("web-abc"), Spec: appsv1.ReplicaSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: testLabels},
		Template: validPodTemplate(),
	}}
	SetDefaultsReplicaSet(rs)
	return rs
}

func TestValidateReplicaSet(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(rs *appsv1.ReplicaSet)
		want   []want
	}{
		{name: "valid", mutate: func(rs *appsv1.ReplicaSet) {}},
		{name: "negative", mutate: func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = ptr.To[int32](-2); rs.Spec.MinReadySeconds = -1 },
			want: []want{{field.ErrorTypeInvalid, "spec.replicas"}, {field.ErrorTypeInvalid, "spec.minReadySeconds"}}},
		{name: "selector mismatch", mutate: func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Labels = map[string]string{"app": "db"} },
			want: []want{{field.ErrorTypeInvalid, "spec.template.metadata.labels"}}},
		{name: "empty selector", mutate: func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = &metav1.LabelSelector{} },
			want: []want{{field.ErrorTypeInvalid, "spec.selector"}}},
		{name: "restartPolicy OnFailure", mutate: func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
			want: []want{{field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := validReplicaSet()
			tc.mutate(rs)
			checkErrors(t, ValidateReplicaSet(rs), tc.want...)
		})
	}

	old := validReplicaSet()
	old.ResourceVersion = "1"
	upd := old.DeepCopy()
	upd.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}
	checkErrors(t, ValidateReplicaSetUpdate(upd, old), want{field.ErrorTypeInvalid, "spec.selector"})

	st := old.DeepCopy()
	st.Status = appsv1.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: -1}
	checkErrors(t, ValidateReplicaSetStatusUpdate(st, old),
		want{field.ErrorTypeInvalid, "status.fullyLabeledReplicas"}, want{field.ErrorTypeInvalid, "status.observedGeneration"})
}

func validStatefulSet() *appsv1.StatefulSet {
	tmpl := validPodTemplate()
	tmpl.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	ss := &appsv1.StatefulSet{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{
		Selector:    &metav1.LabelSelector{MatchLabels: testLabels},
		ServiceName: "db",
		Template:    tmpl,
		VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
			ObjectMeta: metav1.ObjectMeta{Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}},
	}}
	SetDefaultsStatefulSet(ss)
	return ss
}

func TestValidateStatefulSet(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(ss *appsv1.StatefulSet)
		want   []want
	}{
		{name: "valid", mutate: func(ss *appsv1.StatefulSet) {}},
		{name: "no serviceName is fine", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "" }},
		{name: "invalid serviceName", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "DB.svc" },
			want: []want{{field.ErrorTypeInvalid, "spec.serviceName"}}},
		{name: "name must be a DNS label", mutate: func(ss *appsv1.StatefulSet) { ss.Name = "db.primary" },
			want: []want{{field.ErrorTypeInvalid, "metadata.name"}}},
		{name: "podManagementPolicy empty", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.PodManagementPolicy = "" },
			want: []want{{field.ErrorTypeRequired, "spec.podManagementPolicy"}}},
		{name: "podManagementPolicy unknown", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.PodManagementPolicy = "Random" },
			want: []want{{field.ErrorTypeInvalid, "spec.podManagementPolicy"}}},
		{name: "updateStrategy empty", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{} },
			want: []want{{field.ErrorTypeRequired, "spec.updateStrategy"}}},
		{name: "updateStrategy unknown", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy.Type = "Shuffle" },
			want: []want{{field.ErrorTypeInvalid, "spec.updateStrategy"}}},
		{name: "OnDelete with rollingUpdate", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType },
			want: []want{{field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate"}}},
		{name: "rolling update parameters", mutate: func(ss *appsv1.StatefulSet) {
			ss.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](-1)
			ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(0))
		}, want: []want{{field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.partition"}, {field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.maxUnavailable"}}},
		{name: "maxUnavailable above 100%", mutate: func(ss *appsv1.StatefulSet) {
			ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("101%"))
		}, want: []want{{field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.maxUnavailable"}}},
		{name: "retention policy unknown", mutate: func(ss *appsv1.StatefulSet) {
			ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = "Shred"
		}, want: []want{{field.ErrorTypeNotSupported, "spec.persistentVolumeClaimRetentionPolicy.whenScaled"}}},
		{name: "negative replicas, minReadySeconds, ordinals", mutate: func(ss *appsv1.StatefulSet) {
			ss.Spec.Replicas = ptr.To[int32](-1)
			ss.Spec.MinReadySeconds = -1
			ss.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: -1}
		}, want: []want{{field.ErrorTypeInvalid, "spec.replicas"}, {field.ErrorTypeInvalid, "spec.minReadySeconds"}, {field.ErrorTypeInvalid, "spec.ordinals.start"}}},
		{name: "selector required", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.Selector = nil },
			want: []want{{field.ErrorTypeRequired, "spec.selector"}, {field.ErrorTypeInvalid, "spec.template.metadata.labels"}}},
		{name: "empty selector", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.Selector = &metav1.LabelSelector{} },
			want: []want{{field.ErrorTypeInvalid, "spec.selector"}}},
		{name: "selector mismatch", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.Selector.MatchLabels = map[string]string{"app": "x"} },
			want: []want{{field.ErrorTypeInvalid, "spec.template.metadata.labels"}}},
		{name: "restartPolicy and deadline", mutate: func(ss *appsv1.StatefulSet) {
			ss.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
			ss.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](10)
		}, want: []want{{field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy"}, {field.ErrorTypeForbidden, "spec.template.spec.activeDeadlineSeconds"}}},
		{name: "claim template without access modes or storage", mutate: func(ss *appsv1.StatefulSet) {
			ss.Spec.VolumeClaimTemplates[0].Spec = corev1.PersistentVolumeClaimSpec{}
		}, want: []want{{field.ErrorTypeRequired, "spec.volumeClaimTemplates[0].spec.accessModes"}, {field.ErrorTypeRequired, "spec.volumeClaimTemplates[0].spec.resources[storage]"}}},
		{name: "claim template mixing ReadWriteOncePod", mutate: func(ss *appsv1.StatefulSet) {
			ss.Spec.VolumeClaimTemplates[0].Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadWriteOnce}
		}, want: []want{{field.ErrorTypeForbidden, "spec.volumeClaimTemplates[0].spec.accessModes"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ss := validStatefulSet()
			tc.mutate(ss)
			checkErrors(t, ValidateStatefulSet(ss), tc.want...)
		})
	}
}

func TestValidateStatefulSetUpdate(t *testing.T) {
	const forbidden = "spec"
	tests := []struct {
		name   string
		old    func(ss *appsv1.StatefulSet)
		mutate func(ss *appsv1.StatefulSet)
		want   []want
	}{
		{name: "allowed fields", mutate: func(ss *appsv1.StatefulSet) {
			ss.Spec.Replicas = ptr.To[int32](3)
			ss.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 2}
			ss.Spec.Template.Spec.Containers[0].Image = "postgres:17"
			ss.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
			ss.Spec.RevisionHistoryLimit = ptr.To[int32](3)
			ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
			ss.Spec.MinReadySeconds = 5
		}},
		{name: "serviceName", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "other" },
			want: []want{{field.ErrorTypeForbidden, forbidden}}},
		{name: "podManagementPolicy", mutate: func(ss *appsv1.StatefulSet) { ss.Spec.PodManagementPolicy = appsv1.ParallelPodManagement },
			want: []want{{field.ErrorTypeForbidden, forbidden}}},
		{name: "selector", mutate: func(ss *appsv1.StatefulSet) {
			ss.Spec.Selector.MatchLabels = map[string]string{"app": "web", "x": "y"}
			ss.Spec.Template.Labels["x"] = "y"
		}, want: []want{{field.ErrorTypeForbidden, forbidden}}},
		{name: "volumeClaimTemplates", mutate: func(ss *appsv1.StatefulSet) {
			ss.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
		}, want: []want{{field.ErrorTypeForbidden, forbidden}}},
		{name: "old invalid serviceName may stay", old: func(ss *appsv1.StatefulSet) { ss.Spec.ServiceName = "Legacy.Name" },
			mutate: func(ss *appsv1.StatefulSet) { ss.Spec.Replicas = ptr.To[int32](2) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validStatefulSet()
			if tc.old != nil {
				tc.old(old)
			}
			old.ResourceVersion = "1"
			upd := old.DeepCopy()
			tc.mutate(upd)
			checkErrors(t, ValidateStatefulSetUpdate(upd, old), tc.want...)
		})
	}

	old := validStatefulSet()
	old.ResourceVersion = "1"
	old.Status.CollisionCount = ptr.To[int32](1)
	st := old.DeepCopy()
	st.Status = appsv1.StatefulSetStatus{Replicas: 1, ReadyReplicas: 1, CurrentReplicas: 2, AvailableReplicas: 1, UpdatedReplicas: -1}
	checkErrors(t, ValidateStatefulSetStatusUpdate(st, old),
		want{field.ErrorTypeInvalid, "status.currentReplicas"},
		want{field.ErrorTypeInvalid, "status.updatedReplicas"},
		want{field.ErrorTypeInvalid, "status.collisionCount"})
}

func validDaemonSet() *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{ObjectMeta: meta("agent"), Spec: appsv1.DaemonSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: testLabels},
		Template: validPodTemplate(),
	}}
	SetDefaultsDaemonSet(ds)
	SetDaemonSetTemplateGeneration(ds, nil)
	return ds
}

func TestValidateDaemonSet(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(ds *appsv1.DaemonSet)
		want   []want
	}{
		{name: "valid", mutate: func(ds *appsv1.DaemonSet) {}},
		{name: "selector mismatch", mutate: func(ds *appsv1.DaemonSet) { ds.Spec.Template.Labels = nil },
			want: []want{{field.ErrorTypeInvalid, "spec.template.metadata.labels"}}},
		{name: "empty selector", mutate: func(ds *appsv1.DaemonSet) { ds.Spec.Selector = &metav1.LabelSelector{} },
			want: []want{{field.ErrorTypeInvalid, "spec.selector"}}},
		{name: "restartPolicy and deadline", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			ds.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](1)
		}, want: []want{{field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy"}, {field.ErrorTypeForbidden, "spec.template.spec.activeDeadlineSeconds"}}},
		{name: "negative minReadySeconds and history", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.MinReadySeconds = -1
			ds.Spec.RevisionHistoryLimit = ptr.To[int32](-1)
		}, want: []want{{field.ErrorTypeInvalid, "spec.minReadySeconds"}, {field.ErrorTypeInvalid, "spec.revisionHistoryLimit"}}},
		{name: "unknown strategy", mutate: func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.Type = "Surge" },
			want: []want{{field.ErrorTypeNotSupported, "spec.updateStrategy"}}},
		{name: "rolling update missing", mutate: func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.RollingUpdate = nil },
			want: []want{{field.ErrorTypeRequired, "spec.updateStrategy.rollingUpdate"}}},
		{name: "OnDelete", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
		}},
		{name: "both zero", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("0%"))
		},
			want: []want{{field.ErrorTypeRequired, "spec.updateStrategy.rollingUpdate.maxUnavailable"}}},
		{name: "both non-zero", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(1))
		},
			want: []want{{field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.maxSurge"}}},
		{name: "surge only", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromString("10%"))
			ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(0))
		}},
		{name: "percent above 100", mutate: func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("120%"))
		}, want: []want{{field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.maxUnavailable"}}},
		{name: "template generation not a number", mutate: func(ds *appsv1.DaemonSet) { ds.Annotations[appsv1.DeprecatedTemplateGeneration] = "x" },
			want: []want{{field.ErrorTypeInvalid, "metadata.annotations[deprecated.daemonset.template.generation]"}}},
		{name: "template generation negative", mutate: func(ds *appsv1.DaemonSet) { ds.Annotations[appsv1.DeprecatedTemplateGeneration] = "-1" },
			want: []want{{field.ErrorTypeInvalid, "spec.templateGeneration"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := validDaemonSet()
			tc.mutate(ds)
			checkErrors(t, ValidateDaemonSet(ds), tc.want...)
		})
	}
}

func TestValidateDaemonSetUpdate(t *testing.T) {
	old := validDaemonSet()
	old.ResourceVersion = "1"
	if got := old.Annotations[appsv1.DeprecatedTemplateGeneration]; got != "1" {
		t.Fatalf("template generation on create = %q, want 1", got)
	}

	// Template change with the strategy bookkeeping: generation bumped, valid.
	upd := old.DeepCopy()
	upd.Spec.Template.Spec.Containers[0].Image = "agent:2"
	SetDaemonSetTemplateGeneration(upd, old)
	if got := upd.Annotations[appsv1.DeprecatedTemplateGeneration]; got != "2" {
		t.Errorf("template generation after template change = %q, want 2", got)
	}
	checkErrors(t, ValidateDaemonSetUpdate(upd, old))

	// Template change without bump.
	noBump := old.DeepCopy()
	noBump.Spec.Template.Spec.Containers[0].Image = "agent:2"
	checkErrors(t, ValidateDaemonSetUpdate(noBump, old), want{field.ErrorTypeInvalid, "spec.templateGeneration"})

	// Bump without template change, and decrement.
	bump := old.DeepCopy()
	bump.Annotations[appsv1.DeprecatedTemplateGeneration] = "5"
	checkErrors(t, ValidateDaemonSetUpdate(bump, old), want{field.ErrorTypeInvalid, "spec.templateGeneration"})
	dec := old.DeepCopy()
	dec.Annotations[appsv1.DeprecatedTemplateGeneration] = "0"
	checkErrors(t, ValidateDaemonSetUpdate(dec, old), want{field.ErrorTypeInvalid, "spec.templateGeneration"})

	// Unchanged template, annotation omitted: the bookkeeping restores it.
	omitted := old.DeepCopy()
	omitted.Annotations = nil
	omitted.Spec.MinReadySeconds = 3
	SetDaemonSetTemplateGeneration(omitted, old)
	checkErrors(t, ValidateDaemonSetUpdate(omitted, old))

	// Selector immutable.
	sel := old.DeepCopy()
	sel.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}
	checkErrors(t, ValidateDaemonSetUpdate(sel, old), want{field.ErrorTypeInvalid, "spec.selector"})

	// Status.
	st := old.DeepCopy()
	st.Status = appsv1.DaemonSetStatus{NumberReady: -1, NumberUnavailable: -2, ObservedGeneration: -1, CollisionCount: ptr.To[int32](-1)}
	checkErrors(t, ValidateDaemonSetStatusUpdate(st, old),
		want{field.ErrorTypeInvalid, "status.numberReady"},
		want{field.ErrorTypeInvalid, "status.numberUnavailable"},
		want{field.ErrorTypeInvalid, "status.observedGeneration"},
		want{field.ErrorTypeInvalid, "status.collisionCount"})
}

func TestValidateControllerRevision(t *testing.T) {
	valid := &appsv1.ControllerRevision{ObjectMeta: meta("web-5d4f"), Data: runtime.RawExtension{Raw: []byte(`{"spec":{}}`)}, Revision: 1}
	checkErrors(t, ValidateControllerRevision(valid))

	noData := valid.DeepCopy()
	noData.Data = runtime.RawExtension{}
	noData.Revision = -1
	checkErrors(t, ValidateControllerRevision(noData), want{field.ErrorTypeRequired, "data"}, want{field.ErrorTypeInvalid, "revision"})

	objData := valid.DeepCopy()
	objData.Data = runtime.RawExtension{Object: &appsv1.Deployment{}}
	checkErrors(t, ValidateControllerRevision(objData))

	old := valid.DeepCopy()
	old.ResourceVersion = "1"
	renumbered := old.DeepCopy()
	renumbered.Revision = 7
	checkErrors(t, ValidateControllerRevisionUpdate(renumbered, old))
	changed := old.DeepCopy()
	changed.Data = runtime.RawExtension{Raw: []byte(`{"spec":{"x":1}}`)}
	checkErrors(t, ValidateControllerRevisionUpdate(changed, old), want{field.ErrorTypeInvalid, "data"})
}
