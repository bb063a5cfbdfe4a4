/*
 * llmring.hpp: a header-only C++17 wrapper over the C ABI in llmring.h.
 *
 *     #include "llmring.hpp"
 *
 *     llmring::Client client(R"({"store": ":memory:"})");
 *     std::string response = client.chat(R"({"model": "fast", "messages": [...]})");
 *     for (const std::string &receipt : client.receipts()) { ... }
 *
 * - RAII: llmring::Client owns an llmring_t (move-only), llmring::Receipts an iterator;
 *   every string the C library returns is held in a llmring::UniqueString (a unique_ptr
 *   whose deleter is llmring_string_free) until it is copied into a std::string.
 * - Errors: the throwing functions throw llmring::Error (a std::runtime_error) carrying the
 *   status and the error JSON. Each has a `try_` twin that throws nothing of llmring's and
 *   returns a llmring::Result<T> instead (ok(), value(), error()); only std::bad_alloc can
 *   still escape.
 * - JSON in and out is text (std::string_view in, std::string out), as in the C API: use
 *   the JSON library of your choice.
 * - Thread safety is that of the C API: one Client may be used from many threads at once;
 *   a Receipts range from one thread at a time.
 * - Streaming: client.chat_stream(request, on_chunk) calls on_chunk with each chunk's JSON
 *   on the calling thread and returns the final response; an exception thrown by on_chunk
 *   stops the stream and is rethrown once the C call has returned (it never crosses the C
 *   boundary). To cancel a stream from another thread, reserve an id with new_call_id(),
 *   stream with chat_stream(id, request, on_chunk), and call cancel(id) from any thread: the
 *   stream ends at once with Error(LLMRING_CANCELLED), even while the provider is silent.
 */
#ifndef LLMRING_HPP
#define LLMRING_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "llmring.h"

namespace llmring {

/** The library version, e.g. "0.1.0" (the same as LLMRING_VERSION). */
inline std::string_view version() noexcept { return llmring_version(); }

/** The name of a status, e.g. "LLMRING_RATE_LIMITED". */
inline const char *status_name(llmring_status_t status) noexcept {
    switch (status) {
    case LLMRING_OK: return "LLMRING_OK";
    case LLMRING_END: return "LLMRING_END";
    case LLMRING_INVALID_ARGUMENT: return "LLMRING_INVALID_ARGUMENT";
    case LLMRING_INVALID_JSON: return "LLMRING_INVALID_JSON";
    case LLMRING_CONFIG: return "LLMRING_CONFIG";
    case LLMRING_AUTH: return "LLMRING_AUTH";
    case LLMRING_RATE_LIMITED: return "LLMRING_RATE_LIMITED";
    case LLMRING_TIMEOUT: return "LLMRING_TIMEOUT";
    case LLMRING_NETWORK: return "LLMRING_NETWORK";
    case LLMRING_PROVIDER: return "LLMRING_PROVIDER";
    case LLMRING_COST_UNKNOWN: return "LLMRING_COST_UNKNOWN";
    case LLMRING_BUDGET_EXCEEDED: return "LLMRING_BUDGET_EXCEEDED";
    case LLMRING_SIGNATURE: return "LLMRING_SIGNATURE";
    case LLMRING_KEY: return "LLMRING_KEY";
    case LLMRING_STORE: return "LLMRING_STORE";
    case LLMRING_CANCELLED: return "LLMRING_CANCELLED";
    case LLMRING_PANIC: return "LLMRING_PANIC";
    case LLMRING_INTERNAL: return "LLMRING_INTERNAL";
    case LLMRING_FORKED: return "LLMRING_FORKED";
    case LLMRING_SERVER: return "LLMRING_SERVER";
    }
    return "LLMRING_UNKNOWN_STATUS";
}

/** Frees a string returned by llmring (llmring_string_free). */
struct StringDeleter {
    void operator()(char *s) const noexcept { llmring_string_free(s); }
};
/** A string owned by llmring's allocator; freed (and zeroed) with llmring_string_free. */
using UniqueString = std::unique_ptr<char, StringDeleter>;

namespace detail {

/* The value of the string member `key` of a flat JSON object, unescaped (\uXXXX is kept as
 * written), or an empty string. Enough for the error JSON's "message". */
inline std::string json_string_member(std::string_view json, std::string_view key) {
    std::string pattern = "\"" + std::string(key) + "\"";
    for (std::size_t at = json.find(pattern); at != std::string_view::npos;
         at = json.find(pattern, at + 1)) {
        std::size_t p = at + pattern.size();
        while (p < json.size() && (json[p] == ' ' || json[p] == '\n' || json[p] == '\t')) p++;
        if (p >= json.size() || json[p] != ':') continue;
        p++;
        while (p < json.size() && (json[p] == ' ' || json[p] == '\n' || json[p] == '\t')) p++;
        if (p >= json.size() || json[p] != '"') return {};
        std::string out;
        for (p++; p < json.size() && json[p] != '"'; p++) {
            char c = json[p];
            if (c == '\\' && p + 1 < json.size()) {
                char e = json[++p];
                switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u': out += "\\u"; break;
                default: out += e; break;
                }
            } else {
                out += c;
            }
        }
        return out;
    }
    return {};
}

/* A NUL-terminated copy of a string_view, or NULL for an optional argument left empty. */
class CString {
  public:
    explicit CString(std::string_view text, bool empty_is_null = false)
        : text_(text), null_(empty_is_null && text.empty()) {}
    const char *get() const noexcept { return null_ ? nullptr : text_.c_str(); }

