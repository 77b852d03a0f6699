package apiserver

// This file composes the CustomResourceDefinitions server of
// k8s.io/apiextensions-apiserver behind herd's own API server, the way
// kube-apiserver chains them: herd's server answers the built-in groups and
// hands every other request to the apiextensions server, which serves
// apiextensions.k8s.io/v1 and the custom resources. Both share etcd (with the
// same TLS and encryption at rest), authentication, authorization, admission
// and the loopback client. OpenAPI v2 and v3 of the chain are merged with
// kube-aggregator's local-delegate aggregators, so custom resources appear in
// /openapi as CRDs come and go.

import (
	"context"
	"fmt"
	"sort"
	"sync"

	apiextensionshelpers "k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	apiextensionslisters "k8s.io/apiextensions-apiserver/pkg/client/listers/apiextensions/v1"
	apiextensionsopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured/unstructuredscheme"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	"k8s.io/apimachinery/pkg/runtime/serializer/recognizer"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/endpoints/discovery"
	"k8s.io/apiserver/pkg/registry/generic"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/cache"
	v2aggregator "k8s.io/kube-aggregator/pkg/controllers/openapi/aggregator"
	v3controller "k8s.io/kube-aggregator/pkg/controllers/openapiv3"
	v3aggregator "k8s.io/kube-aggregator/pkg/controllers/openapiv3/aggregator"
	"k8s.io/kube-openapi/pkg/common"

	"github.com/herd-project/herd/pkg/generated/openapi"
	"github.com/herd-project/herd/pkg/serviceresolver"
)

// openAPIDefinitions are herd's generated definitions and those of the
// apiextensions types, for both servers of the chain.
func openAPIDefinitions(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
	defs := openapi.GetOpenAPIDefinitions(ref)
	for k, v := range apiextensionsopenapi.GetOpenAPIDefinitions(ref) {
		if _, ok := defs[k]; !ok {
			defs[k] = v
		}
	}
	return defs
}

// newAPIExtensions builds the apiextensions server from a copy of herd's
// recommended config (taken before it is completed): the same serving,
// authentication, authorization, admission, informers and loopback; its own
// storage codec for CustomResourceDefinitions (stored like kube-apiserver
// stores them) and custom resources under /registry/<group>/<resource>.
func newAPIExtensions(cfg *genericapiserver.RecommendedConfig, getter *restOptionsGetter) (*apiextensionsapiserver.CustomResourceDefinitions, error) {
	generic := cfg.Config
	// The hooks of herd's config belong to herd's server only.
	generic.PostStartHooks = map[string]genericapiserver.PostStartHookConfigEntry{}
	generic.MergedResourceConfig = apiextensionsapiserver.DefaultAPIResourceConfigSource()
	generic.SkipOpenAPIInstallation = false

	crdStorage := *getter.config
	crdStorage.Codec = apiextensionsapiserver.Codecs.LegacyCodec(apiextensionsv1beta1.SchemeGroupVersion, apiextensionsv1.SchemeGroupVersion)
	crdStorage.EncodeVersioner = runtime.NewMultiGroupVersioner(apiextensionsv1beta1.SchemeGroupVersion, schema.GroupKind{Group: apiextensionsv1beta1.GroupName})
	generic.RESTOptionsGetter = &groupPrefixGetter{getter: &restOptionsGetter{config: &crdStorage, cfg: getter.cfg, transformers: getter.transformers}}

	ucbor := cbor.NewSerializer(unstructuredscheme.NewUnstructuredCreator(), unstructuredscheme.NewUnstructuredObjectTyper())
	crStorage := *getter.config
	crStorage.Codec = runtime.NewCodec(unstructured.UnstructuredJSONScheme, recognizer.NewDecoder(ucbor, unstructured.UnstructuredJSONScheme))
	crStorage.EncodeVersioner = nil

	f := cfg.SharedInformerFactory
	ext := &apiextensionsapiserver.Config{
		GenericConfig: &genericapiserver.RecommendedConfig{
			Config:                generic,
			SharedInformerFactory: cfg.SharedInformerFactory,
		},
		ExtraConfig: apiextensionsapiserver.ExtraConfig{
			CRDRESTOptionsGetter: &groupPrefixGetter{getter: &restOptionsGetter{config: &crStorage, cfg: getter.cfg, transformers: getter.transformers}},
			MasterCount:          1,
			// Conversion webhooks named by Service are called on one of
			// its ready endpoints (herd routes no ClusterIPs).
			ServiceResolver: serviceresolver.New(f.Core().V1().Services().Lister(),
				f.Discovery().V1().EndpointSlices().Lister(), f.Core().V1().Endpoints().Lister()),
		},
	}
	s, err := ext.Complete().New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, fmt.Errorf("building the CustomResourceDefinitions server: %w", err)
	}
	return s, nil
}

// groupPrefixGetter stores a resource under /registry/<group>/<resource>, as
// kube-apiserver stores CustomResourceDefinitions and custom resources.
type groupPrefixGetter struct {
	getter *restOptionsGetter
}

