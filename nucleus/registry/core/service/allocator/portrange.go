package allocator

import (
	"fmt"
	"strconv"

	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// PortRange is a range of node ports.
type PortRange struct {
	ports utilnet.PortRange
}

var _ Range[int] = PortRange{}

// NewPortRange returns the ports of r.
func NewPortRange(r utilnet.PortRange) (PortRange, error) {
	if r.Size <= 0 || r.Base <= 0 {
		return PortRange{}, fmt.Errorf("node port range %q is empty", r.String())
	}
	return PortRange{ports: r}, nil
}

// Size is the number of ports.
func (r PortRange) Size() uint64 { return uint64(r.ports.Size) }

// Static is min(max(16, size/32), 128), as upstream.
func (r PortRange) Static() uint64 { return staticSize(uint64(r.ports.Size), 16, 128, 32) }

// Offset returns the offset of port in the range.
func (r PortRange) Offset(port int) (uint64, error) {
	if !r.ports.Contains(port) {
		return 0, &NotInRangeError{Message: fmt.Sprintf(
			"provided port is not in the valid range. The range of valid ports is %s", r.ports.String())}
	}
	return uint64(port - r.ports.Base), nil
}

// At returns the port at offset.
func (r PortRange) At(offset uint64) int { return r.ports.Base + int(offset) }

// Key is the decimal port number.
func (r PortRange) Key(port int) string { return strconv.Itoa(port) }

// Parse reads a port written by Key.
func (r PortRange) Parse(key string) (int, bool) {
	port, err := strconv.Atoi(key)
	return port, err == nil
}

// Kind is "port".
func (r PortRange) Kind() string { return "port" }

// String is the range, e.g. "30000-32767".
func (r PortRange) String() string { return r.ports.String() }
