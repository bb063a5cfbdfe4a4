// LLMRing: the Swift API over llmring's C ABI (module CLLMRing).
import CLLMRing
import Foundation

// MARK: - Errors

/// The details of a failed call: the library's error JSON (docs/errors.md), decoded.
public struct ErrorInfo: Sendable, Equatable {
    public let status: Int32
    public let code: String
    public let message: String
    public let provider: String?
    public let model: String?
    public let httpStatus: Int?
    /// The error object exactly as the library returned it.
    public let json: String

    init(status: Int32, json: String) {
        self.status = status
        self.json = json
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        code = object["code"] as? String ?? "LLMRING_STATUS_\(status)"
        message = object["message"] as? String ?? ""
        provider = object["provider"] as? String
        model = object["model"] as? String
        httpStatus = object["http_status"] as? Int
    }
}

/// A failed llmring call, one case per status of the C API.
public enum LLMRingError: Error, Sendable, Equatable {
    case invalidArgument(ErrorInfo)
    case invalidJSON(ErrorInfo)
    case config(ErrorInfo)
    case auth(ErrorInfo)
    case rateLimited(ErrorInfo)
    case timeout(ErrorInfo)
    case network(ErrorInfo)
    case provider(ErrorInfo)
    case costUnknown(ErrorInfo)
    case budgetExceeded(ErrorInfo)
    case signature(ErrorInfo)
    case key(ErrorInfo)
    case store(ErrorInfo)
    case cancelled(ErrorInfo)
    case panic(ErrorInfo)
    case `internal`(ErrorInfo)
    /// The client was created by another process (used in a child after `fork()`).
    case forked(ErrorInfo)
    /// The llmring server refused the API key or a report for good (server mode).
    case server(ErrorInfo)
    /// A status this version does not know.
    case other(ErrorInfo)
    /// The library's answer could not be decoded.
    case decoding(String)

    init(status: llmring_status_t, json: String) {
        let info = ErrorInfo(status: Int32(bitPattern: UInt32(truncatingIfNeeded: status.rawValue)), json: json)
        switch status {
        case LLMRING_INVALID_ARGUMENT: self = .invalidArgument(info)
        case LLMRING_INVALID_JSON: self = .invalidJSON(info)
        case LLMRING_CONFIG: self = .config(info)
        case LLMRING_AUTH: self = .auth(info)
        case LLMRING_RATE_LIMITED: self = .rateLimited(info)
        case LLMRING_TIMEOUT: self = .timeout(info)
        case LLMRING_NETWORK: self = .network(info)
        case LLMRING_PROVIDER: self = .provider(info)
        case LLMRING_COST_UNKNOWN: self = .costUnknown(info)
        case LLMRING_BUDGET_EXCEEDED: self = .budgetExceeded(info)
        case LLMRING_SIGNATURE: self = .signature(info)
        case LLMRING_KEY: self = .key(info)
        case LLMRING_STORE: self = .store(info)
        case LLMRING_CANCELLED: self = .cancelled(info)
        case LLMRING_PANIC: self = .panic(info)
        case LLMRING_INTERNAL: self = .internal(info)
        case LLMRING_FORKED: self = .forked(info)
        case LLMRING_SERVER: self = .server(info)
        default: self = .other(info)
        }
    }

    /// The details, when the library reported the error.
    public var info: ErrorInfo? {
        switch self {
        case .invalidArgument(let i), .invalidJSON(let i), .config(let i), .auth(let i),
             .rateLimited(let i), .timeout(let i), .network(let i), .provider(let i),
             .costUnknown(let i), .budgetExceeded(let i), .signature(let i), .key(let i),
             .store(let i), .cancelled(let i), .panic(let i), .internal(let i), .forked(let i),
             .server(let i), .other(let i):
            return i
        case .decoding:
            return nil
        }
    }
}

// MARK: - C strings

/// Copies and frees a string returned by llmring.
func takeString(_ s: UnsafeMutablePointer<CChar>?) -> String {
    guard let s else { return "" }
    defer { llmring_string_free(s) }
    return String(cString: s)
}

/// Throws the error of a failed call (freeing the error string either way).
func check(_ status: llmring_status_t, _ error: UnsafeMutablePointer<CChar>?) throws {
    let text = takeString(error)
    if status != LLMRING_OK {
        throw LLMRingError(status: status, json: text)
    }
}

/// Runs a C function that returns one string through `char **`.
func stringCall(
    _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
             UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> llmring_status_t
) throws -> String {
    var out: UnsafeMutablePointer<CChar>? = nil
    var error: UnsafeMutablePointer<CChar>? = nil
    let status = body(&out, &error)
    let text = takeString(out)
    try check(status, error)
    return text
}