  private:
    std::string text_;
    bool null_;
};

inline std::string take(char *s) {
    UniqueString owned(s);
    return owned ? std::string(owned.get()) : std::string();
}

}  // namespace detail

/** A failed llmring call: its status and the error JSON the library returned. */
class Error : public std::runtime_error {
  public:
    Error(llmring_status_t status, std::string json)
        : std::runtime_error(describe(status, json)), status_(status), json_(std::move(json)) {}

    /** The status, e.g. LLMRING_RATE_LIMITED. */
    llmring_status_t status() const noexcept { return status_; }
    /** The status name, e.g. "LLMRING_RATE_LIMITED". */
    const char *code() const noexcept { return status_name(status_); }
    /** The error JSON ({"code", "status", "message", ...}; see docs/errors.md). */
    const std::string &json() const noexcept { return json_; }
    /** The error JSON's "message". */
    std::string message() const { return detail::json_string_member(json_, "message"); }

  private:
    static std::string describe(llmring_status_t status, const std::string &json) {
        std::string message = detail::json_string_member(json, "message");
        return std::string(status_name(status)) + (message.empty() ? "" : ": " + message);
    }
    llmring_status_t status_;
    std::string json_;
};

namespace detail {
inline Error make_error(llmring_status_t status, char *error_json) {
    std::string json = take(error_json);
    if (json.empty()) {
        json = std::string("{\"code\":\"") + status_name(status) +
               "\",\"status\":" + std::to_string(static_cast<int>(status)) +
               ",\"message\":\"(no details)\"}";
    }
    return Error(status, std::move(json));
}
}  // namespace detail

/** A value or an Error: the no-exceptions face of every call. */
template <class T>
class Result {
  public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    /** The value; throws the Error when the call failed. */
    T &value() & {
        if (!ok()) throw std::get<1>(state_);
        return std::get<0>(state_);
    }
    const T &value() const & {
        if (!ok()) throw std::get<1>(state_);
        return std::get<0>(state_);
    }
    T &&value() && {
        if (!ok()) throw std::get<1>(state_);
        return std::get<0>(std::move(state_));
    }
    /** The error; only valid when !ok(). */
    const Error &error() const { return std::get<1>(state_); }

