package cli

import (
	"github.com/spf13/cobra"
)

// newPcapCmd is `tlskit pcap`. (Being built: see issue 4.)
func newPcapCmd(stdio Stdio) *cobra.Command {
	return &cobra.Command{
		Use:    "pcap FILE",
		Short:  "Explain the TLS connections in a pcap or pcapng capture",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("", "tlskit pcap is not built yet")
		},
	}
}