// MARK: - Asynchronous calls

/// The continuation of one asynchronous chat, retained for the library until its callback.
private final class ChatContinuation {
    let continuation: CheckedContinuation<String, Error>
    init(_ continuation: CheckedContinuation<String, Error>) { self.continuation = continuation }
}

/// The llmring_done_fn of every asynchronous chat: runs exactly once, on a library thread.
private let chatDone: llmring_done_fn = { userData, status, response, error in
    guard let userData else { return }
    let box = Unmanaged<ChatContinuation>.fromOpaque(userData).takeRetainedValue()
    if status == LLMRING_OK {
        box.continuation.resume(returning: response.map { String(cString: $0) } ?? "")
    } else {
        box.continuation.resume(throwing: LLMRingError(
            status: status, json: error.map { String(cString: $0) } ?? ""))
    }
}

/// A budget warning handler, owned by its Client.
private final class WarningHandler {
    let handler: @Sendable (String) -> Void
    init(_ handler: @escaping @Sendable (String) -> Void) { self.handler = handler }
}

/// The llmring_budget_warning_fn of every client: calls the handler in user_data.
private let budgetWarning: llmring_budget_warning_fn = { userData, warning in
    guard let userData else { return }
    let box = Unmanaged<WarningHandler>.fromOpaque(userData).takeUnretainedValue()
    box.handler(warning.map { String(cString: $0) } ?? "")
}

/// One streamed call, shared by the thread blocked in llmring_chat_stream and the stream's
/// consumer.
private final class StreamContext: @unchecked Sendable {
    let continuation: AsyncThrowingStream<StreamEvent, Error>.Continuation
    private let lock = NSLock()
    private var stopped = false
    private var firstFailure: Error?

    init(_ continuation: AsyncThrowingStream<StreamEvent, Error>.Continuation) {
        self.continuation = continuation
    }

    /// The consumer went away (Task cancelled, stream dropped): deliver no more chunks (the
    /// call itself is cancelled in the library by its call id).
    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    /// A chunk could not be decoded: stop, and end the stream with this error.
    func fail(_ error: Error) {
        lock.lock()
        stopped = true
        if firstFailure == nil { firstFailure = error }
        lock.unlock()
    }

    var failure: Error? {
        lock.lock()
        defer { lock.unlock() }
        return firstFailure
    }
}

/// The llmring_chunk_fn of every stream: runs on the thread inside llmring_chat_stream, with
/// a borrowed chunk it decodes and yields.
private let streamChunk: llmring_chunk_fn = { userData, chunkJSON in
    guard let userData else { return LLMRING_STREAM_STOP }
    let context = Unmanaged<StreamContext>.fromOpaque(userData).takeUnretainedValue()
    if context.isStopped { return LLMRING_STREAM_STOP }
    let text = chunkJSON.map { String(cString: $0) } ?? ""
    guard let chunk = try? JSONDecoder().decode(Chunk.self, from: Data(text.utf8)) else {
        context.fail(LLMRingError.decoding("a stream chunk could not be decoded: \(text)"))
        return LLMRING_STREAM_STOP
    }
    context.continuation.yield(.chunk(chunk))
    return LLMRING_STREAM_CONTINUE
}

/// The id of a started call and whether its Task was cancelled, in either order.
private final class CallState: @unchecked Sendable {
    private let lock = NSLock()
    private var id: UInt64?
    private var cancelled = false

    func started(_ id: UInt64, cancel: (UInt64) -> Void) {
        lock.lock()
        self.id = id
        let cancelNow = cancelled
        lock.unlock()
        if cancelNow { cancel(id) }
    }

    func cancel(_ cancel: (UInt64) -> Void) {
        lock.lock()
        cancelled = true
        let id = self.id
        lock.unlock()
        if let id { cancel(id) }
    }
}

// MARK: - Client

/// A llmring client: aliases, prices, signing key, receipt store, its own threads and HTTP
/// connection pool. Safe to use from many tasks at once.
public final class Client: @unchecked Sendable {
    private let handle: OpaquePointer
    /// Budget warning handlers, kept alive until the client is freed (deinit).
    private var warningHandlers: [WarningHandler] = []
    private let lock = NSLock()

    /// Creates a client from configuration JSON (docs/configuration.md).
    public init(config: String = "{}") throws {
        var handle: OpaquePointer? = nil
        var error: UnsafeMutablePointer<CChar>? = nil
        let status = llmring_new(config, &handle, &error)
        try check(status, error)
        guard let handle else { throw LLMRingError.decoding("llmring_new returned no client") }
        self.handle = handle
    }

