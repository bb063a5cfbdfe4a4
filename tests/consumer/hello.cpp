#include <iostream>
#include <llmring.hpp>

int main() try {
    llmring::Client client;  // "{}": default configuration
    // "mock_response": answered offline; leave it out to call the alias's provider.
    std::string request = R"({"model": "fast", "messages": [{"role": "user", "content": "Hi"}],
                              "mock_response": "Hello!"})";
    std::cout << client.chat(request) << "\n";
    client.chat_stream(request, [](std::string_view chunk_json) {
        std::cout << chunk_json << "\n";  // {"delta":"..."}
        return true;                      // false stops the stream
    });
    for (const std::string &receipt : client.receipts()) std::cout << receipt << "\n";
} catch (const llmring::Error &e) {
    std::cerr << e.what() << "\n";  // e.status() == LLMRING_RATE_LIMITED, ...; e.json()
    return 1;
}
