package llmring

/*
#cgo pkg-config: llmring
#include <stdint.h>
#include <stdlib.h>
#include "llmring.h"

// Defined in callback.go (exported from Go).
extern void llmringGoChatDone(void *user_data, llmring_status_t status, char *response_json,
                              char *error_json);

// Starts an asynchronous chat whose callback is llmringGoChatDone with a runtime/cgo
// Handle as user data (converted here, in C, so that Go never turns an integer into a
// pointer).
static llmring_status_t llmring_go_chat_async(const llmring_t *client, const char *request,
                                              uintptr_t handle, uint64_t *out_id,
                                              char **out_error) {
	return llmring_chat_async(client, request, (llmring_done_fn)llmringGoChatDone,
	                          (void *)handle, out_id, out_error);
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Client is a llmring client: configuration, aliases, prices, signing key, receipt store,
// its own threads and HTTP connection pool. It is safe for concurrent use. Close it when
// done (a finalizer closes a forgotten one).
type Client struct {
	mu      sync.RWMutex // Close takes it for writing; every C call holds it for reading
	ptr     *C.llmring_t
	handles []cgo.Handle // budget warning functions, deleted after the client is freed
}

// Version is the library version, e.g. "0.1.0".
func Version() string { return C.GoString(C.llmring_version()) }

// New creates a client from configuration JSON (docs/configuration.md); "" or "{}" gives
// every default.
func New(config string) (*Client, error) {
	var cconfig *C.char
	if config != "" {
		cconfig = C.CString(config)
		defer C.free(unsafe.Pointer(cconfig))
	}
	var ptr *C.llmring_t
	var cerr *C.char
	status := C.llmring_new(cconfig, &ptr, &cerr)
	if err := statusError(status, cerr); err != nil {
		return nil, err
	}
	c := &Client{ptr: ptr}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close releases the client; pending asynchronous calls end with ErrCancelled. Calling it
// again does nothing.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		C.llmring_free(c.ptr)
		c.ptr = nil
		for _, h := range c.handles {
			h.Delete()
		}
		c.handles = nil
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

// with runs f with the live C handle, or returns ErrClosed.
func (c *Client) with(f func(*C.llmring_t) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return ErrClosed
	}
	err := f(c.ptr)
	runtime.KeepAlive(c)
	return err
}

// statusError turns a status and error string (freed here) into an error or nil.
func statusError(status C.llmring_status_t, cerr *C.char) error {
	var text string
	if cerr != nil {
		text = C.GoString(cerr)
		C.llmring_string_free(cerr)
	}
	if status == C.LLMRING_OK {
		return nil
	}
	return newError(Code(status), text)
}

// takeString copies and frees a string returned by llmring.
func takeString(s *C.char) string {
	if s == nil {
		return ""
	}
	out := C.GoString(s)
	C.llmring_string_free(s)
	return out
}

type chatResult struct {
	response string
	err      *Error
}

// Chat sends one chat request and waits for the answer. Cancelling ctx cancels the call
// in the library (the provider request is abandoned); the error then matches both
// ErrCancelled and ctx.Err() under errors.Is.
func (c *Client) Chat(ctx context.Context, req Request) (*Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	raw, err := c.ChatJSON(ctx, body)
	if err != nil {
		return nil, err
	}
	var resp Response
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, err
	}
	resp.Raw = raw
	return &resp, nil
}

// ChatJSON is Chat with the request and response as JSON text.
func (c *Client) ChatJSON(ctx context.Context, request []byte) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, cancelledError(err, "cancelled before the call")
	}
	done := make(chan chatResult, 1)
	handle := cgo.NewHandle(done)
	crequest := C.CString(string(request))
	defer C.free(unsafe.Pointer(crequest))
	var id C.uint64_t
	err := c.with(func(ptr *C.llmring_t) error {
		var cerr *C.char
		status := C.llmring_go_chat_async(ptr, crequest, C.uintptr_t(handle), &id, &cerr)
		return statusError(status, cerr)
	})
	if err != nil {
		handle.Delete() // the callback will not run
		return nil, err
	}
	var result chatResult
	select {
	case result = <-done:
	case <-ctx.Done():
		_ = c.with(func(ptr *C.llmring_t) error {
			C.llmring_cancel(ptr, id, nil)
			return nil
		})
		result = <-done // the callback runs exactly once, cancelled or not
		if result.err != nil && result.err.Code == CodeCancelled {
			result.err.cause = ctx.Err()
		}
	}
	if result.err != nil {
		return nil, result.err
	}
	return json.RawMessage(result.response), nil
}

// CalculateCost prices a provider's own usage object for "provider:model".
func (c *Client) CalculateCost(model string, usage json.RawMessage) (*Usage, error) {
	text, err := c.stringCall(func(ptr *C.llmring_t, out **C.char, cerr **C.char) C.llmring_status_t {
		cmodel := C.CString(model)
		defer C.free(unsafe.Pointer(cmodel))
		cusage := C.CString(string(usage))
		defer C.free(unsafe.Pointer(cusage))
		return C.llmring_calculate_cost(ptr, cmodel, cusage, out, cerr)
	})
	if err != nil {
		return nil, err
	}
	var u Usage
	return &u, json.Unmarshal([]byte(text), &u)
}

// Stats summarises the store.
func (c *Client) Stats(q StatsQuery) (*Stats, error) {
	query, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	text, err := c.stringCall(func(ptr *C.llmring_t, out **C.char, cerr **C.char) C.llmring_status_t {
		cquery := C.CString(string(query))
		defer C.free(unsafe.Pointer(cquery))
		return C.llmring_stats(ptr, cquery, out, cerr)
	})
	if err != nil {
		return nil, err
	}
	s := Stats{Raw: json.RawMessage(text)}
	return &s, json.Unmarshal(s.Raw, &s)
}

// Export writes the receipts to a file, as JSON or CSV.
func (c *Client) Export(opts ExportOptions) (*ExportResult, error) {
	options, err := json.Marshal(opts)
	if err != nil {
		return nil, err
	}
	text, err := c.stringCall(func(ptr *C.llmring_t, out **C.char, cerr **C.char) C.llmring_status_t {
		coptions := C.CString(string(options))
		defer C.free(unsafe.Pointer(coptions))
		return C.llmring_export(ptr, coptions, out, cerr)
	})
	if err != nil {
		return nil, err
	}
	var r ExportResult
	return &r, json.Unmarshal([]byte(text), &r)
}

// VerifyStore checks the store's hash chain and every signature.
func (c *Client) VerifyStore(opts VerifyStoreOptions) (*StoreReport, error) {
	options, err := json.Marshal(opts)
	if err != nil {
		return nil, err
	}
	text, err := c.stringCall(func(ptr *C.llmring_t, out **C.char, cerr **C.char) C.llmring_status_t {
		coptions := C.CString(string(options))
		defer C.free(unsafe.Pointer(coptions))
		return C.llmring_verify_store(ptr, coptions, out, cerr)
	})
	if err != nil {
		return nil, err
	}
	r := StoreReport{Raw: json.RawMessage(text)}
	return &r, json.Unmarshal(r.Raw, &r)
}

func (c *Client) stringCall(f func(*C.llmring_t, **C.char, **C.char) C.llmring_status_t) (string, error) {
	var text string
	err := c.with(func(ptr *C.llmring_t) error {
		var out, cerr *C.char
		status := f(ptr, &out, &cerr)
		text = takeString(out)
		return statusError(status, cerr)
	})
	return text, err
}
