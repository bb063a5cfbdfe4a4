import XCTest
@testable import LLMRing

/// Offline tests: the mock answers (no provider, no network; streamed too), except the
/// cancellation tests, which point a provider at an address that never answers.
final class LLMRingTests: XCTestCase {
    private func client(_ keys: KeyPair) throws -> Client {
        try Client(config: #"{"store": ":memory:", "signing_key": "\#(keys.privateKey)"}"#)
    }

    private func mock(_ text: String) -> Request {
        Request(model: "fast", messages: [Message(role: "user", content: "Say hi")],
                mockResponse: text, mockUsage: MockUsage(promptTokens: 1000, completionTokens: 100))
    }

    func testVersion() {
        XCTAssertFalse(Client.version.isEmpty)
    }

    func testChatReceiptsAndVerification() async throws {
        let keys = try generateKeyPair()
        let client = try client(keys)
        let response = try await client.chat(mock("Hello mock"))
        XCTAssertEqual(response.content, "Hello mock")
        XCTAssertEqual(response.alias, "fast")
        XCTAssertEqual(response.usage.totalTokens, 1100)
        let receipt = try XCTUnwrap(response.receipt)
        XCTAssertTrue(try verifyReceipt(receipt, publicKey: keys.publicKey))

        _ = try await client.chat(mock("again"))
        var count = 0
        for stored in try client.receipts(Filter(alias: "fast")) {
            count += 1
            XCTAssertEqual(stored.mock, true)
            XCTAssertTrue(try verifyReceipt(stored, publicKey: keys.publicKey))
            let tampered = stored.raw.replacingOccurrences(of: "\"fast\"", with: "\"slow\"")
            XCTAssertFalse(try verifyReceipt(json: tampered, publicKey: keys.publicKey))
        }
        XCTAssertEqual(count, 2)
        XCTAssertTrue(try client.stats().contains("\"requests\":2"))
        XCTAssertTrue(try client.verifyStore().contains("\"ok\":true"))
    }

    func testChatStream() async throws {
        let keys = try generateKeyPair()
        let client = try client(keys)
        var chunks: [Chunk] = []
        var final: Response?
        for try await event in client.chatStream(mock("Hello stream")) {
            switch event {
            case .chunk(let chunk):
                XCTAssertNil(final, "a chunk after the response")
                chunks.append(chunk)
            case .response(let response):
                final = response
            }
        }
        XCTAssertFalse(chunks.isEmpty)
        XCTAssertEqual(chunks.map { $0.delta ?? "" }.joined(), "Hello stream")
        let response = try XCTUnwrap(final)
        XCTAssertEqual(response.content, "Hello stream")
        XCTAssertNil(response.stoppedEarly)
        XCTAssertEqual(response.usage.totalTokens, 1100)
        let receipt = try XCTUnwrap(response.receipt)
        XCTAssertTrue(try verifyReceipt(receipt, publicKey: keys.publicKey))

        do {
            let unknown = Request(model: "no-such-alias", messages: [Message(role: "user", content: "x")])
            for try await event in client.chatStream(unknown) {
                XCTFail("an event for an unknown alias: \(event)")
            }
            XCTFail("an unknown alias was accepted")
        } catch LLMRingError.config {
        }
    }

    func testErrors() async throws {
        XCTAssertThrowsError(try Client(config: #"{"no_such_key": 1}"#)) { error in
            guard case .config(let info)? = error as? LLMRingError else {
                return XCTFail("want .config, got \(error)")
            }
            XCTAssertEqual(info.code, "LLMRING_CONFIG")
        }
        XCTAssertThrowsError(try canonicalJSON("{bad")) { error in
            guard case .invalidJSON? = error as? LLMRingError else {
                return XCTFail("want .invalidJSON, got \(error)")
            }
        }
        let client = try client(try generateKeyPair())
        do {
            _ = try await client.chat(Request(model: "no-such-alias", messages: [Message(role: "user", content: "x")]))
            XCTFail("an unknown alias was accepted")
        } catch LLMRingError.config(let info) {
            XCTAssertFalse(info.message.isEmpty)
        }
    }

    func testCancellation() async throws {
        // 10.255.255.1 is not routed: the connection hangs until cancelled.
        let client = try Client(config: #"""
            {"store": ":memory:", "timeout_ms": 60000, "max_retries": 0,
             "providers": {"openai": {"api_key": "sk-test", "base_url": "http://10.255.255.1:81/v1"}}}
            """#)
        let task = Task {
            try await client.chat(Request(model: "openai:gpt-4o-mini",
                                          messages: [Message(role: "user", content: "hang")]))
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("a cancelled call succeeded")
        } catch LLMRingError.cancelled {
        }
    }

    func testStreamCancellation() async throws {
        // As above, streamed: cancelling the consuming Task cancels the C call itself, whose
        // thread then ends and releases the client (long before the 60 s timeout).
        var client: Client? = try Client(config: #"""
            {"store": ":memory:", "timeout_ms": 60000, "max_retries": 0,
             "providers": {"openai": {"api_key": "sk-test", "base_url": "http://10.255.255.1:81/v1"}}}
            """#)
        weak var released = client
        let stream = try XCTUnwrap(client).chatStream(
            Request(model: "openai:gpt-4o-mini", messages: [Message(role: "user", content: "hang")]))
        client = nil
        let task = Task {
            for try await event in stream {
                XCTFail("an event from a provider that never answers: \(event)")
            }
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        task.cancel()
        _ = try? await task.value
        for _ in 0..<300 where released != nil {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        XCTAssertNil(released, "the stream's C call was not cancelled")
    }

    func testBudgets() async throws {
        let client = try Client(config: #"""
            {"store": ":memory:",
             "budgets": [{"name": "tiny", "limit_usd": "0.001", "window": "total", "soft_threshold": 0.1}]}
            """#)
        let warnings = WarningLog()
        try client.onBudgetWarning { warnings.append($0) }
        _ = try await client.chat(mock("ok"))  // 0.00021: past 10% of 0.001
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(try client.budgetStatus().contains("\"tiny\""))
        var big = mock("big")
        big.mockUsage = MockUsage(promptTokens: 10000, completionTokens: 100)
        do {
            _ = try await client.chat(big)
            XCTFail("a call over the budget succeeded")
        } catch LLMRingError.budgetExceeded {
        }
        try client.onBudgetWarning(nil)
    }

    func testCanonicalAndDigest() throws {
        XCTAssertEqual(try canonicalJSON(#"{"b":1,"a":2,"signature":"x"}"#), #"{"a":2,"b":1}"#)
        XCTAssertEqual(try digest(#"{"b":1,"a":2}"#), try digest(#"{"a":2,"b":1}"#))
        let keys = try generateKeyPair()
        let signed = try signReceipt(json: #"{"receipt_id":"r1"}"#, privateKey: keys.privateKey)
        XCTAssertTrue(try verifyReceipt(json: signed, publicKey: keys.publicKey))
    }
}

private final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) {
        lock.lock()
        items.append(item)
        lock.unlock()
    }
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return items.count
    }
}
