package slurmtest

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// links are the network namespaces of a multi-node cluster: node i lives
// in namespace ns[i] at address nodes[i], on a veth pair of its own whose
// host end has address 10.S.(i+1).1; host is the first of those, where
// slurmctld is reached. The subnet S is drawn at random among 10.200–10.249
// so that parallel test processes do not meet. Traffic only ever goes to
// these addresses, which exist only on this machine. The host forwards
// between the links (per link, not machine-wide), so that nodes reach each
// other too.
type links struct {
	host  string
	nodes []string
	ns    []string
}

// makeNamespaces creates n namespaces and their links; c.undo removes
// them (deleting a namespace deletes its veth pair).
func (c *Cluster) makeNamespaces(n int) (links, error) {
	var r [4]byte
	rand.Read(r[:])
	tag := binary.BigEndian.Uint32(r[:]) & 0xffffff
	subnet := 200 + tag%50
	var l links
	for i := range n {
		ns := fmt.Sprintf("slurmtest-%06x-%d", tag, i+1)
		hostIf, nodeIf := fmt.Sprintf("st%06xh%d", tag, i+1), fmt.Sprintf("st%06xn%d", tag, i+1)
		hostAddr := fmt.Sprintf("10.%d.%d.1", subnet, i+1)
		nodeAddr := fmt.Sprintf("10.%d.%d.2", subnet, i+1)
		if err := ip("netns", "add", ns); err != nil {
			return l, err
		}
		c.undo = append(c.undo, func() { ip("netns", "del", ns) })
		steps := [][]string{
			{"link", "add", hostIf, "type", "veth", "peer", "name", nodeIf},
			{"link", "set", nodeIf, "netns", ns},
			{"addr", "add", hostAddr + "/24", "dev", hostIf},
			{"link", "set", hostIf, "up"},
			{"-n", ns, "addr", "add", nodeAddr + "/24", "dev", nodeIf},
			{"-n", ns, "link", "set", nodeIf, "up"},
			{"-n", ns, "link", "set", "lo", "up"},
			// The controller's address is on another node's link: reach
			// every 10.S.x.1 through this node's own host end.
			{"-n", ns, "route", "add", fmt.Sprintf("10.%d.0.0/16", subnet), "via", hostAddr},
		}
		for _, st := range steps {
			if err := ip(st...); err != nil {
				return l, err
			}
		}
		// Nodes reach each other through the host (MPI ranks on two nodes
		// talk directly): forward what arrives on this link, and only on
		// it, so the machine's own forwarding setting stays as it is.
		fwd := "/proc/sys/net/ipv4/conf/" + hostIf + "/forwarding"
		if err := os.WriteFile(fwd, []byte("1\n"), 0o644); err != nil {
			return l, fmt.Errorf("enabling forwarding on %s: %w", hostIf, err)
		}
		if i == 0 {
			l.host = hostAddr
		}
		l.nodes = append(l.nodes, nodeAddr)
		l.ns = append(l.ns, ns)
	}
	return l, nil
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}
