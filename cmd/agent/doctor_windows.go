package main

import "github.com/jcmfa/jcmfa/internal/doctor"

// platformFindings: safe mode, automatic restart sign-on, provider and
// filter registration, and the credential provider's fail mode.
func platformFindings() doctor.Report { return doctor.WindowsLogon(doctor.ReadLogonState()) }
