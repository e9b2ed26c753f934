package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd writes one man page per command from the same text --help
// prints, so the packaged manual can never drift from the binary. Hidden:
// only the package build calls it.
func newManCmd(*cli) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write the manual pages (section 8) into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			// cobra adds "completion" at Execute; its pages (powershell,
			// fish...) would only bury the commands an admin looks for.
			if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
				root.RemoveCommand(c)
			}
			// The date comes from SOURCE_DATE_EPOCH when set (cobra reads it),
			// so two builds of one commit give identical pages.
			header := &doc.GenManHeader{Section: "8", Manual: "jcmfa manual", Source: "jcmfa " + version}
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, header, args[0]); err != nil {
				return fmt.Errorf("write man pages to %s: %w", args[0], err)
			}
			return nil
		},
	}
}
