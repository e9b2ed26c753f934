package authdb

import (
	"os"

	"golang.org/x/sys/unix"
)

// InstalledScript is where the pkg puts authdb.sh (packaging/macos/build-pkg.sh).
const InstalledScript = "/usr/local/share/jcmfa/authdb.sh"

// Default is the installed authdb.sh, run as the daemon runs (root under
// launchd). A daemon not running as root (a trial) watches nothing: the
// script needs root and the rule is not its to repair.
func Default() System {
	if os.Geteuid() != 0 {
		return nil
	}
	return &Script{Path: InstalledScript, OSBuild: osBuild, TrustPath: Trusted}
}

// osBuild is kern.osversion (the running kernel's build, sysctl(3)) and
// ProductBuildVersion of SystemVersion.plist, which a Rapid Security
// Response may change alone.
func osBuild() (string, error) {
	b, err := unix.Sysctl("kern.osversion")
	if err != nil {
		return "", err
	}
	if raw, err := os.ReadFile("/System/Library/CoreServices/SystemVersion.plist"); err == nil {
		if pb := ProductBuild(string(raw)); pb != "" && pb != b {
			b += "/" + pb
		}
	}
	return b, nil
}
