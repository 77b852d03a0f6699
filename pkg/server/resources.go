package server

import (
	"time"

	"github.com/herd-project/herd/pkg/registry"
	"github.com/herd-project/herd/pkg/registry/apps/controllerrevision"
	"github.com/herd-project/herd/pkg/registry/apps/daemonset"
	"github.com/herd-project/herd/pkg/registry/apps/deployment"
	"github.com/herd-project/herd/pkg/registry/apps/replicaset"
	"github.com/herd-project/herd/pkg/registry/apps/statefulset"
	"github.com/herd-project/herd/pkg/registry/autoscaling/horizontalpodautoscaler"
	"github.com/herd-project/herd/pkg/registry/batch/cronjob"
	"github.com/herd-project/herd/pkg/registry/batch/job"
	"github.com/herd-project/herd/pkg/registry/coordination/lease"
	"github.com/herd-project/herd/pkg/registry/core/configmap"
	"github.com/herd-project/herd/pkg/registry/core/endpoints"
	coreevent "github.com/herd-project/herd/pkg/registry/core/event"
	"github.com/herd-project/herd/pkg/registry/core/limitrange"
	"github.com/herd-project/herd/pkg/registry/core/namespace"
	"github.com/herd-project/herd/pkg/registry/core/node"
	"github.com/herd-project/herd/pkg/registry/core/persistentvolume"
	"github.com/herd-project/herd/pkg/registry/core/persistentvolumeclaim"
	"github.com/herd-project/herd/pkg/registry/core/pod"
	"github.com/herd-project/herd/pkg/registry/core/replicationcontroller"
	"github.com/herd-project/herd/pkg/registry/core/resourcequota"
	"github.com/herd-project/herd/pkg/registry/core/secret"
	"github.com/herd-project/herd/pkg/registry/core/service"
	"github.com/herd-project/herd/pkg/registry/core/serviceaccount"
	"github.com/herd-project/herd/pkg/registry/discovery/endpointslice"
	eventsevent "github.com/herd-project/herd/pkg/registry/events/event"
	"github.com/herd-project/herd/pkg/registry/flowcontrol/flowschema"
	"github.com/herd-project/herd/pkg/registry/flowcontrol/prioritylevelconfiguration"
	"github.com/herd-project/herd/pkg/registry/networking/ingress"
	"github.com/herd-project/herd/pkg/registry/networking/ingressclass"
	"github.com/herd-project/herd/pkg/registry/networking/networkpolicy"
	rbacregistry "github.com/herd-project/herd/pkg/registry/rbac"
	"github.com/herd-project/herd/pkg/registry/rbac/clusterrole"
	"github.com/herd-project/herd/pkg/registry/rbac/clusterrolebinding"
	"github.com/herd-project/herd/pkg/registry/rbac/role"
	"github.com/herd-project/herd/pkg/registry/rbac/rolebinding"
	"github.com/herd-project/herd/pkg/registry/storage/storageclass"
)

// Definitions lists every resource herd serves.
func Definitions(eventTTL time.Duration, nodes *nodeConnector) []*registry.Definition {
	return []*registry.Definition{
		pod.Definition(nodes),
		namespace.Definition(),
		node.Definition(nodes),
		coreevent.Definition(eventTTL),
		configmap.Definition(),
		secret.Definition(),
		serviceaccount.Definition(),
		service.Definition(nodes),
		endpoints.Definition(),
		persistentvolumeclaim.Definition(),
		persistentvolume.Definition(),
		deployment.Definition(),
		replicaset.Definition(),
		replicationcontroller.Definition(),
		statefulset.Definition(),
		daemonset.Definition(),
		controllerrevision.Definition(),
		job.Definition(),
		cronjob.Definition(),
		lease.Definition(),
		endpointslice.Definition(),
		eventsevent.Definition(eventTTL),
		ingress.Definition(),
		ingressclass.Definition(),
		networkpolicy.Definition(),
		storageclass.Definition(),
		resourcequota.Definition(),
		limitrange.Definition(),
		flowschema.Definition(),
		horizontalpodautoscaler.Definition(),
		prioritylevelconfiguration.Definition(),
	}
}

// RBACDefinitions lists the rbac.authorization.k8s.io resources; guard
// checks their writes for escalation.
func RBACDefinitions(guard *rbacregistry.Guard) []*registry.Definition {
	return []*registry.Definition{
		role.Definition(guard),
		clusterrole.Definition(guard),
		rolebinding.Definition(guard),
		clusterrolebinding.Definition(guard),
	}
}
