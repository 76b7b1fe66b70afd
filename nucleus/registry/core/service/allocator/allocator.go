// Package allocator hands out unique values (Service cluster IPs and node
// ports) from a range and records every allocation in etcd.
//
// Each allocated value is one etcd key, <prefix>/<value>, whose value names
// the owning Service. A key is only ever created inside a transaction that
// requires it not to exist, so allocators in any number of API server
// replicas sharing the etcd cluster can never hand out the same value twice.
package allocator

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
)

// Owner identifies the Service an allocation belongs to.
type Owner struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	UID       types.UID `json:"uid"`
}

// String returns namespace/name (uid).
func (o Owner) String() string {
	return fmt.Sprintf("%s/%s (%s)", o.Namespace, o.Name, o.UID)
}

// Interface allocates values of type V.
type Interface[V any] interface {
	// Allocate reserves v for owner. It fails with an error matching
	// ErrAllocated when another owner holds v and with a *NotInRangeError
	// when v is outside the range. Allocating a value the owner already
	// holds succeeds.
	Allocate(ctx context.Context, v V, owner Owner) error
	// AllocateNext reserves a random free value for owner, or fails with
	// ErrFull.
	AllocateNext(ctx context.Context, owner Owner) (V, error)
	// Release frees v if owner holds it; it is a no-op otherwise.
	Release(ctx context.Context, v V, owner Owner) error
	// Has reports whether v is allocated.
	Has(ctx context.Context, v V) (bool, error)
}

// ErrFull is returned when every value of the range is allocated.
var ErrFull = errors.New("range is full")

// ErrAllocated is matched (with errors.Is) by the error returned when a
// requested value is held by someone else.
var ErrAllocated = errors.New("already allocated")

// allocatedError is the ErrAllocated variant carrying the message of the
// kind of value ("provided IP is already allocated").
type allocatedError struct{ kind string }

func (e allocatedError) Error() string {
	return fmt.Sprintf("provided %s is already allocated", e.kind)
}
func (e allocatedError) Is(err error) bool { return err == ErrAllocated }

// NotInRangeError is returned when a requested value lies outside the range.
type NotInRangeError struct {
	// Message is the full, user facing explanation.
	Message string
}

func (e *NotInRangeError) Error() string { return e.Message }
