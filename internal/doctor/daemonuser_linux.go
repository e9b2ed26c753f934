package doctor

import "github.com/jcmfa/jcmfa/internal/paths"

func daemonUser() string { return paths.DaemonUser }
