package llmring

/*
#include "llmring.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Code is a llmring status (llmring_status_t); the numbers are stable.
type Code int

// The status codes of the C API (docs/errors.md).
const (
	CodeOK              Code = C.LLMRING_OK
	CodeEnd             Code = C.LLMRING_END
	CodeInvalidArgument Code = C.LLMRING_INVALID_ARGUMENT
	CodeInvalidJSON     Code = C.LLMRING_INVALID_JSON
	CodeConfig          Code = C.LLMRING_CONFIG
	CodeAuth            Code = C.LLMRING_AUTH
	CodeRateLimited     Code = C.LLMRING_RATE_LIMITED
	CodeTimeout         Code = C.LLMRING_TIMEOUT
	CodeNetwork         Code = C.LLMRING_NETWORK
	CodeProvider        Code = C.LLMRING_PROVIDER
	CodeCostUnknown     Code = C.LLMRING_COST_UNKNOWN
	CodeBudgetExceeded  Code = C.LLMRING_BUDGET_EXCEEDED
	CodeSignature       Code = C.LLMRING_SIGNATURE
	CodeKey             Code = C.LLMRING_KEY
	CodeStore           Code = C.LLMRING_STORE
	CodeCancelled       Code = C.LLMRING_CANCELLED
	CodePanic           Code = C.LLMRING_PANIC
	CodeInternal        Code = C.LLMRING_INTERNAL
	CodeForked          Code = C.LLMRING_FORKED
	CodeServer          Code = C.LLMRING_SERVER
)

var codeNames = map[Code]string{
	CodeOK: "LLMRING_OK", CodeEnd: "LLMRING_END",
	CodeInvalidArgument: "LLMRING_INVALID_ARGUMENT", CodeInvalidJSON: "LLMRING_INVALID_JSON",
	CodeConfig: "LLMRING_CONFIG", CodeAuth: "LLMRING_AUTH",
	CodeRateLimited: "LLMRING_RATE_LIMITED", CodeTimeout: "LLMRING_TIMEOUT",
	CodeNetwork: "LLMRING_NETWORK", CodeProvider: "LLMRING_PROVIDER",
	CodeCostUnknown: "LLMRING_COST_UNKNOWN", CodeBudgetExceeded: "LLMRING_BUDGET_EXCEEDED",
	CodeSignature: "LLMRING_SIGNATURE", CodeKey: "LLMRING_KEY", CodeStore: "LLMRING_STORE",
	CodeCancelled: "LLMRING_CANCELLED", CodePanic: "LLMRING_PANIC",
	CodeInternal: "LLMRING_INTERNAL", CodeForked: "LLMRING_FORKED",
	CodeServer: "LLMRING_SERVER",
}

// String is the C name of the code, e.g. "LLMRING_RATE_LIMITED".
func (c Code) String() string {
	if name, ok := codeNames[c]; ok {
		return name
	}
	return fmt.Sprintf("LLMRING_STATUS_%d", int(c))
}

// Error is a failed llmring call: the library's error JSON, decoded. Match a kind with
// errors.Is(err, llmring.ErrRateLimited) (and friends), or errors.As for the details.
type Error struct {
	Code       Code   `json:"status"`
	Name       string `json:"code"`
	Message    string `json:"message"`
	Provider   string `json:"provider,omitempty"`
	Model      string `json:"model,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	Attempts   int    `json:"attempts,omitempty"`
	Retryable  bool   `json:"retryable,omitempty"`
	Alias      string `json:"alias,omitempty"`
	// JSON is the error object as the library returned it (see docs/errors.md).
	JSON json.RawMessage `json:"-"`

	sentinel bool
	cause    error
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "llmring: " + e.Code.String()
	}
	return "llmring: " + e.Code.String() + ": " + e.Message
}

// Is reports whether target is the sentinel of e's code (ErrRateLimited, ...).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.sentinel && t.Code == e.Code
}

// Unwrap returns the cause, e.g. context.Canceled for a call cancelled through its context.
func (e *Error) Unwrap() error { return e.cause }

func sentinel(code Code) *Error {
	return &Error{Code: code, Name: code.String(), sentinel: true}
}

// One sentinel per status: errors.Is(err, ErrRateLimited) matches every *Error with that
// code.
var (
	ErrInvalidArgument = sentinel(CodeInvalidArgument)
	ErrInvalidJSON     = sentinel(CodeInvalidJSON)
	ErrConfig          = sentinel(CodeConfig)
	ErrAuth            = sentinel(CodeAuth)
	ErrRateLimited     = sentinel(CodeRateLimited)
	ErrTimeout         = sentinel(CodeTimeout)
	ErrNetwork         = sentinel(CodeNetwork)
	ErrProvider        = sentinel(CodeProvider)
	ErrCostUnknown     = sentinel(CodeCostUnknown)
	ErrBudgetExceeded  = sentinel(CodeBudgetExceeded)
	ErrSignature       = sentinel(CodeSignature)
	ErrKey             = sentinel(CodeKey)
	ErrStore           = sentinel(CodeStore)
	ErrCancelled       = sentinel(CodeCancelled)
	ErrPanic           = sentinel(CodePanic)
	ErrInternal        = sentinel(CodeInternal)
	ErrForked          = sentinel(CodeForked)
	ErrServer          = sentinel(CodeServer)
)

// ErrClosed is returned by the methods of a Client after Close.
var ErrClosed = errors.New("llmring: client is closed")

// newError decodes the library's error JSON (text may be empty).
func newError(status Code, text string) *Error {
	e := &Error{Code: status, Name: status.String()}
	if text != "" {
		e.JSON = json.RawMessage(text)
		_ = json.Unmarshal(e.JSON, e)
		e.Code = status
	}
	return e
}

// cancelledError is an ErrCancelled whose cause is the context's error.
func cancelledError(cause error, message string) *Error {
	return &Error{Code: CodeCancelled, Name: CodeCancelled.String(), Message: message, cause: cause}
}
