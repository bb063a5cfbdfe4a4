//! Chat request and response types shared by the client and the providers (being written).