  private:
    std::variant<T, Error> state_;
};

/** Result of a call that returns nothing. */
struct Unit {};

namespace detail {
/* Runs `f(&out, &err)` and returns the output string or the error. */
template <class F>
Result<std::string> string_call(F &&f) {
    char *out = nullptr;
    char *error = nullptr;
    llmring_status_t status = f(&out, &error);
    UniqueString owned(out);
    if (status != LLMRING_OK) return make_error(status, error);
    llmring_string_free(error);
    return std::string(owned ? owned.get() : "");
}
}  // namespace detail

/** The stored receipts, as an input range of JSON strings (oldest first). Move-only. */
class Receipts {
  public:
    class iterator {
      public:
        using iterator_category = std::input_iterator_tag;
        using value_type = std::string;
        using difference_type = std::ptrdiff_t;
        using pointer = const std::string *;
        using reference = const std::string &;

        iterator() noexcept = default;
        reference operator*() const { return *owner_->current_; }
        pointer operator->() const { return &*owner_->current_; }
        /** Advances; throws llmring::Error when the store cannot be read. */
        iterator &operator++() {
            owner_->advance();
            if (!owner_->current_) owner_ = nullptr;
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator &a, const iterator &b) noexcept {
            return a.owner_ == b.owner_;
        }
        friend bool operator!=(const iterator &a, const iterator &b) noexcept {
            return !(a == b);
        }

      private:
        friend class Receipts;
        explicit iterator(Receipts *owner) noexcept : owner_(owner) {}
        Receipts *owner_ = nullptr;
    };

    /** The first receipt (reads one); a Receipts range is traversed once. */
    iterator begin() {
        if (!started_) {
            started_ = true;
            advance();
        }
        return current_ ? iterator(this) : iterator();
    }
    iterator end() noexcept { return iterator(); }

    /** The next receipt, or nullopt at the end. Throws llmring::Error. */
    std::optional<std::string> next() {
        started_ = true;
        advance();
        return current_;
    }
    /** next() without exceptions. */
    Result<std::optional<std::string>> try_next() {
        char *receipt = nullptr;
        char *error = nullptr;
        llmring_status_t status = llmring_receipts_iter_next(iter_.get(), &receipt, &error);
        if (status == LLMRING_END) {
            llmring_string_free(error);
            return std::optional<std::string>();
        }
        if (status != LLMRING_OK) return detail::make_error(status, error);
        llmring_string_free(error);
        return std::optional<std::string>(detail::take(receipt));
    }

    llmring_receipts_iter_t *get() const noexcept { return iter_.get(); }

  private:
    friend class Client;
    struct IterDeleter {
        void operator()(llmring_receipts_iter_t *it) const noexcept {
            llmring_receipts_iter_free(it);
        }
    };
    explicit Receipts(llmring_receipts_iter_t *iter) noexcept : iter_(iter) {}
    void advance() { current_ = std::move(try_next().value()); }

    std::unique_ptr<llmring_receipts_iter_t, IterDeleter> iter_;
    std::optional<std::string> current_;
    bool started_ = false;
};

/** Called once when an asynchronous chat ends, on one of the client's own threads. */
using ChatCallback = std::function<void(Result<std::string>)>;
/** Called with a budget warning's JSON (borrowed for the call), on a library thread. */
using BudgetWarningCallback = std::function<void(std::string_view)>;
/**
 * Called with each chunk of a streamed answer, on the thread that called chat_stream():
 * {"delta":"text"} or {"tool_call_delta":{...}} (see llmring_chunk_fn), borrowed for the
 * call. Return true for more, false to stop the stream.
 */
using ChunkCallback = std::function<bool(std::string_view)>;

/** A llmring client (llmring_t): move-only, thread-safe, released on destruction. */
class Client {
  public:
    /** Creates a client from configuration JSON (docs/configuration.md). Throws Error. */
    explicit Client(std::string_view config_json = "{}") : Client(open(config_json).value()) {}

