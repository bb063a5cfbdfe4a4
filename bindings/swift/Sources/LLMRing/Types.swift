import Foundation

/// One chat message.
public struct Message: Codable, Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// Token counts for a mock response.
public struct MockUsage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
    }
}

/// A chat request; `model` is an alias or "provider:model". Nil fields are left out.
public struct Request: Codable, Sendable, Equatable {
    public var model: String
    public var messages: [Message]
    public var system: String?
    public var temperature: Double?
    public var maxTokens: Int?
    public var profile: String?
    public var mockResponse: String?
    public var mockUsage: MockUsage?

    public init(model: String, messages: [Message], system: String? = nil,
                temperature: Double? = nil, maxTokens: Int? = nil, profile: String? = nil,
                mockResponse: String? = nil, mockUsage: MockUsage? = nil) {
        self.model = model
        self.messages = messages
        self.system = system
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.profile = profile
        self.mockResponse = mockResponse
        self.mockUsage = mockUsage
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, system, temperature, profile
        case maxTokens = "max_tokens"
        case mockResponse = "mock_response"
        case mockUsage = "mock_usage"
    }
}

/// Tokens and cost of a call (amounts as Decimal; `Receipt.raw` keeps the exact text).
public struct Usage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    public var cost: Decimal
    public var inputCost: Decimal
    public var outputCost: Decimal
    public var costStatus: String

    enum CodingKeys: String, CodingKey {
        case cost
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case inputCost = "input_cost"
        case outputCost = "output_cost"
        case costStatus = "cost_status"
    }
}

/// A signed record of one call. `raw` is its exact JSON, which verification checks.
public struct Receipt: Codable, Sendable, Equatable {
    public var receiptId: String
    public var timestamp: String
    public var alias: String
    public var profile: String
    public var lockDigest: String
    public var provider: String
    public var model: String
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    public var totalCost: Decimal
    public var mock: Bool?
    public var signature: String?
    public internal(set) var raw: String = ""

    enum CodingKeys: String, CodingKey {
        case timestamp, alias, profile, provider, model, mock, signature
        case receiptId = "receipt_id"
        case lockDigest = "lock_digest"
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case totalCost = "total_cost"
    }

    static func decode(_ text: String) throws -> Receipt {
        do {
            var receipt = try JSONDecoder().decode(Receipt.self, from: Data(text.utf8))
            receipt.raw = text
            return receipt
        } catch {
            throw LLMRingError.decoding("\(error)")
        }
    }
}

/// A chat answer with its usage and signed receipt.
public struct Response: Codable, Sendable, Equatable {
    public var content: String?
    public var model: String
    public var alias: String
    public var finishReason: String?
    public var usage: Usage
    public var receipt: Receipt?
    /// True on the response of a stream that was stopped before its end (`chatStream`).
    public var stoppedEarly: Bool?
    public internal(set) var raw: String = ""

    enum CodingKeys: String, CodingKey {
        case content, model, alias, usage, receipt
        case finishReason = "finish_reason"
        case stoppedEarly = "stopped_early"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        content = try c.decodeIfPresent(String.self, forKey: .content)
        model = try c.decode(String.self, forKey: .model)
        alias = try c.decode(String.self, forKey: .alias)
        finishReason = try c.decodeIfPresent(String.self, forKey: .finishReason)
        usage = try c.decode(Usage.self, forKey: .usage)
        receipt = try c.decodeIfPresent(Receipt.self, forKey: .receipt)
        stoppedEarly = try c.decodeIfPresent(Bool.self, forKey: .stoppedEarly)
        // raw and receipt.raw are filled in by Response.decode.
    }

    /// Decodes the library's response JSON, keeping it in `raw` and the receipt's JSON in
    /// `receipt.raw` (signatures cover its RFC 8785 form, so re-serialising the parsed
    /// object keeps it verifiable).
    static func decode(_ text: String) throws -> Response {
        do {
            var response = try JSONDecoder().decode(Response.self, from: Data(text.utf8))
            response.raw = text
            if let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
               let receipt = object["receipt"], !(receipt is NSNull) {
                let data = try JSONSerialization.data(withJSONObject: receipt, options: [.sortedKeys])
                response.receipt?.raw = String(decoding: data, as: UTF8.self)
            }
            return response
        } catch {
            throw LLMRingError.decoding("\(error)")
        }
    }
}

/// A tool call's next piece in a stream: `id` and `name` only on its first delta,
/// `arguments` the next piece of its JSON text.
public struct ToolCallDelta: Codable, Sendable, Equatable {
    public var index: Int
    public var id: String?
    public var name: String?
    public var arguments: String?
}

/// One chunk of a streamed answer: more text (`delta`) or a tool call that started or grew.
public struct Chunk: Codable, Sendable, Equatable {
    public var delta: String?
    public var toolCallDelta: ToolCallDelta?

    enum CodingKeys: String, CodingKey {
        case delta
        case toolCallDelta = "tool_call_delta"
    }
}

/// What `Client.chatStream` yields: each chunk as it arrives, then the final response.
public enum StreamEvent: Sendable, Equatable {
    case chunk(Chunk)
    case response(Response)
}

/// Selects receipts; nil fields select everything (since/until RFC 3339).
public struct Filter: Codable, Sendable, Equatable {
    public var since: String?
    public var until: String?
    public var alias: String?
    public var provider: String?
    public var model: String?
    public var profile: String?
    public init(since: String? = nil, until: String? = nil, alias: String? = nil,
                provider: String? = nil, model: String? = nil, profile: String? = nil) {
        self.since = since
        self.until = until
        self.alias = alias
        self.provider = provider
        self.model = model
        self.profile = profile
    }
}
