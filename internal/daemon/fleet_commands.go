package daemon

import (
	"fmt"
	"os"
	"time"

	"github.com/jcmfa/jcmfa/internal/engine"
	"github.com/jcmfa/jcmfa/internal/ipc"
)

// The fleet's admin commands join the table here so that commands.go needs
// no edit for them.
func init() {
	commands["device.id"] = cmdDeviceID
	commands["fleet.join"] = cmdFleetJoin
	commands["fleet.leave"] = cmdFleetLeave
	commands["fleet.status"] = cmdFleetStatus
	commands["fleet.check"] = cmdFleetCheck
}

func (h *Handler) fleet() (*FleetAgent, error) {
	if h.Fleet == nil {
		return nil, fmt.Errorf("this daemon runs without fleet support")
	}
	return h.Fleet, nil
}

func cmdDeviceID(h *Handler, _ engine.Actor, _ fields, out *ipc.Reply) error {
	a, err := h.fleet()
	if err != nil {
		return err
	}
	return out.Data(map[string]string{"recipient": a.Recipient()})
}

// fleet.join url=URL root=PATH [ca=PATH] [interval=DURATION]: the files are
// read by the daemon (root reads them anyway), so root.json need not fit in
// one line of the channel.
func cmdFleetJoin(h *Handler, _ engine.Actor, f fields, out *ipc.Reply) error {
	a, err := h.fleet()
	if err != nil {
		return err
	}
	if f["url"] == "" || f["root"] == "" {
		return fmt.Errorf("url= and root= (the path of the fleet's root.json) are required")
	}
	root, err := os.ReadFile(f["root"])
	if err != nil {
		return fmt.Errorf("read root.json: %w", err)
	}
	var ca []byte
	if f["ca"] != "" {
		if ca, err = os.ReadFile(f["ca"]); err != nil {
			return fmt.Errorf("read CA file: %w", err)
		}
	}
	var iv time.Duration
	if s := f["interval"]; s != "" {
		if iv, err = time.ParseDuration(s); err != nil || iv < 100*time.Millisecond {
			return fmt.Errorf("interval must be a duration of at least 100ms, like 60s, not %q", s)
		}
	}
	p, err := a.Join(f["url"], root, ca, iv)
	if err != nil {
		return err
	}
	return out.Data(p)
}

func cmdFleetLeave(h *Handler, _ engine.Actor, _ fields, _ *ipc.Reply) error {
	a, err := h.fleet()
	if err != nil {
		return err
	}
	return a.Leave()
}

func cmdFleetStatus(h *Handler, _ engine.Actor, _ fields, out *ipc.Reply) error {
	a, err := h.fleet()
	if err != nil {
		return err
	}
	s, err := a.Status()
	if err != nil {
		return err
	}
	return out.Data(s)
}

func cmdFleetCheck(h *Handler, _ engine.Actor, _ fields, out *ipc.Reply) error {
	a, err := h.fleet()
	if err != nil {
		return err
	}
	return out.Data(a.Check())
}
