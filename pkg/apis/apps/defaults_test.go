package apps

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func expectInt32(t *testing.T, name string, got *int32, want int32) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %d", name, want)
	} else if *got != want {
		t.Errorf("%s = %d, want %d", name, *got, want)
	}
}

func expectIntOrString(t *testing.T, name string, got *intstr.IntOrString, want intstr.IntOrString) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func TestSetDefaultsDeployment(t *testing.T) {
	d := &appsv1.Deployment{}
	SetDefaultsDeployment(d)
	expectInt32(t, "replicas", d.Spec.Replicas, 1)
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("strategy = %s", d.Spec.Strategy.Type)
	}
	expectIntOrString(t, "maxUnavailable", d.Spec.Strategy.RollingUpdate.MaxUnavailable, intstr.FromString("25%"))
	expectIntOrString(t, "maxSurge", d.Spec.Strategy.RollingUpdate.MaxSurge, intstr.FromString("25%"))
	expectInt32(t, "revisionHistoryLimit", d.Spec.RevisionHistoryLimit, 10)
	expectInt32(t, "progressDeadlineSeconds", d.Spec.ProgressDeadlineSeconds, 600)

	recreate := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](0), Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
	SetDefaultsDeployment(recreate)
	expectInt32(t, "replicas", recreate.Spec.Replicas, 0)
	if recreate.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("Recreate got a rollingUpdate")
	}

	partial := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Strategy: appsv1.DeploymentStrategy{
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromInt32(0))}}}}
	SetDefaultsDeployment(partial)
	expectIntOrString(t, "maxSurge", partial.Spec.Strategy.RollingUpdate.MaxSurge, intstr.FromInt32(0))
	expectIntOrString(t, "maxUnavailable", partial.Spec.Strategy.RollingUpdate.MaxUnavailable, intstr.FromString("25%"))
}

func TestSetDefaultsReplicaSet(t *testing.T) {
	rs := &appsv1.ReplicaSet{}
	SetDefaultsReplicaSet(rs)
	expectInt32(t, "replicas", rs.Spec.Replicas, 1)
	rs = &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3)}}
	SetDefaultsReplicaSet(rs)
	expectInt32(t, "replicas", rs.Spec.Replicas, 3)
}

func TestSetDefaultsStatefulSet(t *testing.T) {
	ss := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
		Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1.0001")}}},
	}}}}
	SetDefaultsStatefulSet(ss)
	expectInt32(t, "replicas", ss.Spec.Replicas, 1)
	expectInt32(t, "revisionHistoryLimit", ss.Spec.RevisionHistoryLimit, 10)
	if ss.Spec.PodManagementPolicy != appsv1.OrderedReadyPodManagement {
		t.Errorf("podManagementPolicy = %s", ss.Spec.PodManagementPolicy)
	}
	if ss.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		t.Errorf("updateStrategy = %s", ss.Spec.UpdateStrategy.Type)
	}
	expectInt32(t, "partition", ss.Spec.UpdateStrategy.RollingUpdate.Partition, 0)
	expectIntOrString(t, "maxUnavailable", ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable, intstr.FromInt32(1))
	p := ss.Spec.PersistentVolumeClaimRetentionPolicy
	if p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType || p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("retention policy = %+v", p)
	}
	pvc := ss.Spec.VolumeClaimTemplates[0]
	if pvc.Spec.VolumeMode == nil || *pvc.Spec.VolumeMode != corev1.PersistentVolumeFilesystem {
		t.Errorf("volumeMode = %v", pvc.Spec.VolumeMode)
	}
	if pvc.Status.Phase != corev1.ClaimPending {
		t.Errorf("phase = %s", pvc.Status.Phase)
	}
	if got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.String() != "1001m" {
		t.Errorf("storage request = %s, want 1001m (rounded up to milli)", got.String())
	}

	onDelete := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}}}
	SetDefaultsStatefulSet(onDelete)
	if onDelete.Spec.UpdateStrategy.RollingUpdate != nil {
		t.Errorf("OnDelete got a rollingUpdate")
	}
}

func TestSetDefaultsDaemonSet(t *testing.T) {
	ds := &appsv1.DaemonSet{}
	SetDefaultsDaemonSet(ds)
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		t.Errorf("updateStrategy = %s", ds.Spec.UpdateStrategy.Type)
	}
	expectIntOrString(t, "maxUnavailable", ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable, intstr.FromInt32(1))
	expectIntOrString(t, "maxSurge", ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge, intstr.FromInt32(0))
	expectInt32(t, "revisionHistoryLimit", ds.Spec.RevisionHistoryLimit, 10)
}

func TestRegisterDefaults(t *testing.T) {
	s := runtime.NewScheme()
	if err := appsv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	RegisterDefaults(s)
	for _, obj := range []runtime.Object{&appsv1.Deployment{}, &appsv1.ReplicaSet{}, &appsv1.StatefulSet{}} {
		s.Default(obj)
	}
	dl := &appsv1.DeploymentList{Items: []appsv1.Deployment{{}}}
	s.Default(dl)
	expectInt32(t, "deployment list replicas", dl.Items[0].Spec.Replicas, 1)
	rsl := &appsv1.ReplicaSetList{Items: []appsv1.ReplicaSet{{}}}
	s.Default(rsl)
	expectInt32(t, "replicaset list replicas", rsl.Items[0].Spec.Replicas, 1)
	ssl := &appsv1.StatefulSetList{Items: []appsv1.StatefulSet{{}}}
	s.Default(ssl)
	expectInt32(t, "statefulset list replicas", ssl.Items[0].Spec.Replicas, 1)
	dsl := &appsv1.DaemonSetList{Items: []appsv1.DaemonSet{{}}}
	s.Default(dsl)
	expectInt32(t, "daemonset list revisionHistoryLimit", dsl.Items[0].Spec.RevisionHistoryLimit, 10)
}
