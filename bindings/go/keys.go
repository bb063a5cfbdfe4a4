package llmring

/*
#include <stdbool.h>
#include <stdlib.h>
#include "llmring.h"
*/
import "C"

import (
	"encoding/json"
	"unsafe"
)

func cstring(s string) (*C.char, func()) {
	p := C.CString(s)
	return p, func() { C.free(unsafe.Pointer(p)) }
}

// receiptJSON is the receipt's exact JSON: Raw when present, else the struct encoded.
func receiptJSON(r Receipt) (string, error) {
	if len(r.Raw) > 0 {
		return string(r.Raw), nil
	}
	b, err := json.Marshal(r)
	return string(b), err
}

// VerifyReceipt checks a receipt's signature with a public key (base64url, base64, hex or
// PEM). A wrong or missing signature is (false, nil); a malformed key is an error.
func VerifyReceipt(r Receipt, publicKey string) (bool, error) {
	text, err := receiptJSON(r)
	if err != nil {
		return false, err
	}
	return VerifyReceiptJSON([]byte(text), publicKey)
}

// VerifyReceiptJSON is VerifyReceipt for receipt JSON text.
func VerifyReceiptJSON(receipt []byte, publicKey string) (bool, error) {
	creceipt, free1 := cstring(string(receipt))
	defer free1()
	ckey, free2 := cstring(publicKey)
	defer free2()
	var valid C.bool
	var cerr *C.char
	status := C.llmring_verify_receipt(creceipt, ckey, &valid, &cerr)
	if err := statusError(status, cerr); err != nil {
		return false, err
	}
	return bool(valid), nil
}

// GenerateKeyPair makes an Ed25519 key pair; format is "base64url" ("" too), "base64",
// "hex" or "pem".
func GenerateKeyPair(format string) (KeyPair, error) {
	var cformat *C.char
	if format != "" {
		var free func()
		cformat, free = cstring(format)
		defer free()
	}
	var private, public, cerr *C.char
	status := C.llmring_keypair_generate(cformat, &private, &public, &cerr)
	pair := KeyPair{PrivateKey: takeString(private), PublicKey: takeString(public)}
	if err := statusError(status, cerr); err != nil {
		return KeyPair{}, err
	}
	return pair, nil
}

// PublicKeyFromPrivate derives the public key (base64url).
func PublicKeyFromPrivate(privateKey string) (string, error) {
	ckey, free := cstring(privateKey)
	defer free()
	var out, cerr *C.char
	status := C.llmring_public_key_from_private(ckey, nil, &out, &cerr)
	text := takeString(out)
	return text, statusError(status, cerr)
}

// SignReceipt signs receipt JSON (replacing any signature) and returns the signed
// canonical JSON.
func SignReceipt(receipt []byte, privateKey string) ([]byte, error) {
	creceipt, free1 := cstring(string(receipt))
	defer free1()
	ckey, free2 := cstring(privateKey)
	defer free2()
	var out, cerr *C.char
	status := C.llmring_receipt_sign(creceipt, ckey, &out, &cerr)
	text := takeString(out)
	if err := statusError(status, cerr); err != nil {
		return nil, err
	}
	return []byte(text), nil
}

// CanonicalJSON is the RFC 8785 form of any JSON (an object's "signature" left out).
func CanonicalJSON(value []byte) ([]byte, error) {
	cvalue, free := cstring(string(value))
	defer free()
	var out, cerr *C.char
	status := C.llmring_receipt_canonical_json(cvalue, &out, &cerr)
	text := takeString(out)
	if err := statusError(status, cerr); err != nil {
		return nil, err
	}
	return []byte(text), nil
}

// Digest is the hex SHA-256 of CanonicalJSON(value).
func Digest(value []byte) (string, error) {
	cvalue, free := cstring(string(value))
	defer free()
	var out, cerr *C.char
	status := C.llmring_receipt_digest(cvalue, &out, &cerr)
	text := takeString(out)
	return text, statusError(status, cerr)
}
