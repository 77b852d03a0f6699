// Command herd is Kubernetes workload orchestration in one binary:
// `herd server` serves the Kubernetes API on etcd and runs the controllers.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "time/tzdata" // CronJob time zones work on a host without zoneinfo

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/herd-project/herd/pkg/agent/runtime/process/shim"
	"github.com/herd-project/herd/pkg/server"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "herd:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "herd",
		Short:         "Kubernetes workload orchestration in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	root.PersistentFlags().AddGoFlag(klogFlags.Lookup("v"))
	root.AddCommand(newServerCmd(), newShimCmd(), newVersionCmd())
	return root
}

func newServerCmd() *cobra.Command {
	var (
		o           server.Options
		etcdServers string
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Serve the Kubernetes API (embedded etcd by default) and run the controllers",
		Long: `Serve the Kubernetes API on etcd and run the controllers.

The admin kubeconfig is written to DATA-DIR/admin.kubeconfig once the API is ready:
  export KUBECONFIG=DATA-DIR/admin.kubeconfig
  kubectl get namespaces`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if etcdServers != "" {
				for _, s := range strings.Split(etcdServers, ",") {
					if s = strings.TrimSpace(s); s != "" {
						o.EtcdServers = append(o.EtcdServers, s)
					}
				}
			}
			if len(o.EtcdServers) == 0 && (o.EtcdCAFile != "" || o.EtcdCertFile != "" || o.EtcdKeyFile != "") {
				return fmt.Errorf("--etcd-cafile, --etcd-certfile and --etcd-keyfile go with --etcd-servers; the embedded etcd has its own certificates")
			}
			if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
				return fmt.Errorf("--etcd-certfile and --etcd-keyfile go together")
			}
			switch o.Runtime {
			case "process", "simulated":
			default:
				return fmt.Errorf("--runtime %q is not known: use process or simulated", o.Runtime)
			}
			if o.SimulatedNodes < 0 || (o.SimulatedNodes > 0 && o.Runtime != "simulated") {
				return fmt.Errorf("--simulated-nodes needs --runtime simulated and a count of 0 or more")
			}
			if len(o.SimulatedMissingImages) > 0 && o.Runtime != "simulated" {
				return fmt.Errorf("--simulated-missing-images needs --runtime simulated")
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return server.Run(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.DataDir, "data-dir", server.DefaultDataDir(), "directory for etcd data, certificates, the node token and admin.kubeconfig")
	f.StringVar(&o.Listen, "listen", "0.0.0.0:6443", "HOST:PORT the API listens on (port 0 picks a free port)")
	f.StringVar(&etcdServers, "etcd-servers", "", "comma-separated client URLs of an external etcd cluster (default: embedded etcd in DATA-DIR/etcd)")
	f.StringVar(&o.EtcdCAFile, "etcd-cafile", "", "with --etcd-servers: CA file verifying etcd's serving certificate")
	f.StringVar(&o.EtcdCertFile, "etcd-certfile", "", "with --etcd-servers: client certificate for etcd")
	f.StringVar(&o.EtcdKeyFile, "etcd-keyfile", "", "with --etcd-servers: key of the etcd client certificate")
	f.StringVar(&o.EncryptionProviderConfig, "encryption-provider-config", "", "kube-apiserver EncryptionConfiguration for data at rest (default: DATA-DIR/encryption-config.yaml, Secrets encrypted with a generated key)")
	f.StringVar(&o.AuditLogPath, "audit-log-path", "", "write the audit log to this file ('-' for standard output); off when empty")
	f.StringVar(&o.AuditPolicyFile, "audit-policy-file", "", "audit policy (audit.k8s.io/v1 Policy); default: every request's metadata")
	f.DurationVar(&o.EventTTL, "event-ttl", time.Hour, "how long events are kept")
	f.BoolVar(&o.DisableAgent, "disable-agent", false, "run no node agent in the server (this machine is then not a node)")
	f.StringVar(&o.NodeName, "node-name", "", "name of this machine's node (default: the hostname)")
	f.StringVar(&o.NodeIP, "node-ip", "", "address of this machine's node (default: loopback if --listen is loopback, else the first non-loopback IPv4)")
	f.StringVar(&o.Runtime, "runtime", "process", "how the node runs pods: process (host processes) or simulated (no processes; for scale tests)")
	f.IntVar(&o.SimulatedNodes, "simulated-nodes", 0, "with --runtime simulated: register this many nodes sim-0000… instead of one")
	f.StringSliceVar(&o.SimulatedMissingImages, "simulated-missing-images", nil, "with --runtime simulated: comma-separated images whose pull fails (ErrImagePull, then ImagePullBackOff)")
	return cmd
}

// newShimCmd is the container shim of the process runtime: started by the
// node agent for every container run, never by people.
func newShimCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "container-shim",
		Hidden:             true,
		DisableFlagParsing: true,
		Run: func(_ *cobra.Command, args []string) {
			os.Exit(shim.Main(args))
		},
	}
}
