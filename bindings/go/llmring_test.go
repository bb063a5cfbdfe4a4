package llmring_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	llmring "github.com/llmring/llmring-go"
)

const apiKey = "sk-go-test-KEY-0042"

const completion = `{"id":"chatcmpl-stub","object":"chat.completion","created":1754000000,"model":"gpt-stub","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the Go stub","refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200}}}`

// stub is an OpenAI chat-completions server: "please fail" is a 500, "rate limit" a 429,
// "slow" waits until the client goes away (and reports that on abandoned). A streamed
// request ("stream":true) gets the answer as SSE, the deltas "Hello", " from", " the",
// " Go stub"; with "please trickle", 100 deltas "w0 ", "w1 ", ... 20 ms apart come first,
// and a client that goes away is reported on abandoned. "please hold" (streamed or not)
// sends nothing at all until the client goes away (reported on started and abandoned).
type stub struct {
	*httptest.Server
	requests  atomic.Int64
	started   chan struct{} // a slow request arrived
	abandoned chan struct{} // a slow request's client went away
}

func newStub(t *testing.T) *stub {
	s := &stub{started: make(chan struct{}, 64), abandoned: make(chan struct{}, 64)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("content-type", "application/json")
		switch {
		case r.URL.Path != "/v1/chat/completions":
			http.Error(w, `{"error":{"message":"no such route"}}`, http.StatusNotFound)
		case r.Header.Get("Authorization") != "Bearer "+apiKey:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`)
		case strings.Contains(string(body), "please hold"):
			s.started <- struct{}{}
			select {
			case <-r.Context().Done():
				s.abandoned <- struct{}{}
			case <-time.After(time.Minute):
				io.WriteString(w, completion)
			}
		case strings.Contains(string(body), `"stream":true`) && !strings.Contains(string(body), "please fail"):
			s.stream(w, r, strings.Contains(string(body), "please trickle"))
		case strings.Contains(string(body), "please fail"):
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"message":"stub failure","type":"server_error"}}`)
		case strings.Contains(string(body), "rate limit"):
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"message":"slow down","type":"rate_limit_error"}}`)
		case strings.Contains(string(body), "slow"):
			select {
			case s.started <- struct{}{}:
			default:
			}
			select {
			case <-r.Context().Done():
				select {
				case s.abandoned <- struct{}{}:
				default: // nobody is counting
				}
			case <-time.After(20 * time.Second):
				io.WriteString(w, completion)
			}
		default:
			io.WriteString(w, completion)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// sseChunk is one chat.completion.chunk event.
func sseChunk(delta, finish string) string {
	return `data: {"id":"chatcmpl-stub","object":"chat.completion.chunk","created":1754000000,"model":"gpt-stub","choices":[{"index":0,"delta":` +
		delta + `,"finish_reason":` + finish + `}]}` + "\n\n"
}

// stream writes the streamed answer, one flushed event at a time.
func (s *stub) stream(w http.ResponseWriter, r *http.Request, trickle bool) {
	w.Header().Set("content-type", "text/event-stream")
	var events []string
	if trickle {
		for i := 0; i < 100; i++ {
			events = append(events, sseChunk(fmt.Sprintf(`{"content":"w%d "}`, i), "null"))
		}
	}
	events = append(events, sseChunk(`{"role":"assistant","content":""}`, "null"))
	for _, word := range []string{"Hello", " from", " the", " Go stub"} {
		events = append(events, sseChunk(`{"content":"`+word+`"}`, "null"))
	}
	events = append(events, sseChunk(`{}`, `"stop"`),
		`data: {"id":"chatcmpl-stub","object":"chat.completion.chunk","created":1754000000,"model":"gpt-stub","choices":[],"usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200}}}`+"\n\n",
		"data: [DONE]\n\n")
	gap := time.Millisecond
	if trickle {
		gap = 20 * time.Millisecond
	}
	for _, event := range events {
		select {
		case <-r.Context().Done():
			select {
			case s.abandoned <- struct{}{}:
			default:
			}
			return
		case <-time.After(gap):
		}
		io.WriteString(w, event)
		w.(http.Flusher).Flush()
	}
}

