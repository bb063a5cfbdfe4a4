module github.com/llmring/llmring-go

go 1.23
