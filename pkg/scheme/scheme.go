// Package scheme builds the runtime.Scheme and codecs of herd's API server.
//
// herd has no internal types: every served type is the versioned k8s.io/api
// type, registered both under its real version (e.g. batch/v1) and under the
// group's internal version, so that the apiserver machinery converts between
// them without copying. The one real conversion is events.k8s.io/v1 Event,
// which shares storage with core/v1 Event as in Kubernetes.
package scheme

import (
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/herd-project/herd/pkg/apis/apps"
	"github.com/herd-project/herd/pkg/apis/autoscaling"
	"github.com/herd-project/herd/pkg/apis/batch"
	"github.com/herd-project/herd/pkg/apis/core"
	"github.com/herd-project/herd/pkg/apis/networking"
)

var (
	// Scheme holds every type the API server serves.
	Scheme = runtime.NewScheme()
	// Codecs serializes them.
	Codecs = serializer.NewCodecFactory(Scheme)
	// ParameterCodec decodes query parameters.
	ParameterCodec = runtime.NewParameterCodec(Scheme)
)

// ServedGroupVersions lists the group versions herd serves, in the order of
// storage preference (the storage encoder picks the first match of a group).
var ServedGroupVersions = []schema.GroupVersion{
	corev1.SchemeGroupVersion,
	appsv1.SchemeGroupVersion,
	batchv1.SchemeGroupVersion,
	coordinationv1.SchemeGroupVersion,
	discoveryv1.SchemeGroupVersion,
	eventsv1.SchemeGroupVersion,
	autoscalingv2.SchemeGroupVersion,
	autoscalingv1.SchemeGroupVersion,
	policyv1.SchemeGroupVersion,
	rbacv1.SchemeGroupVersion,
	authenticationv1.SchemeGroupVersion,
	authorizationv1.SchemeGroupVersion,
	flowcontrolv1.SchemeGroupVersion,
	storagev1.SchemeGroupVersion,
	networkingv1.SchemeGroupVersion,
	metricsv1beta1.SchemeGroupVersion,
}

func internal(gv schema.GroupVersion) schema.GroupVersion {
	return schema.GroupVersion{Group: gv.Group, Version: runtime.APIVersionInternal}
}

// addBoth registers types under gv and under the group's internal version.
func addBoth(s *runtime.Scheme, gv schema.GroupVersion, types ...runtime.Object) {
	s.AddKnownTypes(gv, types...)
	s.AddKnownTypes(internal(gv), types...)
	metav1.AddToGroupVersion(s, gv)
}

func init() {
	utilruntime.Must(AddToScheme(Scheme))
}

