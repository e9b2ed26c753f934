package fleetclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// condFetcher is go-tuf's Fetcher with conditional requests for the one file
// a device asks for at every poll, timestamp.json: when nothing was
// published the host answers 304 with no body. Every other file is named by
// its version or hash and is fetched only when the timestamp points at it.
type condFetcher struct {
	client *http.Client
	agent  string
	ctx    context.Context

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	etag, modified string
	body           []byte
}

// Stats counts what the fetcher did, for tests and the traffic estimate.
type Stats struct {
	Requests, NotModified int
	Bytes                 int64
}

func (f *condFetcher) DownloadFile(url string, maxLength int64, _ time.Duration) ([]byte, error) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", f.agent)
	conditional := strings.HasSuffix(url, "/timestamp.json")
	f.mu.Lock()
	c, have := f.cache[url]
	f.mu.Unlock()
	if conditional && have {
		if c.etag != "" {
			req.Header.Set("If-None-Match", c.etag)
		}
		if c.modified != "" {
			req.Header.Set("If-Modified-Since", c.modified)
		}
	}
	res, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotModified && conditional && have {
		return c.body, nil
	}
	if res.StatusCode != http.StatusOK {
		return nil, &metadata.ErrDownloadHTTP{StatusCode: res.StatusCode, URL: url}
	}
	if res.ContentLength > maxLength {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("%s is %d bytes, more than the %d expected", url, res.ContentLength, maxLength)}
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxLength+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	if int64(len(data)) > maxLength {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("%s is more than the %d bytes expected", url, maxLength)}
	}
	if conditional {
		f.mu.Lock()
		f.cache[url] = cached{etag: res.Header.Get("ETag"), modified: res.Header.Get("Last-Modified"), body: data}
		f.mu.Unlock()
	}
	return data, nil
}

func (f *condFetcher) forget() {
	f.mu.Lock()
	clear(f.cache)
	f.mu.Unlock()
}
