package automation_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
)

// TestAPIPluginHelp checks that the webhook server serves Prow's plugin
// help document beside its own.
func TestAPIPluginHelp(t *testing.T) {
	sw := &switchable{}
	sw.set("a")
	srv, err := automation.NewServer(automation.DefaultOptions(), automation.Deps{
		Plugins:    []plugin.Plugin{&recorder{name: "a", events: []string{"push"}}},
		Enablement: sw,
		Secrets:    automation.Secrets{"*": {[]byte(secret)}},
		Log:        logr.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Shutdown(t.Context()) })
	resp, err := http.Get(hs.URL + automation.APIPluginHelpPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	var help plugin.ProwHelp
	if err := json.NewDecoder(resp.Body).Decode(&help); err != nil {
		t.Fatal(err)
	}
	if help.PluginHelp["a"].Description != "records a" || len(help.RepoPlugins[""]) != 1 {
		t.Errorf("help %+v", help)
	}
}
