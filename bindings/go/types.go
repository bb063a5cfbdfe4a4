package llmring

import "encoding/json"

// Message is one chat message. Content is a string or a list of parts
// ({"type":"text","text":...}); tool messages carry ToolCallID.
type Message struct {
	Role       string          `json:"role"`
	Content    any             `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	ToolCalls  json.RawMessage `json:"tool_calls,omitempty"`
}

// Request is a chat request (docs/configuration.md, "Requests"). Model is an alias of the
// profile or "provider:model". MockResponse answers offline, without a provider.
type Request struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	System         string          `json:"system,omitempty"`
	Temperature    *float64        `json:"temperature,omitempty"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	ResponseFormat json.RawMessage `json:"response_format,omitempty"`
	Tools          json.RawMessage `json:"tools,omitempty"`
	ToolChoice     json.RawMessage `json:"tool_choice,omitempty"`
	Profile        string          `json:"profile,omitempty"`
	Metadata       map[string]any  `json:"metadata,omitempty"`
	MockResponse   string          `json:"mock_response,omitempty"`
	MockUsage      *MockUsage      `json:"mock_usage,omitempty"`
}

// MockUsage fixes the token counts of a mock response.
type MockUsage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

// Usage is a call's tokens and exact cost. Amounts are exact decimals (json.Number), not
// floats.
type Usage struct {
	PromptTokens     int64           `json:"prompt_tokens"`
	CompletionTokens int64           `json:"completion_tokens"`
	TotalTokens      int64           `json:"total_tokens"`
	CachedTokens     int64           `json:"cached_tokens,omitempty"`
	Cost             json.Number     `json:"cost"`
	InputCost        json.Number     `json:"input_cost"`
	OutputCost       json.Number     `json:"output_cost"`
	CostStatus       string          `json:"cost_status"`
	CostBreakdown    json.RawMessage `json:"cost_breakdown,omitempty"`
}

// Response is a chat answer with its usage and signed receipt.
type Response struct {
	Content      string          `json:"content"`
	Model        string          `json:"model"`
	Alias        string          `json:"alias"`
	Profile      string          `json:"profile"`
	FinishReason string          `json:"finish_reason"`
	ToolCalls    json.RawMessage `json:"tool_calls,omitempty"`
	Usage        Usage           `json:"usage"`
	Receipt      Receipt         `json:"receipt"`
	// StoppedEarly is set on the response of a stream that was stopped (ChatStream).
	StoppedEarly bool `json:"stopped_early,omitempty"`
	// Raw is the whole response JSON.
	Raw json.RawMessage `json:"-"`
}

// Receipt is a signed record of one call. Raw keeps its exact JSON (with every extra
// member), which is what VerifyReceipt checks.
type Receipt struct {
	ReceiptID        string      `json:"receipt_id"`
	Timestamp        string      `json:"timestamp"`
	Alias            string      `json:"alias"`
	Profile          string      `json:"profile"`
	LockDigest       string      `json:"lock_digest"`
	Provider         string      `json:"provider"`
	Model            string      `json:"model"`
	PromptTokens     int64       `json:"prompt_tokens"`
	CompletionTokens int64       `json:"completion_tokens"`
	TotalTokens      int64       `json:"total_tokens"`
	InputCost        json.Number `json:"input_cost"`
	OutputCost       json.Number `json:"output_cost"`
	TotalCost        json.Number `json:"total_cost"`
	Mock             bool        `json:"mock,omitempty"`
	Signature        string      `json:"signature,omitempty"`
	// Raw is the receipt exactly as the library returned it.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a receipt and keeps its raw JSON.
func (r *Receipt) UnmarshalJSON(data []byte) error {
	type plain Receipt
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*r = Receipt(p)
	r.Raw = append(json.RawMessage(nil), data...)
	return nil
}

// Filter selects receipts; empty fields select everything. Since and Until are RFC 3339
// (since inclusive, until exclusive).
type Filter struct {
	Since    string `json:"since,omitempty"`
	Until    string `json:"until,omitempty"`
	Alias    string `json:"alias,omitempty"`
	Provider string `json:"provider,omitempty"`
	Model    string `json:"model,omitempty"`
	Profile  string `json:"profile,omitempty"`
}

// StatsQuery is a Filter and the groupings wanted ("provider", "alias", "model",
// "profile", "day").
type StatsQuery struct {
	Filter
	By []string `json:"by,omitempty"`
}

// Totals are request, token and cost sums (exact decimals).
type Totals struct {
	Requests         int64       `json:"requests"`
	PromptTokens     json.Number `json:"prompt_tokens"`
	CompletionTokens json.Number `json:"completion_tokens"`
	TotalTokens      json.Number `json:"total_tokens"`
	InputCost        json.Number `json:"input_cost"`
	OutputCost       json.Number `json:"output_cost"`
	TotalCost        json.Number `json:"total_cost"`
}

// Stats is the summary of the store; Raw has every grouping (by_provider, by_alias, ...).
type Stats struct {
	Total          Totals          `json:"total"`
	FirstTimestamp string          `json:"first_timestamp"`
	LastTimestamp  string          `json:"last_timestamp"`
	Raw            json.RawMessage `json:"-"`
}

// ExportOptions says where and how Export writes receipts.
type ExportOptions struct {
	Filter
	Format string `json:"format"` // "json" or "csv"
	Output string `json:"output"` // a file path
}

// ExportResult tells what Export wrote.
type ExportResult struct {
	Exported int64  `json:"exported"`
	Format   string `json:"format"`
	Output   string `json:"output"`
}

// VerifyStoreOptions are the keys to check signatures with (none: the client's own key).
type VerifyStoreOptions struct {
	PublicKey     string   `json:"public_key,omitempty"`
	PublicKeys    []string `json:"public_keys,omitempty"`
	RequireSigned bool     `json:"require_signed,omitempty"`
	MaxProblems   int      `json:"max_problems,omitempty"`
}

// StoreReport is the result of VerifyStore; problems are a result (OK false), not an error.
type StoreReport struct {
	OK         bool  `json:"ok"`
	Records    int64 `json:"records"`
	Signatures struct {
		Valid     int64 `json:"valid"`
		Invalid   int64 `json:"invalid"`
		Unsigned  int64 `json:"unsigned"`
		Unchecked int64 `json:"unchecked"`
	} `json:"signatures"`
	ChainBreaks  int64           `json:"chain_breaks"`
	BadRecords   int64           `json:"bad_records"`
	ProblemCount int64           `json:"problem_count"`
	Raw          json.RawMessage `json:"-"`
}

// KeyPair is an Ed25519 key pair as text.
type KeyPair struct {
	PrivateKey string
	PublicKey  string
}
