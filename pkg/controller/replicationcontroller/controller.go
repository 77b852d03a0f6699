// Package replicationcontroller runs core/v1 ReplicationControllers with
// the ReplicaSet controller's logic, as Kubernetes' replication manager
// does: adapters present ReplicationControllers (selector as matchLabels)
// as ReplicaSets to pkg/controller/replicaset, write their status back
// through the ReplicationController API and record events on them. Owner
// references on the pods name v1 ReplicationController.
package replicationcontroller

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/herd-project/herd/pkg/controller/replicaset"
)

var controllerKind = corev1.SchemeGroupVersion.WithKind("ReplicationController")

// New builds the controller; Run it like the ReplicaSet controller.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, clk clock.WithTicker) (*replicaset.Controller, error) {
	return replicaset.NewForKind(clientsetAdapter{client}, informerAdapter{factory.Core().V1().ReplicationControllers()},
		factory.Core().V1().Pods(), recorderAdapter{recorder}, clk, replicaset.Options{}, controllerKind, "replicationmanager")
}