    deinit { llmring_free(handle) }

    /// The library version, e.g. "0.1.0".
    public static var version: String { String(cString: llmring_version()) }

    /// One chat call. Cancelling the Task cancels the call in the library (the provider
    /// request is abandoned) and throws `LLMRingError.cancelled`.
    public func chat(_ request: Request) async throws -> Response {
        let body = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        return try Response.decode(try await chatJSON(body))
    }

    /// `chat` with the request and response as JSON text.
    public func chatJSON(_ requestJSON: String) async throws -> String {
        let state = CallState()
        let handle = self.handle
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, Error>) in
                let userData = Unmanaged.passRetained(ChatContinuation(continuation)).toOpaque()
                var id: UInt64 = 0
                var error: UnsafeMutablePointer<CChar>? = nil
                let status = llmring_chat_async(handle, requestJSON, chatDone, userData, &id, &error)
                if status != LLMRING_OK {
                    // The callback will not run: release the box and resume here.
                    Unmanaged<ChatContinuation>.fromOpaque(userData).release()
                    continuation.resume(throwing: LLMRingError(status: status, json: takeString(error)))
                    return
                }
                llmring_string_free(error)
                state.started(id) { id in _ = llmring_cancel(handle, id, nil) }
            }
        } onCancel: {
            state.cancel { id in _ = llmring_cancel(handle, id, nil) }
        }
    }

    /// One chat call with the answer streamed: the stream yields `.chunk` for each piece as
    /// it arrives, then `.response` (the final response with its receipt), then ends; or it
    /// throws an `LLMRingError`. Cancelling the consuming Task, or dropping the stream,
    /// cancels the call in the library at once (`llmring_cancel` with the stream's call id),
    /// even while the provider has sent nothing yet: nothing is stored when no chunk had
    /// arrived, else the partial answer's receipt is. The blocking C call
    /// (`llmring_chat_stream_with_id`) runs on a thread of its own, which keeps this client
    /// alive until the call ends.
    public func chatStream(_ request: Request) -> AsyncThrowingStream<StreamEvent, Error> {
        AsyncThrowingStream { continuation in
            let body: String
            do {
                body = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
            } catch {
                continuation.finish(throwing: LLMRingError.decoding("\(error)"))
                return
            }
            var id: UInt64 = 0
            var error: UnsafeMutablePointer<CChar>? = nil
            let status = llmring_call_id_new(handle, &id, &error)
            guard status == LLMRING_OK else {
                continuation.finish(throwing: LLMRingError(status: status, json: takeString(error)))
                return
            }
            llmring_string_free(error)
            let context = StreamContext(continuation)
            // Runs once: when the consumer goes away, or inside runStream's finish (cancelling
            // a finished call does nothing). Either way runStream's thread still holds the
            // client, so `handle` is live; capturing it (not self) lets the client go once the
            // call has ended.
            let handle = self.handle
            continuation.onTermination = { _ in
                context.stop()
                _ = llmring_cancel(handle, id, nil)
            }
            Thread { self.runStream(id, body, context) }.start()
        }
    }

    /// Blocks in llmring_chat_stream_with_id (chunks go to `context`), then ends the stream
    /// with the response or the error.
    private func runStream(_ id: UInt64, _ requestJSON: String, _ context: StreamContext) {
        let userData = Unmanaged.passUnretained(context).toOpaque()
        do {
            let text = try stringCall {
                llmring_chat_stream_with_id(handle, id, requestJSON, streamChunk, userData, $0, $1)
            }
            if let failure = context.failure { throw failure }
            context.continuation.yield(.response(try Response.decode(text)))
            context.continuation.finish()
        } catch {
            context.continuation.finish(throwing: error)
        }
    }

    /// The stored receipts matching `filter`, oldest first, read one at a time.
    public func receipts(_ filter: Filter = Filter()) throws -> ReceiptIterator {
        let filterJSON = String(decoding: try JSONEncoder().encode(filter), as: UTF8.self)
        var iter: OpaquePointer? = nil
        var error: UnsafeMutablePointer<CChar>? = nil
        let status = llmring_receipts_iter(handle, filterJSON, &iter, &error)
        try check(status, error)
        guard let iter else { throw LLMRingError.decoding("llmring_receipts_iter returned no iterator") }
        return ReceiptIterator(iter)
    }

    /// Statistics over the store (JSON; see llmring_stats).
    public func stats(queryJSON: String = "{}") throws -> String {
        try stringCall { llmring_stats(handle, queryJSON, $0, $1) }
    }

    /// Exports receipts to a file: `{"format": "json"|"csv", "output": PATH, filters...}`.
    public func export(optionsJSON: String) throws -> String {
        try stringCall { llmring_export(handle, optionsJSON, $0, $1) }
    }

    /// Verifies the store's hash chain and signatures; the report is JSON.
    public func verifyStore(optionsJSON: String = "{}") throws -> String {
        try stringCall { llmring_verify_store(handle, optionsJSON, $0, $1) }
    }

    /// Every budget's window, spent, reserved, limit and remaining: `{"budgets": [...]}`.
    public func budgetStatus() throws -> String {
        try stringCall { llmring_budget_status(handle, $0, $1) }
    }

    /// Sets the handler called (on a library thread) with each budget warning's JSON after a
    /// call crosses a soft threshold; nil clears it.
    public func onBudgetWarning(_ handler: (@Sendable (String) -> Void)?) throws {
        var error: UnsafeMutablePointer<CChar>? = nil
        guard let handler else {
            try check(llmring_on_budget_warning(handle, nil, nil, &error), error)
            return
        }
        let box = WarningHandler(handler)
        let status = llmring_on_budget_warning(handle, budgetWarning,
                                               Unmanaged.passUnretained(box).toOpaque(), &error)
        try check(status, error)
        lock.lock()
        warningHandlers.append(box)
        lock.unlock()
    }

    /// Prices a provider's own usage object for "provider:model".
    public func calculateCost(model: String, usageJSON: String) throws -> Usage {
        let text = try stringCall { llmring_calculate_cost(handle, model, usageJSON, $0, $1) }
        return try JSONDecoder().decode(Usage.self, from: Data(text.utf8))
    }
}

