package hostup

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
)

// TestProblemDetailsNeverHoldTheKey has the fake repeat the refused key in
// every form in its problem document (detail and errors[].detail): the
// decoded Problem a caller can branch on or print holds none of it.
func TestProblemDetailsNeverHoldTheKey(t *testing.T) {
	fake := hostuptest.NewServer()
	defer fake.Close()
	fake.AddZone("example.com")
	fake.SetEcho(apitest.EchoAll)
	const wrong = `Wr0ng/"kQ+&<x>=Zp9v7Tq8wX3m`
	c, err := New(wrong, Options{BaseURL: fake.URL, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Zones(context.Background())
	var e *Error
	if !errors.As(err, &e) || len(e.Problem.Errors) == 0 {
		t.Fatalf("err = %v, want a problem document with field errors", err)
	}
	shown := fmt.Sprintf("%+v %s", e.Problem, err)
	if leaks := apitest.Leaks(shown, wrong); len(leaks) > 0 {
		t.Errorf("the problem document shows the key: %q\n%s", leaks, shown)
	}
}
