package main

import "github.com/jcmfa/jcmfa/internal/doctor"

// platformFindings: safe mode, automatic restart sign-on, provider and
// filter registration, the credential provider's fail mode, and the pipe
// (published name, a fixed name someone else holds).
func platformFindings(c *cli) doctor.Report {
	return append(doctor.WindowsLogon(doctor.ReadLogonState()), doctor.WindowsPipe(doctor.ReadPipeState(c.socket))...)
}