    /** Creates a client without throwing. */
    static Result<Client> open(std::string_view config_json = "{}") {
        detail::CString config(config_json, true);
        llmring_t *handle = nullptr;
        char *error = nullptr;
        llmring_status_t status = llmring_new(config.get(), &handle, &error);
        if (status != LLMRING_OK) return detail::make_error(status, error);
        llmring_string_free(error);
        return Client(handle);
    }

    Client(Client &&) noexcept = default;
    Client &operator=(Client &&) noexcept = default;
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() = default;

    /** The C handle (still owned by this Client); NULL after a move. */
    llmring_t *get() const noexcept { return handle_.get(); }

    /** One chat call (blocks). Returns the response JSON. Throws Error. */
    std::string chat(std::string_view request_json) const {
        return try_chat(request_json).value();
    }
    Result<std::string> try_chat(std::string_view request_json) const {
        detail::CString request(request_json);
        return detail::string_call([&](char **out, char **error) {
            return llmring_chat(handle_.get(), request.get(), out, error);
        });
    }

    /**
     * Starts a chat call and returns its id at once; `on_done` runs exactly once, on one of
     * the client's threads, with the response or the Error (LLMRING_CANCELLED after
     * cancel()). The callback must not throw (it would terminate the program) and must not
     * call chat() or destroy this client. Throws Error when the request cannot be read (then
     * `on_done` is not called).
     */
    std::uint64_t chat_async(std::string_view request_json, ChatCallback on_done) const {
        return try_chat_async(request_json, std::move(on_done)).value();
    }
    Result<std::uint64_t> try_chat_async(std::string_view request_json,
                                         ChatCallback on_done) const {
        detail::CString request(request_json);
        // Owned by the library from a successful start until the trampoline runs.
        auto context = std::make_unique<ChatCallback>(std::move(on_done));
        std::uint64_t id = 0;
        char *error = nullptr;
        llmring_status_t status = llmring_chat_async(handle_.get(), request.get(), &trampoline,
                                                     context.get(), &id, &error);
        if (status != LLMRING_OK) return detail::make_error(status, error);
        llmring_string_free(error);
        context.release();
        return id;
    }

    /**
     * Cancels an asynchronous call, or the stream of an id from new_call_id() (unknown or
     * finished ids are ignored). Thread-safe. Throws Error.
     */
    void cancel(std::uint64_t request_id) const { try_cancel(request_id).value(); }
    Result<Unit> try_cancel(std::uint64_t request_id) const {
        char *error = nullptr;
        llmring_status_t status = llmring_cancel(handle_.get(), request_id, &error);
        if (status != LLMRING_OK) return detail::make_error(status, error);
        llmring_string_free(error);
        return Unit{};
    }

    /** The stored receipts matching `filter_json` (empty: all), for range-for. */
    Receipts receipts(std::string_view filter_json = {}) const {
        return try_receipts(filter_json).value();
    }
    Result<Receipts> try_receipts(std::string_view filter_json = {}) const {
        detail::CString filter(filter_json, true);
        llmring_receipts_iter_t *iter = nullptr;
        char *error = nullptr;
        llmring_status_t status = llmring_receipts_iter(handle_.get(), filter.get(), &iter, &error);
        if (status != LLMRING_OK) return detail::make_error(status, error);
        llmring_string_free(error);
        return Receipts(iter);
    }

    /** Statistics over the store (llmring_stats); `query_json` empty: everything. */
    std::string stats(std::string_view query_json = {}) const {
        return try_stats(query_json).value();
    }
    Result<std::string> try_stats(std::string_view query_json = {}) const {
        detail::CString query(query_json, true);
        return detail::string_call([&](char **out, char **error) {
            return llmring_stats(handle_.get(), query.get(), out, error);
        });
    }

