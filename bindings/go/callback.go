package llmring

/*
#include "llmring.h"
*/
import "C"

import (
	"encoding/json"
	"runtime/cgo"
	"unsafe"
)

// llmringGoChatDone is the llmring_done_fn of every asynchronous chat: it runs once per
// call on one of the library's threads, copies the borrowed strings and hands them to the
// waiting goroutine through the channel behind the cgo.Handle, which it deletes.
//
//export llmringGoChatDone
func llmringGoChatDone(userData unsafe.Pointer, status C.llmring_status_t, response *C.char, errorJSON *C.char) {
	handle := cgo.Handle(uintptr(userData))
	done := handle.Value().(chan chatResult)
	handle.Delete()
	var result chatResult
	if status == C.LLMRING_OK {
		result.response = C.GoString(response)
	} else {
		var text string
		if errorJSON != nil {
			text = C.GoString(errorJSON)
		}
		result.err = newError(Code(status), text)
	}
	done <- result // buffered: never blocks
}

// llmringGoChunk is the llmring_chunk_fn of every ChatStream call: the library calls it on
// the goroutine inside ChatStream, with a borrowed chunk it copies.
//
//export llmringGoChunk
func llmringGoChunk(userData unsafe.Pointer, chunk *C.char) C.int {
	if cgo.Handle(uintptr(userData)).Value().(*streamState).chunk(C.GoString(chunk)) {
		return C.LLMRING_STREAM_CONTINUE
	}
	return C.LLMRING_STREAM_STOP
}

// llmringGoBudgetWarning is the llmring_budget_warning_fn set by OnBudgetWarning.
//
//export llmringGoBudgetWarning
func llmringGoBudgetWarning(userData unsafe.Pointer, warning *C.char) {
	f := cgo.Handle(uintptr(userData)).Value().(func(json.RawMessage))
	f(json.RawMessage(C.GoString(warning)))
}
