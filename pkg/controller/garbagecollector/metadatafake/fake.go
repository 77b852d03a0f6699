// Package metadatafake is an in-memory metadata.Interface for controller
// tests that, unlike client-go's metadata/fake, behaves like the API server
// where the garbage collector depends on it: delete preconditions (uid,
// resourceVersion), finalizers and deletionTimestamp, the orphan and
// foregroundDeletion finalizers set from the propagation policy, merge
// patches with optimistic concurrency, and watches that resume from a
// resourceVersion. It does not validate objects or implement selectors other
// than labels.
package metadatafake

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
)

// Finalizers the API server adds for the orphan and foreground policies.
const (
	FinalizerOrphan     = metav1.FinalizerOrphanDependents
	FinalizerForeground = metav1.FinalizerDeleteDependents
)

type key struct {
	gvr       schema.GroupVersionResource
	namespace string
	name      string
}

type event struct {
	rv  uint64
	key key
	typ watch.EventType
	obj *metav1.PartialObjectMetadata
}

type watcher struct {
	gvr       schema.GroupVersionResource
	namespace string
	ch        chan watch.Event
	c         *Client
}

// Stop unregisters the watcher.
func (w *watcher) Stop() {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	for i, x := range w.c.watchers {
		if x == w {
			w.c.watchers = append(w.c.watchers[:i:i], w.c.watchers[i+1:]...)
			return
		}
	}
}

func (w *watcher) ResultChan() <-chan watch.Event { return w.ch }

// Action is one write recorded by the fake, in order.
type Action struct {
	Verb      string // delete, deletecollection, patch
	Resource  schema.GroupVersionResource
	Namespace string
	Name      string
	Policy    metav1.DeletionPropagation // delete only
	Patch     string                     // patch only
}

// Client is the fake. Create it with New.
type Client struct {
	mu       sync.Mutex
	rv       uint64
	objects  map[key]*metav1.PartialObjectMetadata
	history  []event
	watchers []*watcher
	actions  []Action
	// Hooks run before a write is applied; returning an error fails it.
	BeforeDelete func(gvr schema.GroupVersionResource, namespace, name string) error
	// Now is the clock used for creation and deletion timestamps.
	Now func() time.Time
}

var _ metadata.Interface = &Client{}

// New returns an empty fake.
func New() *Client {
	return &Client{objects: map[key]*metav1.PartialObjectMetadata{}, Now: time.Now}
}

// Add stores obj (a uid and creationTimestamp are given when missing) and
// returns the stored copy.
func (c *Client) Add(gvr schema.GroupVersionResource, obj *metav1.PartialObjectMetadata) *metav1.PartialObjectMetadata {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := obj.DeepCopy()
	if o.UID == "" {
		o.UID = uuid.NewUUID()
	}
	if o.CreationTimestamp.IsZero() {
		o.CreationTimestamp = metav1.NewTime(c.Now())
	}
	k := key{gvr, o.Namespace, o.Name}
	typ := watch.Added
	if _, ok := c.objects[k]; ok {
		typ = watch.Modified
	}
	c.store(k, o, typ)
	return o.DeepCopy()
}

// Object returns a copy of the stored object, or nil.
func (c *Client) Object(gvr schema.GroupVersionResource, namespace, name string) *metav1.PartialObjectMetadata {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o, ok := c.objects[key{gvr, namespace, name}]; ok {
		return o.DeepCopy()
	}
	return nil
}

// Names lists "namespace/name" of the stored objects of a resource, sorted.
func (c *Client) Names(gvr schema.GroupVersionResource) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k := range c.objects {
		if k.gvr == gvr {
			out = append(out, k.namespace+"/"+k.name)
		}
	}
	sort.Strings(out)
	return out
}

// Actions returns the writes made so far.
func (c *Client) Actions() []Action {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Action(nil), c.actions...)
}

// store and remove must be called with mu held.
func (c *Client) store(k key, o *metav1.PartialObjectMetadata, typ watch.EventType) {
	c.rv++
	o.ResourceVersion = strconv.FormatUint(c.rv, 10)
	c.objects[k] = o
	c.emit(event{rv: c.rv, key: k, typ: typ, obj: o.DeepCopy()})
}

