//go:build !windows

package main

import "github.com/jcmfa/jcmfa/internal/doctor"

// platformFindings: sshd and PAM are checked by doctor itself on Linux;
// macOS's login window is checked by the installer (packaging/macos).
func platformFindings(*cli) doctor.Report { return nil }
