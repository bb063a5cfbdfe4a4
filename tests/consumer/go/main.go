package main

import (
	"context"
	"errors"
	"fmt"
	"log"

	llmring "github.com/llmring/llmring-go"
)

func main() {
	ctx := context.Background()
	client, err := llmring.New("") // default configuration
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	req := llmring.Request{Model: "fast", Messages: []llmring.Message{{Role: "user", Content: "Hi"}},
		MockResponse: "Hello!"} // answered offline; leave it out to call the alias's provider
	resp, err := client.Chat(ctx, req) // cancelling ctx cancels the call
	if errors.Is(err, llmring.ErrRateLimited) {
		log.Fatal("try again later")
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Content, resp.Usage.Cost, resp.Receipt.ReceiptID)
	_, err = client.ChatStream(ctx, req, func(c llmring.Chunk) error {
		fmt.Print(c.Delta) // returning an error stops the stream
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println()
	for r, err := range client.Receipts(ctx, llmring.Filter{Alias: "fast"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("receipt", r.ReceiptID, r.TotalCost)
	}
}
