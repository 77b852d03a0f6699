package scheduler

import (
	"context"
	"fmt"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

const (
	benchNodes = 100
	benchPods  = 10000
)

func benchNodeList() []runtime.Object {
	objs := make([]runtime.Object, 0, benchNodes)
	for i := 0; i < benchNodes; i++ {
		objs = append(objs, makeNode(fmt.Sprintf("sim-%04d", i), "32", "128Gi"))
	}
	return objs
}

func benchPod(i int) *podInfo {
	p := makePod(fmt.Sprintf("pod-%05d", i), "100m", "128Mi", ownedBy(fmt.Sprintf("rs-%d", i%20)))
	return newPodInfo(p)
}

// BenchmarkScheduleAlgorithm measures filter+score+assume on the cache alone
// (100 nodes, pods of 20 ReplicaSets); the cache is refilled every 10,000 pods.
func BenchmarkScheduleAlgorithm(b *testing.B) {
	pods := make([]*podInfo, benchPods)
	for i := range pods {
		pods[i] = benchPod(i)
	}
	nodes := benchNodeList()
	fresh := func() *cache {
		c := newCache()
		for _, n := range nodes {
			c.setNode(n.(*v1.Node))
		}
		return c
	}
	c := fresh()
	rnd := newRand()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%benchPods == 0 {
			b.StopTimer()
			c = fresh()
			for _, p := range pods {
				p.assumed, p.nodeName = false, ""
			}
			b.StartTimer()
		}
		pi := pods[i%benchPods]
		c.mu.Lock()
		node, fitErr := c.scheduleLocked(pi, rnd)
		if fitErr != nil {
			c.mu.Unlock()
			b.Fatal(fitErr)
		}
		c.assumeLocked(pi, node)
		c.mu.Unlock()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pods/s")
}

// BenchmarkSchedulerFakeClientset schedules 10,000 pending pods onto 100
// nodes end to end: informers, queue, algorithm, asynchronous pods/binding
// on the fake clientset, and confirmation through the informer.
func BenchmarkSchedulerFakeClientset(b *testing.B) {
	var total time.Duration
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		objs := benchNodeList()
		for i := 0; i < benchPods; i++ {
			objs = append(objs, benchPod(i).pod)
		}
		env := newTestEnv(b, objs...)
		ctx, cancel := context.WithCancel(env.ctx)
		done := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() { env.sched.Run(ctx, 2); close(done) }()
		for {
			env.sched.cache.mu.Lock()
			confirmed := 0
			for _, pi := range env.sched.cache.pods {
				if !pi.assumed {
					confirmed++
				}
			}
			env.sched.cache.mu.Unlock()
			if confirmed == benchPods {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		total += time.Since(start)
		b.StopTimer()
		cancel()
		<-done
		if got := env.bindCount(); got != benchPods {
			b.Fatalf("bindings %d", got)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(benchPods*b.N)/total.Seconds(), "pods/s")
}
