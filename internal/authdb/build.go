package authdb

import "regexp"

var productBuild = regexp.MustCompile(`<key>ProductBuildVersion</key>\s*<string>([A-Za-z0-9.]{1,32})</string>`)

// ProductBuild is ProductBuildVersion from the text of
// /System/Library/CoreServices/SystemVersion.plist (an XML plist), or "".
// With kern.osversion it names the installed OS build: an update, a Rapid
// Security Response included, changes one of them.
func ProductBuild(systemVersionPlist string) string {
	m := productBuild.FindStringSubmatch(systemVersionPlist)
	if m == nil {
		return ""
	}
	return m[1]
}