func (c *Client) remove(k key) {
	o := c.objects[k]
	delete(c.objects, k)
	c.rv++
	o = o.DeepCopy()
	o.ResourceVersion = strconv.FormatUint(c.rv, 10)
	c.emit(event{rv: c.rv, key: k, typ: watch.Deleted, obj: o})
}

func (c *Client) emit(e event) {
	c.history = append(c.history, e)
	for _, w := range c.watchers {
		if w.matches(e.key) {
			w.send(e)
		}
	}
}

func (w *watcher) matches(k key) bool {
	return k.gvr == w.gvr && (w.namespace == "" || w.namespace == k.namespace)
}

func (w *watcher) send(e event) {
	select {
	case w.ch <- watch.Event{Type: e.typ, Object: e.obj.DeepCopy()}:
	default:
		panic("metadatafake: watcher buffer full")
	}
}

// Resource implements metadata.Interface.
func (c *Client) Resource(gvr schema.GroupVersionResource) metadata.Getter {
	return &resource{c: c, gvr: gvr}
}

type resource struct {
	c         *Client
	gvr       schema.GroupVersionResource
	namespace string
}

func (r *resource) Namespace(ns string) metadata.ResourceInterface {
	return &resource{c: r.c, gvr: r.gvr, namespace: ns}
}

func (r *resource) notFound(name string) error {
	return apierrors.NewNotFound(r.gvr.GroupResource(), name)
}

func (r *resource) Get(_ context.Context, name string, _ metav1.GetOptions, sub ...string) (*metav1.PartialObjectMetadata, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.c.actions = append(r.c.actions, Action{Verb: "get", Resource: r.gvr, Namespace: r.namespace, Name: name})
	o, ok := r.c.objects[key{r.gvr, r.namespace, name}]
	if !ok {
		return nil, r.notFound(name)
	}
	return o.DeepCopy(), nil
}

func (r *resource) List(_ context.Context, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	sel := labels.Everything()
	if opts.LabelSelector != "" {
		s, err := labels.Parse(opts.LabelSelector)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		sel = s
	}
	list := &metav1.PartialObjectMetadataList{ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatUint(r.c.rv, 10)}}
	var keys []key
	for k := range r.c.objects {
		if k.gvr == r.gvr && (r.namespace == "" || k.namespace == r.namespace) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].namespace+"/"+keys[i].name < keys[j].namespace+"/"+keys[j].name
	})
	for _, k := range keys {
		o := r.c.objects[k]
		if sel.Matches(labels.Set(o.Labels)) {
			list.Items = append(list.Items, *o.DeepCopy())
		}
	}
	return list, nil
}

func (r *resource) Watch(_ context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	w := &watcher{gvr: r.gvr, namespace: r.namespace, ch: make(chan watch.Event, 10000), c: r.c}
	from, _ := strconv.ParseUint(opts.ResourceVersion, 10, 64)
	for _, e := range r.c.history {
		if e.rv > from && w.matches(e.key) {
			w.send(e)
		}
	}
	r.c.watchers = append(r.c.watchers, w)
	return w, nil
}

func (r *resource) Delete(_ context.Context, name string, opts metav1.DeleteOptions, sub ...string) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.deleteLocked(name, opts)
}

