package server

import (
	"time"

	"github.com/herd-project/herd/pkg/registry"
	"github.com/herd-project/herd/pkg/registry/apps/controllerrevision"
	"github.com/herd-project/herd/pkg/registry/apps/daemonset"
	"github.com/herd-project/herd/pkg/registry/apps/deployment"
	"github.com/herd-project/herd/pkg/registry/apps/replicaset"
	"github.com/herd-project/herd/pkg/registry/apps/statefulset"
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
	"github.com/herd-project/herd/pkg/registry/core/resourcequota"
	"github.com/herd-project/herd/pkg/registry/core/secret"
	"github.com/herd-project/herd/pkg/registry/core/service"
	"github.com/herd-project/herd/pkg/registry/core/serviceaccount"
	"github.com/herd-project/herd/pkg/registry/discovery/endpointslice"
	eventsevent "github.com/herd-project/herd/pkg/registry/events/event"
	"github.com/herd-project/herd/pkg/registry/flowcontrol/flowschema"
	"github.com/herd-project/herd/pkg/registry/flowcontrol/prioritylevelconfiguration"
)

// Definitions lists every resource herd serves.
func Definitions(eventTTL time.Duration, nodes pod.NodeConnector) []*registry.Definition {
	return []*registry.Definition{
		pod.Definition(nodes),
		namespace.Definition(),
		node.Definition(),
		coreevent.Definition(eventTTL),
		configmap.Definition(),
		secret.Definition(),
		serviceaccount.Definition(),
		service.Definition(),
		endpoints.Definition(),
		persistentvolumeclaim.Definition(),
		persistentvolume.Definition(),
		deployment.Definition(),
		replicaset.Definition(),
		statefulset.Definition(),
		daemonset.Definition(),
		controllerrevision.Definition(),
		job.Definition(),
		cronjob.Definition(),
		lease.Definition(),
		endpointslice.Definition(),
		eventsevent.Definition(eventTTL),
		resourcequota.Definition(),
		limitrange.Definition(),
		flowschema.Definition(),
		prioritylevelconfiguration.Definition(),
	}
}
