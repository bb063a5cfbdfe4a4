// Package llmring is the Go binding of llmring: LLM calls through aliases, priced exactly,
// with a signed receipt for every call, over the library's C ABI (cgo).
//
// # Linking
//
// The package links libllmring through pkg-config (`#cgo pkg-config: llmring`). Install
// the library with CMake and point pkg-config (and, for the shared library, the dynamic
// loader) at it:
//
//	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build
//	cmake --install build --prefix "$HOME/.local/llmring"
//	export PKG_CONFIG_PATH="$HOME/.local/llmring/lib/pkgconfig"
//	export LD_LIBRARY_PATH="$HOME/.local/llmring/lib"   # or an rpath via CGO_LDFLAGS
//	go test ./...
//
// scripts/test-go.sh does exactly this, with the prefix BUILD/go-prefix.
//
// # Use
//
//	client, err := llmring.New(`{"signing_key_file": "llmring.key"}`)
//	if err != nil { ... }
//	defer client.Close()
//	resp, err := client.Chat(ctx, llmring.Request{
//		Model:    "fast",
//		Messages: []llmring.Message{{Role: "user", Content: "Hello"}},
//	})
//	if errors.Is(err, llmring.ErrRateLimited) { ... }
//	fmt.Println(resp.Content, resp.Usage.Cost, resp.Receipt.ReceiptID)
//
// Cancelling ctx cancels the call inside the library (the provider request is abandoned),
// not only the wait. A Client is safe for concurrent use by many goroutines.
//
// ChatStream streams the answer to a func called with each Chunk; returning an error from
// it stops the stream, and cancelling ctx cancels it in the library at once, even before the
// provider's first byte:
//
//	resp, err := client.ChatStream(ctx, req, func(c llmring.Chunk) error {
//		fmt.Print(c.Delta)
//		return nil
//	})
package llmring