func (g *groupPrefixGetter) GetRESTOptions(gr schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := g.getter.GetRESTOptions(gr, example)
	if err != nil {
		return opts, err
	}
	if gr.Group != "" {
		opts.ResourcePrefix = gr.Group + "/" + gr.Resource
	}
	return opts, nil
}

// Runner runs a prepared server until its context ends.
type Runner interface {
	RunWithContext(ctx context.Context) error
}

// PrepareRun prepares the server chain to run and serves /openapi/v2 and
// /openapi/v3 merged from herd's built-in groups and the apiextensions
// server (which includes the custom resources).
func (s *Server) PrepareRun() (Runner, error) {
	gs := s.Generic
	var v3 *v3controller.AggregationController
	gs.AddPostStartHookOrDie("openapiv3-aggregation-controller", func(ctx genericapiserver.PostStartHookContext) error {
		if v3 != nil {
			go v3.RunWithContext(ctx)
		}
		return nil
	})
	prepared := gs.PrepareRun()
	// The delegates have installed their OpenAPI handlers now.
	downloader := v2aggregator.NewDownloader()
	if _, err := v2aggregator.BuildAndRegisterAggregator(&downloader, gs.NextDelegate(),
		gs.Handler.GoRestfulContainer.RegisteredWebServices(), s.openAPIConfig, gs.Handler.NonGoRestfulMux); err != nil {
		return nil, fmt.Errorf("aggregating OpenAPI v2: %w", err)
	}
	proxier, err := v3aggregator.BuildAndRegisterAggregator(v3aggregator.NewDownloader(), gs.NextDelegate(),
		gs.Handler.GoRestfulContainer, s.openAPIV3Config, gs.Handler.NonGoRestfulMux)
	if err != nil {
		return nil, fmt.Errorf("aggregating OpenAPI v3: %w", err)
	}
	v3 = v3controller.NewAggregationController(proxier)
	return prepared, nil
}

// crdGroupDiscovery lists the groups of established CustomResourceDefinitions
// (and apiextensions.k8s.io itself) in herd's unaggregated /apis, the part of
// discovery kube-apiserver's aggregator answers for its delegates. The
// aggregated /apis shares one resource manager between the two servers.
type crdGroupDiscovery struct {
	lister  apiextensionslisters.CustomResourceDefinitionLister
	groups  groupAdder
	mu      sync.Mutex
	current sets.Set[string]
}

// groupAdder is the part of discovery.GroupManager that crdGroupDiscovery
// uses.
type groupAdder interface {
	AddGroup(apiGroup metav1.APIGroup)
	RemoveGroup(groupName string)
}

var _ groupAdder = discovery.GroupManager(nil)

func (d *crdGroupDiscovery) sync() {
	d.mu.Lock()
	defer d.mu.Unlock()
	crds, err := d.lister.List(labels.Everything())
	if err != nil {
		return
	}
	versions := map[string]sets.Set[string]{}
	for _, crd := range crds {
		if !apiextensionshelpers.IsCRDConditionTrue(crd, apiextensionsv1.Established) {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			if versions[crd.Spec.Group] == nil {
				versions[crd.Spec.Group] = sets.New[string]()
			}
			versions[crd.Spec.Group].Insert(v.Name)
		}
	}
	for group := range d.current {
		if _, ok := versions[group]; !ok {
			d.groups.RemoveGroup(group)
		}
	}
	d.current = sets.New[string]()
	for group, vs := range versions {
		list := sets.List(vs)
		sort.Slice(list, func(i, j int) bool { return version.CompareKubeAwareVersionStrings(list[i], list[j]) > 0 })
		g := metav1.APIGroup{Name: group}
		for _, v := range list {
			g.Versions = append(g.Versions, metav1.GroupVersionForDiscovery{GroupVersion: group + "/" + v, Version: v})
		}
		g.PreferredVersion = g.Versions[0]
		d.groups.AddGroup(g)
		d.current.Insert(group)
	}
}

// mirrorCRDGroups keeps herd's /apis listing the groups the apiextensions
// server serves.
func mirrorCRDGroups(gs *genericapiserver.GenericAPIServer, crds *apiextensionsapiserver.CustomResourceDefinitions) error {
	if gs.DiscoveryGroupManager == nil {
		return nil
	}
	v1 := metav1.GroupVersionForDiscovery{GroupVersion: apiextensionsv1.SchemeGroupVersion.String(), Version: "v1"}
	gs.DiscoveryGroupManager.AddGroup(metav1.APIGroup{Name: apiextensionsv1.GroupName, Versions: []metav1.GroupVersionForDiscovery{v1}, PreferredVersion: v1})
	informer := crds.Informers.Apiextensions().V1().CustomResourceDefinitions()
	d := &crdGroupDiscovery{lister: informer.Lister(), groups: gs.DiscoveryGroupManager}
	_, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { d.sync() },
		UpdateFunc: func(any, any) { d.sync() },
		DeleteFunc: func(any) { d.sync() },
	})
	return err
}