// AddToScheme registers herd's served types, defaults and conversions in s.
func AddToScheme(s *runtime.Scheme) error {
	addBoth(s, corev1.SchemeGroupVersion,
		&corev1.Pod{}, &corev1.PodList{},
		&corev1.Binding{},
		&corev1.Namespace{}, &corev1.NamespaceList{},
		&corev1.Node{}, &corev1.NodeList{},
		&corev1.Event{}, &corev1.EventList{},
		&corev1.ConfigMap{}, &corev1.ConfigMapList{},
		&corev1.Secret{}, &corev1.SecretList{},
		&corev1.ServiceAccount{}, &corev1.ServiceAccountList{},
		&corev1.Service{}, &corev1.ServiceList{},
		&corev1.Endpoints{}, &corev1.EndpointsList{},
		&corev1.PersistentVolumeClaim{}, &corev1.PersistentVolumeClaimList{},
		&corev1.PersistentVolume{}, &corev1.PersistentVolumeList{},
		&corev1.ResourceQuota{}, &corev1.ResourceQuotaList{},
		&corev1.LimitRange{}, &corev1.LimitRangeList{},
		&corev1.ReplicationController{}, &corev1.ReplicationControllerList{},
		&corev1.PodLogOptions{}, &corev1.PodExecOptions{}, &corev1.PodAttachOptions{},
		&corev1.PodPortForwardOptions{}, &corev1.PodProxyOptions{}, &corev1.NodeProxyOptions{}, &corev1.ServiceProxyOptions{},
	)
	addBoth(s, appsv1.SchemeGroupVersion,
		&appsv1.Deployment{}, &appsv1.DeploymentList{},
		&appsv1.ReplicaSet{}, &appsv1.ReplicaSetList{},
		&appsv1.StatefulSet{}, &appsv1.StatefulSetList{},
		&appsv1.DaemonSet{}, &appsv1.DaemonSetList{},
		&appsv1.ControllerRevision{}, &appsv1.ControllerRevisionList{},
	)
	addBoth(s, batchv1.SchemeGroupVersion,
		&batchv1.Job{}, &batchv1.JobList{},
		&batchv1.CronJob{}, &batchv1.CronJobList{},
	)
	addBoth(s, coordinationv1.SchemeGroupVersion, &coordinationv1.Lease{}, &coordinationv1.LeaseList{})
	addBoth(s, discoveryv1.SchemeGroupVersion, &discoveryv1.EndpointSlice{}, &discoveryv1.EndpointSliceList{})
	addBoth(s, autoscalingv1.SchemeGroupVersion, &autoscalingv1.Scale{})
	// autoscaling/v2 HorizontalPodAutoscaler is the group's internal type;
	// autoscaling/v1 is served as a converted view of it.
	addBoth(s, autoscalingv2.SchemeGroupVersion,
		&autoscalingv2.HorizontalPodAutoscaler{}, &autoscalingv2.HorizontalPodAutoscalerList{})
	s.AddKnownTypes(autoscalingv1.SchemeGroupVersion,
		&autoscalingv1.HorizontalPodAutoscaler{}, &autoscalingv1.HorizontalPodAutoscalerList{})
	if err := autoscaling.AddConversions(s); err != nil {
		return err
	}
	if err := s.SetVersionPriority(autoscalingv2.SchemeGroupVersion, autoscalingv1.SchemeGroupVersion); err != nil {
		return err
	}
	addBoth(s, policyv1.SchemeGroupVersion, &policyv1.Eviction{})
	addBoth(s, rbacv1.SchemeGroupVersion,
		&rbacv1.Role{}, &rbacv1.RoleList{},
		&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleList{},
		&rbacv1.RoleBinding{}, &rbacv1.RoleBindingList{},
		&rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRoleBindingList{},
	)
	addBoth(s, authenticationv1.SchemeGroupVersion,
		&authenticationv1.TokenRequest{}, &authenticationv1.TokenReview{}, &authenticationv1.SelfSubjectReview{},
	)
	addBoth(s, authorizationv1.SchemeGroupVersion,
		&authorizationv1.SubjectAccessReview{}, &authorizationv1.SelfSubjectAccessReview{},
		&authorizationv1.LocalSubjectAccessReview{}, &authorizationv1.SelfSubjectRulesReview{},
	)
	addBoth(s, flowcontrolv1.SchemeGroupVersion,
		&flowcontrolv1.FlowSchema{}, &flowcontrolv1.FlowSchemaList{},
		&flowcontrolv1.PriorityLevelConfiguration{}, &flowcontrolv1.PriorityLevelConfigurationList{},
	)
	addBoth(s, networkingv1.SchemeGroupVersion,
		&networkingv1.Ingress{}, &networkingv1.IngressList{},
		&networkingv1.IngressClass{}, &networkingv1.IngressClassList{},
		&networkingv1.NetworkPolicy{}, &networkingv1.NetworkPolicyList{},
	)
	addBoth(s, metricsv1beta1.SchemeGroupVersion,
		&metricsv1beta1.NodeMetrics{}, &metricsv1beta1.NodeMetricsList{},
		&metricsv1beta1.PodMetrics{}, &metricsv1beta1.PodMetricsList{},
	)
	addBoth(s, storagev1.SchemeGroupVersion,
		&storagev1.StorageClass{}, &storagev1.StorageClassList{},
		&storagev1.CSINode{}, &storagev1.CSINodeList{},
		&storagev1.CSIDriver{}, &storagev1.CSIDriverList{},
		&storagev1.VolumeAttachment{}, &storagev1.VolumeAttachmentList{},
	)

	// events.k8s.io/v1 Event is a view of core/v1 Event: the group's
	// internal type is corev1.Event and the two convert into each other.
	s.AddKnownTypes(eventsv1.SchemeGroupVersion, &eventsv1.Event{}, &eventsv1.EventList{})
	metav1.AddToGroupVersion(s, eventsv1.SchemeGroupVersion)
	s.AddKnownTypeWithName(internal(eventsv1.SchemeGroupVersion).WithKind("Event"), &corev1.Event{})
	s.AddKnownTypeWithName(internal(eventsv1.SchemeGroupVersion).WithKind("EventList"), &corev1.EventList{})
	if err := addEventConversions(s); err != nil {
		return err
	}
	if err := addQueryConversions(s); err != nil {
		return err
	}

	// Options and status types every group version needs.
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	s.AddUnversionedTypes(unversioned,
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})

	core.RegisterDefaults(s)
	apps.RegisterDefaults(s)
	batch.RegisterDefaults(s)
	networking.RegisterDefaults(s)
	autoscaling.RegisterDefaults(s)
	return nil
}

// ExternalScheme returns a scheme with only the served (external) versions,
// for naming OpenAPI definitions without the internal registrations.
func ExternalScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, gv := range ServedGroupVersions {
		for kind, t := range Scheme.KnownTypes(gv) {
			s.AddKnownTypeWithName(gv.WithKind(kind), reflect.New(t).Interface().(runtime.Object))
		}
	}
	return s
}
