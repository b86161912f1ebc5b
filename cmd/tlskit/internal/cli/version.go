package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tlskit/tlskit/cmd/internal/base"
)

func newVersionCmd(stdio base.Stdio) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tlskit version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(stdio.Out, base.Version("tlskit"))
			return err
		},
	}
}
