package doctor

// Files: on Windows the state directory's ACL is set by the installer; the
// DPAPI key needs no file mode. Nothing to check by mode.
func Files(stateDir, socket string) Report {
	return Report{ok("files", "permissions are ACLs set by the installer on "+stateDir)}
}
