package llmring_test

import (
	"context"
	"errors"
	"fmt"

	llmring "github.com/llmring/llmring-go"
)

// A chat through the alias "fast", answered by the offline mock (no provider, no API key),
// then the signed receipt verified and the store summed up.
func Example() {
	keys, err := llmring.GenerateKeyPair("")
	if err != nil {
		panic(err)
	}
	client, err := llmring.New(`{"store": ":memory:", "signing_key": "` + keys.PrivateKey + `"}`)
	if err != nil {
		panic(err)
	}
	defer client.Close()

	resp, err := client.Chat(context.Background(), llmring.Request{
		Model:        "fast",
		Messages:     []llmring.Message{{Role: "user", Content: "Say hello"}},
		MockResponse: "Hello from the mock",
		MockUsage:    &llmring.MockUsage{PromptTokens: 1000, CompletionTokens: 100},
	})
	if errors.Is(err, llmring.ErrRateLimited) {
		fmt.Println("try again later")
		return
	} else if err != nil {
		panic(err)
	}
	fmt.Println(resp.Content)
	fmt.Println(resp.Usage.TotalTokens, "tokens")

	valid, err := llmring.VerifyReceipt(resp.Receipt, keys.PublicKey)
	fmt.Println("signature valid:", valid, err)

	for r, err := range client.Receipts(context.Background(), llmring.Filter{Alias: "fast"}) {
		if err != nil {
			panic(err)
		}
		fmt.Println("receipt:", r.Alias, r.TotalTokens, "mock:", r.Mock)
	}
	// Output:
	// Hello from the mock
	// 1100 tokens
	// signature valid: true <nil>
	// receipt: fast 1100 mock: true
}

// A streamed chat: each chunk as it arrives, then the final response with its receipt.
func ExampleClient_ChatStream() {
	client, err := llmring.New(`{"store": ":memory:"}`)
	if err != nil {
		panic(err)
	}
	defer client.Close()

	resp, err := client.ChatStream(context.Background(), llmring.Request{
		Model:        "fast",
		Messages:     []llmring.Message{{Role: "user", Content: "Say hello"}},
		MockResponse: "Hello, streamed",
	}, func(c llmring.Chunk) error {
		fmt.Printf("chunk: %q\n", c.Delta)
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Content, "| receipt:", resp.Receipt.Alias, resp.Receipt.Mock)
	// Output:
	// chunk: "Hello, streamed"
	// Hello, streamed | receipt: fast true
}