    /** Exports receipts to a file (llmring_export): {"format", "output", filters...}. */
    std::string export_to(std::string_view options_json) const {
        return try_export_to(options_json).value();
    }
    Result<std::string> try_export_to(std::string_view options_json) const {
        detail::CString options(options_json);
        return detail::string_call([&](char **out, char **error) {
            return llmring_export(handle_.get(), options.get(), out, error);
        });
    }

    /** Verifies the store's hash chain and signatures; returns the report JSON. */
    std::string verify_store(std::string_view options_json = {}) const {
        return try_verify_store(options_json).value();
    }
    Result<std::string> try_verify_store(std::string_view options_json = {}) const {
        detail::CString options(options_json, true);
        return detail::string_call([&](char **out, char **error) {
            return llmring_verify_store(handle_.get(), options.get(), out, error);
        });
    }

    /** Prices a provider's own usage object for "provider:model"; returns usage JSON. */
    std::string calculate_cost(std::string_view model, std::string_view usage_json) const {
        return try_calculate_cost(model, usage_json).value();
    }
    Result<std::string> try_calculate_cost(std::string_view model,
                                           std::string_view usage_json) const {
        detail::CString m(model);
        detail::CString usage(usage_json);
        return detail::string_call([&](char **out, char **error) {
            return llmring_calculate_cost(handle_.get(), m.get(), usage.get(), out, error);
        });
    }

    /** Every budget's window, spent, reserved, limit and remaining: {"budgets": [...]}. */
    std::string budget_status() const { return try_budget_status().value(); }
    Result<std::string> try_budget_status() const {
        return detail::string_call([&](char **out, char **error) {
            return llmring_budget_status(handle_.get(), out, error);
        });
    }

    /**
     * Sets the function called (on a library thread) with each budget warning's JSON after a
     * call crosses a soft threshold; an empty function clears it. It must not throw. Earlier
     * functions are kept alive until the client is destroyed (a call in flight may still be
     * running one).
     */
    void on_budget_warning(BudgetWarningCallback on_warning) {
        try_on_budget_warning(std::move(on_warning)).value();
    }
    Result<Unit> try_on_budget_warning(BudgetWarningCallback on_warning) {
        std::unique_ptr<BudgetWarningCallback> callback;
        if (on_warning) callback = std::make_unique<BudgetWarningCallback>(std::move(on_warning));
        char *error = nullptr;
        llmring_status_t status = llmring_on_budget_warning(
            handle_.get(), callback ? &warning_trampoline : nullptr, callback.get(), &error);
        if (status != LLMRING_OK) return detail::make_error(status, error);
        llmring_string_free(error);
        if (callback) warnings_.push_back(std::move(callback));
        return Unit{};
    }

    /**
     * One chat call with the answer streamed (blocks): `on_chunk` runs on this thread for
     * each chunk, and the final response JSON is returned (with "stopped_early": true when
     * `on_chunk` returned false). Throws Error. When `on_chunk` throws, the stream is
     * stopped and its exception rethrown after the C call returned; the library has then
     * already stored the receipt of the partial answer. `on_chunk` must not call chat(),
     * chat_stream() or destroy this client.
     */
    std::string chat_stream(std::string_view request_json, const ChunkCallback &on_chunk) const {
        return try_chat_stream(request_json, on_chunk).value();
    }
    /** chat_stream() without llmring exceptions; an exception of `on_chunk` still propagates. */
    Result<std::string> try_chat_stream(std::string_view request_json,
                                        const ChunkCallback &on_chunk) const {
        return stream(on_chunk, [&](const char *request, llmring_chunk_fn fn, void *context,
                                    char **out, char **error) {
            return llmring_chat_stream(handle_.get(), request, fn, context, out, error);
        }, request_json);
    }