func (r *resource) deleteLocked(name string, opts metav1.DeleteOptions) error {
	if r.c.BeforeDelete != nil {
		if err := r.c.BeforeDelete(r.gvr, r.namespace, name); err != nil {
			return err
		}
	}
	k := key{r.gvr, r.namespace, name}
	o, ok := r.c.objects[k]
	if !ok {
		return r.notFound(name)
	}
	if p := opts.Preconditions; p != nil {
		if p.UID != nil && *p.UID != o.UID {
			return apierrors.NewConflict(r.gvr.GroupResource(), name,
				fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, o.UID))
		}
		if p.ResourceVersion != nil && *p.ResourceVersion != o.ResourceVersion {
			return apierrors.NewConflict(r.gvr.GroupResource(), name,
				fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, o.ResourceVersion))
		}
	}
	var policy metav1.DeletionPropagation
	if opts.PropagationPolicy != nil {
		policy = *opts.PropagationPolicy
	}
	r.c.actions = append(r.c.actions, Action{Verb: "delete", Resource: r.gvr, Namespace: r.namespace, Name: name, Policy: policy})
	n := o.DeepCopy()
	switch policy {
	case metav1.DeletePropagationOrphan:
		n.Finalizers = setFinalizer(n.Finalizers, FinalizerOrphan, true)
		n.Finalizers = setFinalizer(n.Finalizers, FinalizerForeground, false)
	case metav1.DeletePropagationForeground:
		n.Finalizers = setFinalizer(n.Finalizers, FinalizerForeground, true)
		n.Finalizers = setFinalizer(n.Finalizers, FinalizerOrphan, false)
	case metav1.DeletePropagationBackground:
		n.Finalizers = setFinalizer(n.Finalizers, FinalizerOrphan, false)
		n.Finalizers = setFinalizer(n.Finalizers, FinalizerForeground, false)
	}
	if opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds == 0 {
		n.DeletionGracePeriodSeconds = opts.GracePeriodSeconds
	}
	if len(n.Finalizers) == 0 {
		r.c.remove(k)
		return nil
	}
	if n.DeletionTimestamp == nil {
		now := metav1.NewTime(r.c.Now())
		n.DeletionTimestamp = &now
	}
	r.c.store(k, n, watch.Modified)
	return nil
}

func setFinalizer(list []string, f string, present bool) []string {
	var out []string
	found := false
	for _, x := range list {
		if x == f {
			found = true
			if !present {
				continue
			}
		}
		out = append(out, x)
	}
	if present && !found {
		out = append(out, f)
	}
	return out
}

func (r *resource) DeleteCollection(_ context.Context, opts metav1.DeleteOptions, listOpts metav1.ListOptions) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.c.actions = append(r.c.actions, Action{Verb: "deletecollection", Resource: r.gvr, Namespace: r.namespace})
	sel := labels.Everything()
	if listOpts.LabelSelector != "" {
		s, err := labels.Parse(listOpts.LabelSelector)
		if err != nil {
			return apierrors.NewBadRequest(err.Error())
		}
		sel = s
	}
	var names []string
	for k, o := range r.c.objects {
		if k.gvr == r.gvr && (r.namespace == "" || k.namespace == r.namespace) && sel.Matches(labels.Set(o.Labels)) {
			names = append(names, k.namespace+"\x00"+k.name)
		}
	}
	sort.Strings(names)
	for _, nn := range names {
		var ns, name string
		for i := 0; i < len(nn); i++ {
			if nn[i] == 0 {
				ns, name = nn[:i], nn[i+1:]
				break
			}
		}
		sub := &resource{c: r.c, gvr: r.gvr, namespace: ns}
		if err := sub.deleteLocked(name, opts); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func (r *resource) Patch(_ context.Context, name string, pt types.PatchType, data []byte, _ metav1.PatchOptions, sub ...string) (*metav1.PartialObjectMetadata, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if pt != types.MergePatchType {
		return nil, apierrors.NewGenericServerResponse(415, "patch", r.gvr.GroupResource(), name, "only merge patches are supported by the fake", 0, false)
	}
	k := key{r.gvr, r.namespace, name}
	o, ok := r.c.objects[k]
	if !ok {
		return nil, r.notFound(name)
	}
	r.c.actions = append(r.c.actions, Action{Verb: "patch", Resource: r.gvr, Namespace: r.namespace, Name: name, Patch: string(data)})
	cur, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	out, err := jsonpatch.MergePatch(cur, data)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	n := &metav1.PartialObjectMetadata{}
	if err := json.Unmarshal(out, n); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if n.UID != o.UID {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: r.gvr.Group, Kind: r.gvr.Resource}, name, nil)
	}
	if n.ResourceVersion != o.ResourceVersion {
		return nil, apierrors.NewConflict(r.gvr.GroupResource(), name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	if n.DeletionTimestamp != nil && len(n.Finalizers) == 0 {
		r.c.remove(k)
		return n, nil
	}
	r.c.store(k, n, watch.Modified)
	return n.DeepCopy(), nil
}

// IsWatchListSemanticsUnSupported tells reflectors to list then watch: the
// fake does not stream initial events with bookmarks.
func (c *Client) IsWatchListSemanticsUnSupported() bool { return true }
