package capi

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>

// libdeflate's decompression entry points, declared here rather than through
// libdeflate.h so that building hepsql needs neither the library nor its
// headers: the library is looked up at run time (hepsqlInflateOpen) and, when
// absent, the caller keeps its pure-Go inflater. The three prototypes are
// libdeflate's stable ABI since 1.0.
typedef void *(*hepsql_deflate_alloc_fn)(void);
typedef void (*hepsql_deflate_free_fn)(void *);
typedef int (*hepsql_zlib_decompress_fn)(void *, const void *, size_t, void *, size_t, size_t *);

static hepsql_deflate_alloc_fn hepsql_deflate_alloc;
static hepsql_deflate_free_fn hepsql_deflate_free;
static hepsql_zlib_decompress_fn hepsql_zlib_decompress;

// Returns 0 when libdeflate.so.0 was loaded with all three symbols. The
// library handle is never closed: the functions stay in use for the life of
// the process.
static int hepsqlInflateOpen(void) {
	void *lib = dlopen("libdeflate.so.0", RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) return -1;
	hepsql_deflate_alloc = (hepsql_deflate_alloc_fn)dlsym(lib, "libdeflate_alloc_decompressor");
	hepsql_deflate_free = (hepsql_deflate_free_fn)dlsym(lib, "libdeflate_free_decompressor");
	hepsql_zlib_decompress = (hepsql_zlib_decompress_fn)dlsym(lib, "libdeflate_zlib_decompress");
	if (!hepsql_deflate_alloc || !hepsql_deflate_free || !hepsql_zlib_decompress) {
		dlclose(lib);
		return -2;
	}
	return 0;
}

static void *hepsqlInflaterNew(void) { return hepsql_deflate_alloc(); }
static void hepsqlInflaterFree(void *d) { hepsql_deflate_free(d); }

// Inflates one zlib stream into exactly out_len bytes: libdeflate reports a
// stream that ends early or runs long as an error rather than a short count.
static int hepsqlInflateZlib(void *d, const void *in, size_t in_len, void *out, size_t out_len) {
	return hepsql_zlib_decompress(d, in, in_len, out, out_len, NULL);
}
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// Zlib inflation through libdeflate.
//
// ROOT files written with ROOT's default settings store their baskets as
// zlib streams, and inflating them is most of the cost of a scan.
// libdeflate (Debian's libdeflate0) inflates the CMS sample's baskets
// 2.5–2.8× faster than klauspost/compress's zlib reader (rootscan's
// BenchmarkInflateZlib; bench/README.md, "Where the time goes"). It is
// loaded with dlopen so that it stays optional: where it is missing, or
// HEPSQL_INFLATE=go is set, HaveZlibInflater reports false and rootscan
// inflates in Go.
//
// Memory ownership: a decompressor is allocated by libdeflate (a few kB of
// tables, no state kept between calls) and lives in inflaters, a free list
// bounded by the most inflations ever running at once; extra ones beyond
// its capacity are freed by libdeflate_free_decompressor. The input and
// output are Go byte slices (no Go pointers inside), read and written by C
// only for the duration of the call, as cgo's pointer rules allow.

var inflaterReady = sync.OnceValue(func() bool {
	if os.Getenv("HEPSQL_INFLATE") == "go" {
		return false
	}
	return C.hepsqlInflateOpen() == 0
})

var inflaters = make(chan unsafe.Pointer, 64)

// HaveZlibInflater reports whether InflateZlib can be used: libdeflate was
// found and HEPSQL_INFLATE=go is not set.
func HaveZlibInflater() bool { return inflaterReady() }

// InflateZlib inflates the zlib stream src (two-byte header, deflate data,
// Adler-32 checksum) into dst, which must be exactly the uncompressed size.
// A corrupt stream, a wrong checksum or a size other than len(dst) is an
// error. It panics if HaveZlibInflater is false.
func InflateZlib(dst, src []byte) error {
	if !inflaterReady() {
		panic("capi.InflateZlib called without libdeflate")
	}
	if len(src) == 0 || len(dst) == 0 {
		return fmt.Errorf("zlib stream of %d bytes into %d bytes", len(src), len(dst))
	}
	var d unsafe.Pointer
	select {
	case d = <-inflaters:
	default:
		if d = C.hepsqlInflaterNew(); d == nil {
			return fmt.Errorf("libdeflate could not allocate a decompressor")
		}
	}
	rc := C.hepsqlInflateZlib(d, unsafe.Pointer(&src[0]), C.size_t(len(src)), unsafe.Pointer(&dst[0]), C.size_t(len(dst)))
	select {
	case inflaters <- d:
	default:
		C.hepsqlInflaterFree(d)
	}
	switch rc {
	case 0:
		return nil
	case 1:
		// libdeflate verifies the Adler-32 after inflating and reports a
		// mismatch as bad data, like a malformed stream.
		return fmt.Errorf("invalid zlib data or Adler-32 checksum mismatch (libdeflate)")
	case 2:
		return fmt.Errorf("stream ends before %d bytes (libdeflate)", len(dst))
	case 3:
		return fmt.Errorf("stream longer than %d bytes (libdeflate)", len(dst))
	default:
		return fmt.Errorf("libdeflate error %d", int(rc))
	}
}