    /**
     * Reserves a call id for chat_stream(id, ...) (llmring_call_id_new): hand it to the
     * thread that may cancel the stream with cancel(id), at any point, even before it starts.
     * Each id starts one stream. Thread-safe. Throws Error.
     */
    std::uint64_t new_call_id() const { return try_new_call_id().value(); }
    Result<std::uint64_t> try_new_call_id() const {
        std::uint64_t id = 0;
        char *error = nullptr;
        llmring_status_t status = llmring_call_id_new(handle_.get(), &id, &error);
        if (status != LLMRING_OK) return detail::make_error(status, error);
        llmring_string_free(error);
        return id;
    }

    /**
     * chat_stream() under `call_id` from new_call_id() (llmring_chat_stream_with_id):
     * cancel(call_id) from any thread ends it promptly with Error(LLMRING_CANCELLED). Cancelled
     * before the first chunk, nothing is stored; after it, the partial answer is receipted
     * and the error JSON carries that response in its "response" member.
     */
    std::string chat_stream(std::uint64_t call_id, std::string_view request_json,
                            const ChunkCallback &on_chunk) const {
        return try_chat_stream(call_id, request_json, on_chunk).value();
    }
    Result<std::string> try_chat_stream(std::uint64_t call_id, std::string_view request_json,
                                        const ChunkCallback &on_chunk) const {
        return stream(on_chunk, [&](const char *request, llmring_chunk_fn fn, void *context,
                                    char **out, char **error) {
            return llmring_chat_stream_with_id(handle_.get(), call_id, request, fn, context, out,
                                               error);
        }, request_json);
    }

  private:
    /** Runs one streaming C call `c_call(request, fn, context, out, error)`. */
    template <typename CCall>
    static Result<std::string> stream(const ChunkCallback &on_chunk, const CCall &c_call,
                                      std::string_view request_json) {
        detail::CString request(request_json);
        StreamContext context{&on_chunk, nullptr};
        Result<std::string> result = detail::string_call([&](char **out, char **error) {
            return c_call(request.get(), on_chunk ? &chunk_trampoline : nullptr, &context, out,
                          error);
        });
        if (context.exception) std::rethrow_exception(context.exception);
        return result;
    }

    struct StreamContext {
        const ChunkCallback *on_chunk;
        std::exception_ptr exception;
    };

    static int chunk_trampoline(void *user_data, const char *chunk_json) noexcept {
        auto *context = static_cast<StreamContext *>(user_data);
        try {
            return (*context->on_chunk)(chunk_json ? chunk_json : "") ? LLMRING_STREAM_CONTINUE
                                                                      : LLMRING_STREAM_STOP;
        } catch (...) {
            context->exception = std::current_exception();
            return LLMRING_STREAM_STOP;
        }
    }

    struct ClientDeleter {
        void operator()(llmring_t *c) const noexcept { llmring_free(c); }
    };
    explicit Client(llmring_t *handle) noexcept : handle_(handle) {}

    static void warning_trampoline(void *user_data, const char *warning_json) noexcept {
        auto *callback = static_cast<BudgetWarningCallback *>(user_data);
        if (callback && *callback) (*callback)(warning_json ? warning_json : "");
    }

    static void trampoline(void *user_data, llmring_status_t status, const char *response_json,
                           const char *error_json) noexcept {
        std::unique_ptr<ChatCallback> callback(static_cast<ChatCallback *>(user_data));
        if (!callback || !*callback) return;
        if (status == LLMRING_OK) {
            (*callback)(Result<std::string>(std::string(response_json ? response_json : "")));
        } else {
            (*callback)(Result<std::string>(Error(status, error_json ? error_json : "")));
        }
    }

    // Declared before handle_, so destroyed after the client is freed.
    std::vector<std::unique_ptr<BudgetWarningCallback>> warnings_;
    std::unique_ptr<llmring_t, ClientDeleter> handle_;
};

/** An Ed25519 key pair as text. */
struct KeyPair {
    std::string private_key;
    std::string public_key;
};

