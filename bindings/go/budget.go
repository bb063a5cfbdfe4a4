package llmring

/*
#include "llmring.h"

// Defined in callback.go (exported from Go).
extern void llmringGoBudgetWarning(void *user_data, char *warning_json);

static llmring_status_t llmring_go_on_budget_warning(const llmring_t *client, uintptr_t handle,
                                                     char **out_error) {
	if (handle == 0) {
		return llmring_on_budget_warning(client, NULL, NULL, out_error);
	}
	return llmring_on_budget_warning(client, (llmring_budget_warning_fn)llmringGoBudgetWarning,
	                                 (void *)handle, out_error);
}
*/
import "C"

import (
	"encoding/json"
	"runtime/cgo"
)

// BudgetStatus returns every budget's window, spent, reserved, limit and remaining:
// {"budgets": [...]} (exact decimals).
func (c *Client) BudgetStatus() (json.RawMessage, error) {
	text, err := c.stringCall(func(ptr *C.llmring_t, out **C.char, cerr **C.char) C.llmring_status_t {
		return C.llmring_budget_status(ptr, out, cerr)
	})
	if err != nil {
		return nil, err
	}
	return json.RawMessage(text), nil
}

// OnBudgetWarning sets the function called with each budget warning (JSON) after a call
// crosses a soft threshold; nil clears it. It runs on one of the library's threads and must
// return promptly. Earlier functions stay reachable until Close.
func (c *Client) OnBudgetWarning(f func(warning json.RawMessage)) error {
	var handle cgo.Handle
	if f != nil {
		handle = cgo.NewHandle(f)
	}
	err := c.with(func(ptr *C.llmring_t) error {
		var cerr *C.char
		status := C.llmring_go_on_budget_warning(ptr, C.uintptr_t(handle), &cerr)
		return statusError(status, cerr)
	})
	if err != nil {
		if handle != 0 {
			handle.Delete()
		}
		return err
	}
	if handle != 0 {
		c.mu.Lock()
		c.handles = append(c.handles, handle)
		c.mu.Unlock()
	}
	return nil
}
