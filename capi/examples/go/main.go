// Evaluates the demo cases through libaadauth from Go, then logs each in again through the
// step API, answering "need keys" and "need arm" from the case's "keys" and "arm" members
// as a Vault plugin would from HTTP, and checks that both give the same decision.
//
//	go run . [../../../demo/demo.json | ../../../tests/vectors/NAME.json]
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
)

type demoCase struct {
	Name  string          `json:"name"`
	Title string          `json:"title"`
	Input json.RawMessage `json:"input"`
}

type output struct {
	Allowed     bool            `json:"allowed"`
	Status      int             `json:"status"`
	Error       *string         `json:"error"`
	Auth        json.RawMessage `json:"auth"`
	ArmRequests []string        `json:"arm_requests"`
}

// fakeAzure stands in for the HTTP calls a plugin makes: the tenant's key endpoint and
// ARM, answered from the case's snapshot.
type fakeAzure struct {
	keys json.RawMessage
	arm  map[string]json.RawMessage
}

func (f *fakeAzure) getKeys() (status int, body string) {
	if len(f.keys) == 0 || string(f.keys) == "null" {
		return 200, "{}"
	}
	var text string
	if json.Unmarshal(f.keys, &text) == nil {
		return 200, text // a key set given as text
	}
	return 200, string(f.keys)
}

func (f *fakeAzure) getARM(path string) (status int, body []byte) {
	for k, v := range f.arm {
		if strings.EqualFold(k, path) {
			var e struct {
				Error  json.RawMessage `json:"error"`
				Status int             `json:"status"`
			}
			if json.Unmarshal(v, &e) == nil && len(e.Error) > 0 && e.Error[0] == '{' {
				if e.Status == 0 {
					e.Status = 500
				}
				return e.Status, []byte(`{"error":` + string(e.Error) + `}`)
			}
			return 200, v
		}
	}
	return 404, []byte(`{"error":{"code":"ResourceNotFound","message":"not found"}}`)
}

// stepLogin drives the step API to its decision.
func stepLogin(input json.RawMessage, explore bool, verbose bool) (json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(input, &members); err != nil {
		return nil, err
	}
	azure := &fakeAzure{keys: members["keys"]}
	json.Unmarshal(members["arm"], &azure.arm)
	delete(members, "keys")
	delete(members, "arm")
	if explore {
		members["explore"] = json.RawMessage("true")
	}
	start, _ := json.Marshal(members)

	login := StartLogin(start)
	defer login.Close()
	for round := 0; round < 32; round++ {
		step, err := login.Next()
		if err != nil {
			return nil, err
		}
		switch {
		case step.Done != nil:
			return step.Done, nil
		case step.Need == "keys":
			status, body := azure.getKeys()
			if verbose {
				fmt.Printf("    step: need keys -> HTTP %d\n", status)
			}
			if err := login.ProvideKeys(KeysAnswer{Status: status, Body: body}); err != nil {
				return nil, err
			}
		case step.Need == "arm":
			for _, r := range step.Requests {
				status, body := azure.getARM(r.Path)
				if verbose {
					fmt.Printf("    step: need arm (%s) %s -> HTTP %d\n", r.Kind, r.Path, status)
				}
				if err := login.ProvideARM(r.Path, status, body, nil); err != nil {
					return nil, err
				}
			}
		}
	}
	return nil, fmt.Errorf("the login did not finish")
}

func loadCases(path string) ([]demoCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Cases []demoCase      `json:"cases"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Cases == nil && doc.Input != nil {
		doc.Cases = []demoCase{{Name: doc.Name, Title: doc.Name, Input: doc.Input}}
	}
	if len(doc.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases", path)
	}
	return doc.Cases, nil
}

func main() {
	path := "../../../demo/demo.json"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	cases, err := loadCases(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("aadauth %s (Go, cgo)\n", Version())
	failures := 0
	fail := func(format string, args ...interface{}) {
		fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
		failures++
	}

	evaluated := make([]json.RawMessage, len(cases))
	for i, c := range cases {
		out, err := Evaluate(c.Input)
		if err != nil {
			fail("%s: %v", c.Name, err)
			continue
		}
		evaluated[i] = out
		var o output
		json.Unmarshal(out, &o)
		fmt.Printf("%s: allowed=%v status=%d", c.Name, o.Allowed, o.Status)
		if o.Error != nil {
			e := *o.Error
			if len(e) > 100 {
				e = e[:100] + "…"
			}
			fmt.Printf(" error=%q", e)
		}
		fmt.Println()

		var in struct {
			Now   int64 `json:"now"`
			Login struct {
				JWT string `json:"jwt"`
			} `json:"login"`
		}
		json.Unmarshal(c.Input, &in)
		if in.Login.JWT != "" {
			if d, err := DecodeToken(in.Login.JWT, in.Now); err == nil {
				var dec struct {
					Azure struct {
						PrincipalKind *string  `json:"principal_kind"`
						Warnings      []string `json:"warnings"`
					} `json:"azure"`
				}
				json.Unmarshal(d, &dec)
				kind := "?"
				if dec.Azure.PrincipalKind != nil {
					kind = *dec.Azure.PrincipalKind
				}
				fmt.Printf("    decode: %s, %d warning(s)\n", kind, len(dec.Azure.Warnings))
			} else {
				fmt.Printf("    decode: %v\n", err)
			}
		}

		// As a real login: the same decision as evaluate.
		done, err := stepLogin(c.Input, false, true)
		if err != nil {
			fail("%s: step API: %v", c.Name, err)
			continue
		}
		var s output
		json.Unmarshal(done, &s)
		if s.Allowed != o.Allowed || s.Status != o.Status || (s.Error == nil) != (o.Error == nil) ||
			(s.Error != nil && *s.Error != *o.Error) || !bytes.Equal(s.Auth, o.Auth) {
			fail("%s: the step API decided differently: %s", c.Name, done)
		}
		// Exploring: the same output, byte for byte.
		explored, err := stepLogin(c.Input, true, false)
		if err != nil || !bytes.Equal(explored, out) {
			fail("%s: the exploring step API output differs from evaluate (%v)", c.Name, err)
		} else {
			fmt.Println("    step API: same decision; exploring, the same output as evaluate")
		}
	}

	// Many goroutines at once: the library has no global state.
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				k := (g + i) % len(cases)
				out, err := Evaluate(cases[k].Input)
				if err != nil || !bytes.Equal(out, evaluated[k]) {
					mu.Lock()
					fail("goroutine %d: %s differs", g, cases[k].Name)
					mu.Unlock()
				}
			}
		}(g)
	}
	wg.Wait()

	// Errors are values.
	if _, err := Evaluate([]byte(`{"login": {}}`)); err == nil || err.(*APIError).Code != "input" {
		fail("missing now: %v", err)
	} else {
		fmt.Printf("input error: %v\n", err)
	}

	if failures > 0 {
		fmt.Fprintf(os.Stderr, "%d failure(s)\n", failures)
		os.Exit(1)
	}
	fmt.Println("Go demo: ok")
}
