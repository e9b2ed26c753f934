package fleetclient

import (
	"errors"
	"net"
	"net/url"
)

func isNetErr(err error) bool {
	var oe *net.OpError
	var ue *url.Error
	return errors.As(err, &oe) || errors.As(err, &ue)
}