/// Receipts read one at a time from the store; use from one task at a time.
public final class ReceiptIterator: IteratorProtocol, Sequence {
    private let iter: OpaquePointer
    /// The first error met by `next()` (iteration stops there).
    public private(set) var error: Error?

    init(_ iter: OpaquePointer) { self.iter = iter }
    deinit { llmring_receipts_iter_free(iter) }

    /// The next receipt, or nil at the end; throws when the store cannot be read.
    public func nextReceipt() throws -> Receipt? {
        var out: UnsafeMutablePointer<CChar>? = nil
        var error: UnsafeMutablePointer<CChar>? = nil
        let status = llmring_receipts_iter_next(iter, &out, &error)
        if status == LLMRING_END {
            llmring_string_free(error)
            return nil
        }
        let text = takeString(out)
        try check(status, error)
        return try Receipt.decode(text)
    }

    /// `Sequence` form: stops at the end or at the first error (kept in `error`).
    public func next() -> Receipt? {
        guard error == nil else { return nil }
        do { return try nextReceipt() } catch {
            self.error = error
            return nil
        }
    }
}

// MARK: - Keys and receipts

/// An Ed25519 key pair as text.
public struct KeyPair: Sendable {
    public let privateKey: String
    public let publicKey: String
}

/// A new key pair; format "base64url" (default), "base64", "hex" or "pem".
public func generateKeyPair(format: String = "base64url") throws -> KeyPair {
    var privateKey: UnsafeMutablePointer<CChar>? = nil
    var publicKey: UnsafeMutablePointer<CChar>? = nil
    var error: UnsafeMutablePointer<CChar>? = nil
    let status = llmring_keypair_generate(format, &privateKey, &publicKey, &error)
    let pair = KeyPair(privateKey: takeString(privateKey), publicKey: takeString(publicKey))
    try check(status, error)
    return pair
}

/// Whether a receipt's signature is valid (a wrong signature is false, not an error).
public func verifyReceipt(_ receipt: Receipt, publicKey: String) throws -> Bool {
    try verifyReceipt(json: receipt.raw, publicKey: publicKey)
}

/// `verifyReceipt` for receipt JSON text.
public func verifyReceipt(json: String, publicKey: String) throws -> Bool {
    var valid = false
    var error: UnsafeMutablePointer<CChar>? = nil
    let status = llmring_verify_receipt(json, publicKey, &valid, &error)
    try check(status, error)
    return valid
}

/// RFC 8785 canonical JSON (an object's "signature" left out).
public func canonicalJSON(_ json: String) throws -> String {
    try stringCall { llmring_receipt_canonical_json(json, $0, $1) }
}

/// Hex SHA-256 of `canonicalJSON(json)`.
public func digest(_ json: String) throws -> String {
    try stringCall { llmring_receipt_digest(json, $0, $1) }
}

/// Signs receipt JSON; returns the signed canonical JSON.
public func signReceipt(json: String, privateKey: String) throws -> String {
    try stringCall { llmring_receipt_sign(json, privateKey, $0, $1) }
}
