package agent

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// processOwner is implemented by runtimes whose containers are host
// processes sharing the node's network (the process runtime): the returned
// function tells whether a process belongs to a running container of the
// pod.
type processOwner interface {
	PodProcesses(podUID types.UID) func(pid int) bool
}

// tcpListener is a TCP socket in LISTEN state on the node.
type tcpListener struct {
	ip    net.IP
	inode uint64
}

// tcpListeners reads the node's listening TCP sockets on port from
// /proc/net/tcp and /proc/net/tcp6.
func tcpListeners(procRoot string, port int) ([]tcpListener, error) {
	var out []tcpListener
	for _, f := range []string{"net/tcp", "net/tcp6"} {
		file, err := os.Open(filepath.Join(procRoot, f))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		sc := bufio.NewScanner(file)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			if len(fields) < 10 || fields[3] != "0A" {
				continue
			}
			ipHex, portHex, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			p, err := strconv.ParseUint(portHex, 16, 16)
			if err != nil || int(p) != port {
				continue
			}
			ip, err := procNetIP(ipHex)
			if err != nil {
				continue
			}
			inode, err := strconv.ParseUint(fields[9], 10, 64)
			if err != nil {
				continue
			}
			out = append(out, tcpListener{ip: ip, inode: inode})
		}
		file.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// procNetIP decodes an address of /proc/net/tcp*: 32-bit words in host
// (little-endian) byte order.
func procNetIP(s string) (net.IP, error) {
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b), nil
}

// socketOwners maps each wanted socket inode to the processes holding it,
// looking only at the processes keep accepts (the pod's: reading every
// process's descriptors costs far more than asking who owns it).
func socketOwners(procRoot string, inodes map[uint64]bool, keep func(pid int) bool) map[uint64][]int {
	out := map[uint64][]int{}
	procs, _ := os.ReadDir(procRoot)
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || !keep(pid) {
			continue
		}
		fdDir := filepath.Join(procRoot, p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			inode, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]"), 10, 64)
			if err == nil && inodes[inode] {
				out[inode] = append(out[inode], pid)
			}
		}
	}
	return out
}

// podListenAddress is where to connect to reach the pod's port on a node
// whose pods share its network: a listening socket held by one of the pod's
// processes. Another process's listener on that port — kubectl's own
// port-forward listener on the same machine above all — is never chosen,
// so a forwarded connection cannot loop back into its own session.
func podListenAddress(procRoot string, owner processOwner, podUID types.UID, port int) (string, error) {
	ls, err := tcpListeners(procRoot, port)
	if err != nil {
		return "", err
	}
	notListening := fmt.Errorf("failed to connect to localhost:%d in the pod's network (the node's): no process of the pod listens on port %d", port, port)
	if len(ls) == 0 {
		return "", notListening
	}
	inodes := map[uint64]bool{}
	for _, l := range ls {
		inodes[l.inode] = true
	}
	owners := socketOwners(procRoot, inodes, owner.PodProcesses(podUID))
	for _, l := range ls {
		if len(owners[l.inode]) > 0 {
			ip := l.ip
			switch {
			case ip.Equal(net.IPv4zero):
				ip = net.IPv4(127, 0, 0, 1)
			case ip.Equal(net.IPv6unspecified):
				ip = net.IPv6loopback
			}
			return net.JoinHostPort(ip.String(), strconv.Itoa(port)), nil
		}
	}
	return "", notListening
}
