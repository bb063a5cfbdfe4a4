package llmring

/*
#include <stdint.h>
#include <stdlib.h>
#include "llmring.h"

// Defined in callback.go (exported from Go).
extern int llmringGoChunk(void *user_data, char *chunk_json);

// Streams a chat under call id `id` whose chunk callback is llmringGoChunk with a
// runtime/cgo Handle as user data (converted here, in C, so that Go never turns an integer
// into a pointer).
static llmring_status_t llmring_go_chat_stream(const llmring_t *client, uint64_t id,
                                               const char *request, uintptr_t handle,
                                               char **out_final, char **out_error) {
	return llmring_chat_stream_with_id(client, id, request, (llmring_chunk_fn)llmringGoChunk,
	                                   (void *)handle, out_final, out_error);
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"runtime/cgo"
	"unsafe"
)

// Chunk is one piece of a streamed answer: more text (Delta) or a tool call that started or
// grew (ToolCallDelta).
type Chunk struct {
	Delta         string         `json:"delta,omitempty"`
	ToolCallDelta *ToolCallDelta `json:"tool_call_delta,omitempty"`
	// Raw is the chunk's JSON as the library sent it.
	Raw json.RawMessage `json:"-"`
}

// ToolCallDelta is a tool call's next piece: ID and Name only on its first delta, Arguments
// the next piece of its JSON text.
type ToolCallDelta struct {
	Index     int    `json:"index"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

// streamState is what the chunk callback of one ChatStream call sees, on the goroutine
// that called it (the library calls back on the calling thread).
type streamState struct {
	ctx      context.Context
	fn       func(Chunk) error
	err      error // why the stream was stopped: fn's error, the context's, a bad chunk
	panicked bool
	panicVal any
}

// chunk handles one chunk's JSON: true for more, false to stop the stream.
func (s *streamState) chunk(text string) (more bool) {
	if err := s.ctx.Err(); err != nil {
		s.err = cancelledError(err, "cancelled during the stream")
		return false
	}
	c := Chunk{Raw: json.RawMessage(text)}
	if err := json.Unmarshal(c.Raw, &c); err != nil {
		s.err = err
		return false
	}
	// A panic must not unwind through the C frames: keep it, stop, re-panic in ChatStream.
	defer func() {
		if r := recover(); r != nil {
			s.panicked, s.panicVal, more = true, r, false
		}
	}()
	if err := s.fn(c); err != nil {
		s.err = err
		return false
	}
	return true
}

// ChatStream sends one chat request with the answer streamed: fn is called with each chunk,
// in order, on the calling goroutine, before ChatStream returns the final response (the one
// Chat returns, with its receipt).
//
// When fn returns an error, the stream is stopped and that error is returned, with the
// response of the partial answer (StoppedEarly set), whose receipt the library has priced
// and stored.
//
// When ctx is cancelled, the library abandons the call at once (llmring_cancel), wherever it
// waits: for the provider's first byte, or between chunks. The error matches both
// ErrCancelled and ctx.Err() under errors.Is. Cancelled before any chunk, nothing is priced
// or stored and the response is nil; after a chunk, the partial answer is receipted as
// above and its response is returned beside the error.
//
// A panic in fn stops the stream and is re-raised here. fn must not call this client's
// methods (ChatStream fails, Close deadlocks); the package's functions are fine.
func (c *Client) ChatStream(ctx context.Context, req Request, fn func(Chunk) error) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, cancelledError(err, "cancelled before the call")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	state := &streamState{ctx: ctx, fn: fn}
	handle := cgo.NewHandle(state)
	defer handle.Delete()
	crequest := C.CString(string(body))
	defer C.free(unsafe.Pointer(crequest))
	var raw string
	err = c.with(func(ptr *C.llmring_t) error {
		var id C.uint64_t
		var out, cerr *C.char
		if err := statusError(C.llmring_call_id_new(ptr, &id, &cerr), cerr); err != nil {
			return err
		}
		// ptr stays valid while this func runs (c.with holds the client): the cancel either
		// does not run or has finished when it returns.
		cancelled := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			C.llmring_cancel(ptr, id, nil)
			close(cancelled)
		})
		status := C.llmring_go_chat_stream(ptr, id, crequest, C.uintptr_t(handle), &out, &cerr)
		if !stop() {
			<-cancelled
		}
		raw = takeString(out)
		return statusError(status, cerr)
	})
	if state.panicked {
		panic(state.panicVal)
	}
	var lerr *Error
	if errors.As(err, &lerr) && lerr.Code == CodeCancelled {
		lerr.cause = ctx.Err()
		// Cancelled after a chunk: the receipted partial response is in the error.
		var details struct {
			Response json.RawMessage `json:"response"`
		}
		if json.Unmarshal(lerr.JSON, &details) == nil && details.Response != nil {
			raw = string(details.Response)
		}
	}
	var resp *Response
	if raw != "" {
		resp = &Response{}
		if jerr := json.Unmarshal([]byte(raw), resp); jerr != nil {
			return nil, jerr
		}
		resp.Raw = json.RawMessage(raw)
	}
	if state.err != nil {
		return resp, state.err
	}
	return resp, err
}
