package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/clonerefs"
	"github.com/bowline-ci/bowline/podutils/entrypoint"
	"github.com/bowline-ci/bowline/podutils/initupload"
	"github.com/bowline-ci/bowline/podutils/sidecar"
)

// PodUtilityOptions says where a pod utility finds its options: a JSON
// file given by flag, else the JSON in its environment variable, as in
// Prow's decorated pods.
type PodUtilityOptions struct {
	// File is a JSON options file; empty means the environment variable.
	File string
	// Env is the environment variable holding the JSON options.
	Env string
}

// AddFlags registers the options flag.
func (o *PodUtilityOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.File, "options", "", "JSON options file; default: the JSON in $"+o.Env)
}

// Load decodes the options into v; unknown fields are errors, so that a
// misspelt option is not silently ignored.
func (o *PodUtilityOptions) Load(v any) error {
	var raw []byte
	switch {
	case o.File != "":
		b, err := os.ReadFile(o.File)
		if err != nil {
			return fmt.Errorf("read options: %w", err)
		}
		raw = b
	case os.Getenv(o.Env) != "":
		raw = []byte(os.Getenv(o.Env))
	default:
		return fmt.Errorf("no options: set $%s or --options", o.Env)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("parse options: %w", err)
	}
	return nil
}

func newCloneRefsCommand() *cobra.Command {
	o := PodUtilityOptions{Env: clonerefs.OptionsEnv}
	cmd := &cobra.Command{
		Use:   "clonerefs",
		Short: "Clone a job's repositories and merge its pull requests (pod utility)",
		Long: "Clones each repository of the job under the source root, merges the pull requests onto the base in order,\n" +
			"and writes the clone records. A failed clone is recorded, not fatal: initupload fails the run.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts clonerefs.Options
			if err := o.Load(&opts); err != nil {
				return err
			}
			records, err := clonerefs.Run(cmd.Context(), opts)
			fmt.Fprint(cmd.OutOrStdout(), clonerefs.FormatLog(records))
			return err
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func newInitUploadCommand() *cobra.Command {
	o := PodUtilityOptions{Env: initupload.OptionsEnv}
	cmd := &cobra.Command{
		Use:   "initupload",
		Short: "Upload started.json and the clone log; fail when cloning failed (pod utility)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts initupload.Options
			if err := o.Load(&opts); err != nil {
				return err
			}
			spec, err := podutils.JobSpecFromEnv()
			if err != nil {
				return err
			}
			return initupload.Run(cmd.Context(), opts, spec)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func newEntrypointCommand() *cobra.Command {
	o := PodUtilityOptions{Env: entrypoint.OptionsEnv}
	var copyTo string
	cmd := &cobra.Command{
		Use:   "entrypoint",
		Short: "Run a job's test command with log capture, timeout and exit marker (pod utility)",
		Long: "Runs the command in its own process group, copying its output to the process log, interrupts it at its\n" +
			"timeout and kills it after the grace period, writes its exit code to the marker file and exits with it.\n" +
			"With --copy-to, copies the bowline binary to a path instead (the place-entrypoint step).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if copyTo != "" {
				return entrypoint.CopySelf(copyTo)
			}
			var opts entrypoint.Options
			if err := o.Load(&opts); err != nil {
				return err
			}
			opts.Output = cmd.OutOrStdout()
			res, err := entrypoint.Run(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if res.ExitCode != 0 && !opts.AlwaysZero {
				return exitError{code: res.ExitCode}
			}
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&copyTo, "copy-to", "", "copy the bowline binary to this path and exit")
	return cmd
}

func newSidecarCommand() *cobra.Command {
	o := PodUtilityOptions{Env: sidecar.OptionsEnv}
	cmd := &cobra.Command{
		Use:   "sidecar",
		Short: "Wait for the test containers, then upload the log, artifacts and finished.json (pod utility)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts sidecar.Options
			if err := o.Load(&opts); err != nil {
				return err
			}
			spec, err := podutils.JobSpecFromEnv()
			if err != nil {
				return err
			}
			res, err := sidecar.Run(cmd.Context(), opts, spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Run finished: %s, files in %s\n", res.Result, res.RunPath)
			// Exit as the test did, so that the pod's phase shows the outcome.
			if res.ExitCode != 0 {
				return exitError{code: res.ExitCode}
			}
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}
