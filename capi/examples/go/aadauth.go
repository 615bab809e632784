// A small Go binding of libaadauth (cgo, standard library only). A Vault plugin would keep
// this file as its package aadauth; see ../../README.md.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../../target/release -laadauth -Wl,-rpath,${SRCDIR}/../../../target/release
#include <stdlib.h>
#include "aadauth.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"unsafe"
)

// APIError is the library's error envelope: {"error": {"code", "field", "message"}}.
type APIError struct {
	Code    string  `json:"code"`
	Field   *string `json:"field"`
	Message string  `json:"message"`
}

func (e *APIError) Error() string {
	if e.Field != nil {
		return fmt.Sprintf("aadauth %s: %s: %s", e.Code, *e.Field, e.Message)
	}
	return fmt.Sprintf("aadauth %s: %s", e.Code, e.Message)
}

// ArmRequest is one ARM read the login needs.
type ArmRequest struct {
	Kind string `json:"kind"`
	Path string `json:"path"`
}

// envelope is every result of the library: exactly one member is set.
type envelope struct {
	Ok       json.RawMessage `json:"ok"`
	Error    *APIError       `json:"error"`
	Need     string          `json:"need"`
	Requests []ArmRequest    `json:"requests"`
	Done     json.RawMessage `json:"done"`
}

// call passes text to a library function and takes ownership of the result.
func call(f func(*C.char) *C.char, text []byte) (*envelope, error) {
	in := C.CString(string(text))
	defer C.free(unsafe.Pointer(in))
	return take(f(in))
}

func take(out *C.char) (*envelope, error) {
	defer C.aadauth_free(out)
	var env envelope
	if err := json.Unmarshal([]byte(C.GoString(out)), &env); err != nil {
		return nil, err
	}
	if env.Error != nil {
		return nil, env.Error
	}
	return &env, nil
}

// Version is the library version.
func Version() string { return C.GoString(C.aadauth_version()) }

// Evaluate runs the evaluate contract: the output document, or an input error.
func Evaluate(input []byte) (json.RawMessage, error) {
	env, err := call(func(p *C.char) *C.char { return C.aadauth_evaluate(p) }, input)
	if err != nil {
		return nil, err
	}
	return env.Ok, nil
}

// DecodeToken decodes a token for display at time now (Unix seconds).
func DecodeToken(jwt string, now int64) (json.RawMessage, error) {
	env, err := call(func(p *C.char) *C.char { return C.aadauth_decode_token(p, C.int64_t(now)) }, []byte(jwt))
	if err != nil {
		return nil, err
	}
	return env.Ok, nil
}

// Login is a login in progress (the step API). Use it from one goroutine at a time and
// Close it.
type Login struct{ h *C.AadauthLogin }

// Step is what the login needs next: Need is "keys" or "arm" (with Requests), or Done is
// the output document.
type Step struct {
	Need     string
	Requests []ArmRequest
	Done     json.RawMessage
}

// StartLogin starts a login; input errors surface at the first Next.
func StartLogin(input []byte) *Login {
	in := C.CString(string(input))
	defer C.free(unsafe.Pointer(in))
	return &Login{h: C.aadauth_login_start(in)}
}

// Next runs the login as far as the facts at hand allow.
func (l *Login) Next() (*Step, error) {
	env, err := take(C.aadauth_login_next(l.h))
	if err != nil {
		return nil, err
	}
	return &Step{Need: env.Need, Requests: env.Requests, Done: env.Done}, nil
}

// KeysAnswer is what the key endpoint answered: Body (status 200), or an HTTP error, or a
// transport error.
type KeysAnswer struct {
	Body       string // the response body as received (status 200)
	Status     int    // non-200 status
	StatusText string
	Transport  error // the request failed
	URL        string
}

// ProvideKeys gives the login the key endpoint's answer.
func (l *Login) ProvideKeys(a KeysAnswer) error {
	var doc interface{}
	switch {
	case a.Transport != nil:
		doc = map[string]interface{}{"error": map[string]string{"transport": a.Transport.Error(), "url": a.URL}}
	case a.Status != 0 && a.Status != 200:
		doc = map[string]interface{}{"error": map[string]interface{}{"status": a.Status, "status_text": a.StatusText, "body": a.Body}}
	default:
		doc = map[string]string{"keys": a.Body}
	}
	return l.provide(doc, func(p *C.char) *C.char { return C.aadauth_login_provide_keys(l.h, p) })
}

// ProvideARM gives the login ARM's answer for one requested path: the HTTP status and the
// body as received, or a transport error.
func (l *Login) ProvideARM(path string, status int, body []byte, transport error) error {
	doc := map[string]interface{}{"path": path}
	if transport != nil {
		doc["transport"] = transport.Error()
	} else {
		doc["status"] = status
		doc["body"] = string(body)
	}
	return l.provide(doc, func(p *C.char) *C.char { return C.aadauth_login_provide_arm(l.h, p) })
}

func (l *Login) provide(doc interface{}, f func(*C.char) *C.char) error {
	text, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = call(f, text)
	return err
}

// Close releases the login.
func (l *Login) Close() {
	C.aadauth_login_free(l.h)
	l.h = nil
}
