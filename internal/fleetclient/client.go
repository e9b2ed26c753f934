// Package fleetclient is the device side of fleet management: it checks the
// fleet's TUF repository over HTTPS with go-tuf, downloads this device's
// bundle when a new one is published, and opens it with the device's age
// identity. It decides nothing about logins and writes nothing: the daemon
// applies what it returns in one store transaction.
package fleetclient

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"github.com/jcmfa/jcmfa/internal/fleet"
)

// Config is what a device needs to follow a fleet.
type Config struct {
	URL         string // the repository's base URL (https://...)
	Dir         string // where the trusted metadata is kept (inside the state directory)
	PinnedRoot  []byte // root.json given at join: used until the repository rotates it
	CACertPEM   []byte // extra CA certificates for the host (a private CA); system roots otherwise
	Identity    *age.X25519Identity
	HTTPTimeout time.Duration
	UserAgent   string
	Context     context.Context // cancels downloads in progress (daemon shutdown)
}

// Client checks one fleet repository.
type Client struct {
	cfg   Config
	fetch *condFetcher
}

// New makes a client; it touches nothing until Check.
func New(cfg Config) (*Client, error) {
	if cfg.HTTPTimeout == 0 {
		cfg.HTTPTimeout = 30 * time.Second
	}
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "jcmfa-agent"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(cfg.CACertPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(cfg.CACertPEM) {
			return nil, errors.New("the CA file holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &Client{cfg: cfg, fetch: &condFetcher{client: &http.Client{Transport: tr, Timeout: cfg.HTTPTimeout},
		agent: cfg.UserAgent, ctx: cfg.Context, cache: map[string]cached{}}}, nil
}

// Result is what one check found.
type Result struct {
	Changed  bool   // a bundle other than appliedHash is published for this device
	Hash     string // sha256 of the bundle as published
	Snapshot int64  // the TUF snapshot version it came with
	Payload  fleet.Payload
}

// ErrNoBundle means the repository verifies but holds no bundle for this
// device (not registered with `fleet device add`, or not published since).
var ErrNoBundle = errors.New("the fleet publishes no bundle for this device yet: register it (`jcmfa-agent fleet device add NAME --key RECIPIENT`) and publish")

func (c *Client) metadataDir() string { return filepath.Join(c.cfg.Dir, "metadata") }

// trustedRoot is the newest root this device verified, else the pinned one.
func (c *Client) trustedRoot() []byte {
	if raw, err := os.ReadFile(filepath.Join(c.metadataDir(), "root.json")); err == nil {
		return raw
	}
	return c.cfg.PinnedRoot
}

// Check runs the TUF client workflow (root, timestamp, snapshot, targets,
// this device's bin) and, when the bundle differs from appliedHash,
// downloads, verifies and opens it. Any error means: keep what is in force.
func (c *Client) Check(appliedHash string) (Result, error) {
	res, err := c.check(appliedHash)
	if err != nil {
		// A 304 must never bring back a file that failed verification.
		c.fetch.forget()
	}
	return res, err
}

func (c *Client) check(appliedHash string) (Result, error) {
	var res Result
	uc, err := config.New(c.cfg.URL, c.trustedRoot())
	if err != nil {
		return res, err
	}
	uc.LocalMetadataDir = c.metadataDir()
	uc.LocalTargetsDir = filepath.Join(c.cfg.Dir, "targets")
	uc.Fetcher = c.fetch
	up, err := updater.New(uc)
	if err != nil {
		return res, fmt.Errorf("trusted root: %w", err)
	}
	if err := up.Refresh(); err != nil {
		return res, describe(err)
	}
	res.Snapshot = up.GetTrustedMetadataSet().Snapshot.Signed.Version
	target := fleet.TargetPath(c.cfg.Identity.Recipient().String())
	ti, err := up.GetTargetInfo(target)
	if err != nil {
		// go-tuf reports a target no bin lists only in words.
		if err.Error() == fmt.Sprintf("target %s not found", target) {
			return res, ErrNoBundle
		}
		return res, describe(err)
	}
	res.Hash = hex.EncodeToString(ti.Hashes["sha256"])
	if res.Hash == appliedHash {
		return res, nil
	}
	_, data, err := up.DownloadTarget(ti, filepath.Join(uc.LocalTargetsDir, "bundle"), "")
	if err != nil {
		return res, describe(err)
	}
	if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != res.Hash {
		return res, errors.New("downloaded bundle does not match its signed hash")
	}
	if res.Payload, err = fleet.OpenBundle(data, c.cfg.Identity); err != nil {
		return res, err
	}
	res.Changed = true
	return res, nil
}

// Reason is a short word for an error, for status and the audit log.
func Reason(err error) string {
	var (
		unsigned *metadata.ErrUnsignedMetadata
		expired  *metadata.ErrExpiredMetadata
		badVer   *metadata.ErrBadVersionNumber
		lenHash  *metadata.ErrLengthOrHashMismatch
		dlLen    *metadata.ErrDownloadLengthMismatch
		dlHTTP   *metadata.ErrDownloadHTTP
	)
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &unsigned):
		return "bad-signature"
	case errors.As(err, &expired):
		return "expired-metadata"
	case errors.As(err, &badVer):
		return "rollback"
	case errors.As(err, &lenHash), errors.As(err, &dlLen):
		return "bad-download"
	case errors.Is(err, fleet.ErrNotForThisDevice):
		return "not-for-this-device"
	case errors.Is(err, ErrNoBundle):
		return "no-bundle"
	case errors.As(err, &dlHTTP):
		return "http-error"
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) || isNetErr(err) {
		return "unreachable"
	}
	return "error"
}

// describe adds what a TUF error means for the device.
func describe(err error) error {
	switch Reason(err) {
	case "bad-signature":
		return fmt.Errorf("fleet metadata is not signed by the keys this device trusts (tampered, or re-signed with another key): %w", err)
	case "expired-metadata":
		return fmt.Errorf("fleet metadata has expired (the admin has not published lately, or someone replays old files): %w", err)
	case "rollback":
		return fmt.Errorf("fleet metadata is older than what this device already trusts (rollback): %w", err)
	case "bad-download":
		return fmt.Errorf("a download does not match its signed length or hash (truncated or altered): %w", err)
	}
	return err
}
