package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHangingAPIReportedAsTimeout has the server never answer: the error
// says the request timed out, and never that the server asked for a pause
// it never asked for, whether the tries or the time budget run out first.
func TestHangingAPIReportedAsTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // no answer until the client gives up
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/")
	for _, retry := range []Retry{
		{Attempts: 100, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxTotal: time.Millisecond}, // the budget ends first
		{Attempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxTotal: time.Hour},          // the tries end first
	} {
		c := &Client{BaseURL: u, Timeout: 10 * time.Millisecond, Retry: retry}
		_, err := c.Do(context.Background(), Request{Method: "GET", Path: "x"})
		if err == nil {
			t.Fatal("no error from a server that never answers")
		}
		msg := err.Error()
		if !strings.Contains(msg, "timed out") || strings.Contains(msg, "asks to retry") {
			t.Errorf("retry %+v: error %q, want a timeout and no pause the server never asked for", retry, msg)
		}
		if StatusOf(err) != 0 {
			t.Errorf("status %d for no answer", StatusOf(err))
		}
	}
}
