// Package apiserver assembles herd's Kubernetes API server on
// k8s.io/apiserver: TLS serving, authentication (client certificates and
// tokens), authorization, admission, OpenAPI, etcd storage and the API groups
// built from the resource definitions of pkg/registry/... It does not start
// etcd, controllers or node agents; pkg/server does that.
package apiserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/group"
	authenticatorunion "k8s.io/apiserver/pkg/authentication/request/union"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	storagefactory "k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"

	"github.com/herd-project/herd/pkg/admission/limits"
	"github.com/herd-project/herd/pkg/generated/openapi"
	"github.com/herd-project/herd/pkg/registry"
	"github.com/herd-project/herd/pkg/scheme"
)

// KubernetesVersion is the Kubernetes release whose API herd serves.
const KubernetesVersion = "1.36.6"

// Config says how to build the API server.
type Config struct {
	// Listener is the bound secure port.
	Listener net.Listener
	// CertFile/KeyFile is the serving certificate; ClientCA the PEM of the CA
	// that signs client certificates.
	CertFile, KeyFile string
	ClientCAPEM       []byte
	// Tokens are static bearer tokens and the users they stand for.
	Tokens map[string]*user.DefaultInfo
	// EtcdServers are the etcd client URLs.
	EtcdServers []string
	// Definitions are the served resources.
	Definitions []*registry.Definition
}

// Server is a built API server, ready to run.
type Server struct {
	Generic *genericapiserver.GenericAPIServer
	// Loopback is a privileged client config for in-process controllers.
	Loopback *restclient.Config
	// Informers share caches between admission and in-process controllers.
	Informers informers.SharedInformerFactory
	Client    kubernetes.Interface
}

// New builds the API server.
func New(c Config) (*Server, error) {
	cfg := genericapiserver.NewRecommendedConfig(scheme.Codecs)
	cfg.EffectiveVersion = newEffectiveVersion()
	cfg.MaxRequestsInFlight = 3000
	cfg.MaxMutatingRequestsInFlight = 1500
	cfg.RequestTimeout = 60 * time.Second
	// Watches and the streaming subresources are not cut at the request
	// timeout (kube-apiserver's list).
	cfg.LongRunningFunc = genericfilters.BasicLongRunningRequestCheck(
		sets.NewString("watch", "proxy"),
		sets.NewString("attach", "exec", "proxy", "log", "portforward"),
	)

	serving := genericoptions.NewSecureServingOptions().WithLoopback()
	serving.Listener = c.Listener
	serving.ServerCert.CertKey.CertFile = c.CertFile
	serving.ServerCert.CertKey.KeyFile = c.KeyFile
	if err := serving.ApplyTo(&cfg.SecureServing, &cfg.LoopbackClientConfig); err != nil {
		return nil, fmt.Errorf("configuring TLS serving: %w", err)
	}
	// In-process clients are not throttled.
	cfg.LoopbackClientConfig.QPS = -1
	cfg.LoopbackClientConfig.ContentType = runtime.ContentTypeProtobuf
	cfg.LoopbackClientConfig.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON

	// Authentication: client certificates signed by the cluster CA, static tokens.
	var authns []authenticator.Request
	if len(c.ClientCAPEM) > 0 {
		caProvider, err := dynamiccertificates.NewStaticCAContent("client-ca", c.ClientCAPEM)
		if err != nil {
			return nil, fmt.Errorf("loading client CA: %w", err)
		}
		authns = append(authns, x509request.NewDynamic(caProvider.VerifyOptions, x509request.CommonNameUserConversion))
		if err := cfg.Authentication.ApplyClientCert(caProvider, cfg.SecureServing); err != nil {
			return nil, fmt.Errorf("configuring client certificate authentication: %w", err)
		}
	}
	if len(c.Tokens) > 0 {
		authns = append(authns, authenticatorfactory.NewFromTokens(c.Tokens, nil))
	}
	cfg.Authentication.Authenticator = group.NewAuthenticatedGroupAdder(authenticatorunion.New(authns...))
	cfg.Authorization.Authorizer = authenticatedAuthorizer{}
	genericapiserver.AuthorizeClientBearerToken(cfg.LoopbackClientConfig, &cfg.Authentication, &cfg.Authorization)

	// OpenAPI, named from a scheme that knows only the served versions.
	namer := openapinamer.NewDefinitionNamer(scheme.ExternalScheme())
	cfg.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIConfig.Info.Title = "Kubernetes"
	cfg.OpenAPIConfig.Info.Version = "v" + KubernetesVersion
	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIV3Config.Info.Title = "Kubernetes"
	cfg.OpenAPIV3Config.Info.Version = "v" + KubernetesVersion

	// Storage.
	storageCfg, err := storageConfig(c.EtcdServers, cfg)
	if err != nil {
		return nil, err
	}
	cfg.RESTOptionsGetter = &restOptionsGetter{config: storageCfg, cfg: &cfg.Config}
	stopHealth := make(chan struct{})
	health, err := storagefactory.CreateHealthCheck(*storageCfg, stopHealth)
	if err != nil {
		return nil, fmt.Errorf("etcd health check: %w", err)
	}
	ready, err := storagefactory.CreateReadyCheck(*storageCfg, stopHealth)
	if err != nil {
		return nil, fmt.Errorf("etcd ready check: %w", err)
	}
	cfg.AddHealthChecks(healthz.NamedCheck("etcd", func(_ *http.Request) error { return health() }))
	cfg.AddReadyzChecks(healthz.NamedCheck("etcd-readiness", func(_ *http.Request) error { return ready() }))

	// Clients and informers over the loopback connection.
	client, err := kubernetes.NewForConfig(cfg.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	cfg.SharedInformerFactory = factory
	enablePriorityAndFairness(cfg, factory, client)

	// Admission: namespace lifecycle (no objects in missing or terminating
	// namespaces; default, kube-system and kube-public cannot be deleted).
	nsLifecycle, err := lifecycle.NewLifecycle(sets.New("default", "kube-system", "kube-public"))
	if err != nil {
		return nil, err
	}
	nsLifecycle.SetExternalKubeInformerFactory(factory)
	nsLifecycle.SetExternalKubeClientSet(client)
	if err := nsLifecycle.ValidateInitialization(); err != nil {
		return nil, err
	}
	// Then LimitRanger and ResourceQuota.
	limitPlugins, err := limits.Plugins(client, factory, cfg.DrainedNotify())
	if err != nil {
		return nil, err
	}
	cfg.AdmissionControl = admission.NewChainHandler(append([]admission.Interface{nsLifecycle}, limitPlugins...)...)

	completed := cfg.Complete()
	gs, err := completed.New("herd-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	gs.AddPostStartHookOrDie("start-informers", func(ctx genericapiserver.PostStartHookContext) error {
		factory.Start(ctx.Done())
		return nil
	})
	addFlowControlBootstrap(gs, client)
	gs.AddPreShutdownHookOrDie("stop-etcd-checks", func() error {
		close(stopHealth)
		return nil
	})

	if err := installGroups(gs, c.Definitions, cfg.RESTOptionsGetter); err != nil {
		return nil, err
	}
	return &Server{Generic: gs, Loopback: cfg.LoopbackClientConfig, Informers: factory, Client: client}, nil
}

