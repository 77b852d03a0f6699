package apiserver

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/storage/storagebackend"

	"github.com/herd-project/herd/pkg/scheme"
)

// TestEventsBypassTheWatchCache: as with kube-apiserver's default
// --watch-cache-sizes, events are served from etcd (no cache to fill at
// every start); the other resources go through the watch cache.
func TestEventsBypassTheWatchCache(t *testing.T) {
	g := &restOptionsGetter{config: storagebackend.NewDefaultConfig("/registry", nil),
		cfg: &genericapiserver.NewRecommendedConfig(scheme.Codecs).Config}
	undecorated := reflect.ValueOf(generic.UndecoratedStorage).Pointer()
	for _, tc := range []struct {
		gr     schema.GroupResource
		cached bool
	}{
		{schema.GroupResource{Resource: "events"}, false},
		{schema.GroupResource{Group: "events.k8s.io", Resource: "events"}, false},
		{schema.GroupResource{Resource: "pods"}, true},
		{schema.GroupResource{Group: "apps", Resource: "deployments"}, true},
	} {
		o, err := g.GetRESTOptions(tc.gr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cached := reflect.ValueOf(o.Decorator).Pointer() != undecorated; cached != tc.cached {
			t.Errorf("%s: watch cache %v, want %v", tc.gr, cached, tc.cached)
		}
	}
}