/** A new key pair; `format`: "base64url" (default), "base64", "hex" or "pem". */
inline Result<KeyPair> try_generate_keypair(std::string_view format = "base64url") {
    detail::CString f(format, true);
    char *private_key = nullptr;
    char *public_key = nullptr;
    char *error = nullptr;
    llmring_status_t status = llmring_keypair_generate(f.get(), &private_key, &public_key, &error);
    UniqueString priv(private_key);
    UniqueString pub(public_key);
    if (status != LLMRING_OK) return detail::make_error(status, error);
    llmring_string_free(error);
    return KeyPair{priv.get(), pub.get()};
}
inline KeyPair generate_keypair(std::string_view format = "base64url") {
    return try_generate_keypair(format).value();
}

/** The public key of a private key (any accepted form), in `format`. */
inline Result<std::string> try_public_key_from_private(std::string_view private_key,
                                                       std::string_view format = "base64url") {
    detail::CString key(private_key);
    detail::CString f(format, true);
    return detail::string_call([&](char **out, char **error) {
        return llmring_public_key_from_private(key.get(), f.get(), out, error);
    });
}
inline std::string public_key_from_private(std::string_view private_key,
                                           std::string_view format = "base64url") {
    return try_public_key_from_private(private_key, format).value();
}

/** Whether a receipt's signature is valid for `public_key` (a bad signature is false). */
inline Result<bool> try_verify_receipt(std::string_view receipt_json,
                                       std::string_view public_key) {
    detail::CString receipt(receipt_json);
    detail::CString key(public_key);
    bool valid = false;
    char *error = nullptr;
    llmring_status_t status = llmring_verify_receipt(receipt.get(), key.get(), &valid, &error);
    if (status != LLMRING_OK) return detail::make_error(status, error);
    llmring_string_free(error);
    return valid;
}
inline bool verify_receipt(std::string_view receipt_json, std::string_view public_key) {
    return try_verify_receipt(receipt_json, public_key).value();
}

/** RFC 8785 canonical JSON (an object's "signature" left out): the bytes that are signed. */
inline Result<std::string> try_canonical_json(std::string_view json) {
    detail::CString in(json);
    return detail::string_call([&](char **out, char **error) {
        return llmring_receipt_canonical_json(in.get(), out, error);
    });
}
inline std::string canonical_json(std::string_view json) {
    return try_canonical_json(json).value();
}

/** Hex SHA-256 of canonical_json(json). */
inline Result<std::string> try_digest(std::string_view json) {
    detail::CString in(json);
    return detail::string_call([&](char **out, char **error) {
        return llmring_receipt_digest(in.get(), out, error);
    });
}
inline std::string digest(std::string_view json) { return try_digest(json).value(); }

/** Builds a receipt for a call made elsewhere; signed when `private_key` is not empty. */
inline Result<std::string> try_generate_receipt(std::string_view input_json,
                                                std::string_view private_key = {}) {
    detail::CString in(input_json);
    detail::CString key(private_key, true);
    return detail::string_call([&](char **out, char **error) {
        return llmring_receipt_generate(in.get(), key.get(), out, error);
    });
}
inline std::string generate_receipt(std::string_view input_json,
                                    std::string_view private_key = {}) {
    return try_generate_receipt(input_json, private_key).value();
}

/** Signs a receipt (replacing any signature); returns the signed canonical JSON. */
inline Result<std::string> try_sign_receipt(std::string_view receipt_json,
                                            std::string_view private_key) {
    detail::CString in(receipt_json);
    detail::CString key(private_key);
    return detail::string_call([&](char **out, char **error) {
        return llmring_receipt_sign(in.get(), key.get(), out, error);
    });
}
inline std::string sign_receipt(std::string_view receipt_json, std::string_view private_key) {
    return try_sign_receipt(receipt_json, private_key).value();
}

}  // namespace llmring

#endif  // LLMRING_HPP
