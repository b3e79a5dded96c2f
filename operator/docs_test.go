package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// commandReference is docs/commands.md: every command's help, generated
// from the commands themselves so that it cannot drift.
const commandReference = "../docs/commands.md"

// TestCommandReferenceIsCurrent fails when docs/commands.md differs from
// what the commands say about themselves; UPDATE=1 rewrites it.
func TestCommandReferenceIsCurrent(t *testing.T) {
	// Flag defaults under the temporary directory print the same everywhere.
	t.Setenv("TMPDIR", "/tmp")
	var buf bytes.Buffer
	buf.WriteString("# Command reference\n\n")
	buf.WriteString("Generated from `bowline --help` of every command; regenerate with\n")
	buf.WriteString("`UPDATE=1 go test ./operator -run TestCommandReferenceIsCurrent`.\n\n")
	root := newRootCommand()
	var cmds []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		cmds = append(cmds, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, c := range cmds {
		fmt.Fprintf(&buf, "- [`%s`](#%s) — %s\n", c.CommandPath(), anchor(c.CommandPath()), c.Short)
	}
	for _, c := range cmds {
		fmt.Fprintf(&buf, "\n## %s\n\n", c.CommandPath())
		var help bytes.Buffer
		c.SetOut(&help)
		c.SetErr(&help)
		if err := c.Help(); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&buf, "```\n%s```\n", strings.TrimRight(help.String(), "\n")+"\n")
	}
	got := buf.Bytes()
	if os.Getenv("UPDATE") != "" {
		if err := os.WriteFile(commandReference, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(commandReference)
	if err != nil {
		t.Fatalf("%v: run with UPDATE=1 to create it", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/commands.md is stale: run UPDATE=1 go test ./operator -run TestCommandReferenceIsCurrent")
	}
}

func anchor(path string) string { return strings.ReplaceAll(path, " ", "-") }
