//go:build !windows && !darwin

package main

import "github.com/jcmfa/jcmfa/internal/doctor"

// platformFindings: sshd and PAM are checked by doctor itself on Linux;
// macOS has its own (doctor_darwin.go).
func platformFindings(*cli) doctor.Report { return nil }
