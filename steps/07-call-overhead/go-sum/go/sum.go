// ANCHOR: all
// The Go half of the go_sum module: sum itself, exported to C by cgo.
package main

// #include "module.h"
import "C"

//export sum
func sum(self, args *C.PyObject) *C.PyObject {
	var a, b C.longlong
	if C.parse_two_long_longs(args, &a, &b) == 0 {
		return nil // the C helper has set TypeError or OverflowError
	}
	s := a + b // Go wraps around on overflow: the signs tell when it did
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return C.raise_overflow()
	}
	return C.PyLong_FromLongLong(s)
}

func main() {} // required by -buildmode=c-shared, never called
// ANCHOR_END: all
