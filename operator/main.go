// Command bowline is Prow rebuilt as a GitOps operator. One binary serves
// every role: the operator in a cluster, the whole system on one machine,
// the offline config checker and the pod utilities that job pods run.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		var exit exitError
		if asExit(err, &exit) {
			os.Exit(exit.code)
		}
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

// newRootCommand assembles every subcommand. Each command lives in its own
// file with an Options struct that owns its flags.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "bowline",
		Short:         "Prow's CI/CD and GitHub automation, run as a GitOps operator",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newVersionCommand(),
		newOperatorCommand(),
		newCheckCommand(),
		newPlanCommand(),
		newBootstrapCommand(),
		newUpCommand(),
		newSandboxCommand(),
		newRunCommand(),
		newOrgsCommand(),
		newCloneRefsCommand(), newInitUploadCommand(), newEntrypointCommand(), newSidecarCommand(),
	)
	return root
}
