package main

import (
	"bytes"
	"os"
	"slices"
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

// readmeCommands are the bowline commands of the README's shell blocks (and
// the commands that the other blocks quote, which start with
// bin/bowline), continuation lines joined, with their arguments split as a
// shell would split these simple lines.
func readmeCommands(t *testing.T) [][]string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cmds [][]string
	inBlock, shell := false, false
	var cur string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock, shell = !inBlock, line == "```sh"
			continue
		}
		if !inBlock {
			continue
		}
		line = strings.TrimSpace(line)
		if cur == "" && !strings.HasPrefix(line, "bin/bowline ") && !(shell && strings.HasPrefix(line, "bowline ")) {
			continue
		}
		if strings.Count(cur, "'")%2 == 1 {
			cur += "\n" + line // inside a quoted, multi-line argument
		} else {
			cur += " " + strings.TrimSuffix(line, "\\")
		}
		if strings.HasSuffix(line, "\\") || strings.Count(cur, "'")%2 == 1 {
			continue
		}
		cmds = append(cmds, shellWords(t, strings.TrimSpace(cur)))
		cur = ""
	}
	return cmds
}

// shellWords splits s at spaces outside single quotes.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var w strings.Builder
	quoted, started := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, started = !quoted, true
		case (r == ' ' || r == '\n') && !quoted:
			if started {
				words = append(words, w.String())
				w.Reset()
				started = false
			}
		default:
			w.WriteRune(r)
			started = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if started {
		words = append(words, w.String())
	}
	return words
}

// TestREADMECommandsParse checks every bowline command the README shows:
// the command exists and takes the flags as written. The bootstrap command
// also runs, with --dry-run added, so that its flags are validated and the
// manifests rendered; the demo command runs in test/e2e as bowline up
// prints it.
func TestREADMECommandsParse(t *testing.T) {
	cmds := readmeCommands(t)
	if len(cmds) < 4 {
		t.Fatalf("found %d bowline commands in the README", len(cmds))
	}
	for _, words := range cmds {
		t.Run(strings.Join(words[:2], " "), func(t *testing.T) {
			args := slices.Clone(words[1:])
			for i, a := range args {
				if a == "N" {
					args[i] = "1" // the README's placeholder for a number bowline printed
				}
			}
			root := newRootCommand()
			c, rest, err := root.Find(args)
			if err != nil || c == root {
				t.Fatalf("%v: no such command (%v)", words, err)
			}
			if err := c.ParseFlags(rest); err != nil {
				t.Fatalf("%v: %v", words, err)
			}
			if c.Name() != "bootstrap" {
				return
			}
			root = newRootCommand()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetArgs(append(args, "--dry-run"))
			if err := root.Execute(); err != nil || !strings.Contains(out.String(), "kind: Deployment") {
				t.Fatalf("%v --dry-run: %v\n%s", words, err, out.String())
			}
		})
	}
}