func storageConfig(servers []string, cfg *genericapiserver.RecommendedConfig) (*storagebackend.Config, error) {
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		return nil, fmt.Errorf("no protobuf serializer")
	}
	versions := schema.GroupVersions(scheme.ServedGroupVersions)
	codec := scheme.Codecs.CodecForVersions(info.Serializer, scheme.Codecs.UniversalDeserializer(), versions, runtime.InternalGroupVersioner)
	sc := storagebackend.NewDefaultConfig("/registry", codec)
	sc.Transport.ServerList = servers
	sc.EncodeVersioner = versions
	sc.Transformer = identity.NewEncryptCheckTransformer()
	sc.StorageObjectCountTracker = cfg.StorageObjectCountTracker
	return sc, nil
}

// restOptionsGetter gives every resource the same etcd, under
// /registry/<resource>, behind the watch cache.
type restOptionsGetter struct {
	config *storagebackend.Config
	cfg    *genericapiserver.Config
}

func (g *restOptionsGetter) GetRESTOptions(gr schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	return generic.RESTOptions{
		StorageConfig:             g.config.ForResource(gr),
		Decorator:                 genericregistry.StorageWithCacher(),
		EnableGarbageCollection:   true,
		DeleteCollectionWorkers:   4,
		ResourcePrefix:            gr.Resource,
		CountMetricPollPeriod:     time.Minute,
		StorageObjectCountTracker: g.cfg.StorageObjectCountTracker,
	}, nil
}

func installGroups(gs *genericapiserver.GenericAPIServer, defs []*registry.Definition, getter generic.RESTOptionsGetter) error {
	byGroup := map[string]map[string]map[string]rest.Storage{}
	for _, d := range defs {
		if err := registerFieldLabels(d); err != nil {
			return err
		}
		storage, err := registry.Build(d, scheme.Scheme, getter)
		if err != nil {
			return err
		}
		g, v := d.GroupVersion.Group, d.GroupVersion.Version
		if byGroup[g] == nil {
			byGroup[g] = map[string]map[string]rest.Storage{}
		}
		if byGroup[g][v] == nil {
			byGroup[g][v] = map[string]rest.Storage{}
		}
		for k, s := range storage {
			byGroup[g][v][k] = s
		}
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var infos []*genericapiserver.APIGroupInfo
	for _, g := range groups {
		info := genericapiserver.NewDefaultAPIGroupInfo(g, scheme.Scheme, scheme.ParameterCodec, scheme.Codecs)
		for v, m := range byGroup[g] {
			info.VersionedResourcesStorageMap[v] = m
		}
		if g == "" {
			if err := gs.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, &info); err != nil {
				return fmt.Errorf("installing core API: %w", err)
			}
			continue
		}
		infos = append(infos, &info)
	}
	if err := gs.InstallAPIGroups(infos...); err != nil {
		return fmt.Errorf("installing API groups: %w", err)
	}
	return nil
}

// registerFieldLabels lets field selectors use the definition's fields and
// rejects the others with Kubernetes' error.
func registerFieldLabels(d *registry.Definition) error {
	allowed := sets.New(d.FieldLabels...)
	allowed.Insert("metadata.name")
	if d.Namespaced {
		allowed.Insert("metadata.namespace")
	}
	return scheme.Scheme.AddFieldLabelConversionFunc(d.GroupVersionKind(), func(label, value string) (string, string, error) {
		if allowed.Has(label) {
			return label, value, nil
		}
		return "", "", fmt.Errorf("field label not supported: %s", label)
	})
}

// authenticatedAuthorizer allows every authenticated request: herd has
// one administrator and its own node agents.
type authenticatedAuthorizer struct{}

func (authenticatedAuthorizer) Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	u := a.GetUser()
	if u == nil {
		return authorizer.DecisionNoOpinion, "no user", nil
	}
	for _, g := range u.GetGroups() {
		if g == user.AllAuthenticated || g == user.SystemPrivilegedGroup {
			return authorizer.DecisionAllow, "", nil
		}
	}
	return authorizer.DecisionNoOpinion, "not authenticated", nil
}
