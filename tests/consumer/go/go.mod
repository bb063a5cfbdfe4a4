// A Go program outside the binding's module that uses it, as a host would (README's first
// call); scripts/test-go.sh runs it against the installed library.
module example.com/llmring-consumer

go 1.23

require github.com/llmring/llmring-go v0.0.0

replace github.com/llmring/llmring-go => ../../../bindings/go