func fixtures(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("..", "..", "tests", "fixtures", "client"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func newClient(t *testing.T, s *stub, keys llmring.KeyPair) *llmring.Client {
	dir := fixtures(t)
	config, _ := json.Marshal(map[string]any{
		"lockfile":   filepath.Join(dir, "llmring.lock"),
		"registry":   map[string]any{"dir": filepath.Join(dir, "registry")},
		"providers":  map[string]any{"openai": map[string]any{"api_key": apiKey, "base_url": s.URL + "/v1"}},
		"timeout_ms": 30000, "max_retries": 1, "retry_backoff_ms": 10,
		"store": ":memory:", "signing_key": keys.PrivateKey,
	})
	client, err := llmring.New(string(config))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func keys(t *testing.T) llmring.KeyPair {
	pair, err := llmring.GenerateKeyPair("")
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

func ask(text string) llmring.Request {
	return llmring.Request{Model: "fast", Messages: []llmring.Message{{Role: "user", Content: text}}}
}

func TestChat(t *testing.T) {
	s := newStub(t)
	pair := keys(t)
	client := newClient(t, s, pair)

	resp, err := client.Chat(context.Background(), ask("Hello from Go"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "Hello from the Go stub" || resp.Model != "openai:gpt-stub" || resp.Alias != "fast" {
		t.Errorf("unexpected response %+v", resp)
	}
	if resp.Usage.PromptTokens != 1200 || resp.Usage.Cost.String() != "0.000345" || resp.Usage.CostStatus != "priced" {
		t.Errorf("unexpected usage %+v", resp.Usage)
	}
	if resp.Receipt.TotalCost.String() != "0.000345" || !strings.HasPrefix(resp.Receipt.Signature, "ed25519:") {
		t.Errorf("unexpected receipt %+v", resp.Receipt)
	}
	if ok, err := llmring.VerifyReceipt(resp.Receipt, pair.PublicKey); err != nil || !ok {
		t.Errorf("receipt does not verify: %v %v", ok, err)
	}
	if n := s.requests.Load(); n != 1 {
		t.Errorf("stub served %d requests, want 1", n)
	}
}

func TestErrors(t *testing.T) {
	s := newStub(t)
	client := newClient(t, s, keys(t))
	ctx := context.Background()

	_, err := client.Chat(ctx, ask("please fail"))
	var e *llmring.Error
	if !errors.Is(err, llmring.ErrProvider) || !errors.As(err, &e) {
		t.Fatalf("want ErrProvider, got %v", err)
	}
	if e.Code != llmring.CodeProvider || e.HTTPStatus != 500 || e.Provider != "openai" || e.Model != "gpt-stub" {
		t.Errorf("unexpected error %+v", e)
	}
	if strings.Contains(string(e.JSON), apiKey) || strings.Contains(e.Error(), apiKey) {
		t.Error("the API key leaked into an error")
	}
	if errors.Is(err, llmring.ErrRateLimited) {
		t.Error("ErrProvider matched ErrRateLimited")
	}

	_, err = client.Chat(ctx, ask("rate limit"))
	if !errors.Is(err, llmring.ErrRateLimited) {
		t.Errorf("want ErrRateLimited, got %v", err)
	}
	_, err = client.Chat(ctx, llmring.Request{Model: "no-such-alias", Messages: []llmring.Message{{Role: "user", Content: "x"}}})
	if !errors.Is(err, llmring.ErrConfig) {
		t.Errorf("want ErrConfig, got %v", err)
	}
	if _, err := llmring.New(`{"no_such_key":1}`); !errors.Is(err, llmring.ErrConfig) {
		t.Errorf("want ErrConfig, got %v", err)
	}
	if _, err := llmring.CanonicalJSON([]byte("{bad")); !errors.Is(err, llmring.ErrInvalidJSON) {
		t.Errorf("want ErrInvalidJSON, got %v", err)
	}
	if _, err := llmring.VerifyReceiptJSON([]byte(`{}`), "not a key"); !errors.Is(err, llmring.ErrKey) {
		t.Errorf("want ErrKey, got %v", err)
	}

	closed := newClient(t, s, keys(t))
	closed.Close()
	closed.Close()
	if _, err := closed.Chat(ctx, ask("x")); !errors.Is(err, llmring.ErrClosed) {
		t.Errorf("want ErrClosed, got %v", err)
	}
}

func TestCancel(t *testing.T) {
	s := newStub(t)
	client := newClient(t, s, keys(t))

	// Cancel once the provider has the request.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.started
		cancel()
	}()
	start := time.Now()
	_, err := client.Chat(ctx, ask("slow"))
	if !errors.Is(err, llmring.ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("want ErrCancelled and context.Canceled, got %v", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("cancellation took %v", elapsed)
	}
	// The library dropped the provider request: the stub sees its client go away.
	select {
	case <-s.abandoned:
	case <-time.After(10 * time.Second):
		t.Error("the provider request was not abandoned")
	}

	// Already cancelled: no request at all.
	before := s.requests.Load()
	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := client.Chat(done, ask("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
	if s.requests.Load() != before {
		t.Error("a cancelled context still sent a request")
	}
	// No receipt for a cancelled call.
	for r, err := range client.Receipts(context.Background(), llmring.Filter{}) {
		t.Errorf("unexpected receipt %+v %v", r, err)
	}
}

func TestReceiptsStatsExportVerify(t *testing.T) {
	s := newStub(t)
	pair := keys(t)
	client := newClient(t, s, pair)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := client.Chat(ctx, ask(fmt.Sprintf("call %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	mock := ask("offline")
	mock.MockResponse = "mocked"
	if _, err := client.Chat(ctx, mock); err != nil {
		t.Fatal(err)
	}

	count := 0
	for r, err := range client.Receipts(ctx, llmring.Filter{Alias: "fast"}) {
		if err != nil {
			t.Fatal(err)
		}
		count++
		if ok, err := llmring.VerifyReceipt(r, pair.PublicKey); err != nil || !ok {
			t.Errorf("receipt %s does not verify (%v)", r.ReceiptID, err)
		}
		if r.Provider != "openai" || r.Model != "gpt-stub" || !strings.HasPrefix(r.LockDigest, "sha256:") {
			t.Errorf("unexpected receipt %+v", r)
		}
		if mocked := count == 4; r.Mock != mocked {
			t.Errorf("receipt %d: mock = %v", count, r.Mock)
		}
		// A tampered receipt does not verify.
		tampered := strings.Replace(string(r.Raw), `"provider":"openai"`, `"provider":"evil"`, 1)
		if ok, err := llmring.VerifyReceiptJSON([]byte(tampered), pair.PublicKey); err != nil || ok {
			t.Errorf("tampered receipt verified: %v %v", ok, err)
		}
	}
	if count != 4 {
		t.Errorf("%d receipts, want 4", count)
	}
	// Breaking out early, and a filter that matches nothing.
	for range client.Receipts(ctx, llmring.Filter{}) {
		break
	}
	for r := range client.Receipts(ctx, llmring.Filter{Provider: "anthropic"}) {
		t.Errorf("unexpected receipt %+v", r)
	}
	cancelled, stop := context.WithCancel(ctx)
	stop()
	for _, err := range client.Receipts(cancelled, llmring.Filter{}) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("want context.Canceled, got %v", err)
		}
	}
	for _, err := range client.Receipts(ctx, llmring.Filter{Since: "yesterday"}) {
		if err == nil {
			t.Error("a bad filter was accepted")
		}
	}

	stats, err := client.Stats(llmring.StatsQuery{By: []string{"alias"}})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Total.Requests != 4 || !strings.Contains(string(stats.Raw), `"by_alias"`) {
		t.Errorf("unexpected stats %s", stats.Raw)
	}

	out := filepath.Join(t.TempDir(), "receipts.json")
	exported, err := client.Export(llmring.ExportOptions{Format: "json", Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if exported.Exported != 4 {
		t.Errorf("exported %d, want 4", exported.Exported)
	}
	if text, err := os.ReadFile(out); err != nil || !strings.Contains(string(text), `"receipts"`) {
		t.Errorf("export file: %v", err)
	}

	report, err := client.VerifyStore(llmring.VerifyStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK || report.Records != 4 || report.Signatures.Valid != 4 {
		t.Errorf("unexpected report %s", report.Raw)
	}

	usage, err := client.CalculateCost("openai:gpt-stub", json.RawMessage(`{"prompt_tokens":1000,"completion_tokens":1000}`))
	if err != nil {
		t.Fatal(err)
	}
	if usage.Cost.String() != "0.00075" {
		t.Errorf("cost %s, want 0.00075", usage.Cost)
	}
}

func TestKeysAndCanonical(t *testing.T) {
	pair := keys(t)
	public, err := llmring.PublicKeyFromPrivate(pair.PrivateKey)
	if err != nil || public != pair.PublicKey {
		t.Errorf("PublicKeyFromPrivate: %q %v", public, err)
	}
	canonical, err := llmring.CanonicalJSON([]byte(`{"b":1,"a":2,"signature":"x"}`))
	if err != nil || string(canonical) != `{"a":2,"b":1}` {
		t.Errorf("CanonicalJSON: %s %v", canonical, err)
	}
	d1, _ := llmring.Digest([]byte(`{"b":1,"a":2}`))
	d2, _ := llmring.Digest([]byte(`{"a":2,"b":1}`))
	if len(d1) != 64 || d1 != d2 {
		t.Errorf("Digest: %s %s", d1, d2)
	}
	signed, err := llmring.SignReceipt([]byte(`{"receipt_id":"r1","total_cost":0.5}`), pair.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := llmring.VerifyReceiptJSON(signed, pair.PublicKey); err != nil || !ok {
		t.Errorf("signed receipt does not verify: %v %v", ok, err)
	}
	if llmring.Version() == "" {
		t.Error("empty version")
	}
}

func TestManyGoroutines(t *testing.T) {
	s := newStub(t)
	pair := keys(t)
	client := newClient(t, s, pair)
	const workers, calls = 16, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				ctx := context.Background()
				var cancel context.CancelFunc = func() {}
				if (w+i)%4 == 0 {
					// Some callers give up on slow calls while others go on.
					ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
					_, err := client.Chat(ctx, ask("slow"))
					cancel()
					if !errors.Is(err, llmring.ErrCancelled) {
						errs <- fmt.Errorf("slow call: %v", err)
					}
					continue
				}
				if _, err := client.Chat(ctx, ask(fmt.Sprintf("w%d c%d", w, i))); err != nil {
					errs <- err
				}
				cancel()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	count := 0
	for r, err := range client.Receipts(context.Background(), llmring.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := llmring.VerifyReceipt(r, pair.PublicKey); !ok {
			t.Error("receipt does not verify")
		}
		count++
	}
	want := 0
	for w := 0; w < workers; w++ {
		for i := 0; i < calls; i++ {
			if (w+i)%4 != 0 {
				want++
			}
		}
	}
	if count != want {
		t.Errorf("%d receipts, want %d", count, want)
	}
}

func TestBudgets(t *testing.T) {
	// 1000 + 100 mock tokens through "fast" (openai:gpt-4o-mini, 0.15 / 0.6 per million)
	// cost 0.00021: past the soft threshold (10% of 0.001), within the limit.
	client, err := llmring.New(`{"store":":memory:","budgets":[{"name":"tiny","limit_usd":"0.001","window":"total","soft_threshold":0.1}]}`)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var mu sync.Mutex
	var warnings []string
	if err := client.OnBudgetWarning(func(w json.RawMessage) {
		mu.Lock()
		warnings = append(warnings, string(w))
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	req := ask("x")
	req.MockResponse = "ok"
	req.MockUsage = &llmring.MockUsage{PromptTokens: 1000, CompletionTokens: 100}
	if _, err := client.Chat(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "tiny") {
		t.Errorf("warnings: %q", warnings)
	}
	mu.Unlock()
	status, err := client.BudgetStatus()
	if err != nil || !strings.Contains(string(status), `"tiny"`) {
		t.Errorf("BudgetStatus: %s %v", status, err)
	}
	req.MockUsage = &llmring.MockUsage{PromptTokens: 10000, CompletionTokens: 100}
	if _, err := client.Chat(context.Background(), req); !errors.Is(err, llmring.ErrBudgetExceeded) {
		t.Errorf("want ErrBudgetExceeded, got %v", err)
	}
	if err := client.OnBudgetWarning(nil); err != nil {
		t.Error(err)
	}
}

var errEnough = errors.New("enough chunks")

func TestChatStream(t *testing.T) {
	s := newStub(t)
	pair := keys(t)
	client := newClient(t, s, pair)
	ctx := context.Background()

	// The whole stream: each delta in order, then the priced, signed response.
	var deltas []string
	resp, err := client.ChatStream(ctx, ask("Hello from Go"), func(c llmring.Chunk) error {
		if c.ToolCallDelta != nil || !strings.Contains(string(c.Raw), "delta") {
			t.Errorf("unexpected chunk %s", c.Raw)
		}
		deltas = append(deltas, c.Delta)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(deltas, "|"); got != "Hello| from| the| Go stub" {
		t.Errorf("deltas %q", got)
	}
	if resp.Content != "Hello from the Go stub" || resp.StoppedEarly || resp.FinishReason != "stop" {
		t.Errorf("unexpected response %s", resp.Raw)
	}
	if resp.Usage.Cost.String() != "0.000345" || resp.Usage.CostStatus != "priced" {
		t.Errorf("unexpected usage %+v", resp.Usage)
	}
	if ok, err := llmring.VerifyReceipt(resp.Receipt, pair.PublicKey); err != nil || !ok {
		t.Errorf("receipt does not verify: %v %v", ok, err)
	}

	// An error from the func stops the stream and is returned, with the partial response.
	chunks := 0
	resp, err = client.ChatStream(ctx, ask("please trickle"), func(llmring.Chunk) error {
		if chunks++; chunks == 2 {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) || chunks != 2 {
		t.Fatalf("want errEnough after 2 chunks, got %v after %d", err, chunks)
	}
	if resp == nil || !resp.StoppedEarly || resp.Content != "w0 w1 " {
		t.Errorf("unexpected partial response %+v", resp)
	}
	select {
	case <-s.abandoned:
	case <-time.After(10 * time.Second):
		t.Error("the stopped stream's connection was not closed")
	}

	// A failing provider: ErrProvider, and the func is never called.
	called := false
	_, err = client.ChatStream(ctx, ask("please fail"), func(llmring.Chunk) error { called = true; return nil })
	if !errors.Is(err, llmring.ErrProvider) || called {
		t.Errorf("want ErrProvider and no chunk, got %v (called %v)", err, called)
	}

	// A panic in the func stops the stream and comes out of ChatStream.
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want boom", r)
			}
		}()
		client.ChatStream(ctx, ask("please trickle"), func(llmring.Chunk) error { panic("boom") })
		t.Error("the panic was swallowed")
	}()

	// Many goroutines streaming at once.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var text strings.Builder
			resp, err := client.ChatStream(ctx, ask("concurrent"), func(c llmring.Chunk) error {
				text.WriteString(c.Delta)
				return nil
			})
			if err != nil || text.String() != "Hello from the Go stub" || resp.Content != text.String() {
				t.Errorf("concurrent stream: %q %v", text.String(), err)
			}
		}()
	}
	wg.Wait()

	// Receipts: the whole stream, the two stopped ones, the 8 concurrent ones.
	count := 0
	for r, err := range client.Receipts(ctx, llmring.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := llmring.VerifyReceipt(r, pair.PublicKey); !ok {
			t.Error("receipt does not verify")
		}
		count++
	}
	if count != 11 {
		t.Errorf("%d receipts, want 11", count)
	}
}

func TestChatStreamCancel(t *testing.T) {
	s := newStub(t)
	client := newClient(t, s, keys(t))

	// Cancelled from another goroutine once the first chunk arrived.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan struct{})
	go func() {
		<-first
		cancel()
	}()
	chunks := 0
	resp, err := client.ChatStream(ctx, ask("please trickle"), func(llmring.Chunk) error {
		if chunks++; chunks == 1 {
			close(first)
		}
		return nil
	})
	if !errors.Is(err, llmring.ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("want ErrCancelled and context.Canceled, got %v", err)
	}
	if resp == nil || !resp.StoppedEarly || chunks >= 105 {
		t.Errorf("the stream was not stopped: %d chunks, %+v", chunks, resp)
	}
	select {
	case <-s.abandoned:
	case <-time.After(10 * time.Second):
		t.Error("the provider request was not abandoned")
	}

	// Cancelled while the provider has sent nothing: the library abandons the request at
	// once (the client's timeout is 30 s), with no response and no receipt.
	receipts := func() int {
		n := 0
		for _, err := range client.Receipts(context.Background(), llmring.Filter{}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	stored := receipts()
	silent, cancelSilent := context.WithCancel(context.Background())
	defer cancelSilent()
	go func() {
		<-s.started
		cancelSilent()
	}()
	resp, err = client.ChatStream(silent, ask("please hold"), func(llmring.Chunk) error {
		t.Error("a chunk from a silent provider")
		return nil
	})
	if !errors.Is(err, llmring.ErrCancelled) || !errors.Is(err, context.Canceled) || resp != nil {
		t.Fatalf("want ErrCancelled and context.Canceled without response, got %v %+v", err, resp)
	}
	select {
	case <-s.abandoned:
	case <-time.After(10 * time.Second):
		t.Error("the silent provider's connection was not closed")
	}
	if n := receipts(); n != stored {
		t.Errorf("%d receipts after a cancel before the first chunk, want %d", n, stored)
	}

	// Already cancelled: no request, no call of the func.
	before := s.requests.Load()
	done, stop := context.WithCancel(context.Background())
	stop()
	_, err = client.ChatStream(done, ask("x"), func(llmring.Chunk) error {
		t.Error("a chunk after cancellation")
		return nil
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, llmring.ErrCancelled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
	if s.requests.Load() != before {
		t.Error("a cancelled context still sent a request")
	}
}
