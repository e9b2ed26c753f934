package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jcmfa/jcmfa/internal/authdb"
	"github.com/jcmfa/jcmfa/internal/doctor"
)

// platformFindings: the login window's rule, read with the installed
// authdb.sh (the same check the daemon's drift watch runs), and what that
// watch last did.
func platformFindings(c *cli) doctor.Report {
	var r authdb.Report
	var checkErr error
	if sys := authdb.Default(); sys == nil {
		checkErr = errors.New("doctor is not running as root")
	} else {
		r, checkErr = sys.Check(context.Background())
	}
	var watch *authdb.Status
	rows, watchErr := c.client().Command("authdb.status", nil, nil)
	if watchErr == nil && len(rows) > 0 {
		watch = new(authdb.Status)
		watchErr = json.Unmarshal(rows[0], watch)
	}
	return doctor.LoginWindowRule(r, checkErr, watch, watchErr)
}
