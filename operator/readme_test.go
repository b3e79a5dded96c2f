package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEQuotesUp checks that the README shows what `make run` prints
// with the default addresses, so that the demo command it quotes is the
// one bowline prints (which test/e2e runs as printed).
func TestREADMEQuotesUp(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	r := &Ready{
		URL: "http://127.0.0.1:8090", WebhookURL: "http://127.0.0.1:8090/hook",
		Kubeconfig: ".data/controlplane/kubeconfig", ConfigRepository: "http://127.0.0.1:3000/demo/config.git",
		LogFile: ".data/bowline.log",
		Sandbox: &SandboxInfo{URL: "http://127.0.0.1:3000", DemoRepo: sandboxDemoRepo, ConfigRepo: sandboxConfigRepo,
			User: sandboxMaintainer, Token: "alice-token"},
	}
	// `make run` runs bin/bowline from the repository root.
	want := strings.TrimPrefix(readyText(r, "bin/bowline"), "\n")
	if !strings.Contains(string(readme), "```\n"+want+"\nReady in ") {
		t.Errorf("README.md does not show what bowline up prints; it should contain:\n%s", want)
	}
	for _, def := range []string{"--addr 127.0.0.1:8090", "--sandbox-addr 127.0.0.1:3000", "--data-dir .data"} {
		name, value, _ := strings.Cut(strings.TrimPrefix(def, "--"), " ")
		if f := newUpCommand().Flags().Lookup(name); f == nil || f.DefValue != value {
			t.Errorf("the README assumes %s by default", def)
		}
	}
}
