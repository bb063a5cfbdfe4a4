// chat.cpp: llmring from C++ (include/llmring.hpp): a client, one chat through the alias
// "fast" (the offline mock answers unless OPENAI_API_KEY is set), the receipts of the
// session verified, and the same call without exceptions.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "llmring.hpp"

int main() {
    try {
        llmring::KeyPair keys = llmring::generate_keypair();
        llmring::Client client(R"({"store": ":memory:", "signing_key": ")" + keys.private_key +
                               "\"}");

        const char *api_key = std::getenv("OPENAI_API_KEY");
        bool offline = api_key == nullptr || api_key[0] == '\0';
        std::string request =
            R"({"model": "fast", "messages": [{"role": "user", "content": "Say hello in five words."}])";
        request += offline ? R"(, "mock_response": "Hello from the offline mock!"})" : "}";

        std::string response = client.chat(request);
        std::printf("llmring %s\nresponse: %s\n", std::string(llmring::version()).c_str(),
                    response.c_str());

        int count = 0;
        for (const std::string &receipt : client.receipts()) {
            bool valid = llmring::verify_receipt(receipt, keys.public_key);
            std::printf("receipt %d: signature %s\n", ++count, valid ? "valid" : "INVALID");
            if (!valid) return EXIT_FAILURE;
        }
        std::printf("stats: %s\n", client.stats().c_str());

        // No exceptions: try_ functions return llmring::Result<T>.
        llmring::Result<std::string> result = client.try_chat(R"({"model": "no-such-alias", "messages": []})");
        if (!result.ok()) {
            std::printf("expected failure: %s (status %d)\n", result.error().what(),
                        static_cast<int>(result.error().status()));
        }
        return count == 1 ? EXIT_SUCCESS : EXIT_FAILURE;
    } catch (const llmring::Error &e) {
        std::fprintf(stderr, "llmring error %s: %s\n", e.code(), e.json().c_str());
        return EXIT_FAILURE;
    }
}
