package llmring

/*
#include <stdlib.h>
#include "llmring.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"iter"
	"unsafe"
)

// Receipts iterates the stored receipts matching f, oldest first, streaming the store. A
// failure (or ctx being done) is yielded once as the error, and ends the iteration:
//
//	for r, err := range client.Receipts(ctx, llmring.Filter{Alias: "fast"}) {
//		if err != nil { return err }
//		fmt.Println(r.ReceiptID, r.TotalCost)
//	}
func (c *Client) Receipts(ctx context.Context, f Filter) iter.Seq2[Receipt, error] {
	return func(yield func(Receipt, error) bool) {
		filter, err := json.Marshal(f)
		if err != nil {
			yield(Receipt{}, err)
			return
		}
		var it *C.llmring_receipts_iter_t
		err = c.with(func(ptr *C.llmring_t) error {
			cfilter := C.CString(string(filter))
			defer C.free(unsafe.Pointer(cfilter))
			var cerr *C.char
			status := C.llmring_receipts_iter(ptr, cfilter, &it, &cerr)
			return statusError(status, cerr)
		})
		if err != nil {
			yield(Receipt{}, err)
			return
		}
		// The iterator does not borrow the client and may outlive it.
		defer C.llmring_receipts_iter_free(it)
		for {
			if err := ctx.Err(); err != nil {
				yield(Receipt{}, err)
				return
			}
			var out, cerr *C.char
			status := C.llmring_receipts_iter_next(it, &out, &cerr)
			if status == C.LLMRING_END {
				C.llmring_string_free(cerr)
				return
			}
			text := takeString(out)
			if err := statusError(status, cerr); err != nil {
				yield(Receipt{}, err)
				return
			}
			var r Receipt
			if err := json.Unmarshal([]byte(text), &r); err != nil {
				yield(Receipt{}, err)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}
