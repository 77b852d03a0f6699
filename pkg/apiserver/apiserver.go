// Package apiserver assembles herd's Kubernetes API server on
// k8s.io/apiserver: TLS serving, authentication (client certificates and
// tokens, anonymous), authorization (system:masters, then RBAC), admission, OpenAPI, etcd storage and the API groups
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

	authorizationv1 "k8s.io/api/authorization/v1"
	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	authenticatorunion "k8s.io/apiserver/pkg/authentication/request/union"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	authorizerunion "k8s.io/apiserver/pkg/authorization/union"
	discoveryendpoint "k8s.io/apiserver/pkg/endpoints/discovery/aggregated"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	storagefactory "k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	openapicommon "k8s.io/kube-openapi/pkg/common"

	"github.com/herd-project/herd/pkg/admission/defaultstorageclass"
	"github.com/herd-project/herd/pkg/admission/limits"
	rbacauth "github.com/herd-project/herd/pkg/auth/authorizer/rbac"
	"github.com/herd-project/herd/pkg/registry"
	authorizationstorage "github.com/herd-project/herd/pkg/registry/authorization"
	rbacregistry "github.com/herd-project/herd/pkg/registry/rbac"
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
	// EtcdServers are the etcd client URLs; EtcdCAFile, EtcdCertFile and
	// EtcdKeyFile, when set, secure the connection with TLS and a client
	// certificate.
	EtcdServers                           []string
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// EncryptionProviderConfig is a kube-apiserver EncryptionConfiguration
	// file saying how resources (Secrets) are encrypted at rest.
	EncryptionProviderConfig string
	// AuditLogPath, when set, writes an audit log there ("-" is standard
	// output) under the policy in AuditPolicyFile.
	AuditLogPath, AuditPolicyFile string
	// Definitions are the served resources.
	Definitions []*registry.Definition
	// Authenticators are added to the authentication union after client
	// certificates and static tokens (service account tokens).
	Authenticators []authenticator.Request
	// APIAudiences are the audiences the API identifies itself with.
	APIAudiences []string
	// Admission plugins run after namespace lifecycle; they get the shared
	// informers and the loopback client through the initializer interfaces.
	Admission []admission.Interface
	// ExtraStorage, when set, returns resources that are not Definitions
	// (virtual resources such as TokenReview), given the request authenticator.
	ExtraStorage func(authn authenticator.Request) map[schema.GroupVersion]map[string]rest.Storage
	// RBACGuard, when set, is given the authorizer and rule resolver for the
	// escalation checks of the RBAC resources.
	RBACGuard *rbacregistry.Guard
}

