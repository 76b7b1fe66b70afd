package allocator

import (
	"fmt"
	"math/big"
	"net"

	netutils "k8s.io/utils/net"
)

// IPRange is the set of addresses of a subnet usable as cluster IPs: all but
// the network address and, for IPv4, the broadcast address.
type IPRange struct {
	subnet net.IPNet
	// first is the numeric value of the first usable address.
	first *big.Int
	size  uint64
}

var _ Range[net.IP] = &IPRange{}

// NewIPRange returns the usable addresses of subnet.
func NewIPRange(subnet net.IPNet) (*IPRange, error) {
	total := netutils.RangeSize(&subnet)
	reserved := int64(1)
	if subnet.IP.To4() != nil {
		reserved = 2
	}
	if total <= reserved {
		return nil, fmt.Errorf("service IP range %s has no usable addresses", subnet.String())
	}
	first := new(big.Int).Add(netutils.BigForIP(subnet.IP.Mask(subnet.Mask)), big.NewInt(1))
	return &IPRange{subnet: subnet, first: first, size: uint64(total - reserved)}, nil
}

// Size is the number of usable addresses.
func (r *IPRange) Size() uint64 { return r.size }

// Static is min(max(16, subnet size/16), 256), as upstream.
func (r *IPRange) Static() uint64 {
	return staticSize(uint64(netutils.RangeSize(&r.subnet)), 16, 256, 16)
}

// Offset returns the offset of ip in the range.
func (r *IPRange) Offset(ip net.IP) (uint64, error) {
	notInRange := &NotInRangeError{Message: fmt.Sprintf(
		"the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, r.subnet.String())}
	if ip == nil || !r.subnet.Contains(ip) {
		return 0, notInRange
	}
	off := new(big.Int).Sub(netutils.BigForIP(ip), r.first)
	if off.Sign() < 0 || !off.IsUint64() || off.Uint64() >= r.size {
		return 0, notInRange
	}
	return off.Uint64(), nil
}

// At returns the address at offset.
func (r *IPRange) At(offset uint64) net.IP {
	return netutils.AddIPOffset(r.first, int(offset))
}

// Key is the address in its canonical text form.
func (r *IPRange) Key(ip net.IP) string { return ip.String() }

// Parse reads an address written by Key.
func (r *IPRange) Parse(key string) (net.IP, bool) {
	ip := netutils.ParseIPSloppy(key)
	return ip, ip != nil
}

// Kind is "IP".
func (r *IPRange) Kind() string { return "IP" }

// String is the subnet.
func (r *IPRange) String() string { return r.subnet.String() }
