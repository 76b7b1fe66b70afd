package allocator

// Range is the set of values an allocator hands out, numbered by offset from
// 0 to Size()-1.
type Range[V any] interface {
	// Size is the number of allocatable values.
	Size() uint64
	// Static is the number of lowest offsets kept for explicit requests:
	// random allocation only uses them once the rest of the range is full,
	// as upstream does.
	Static() uint64
	// Offset returns the offset of v, or a *NotInRangeError.
	Offset(v V) (uint64, error)
	// At returns the value at an offset below Size().
	At(offset uint64) V
	// Key returns the etcd key suffix recording v; Parse reverses it.
	Key(v V) string
	Parse(key string) (V, bool)
	// Kind names the values in messages, e.g. "IP" or "port".
	Kind() string
}

// staticSize returns min(max(minimum, size/step), maximum), or 0 when the
// range is too small to split, following upstream's static sub-range.
func staticSize(size, minimum, maximum, step uint64) uint64 {
	if size <= minimum {
		return 0
	}
	return min(max(minimum, size/step), maximum)
}