// Server is a built API server, ready to run.
type Server struct {
	Generic *genericapiserver.GenericAPIServer
	// Loopback is a privileged client config for in-process controllers.
	Loopback *restclient.Config
	// Informers share caches between admission and in-process controllers.
	Informers informers.SharedInformerFactory
	Client    kubernetes.Interface

	openAPIConfig   *openapicommon.Config
	openAPIV3Config *openapicommon.OpenAPIV3Config
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

	// Clients and informers over the loopback connection.
	client, err := kubernetes.NewForConfig(cfg.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	cfg.SharedInformerFactory = factory

	// Authentication: client certificates signed by the cluster CA, static
	// tokens, and anonymous requests as system:anonymous.
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
		authns = append(authns, authenticatorfactory.NewFromTokens(c.Tokens, c.APIAudiences))
	}
	authns = append(authns, c.Authenticators...)
	cfg.Authentication.APIAudiences = c.APIAudiences
	// Authenticated requests are in system:authenticated; the others are
	// system:anonymous in system:unauthenticated.
	requestAuthn := group.NewAuthenticatedGroupAdder(authenticatorunion.New(authns...))
	cfg.Authentication.Authenticator = authenticatorunion.NewFailOnError(requestAuthn, anonymous.NewAuthenticator(nil))
	// Authorization: system:masters may do anything, then RBAC.
	rbacAuthorizer := rbacauth.New(factory)
	authz := authorizerunion.New(authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup), rbacAuthorizer)
	cfg.Authorization.Authorizer = authz
	if c.RBACGuard != nil {
		c.RBACGuard.Set(authz, rbacAuthorizer.Resolver)
	}
	genericapiserver.AuthorizeClientBearerToken(cfg.LoopbackClientConfig, &cfg.Authentication, &cfg.Authorization)

	// OpenAPI, named from a scheme that knows only the served versions.
	namer := openapinamer.NewDefinitionNamer(scheme.ExternalScheme(), apiextensionsapiserver.Scheme)
	cfg.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openAPIDefinitions, namer)
	cfg.OpenAPIConfig.Info.Title = "Kubernetes"
	cfg.OpenAPIConfig.Info.Version = "v" + KubernetesVersion
	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openAPIDefinitions, namer)
	cfg.OpenAPIV3Config.Info.Title = "Kubernetes"
	cfg.OpenAPIV3Config.Info.Version = "v" + KubernetesVersion

	// Audit.
	if c.AuditLogPath != "" {
		audit := genericoptions.NewAuditOptions()
		audit.LogOptions.Path = c.AuditLogPath
		audit.PolicyFile = c.AuditPolicyFile
		if err := audit.ApplyTo(&cfg.Config); err != nil {
			return nil, fmt.Errorf("configuring the audit log: %w", err)
		}
	}

	// Storage, with encryption at rest.
	storageCfg, err := storageConfig(c, cfg)
	if err != nil {
		return nil, err
	}
	getter := &restOptionsGetter{config: storageCfg, cfg: &cfg.Config}
	if c.EncryptionProviderConfig != "" {
		enc, err := encryptionconfig.LoadEncryptionConfig(context.Background(), c.EncryptionProviderConfig, false, "herd")
		if err != nil {
			return nil, fmt.Errorf("loading --encryption-provider-config %s: %w", c.EncryptionProviderConfig, err)
		}
		getter.transformers = enc.Transformers
		for _, check := range enc.HealthChecks {
			cfg.AddHealthChecks(check)
		}
	}
	cfg.RESTOptionsGetter = getter
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
	// Then LimitRanger, the plugins of c (ServiceAccount), DefaultStorageClass
	// and ResourceQuota last, in kube-apiserver's order.
	limitPlugins, err := limits.Plugins(client, factory, cfg.DrainedNotify())
	if err != nil {
		return nil, err
	}
	plugins := admission.PluginInitializers{admissionInitializer{client, factory}}
	chain := []admission.Interface{nsLifecycle, limitPlugins[0]}
	for _, p := range c.Admission {
		plugins.Initialize(p)
		if v, ok := p.(admission.InitializationValidator); ok {
			if err := v.ValidateInitialization(); err != nil {
				return nil, err
			}
		}
		chain = append(chain, p)
	}
	chain = append(chain, defaultstorageclass.New(factory))
	chain = append(chain, limitPlugins[1:]...)
	cfg.AdmissionControl = admission.NewChainHandler(chain...)

	// CustomResourceDefinitions are served by the apiextensions server, the
	// delegate of herd's; herd's OpenAPI is served merged with it (PrepareRun).
	cfg.AggregatedDiscoveryGroupManager = discoveryendpoint.NewResourceManager("apis")
	crds, err := newAPIExtensions(cfg, getter)
	if err != nil {
		return nil, err
	}
	cfg.SkipOpenAPIInstallation = true
	completed := cfg.Complete()
	gs, err := completed.New("herd-apiserver", crds.GenericAPIServer)
	if err != nil {
		return nil, err
	}
	if err := mirrorCRDGroups(gs, crds); err != nil {
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

	extra := map[schema.GroupVersion]map[string]rest.Storage{}
	if c.ExtraStorage != nil {
		extra = c.ExtraStorage(requestAuthn)
	}
	if extra[authorizationv1.SchemeGroupVersion] == nil {
		extra[authorizationv1.SchemeGroupVersion] = map[string]rest.Storage{}
	}
	for k, st := range authorizationstorage.Storage(authz, rbacAuthorizer) {
		extra[authorizationv1.SchemeGroupVersion][k] = st
	}
	if err := installGroups(gs, c.Definitions, extra, cfg.RESTOptionsGetter); err != nil {
		return nil, err
	}
	return &Server{Generic: gs, Loopback: cfg.LoopbackClientConfig, Informers: factory, Client: client,
		openAPIConfig: cfg.OpenAPIConfig, openAPIV3Config: cfg.OpenAPIV3Config}, nil
}

func storageConfig(c Config, cfg *genericapiserver.RecommendedConfig) (*storagebackend.Config, error) {
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		return nil, fmt.Errorf("no protobuf serializer")
	}
	versions := schema.GroupVersions(scheme.ServedGroupVersions)
	codec := scheme.Codecs.CodecForVersions(info.Serializer, scheme.Codecs.UniversalDeserializer(), versions, runtime.InternalGroupVersioner)
	sc := storagebackend.NewDefaultConfig("/registry", codec)
	sc.Transport.ServerList = c.EtcdServers
	sc.Transport.TrustedCAFile = c.EtcdCAFile
	sc.Transport.CertFile = c.EtcdCertFile
	sc.Transport.KeyFile = c.EtcdKeyFile
	sc.EncodeVersioner = versions
	sc.Transformer = identity.NewEncryptCheckTransformer()
	sc.StorageObjectCountTracker = cfg.StorageObjectCountTracker
	return sc, nil
}

// restOptionsGetter gives every resource the same etcd, under
// /registry/<resource>, behind the watch cache, with the value transformer
// the encryption configuration names for it.
type restOptionsGetter struct {
	config       *storagebackend.Config
	cfg          *genericapiserver.Config
	transformers encryptionconfig.StaticTransformers
}

func (g *restOptionsGetter) GetRESTOptions(gr schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	sc := g.config.ForResource(gr)
	if g.transformers != nil {
		// Exact resources first, then group and global wildcards.
		sc.Transformer = g.transformers.TransformerForResource(gr)
	}
	decorator := genericregistry.StorageWithCacher()
	if gr.Resource == "events" {
		// As kube-apiserver's default --watch-cache-sizes: events, the
		// most numerous objects, are read from etcd, so a start does not
		// list every event into a cache (twice: both event groups).
		decorator = generic.UndecoratedStorage
	}
	return generic.RESTOptions{
		StorageConfig:             sc,
		Decorator:                 decorator,
		EnableGarbageCollection:   true,
		DeleteCollectionWorkers:   4,
		ResourcePrefix:            gr.Resource,
		CountMetricPollPeriod:     time.Minute,
		StorageObjectCountTracker: g.cfg.StorageObjectCountTracker,
	}, nil
}

func installGroups(gs *genericapiserver.GenericAPIServer, defs []*registry.Definition, extra map[schema.GroupVersion]map[string]rest.Storage, getter generic.RESTOptionsGetter) error {
	byGroup := map[string]map[string]map[string]rest.Storage{}
	for gv, storage := range extra {
		if byGroup[gv.Group] == nil {
			byGroup[gv.Group] = map[string]map[string]rest.Storage{}
		}
		if byGroup[gv.Group][gv.Version] == nil {
			byGroup[gv.Group][gv.Version] = map[string]rest.Storage{}
		}
		for k, st := range storage {
			byGroup[gv.Group][gv.Version][k] = st
		}
	}
	for _, d := range defs {
		if err := registerFieldLabels(d); err != nil {
			return err
		}
		storage, err := registry.Build(d, scheme.Scheme, getter)
		if err != nil {
			return err
		}
		for _, gv := range append([]schema.GroupVersion{d.GroupVersion}, d.AlsoServedAs...) {
			g, v := gv.Group, gv.Version
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

// admissionInitializer gives admission plugins the shared informers and the
// loopback client.
type admissionInitializer struct {
	client  kubernetes.Interface
	factory informers.SharedInformerFactory
}

func (i admissionInitializer) Initialize(p admission.Interface) {
	if w, ok := p.(initializer.WantsExternalKubeClientSet); ok {
		w.SetExternalKubeClientSet(i.client)
	}
	if w, ok := p.(initializer.WantsExternalKubeInformerFactory); ok {
		w.SetExternalKubeInformerFactory(i.factory)
	}
}
