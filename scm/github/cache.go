package ghclient

import (
	"bytes"
	"container/list"
	"context"
	"io"
	"net/http"
	"sync"
)

// response is a buffered HTTP response that can be handed to any number of
// callers and kept in the cache.
type response struct {
	status     string
	statusCode int
	header     http.Header
	body       []byte
}

func (r *response) size() int64 {
	n := int64(len(r.body))
	for k, vs := range r.header {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	return n
}

// toHTTP returns a fresh *http.Response for req.
func (r *response) toHTTP(req *http.Request) *http.Response {
	return &http.Response{
		Status:        r.status,
		StatusCode:    r.statusCode,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        r.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(r.body)),
		ContentLength: int64(len(r.body)),
		Request:       req,
	}
}

// lruCache holds validated responses, evicting the least recently used
// when either bound is exceeded.
type lruCache struct {
	maxBytes   int64
	maxEntries int

	mu    sync.Mutex
	order *list.List // front is most recent; values are *cacheEntry
	items map[string]*list.Element
	bytes int64
}

type cacheEntry struct {
	key  string
	resp *response
	size int64
}

func newLRUCache(maxBytes int64, maxEntries int) *lruCache {
	return &lruCache{maxBytes: maxBytes, maxEntries: maxEntries, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lruCache) get(key string) (*response, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).resp, true
}

func (c *lruCache) add(key string, r *response) {
	size := r.size() + int64(len(key))
	if size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeLocked(el)
	}
	c.items[key] = c.order.PushFront(&cacheEntry{key: key, resp: r, size: size})
	c.bytes += size
	for c.bytes > c.maxBytes || c.order.Len() > c.maxEntries {
		c.removeLocked(c.order.Back())
	}
}

func (c *lruCache) removeLocked(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.items, e.key)
	c.bytes -= e.size
}

// stats returns the number of entries and their bytes.
func (c *lruCache) stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.bytes
}

// cacheTransport makes every cacheable GET conditional on the ETag (or
// Last-Modified) of the response it has, serves that response again when
// GitHub answers 304, and lets concurrent identical GETs share one request.
// It never serves a response without asking GitHub: entries are only
// validators, so there is no staleness to tune.
type cacheTransport struct {
	next          http.RoundTripper
	identity      string
	cache         *lruCache
	flights       *flightGroup
	maxEntryBytes int64
	metrics       *Metrics
}

// cacheable excludes requests whose answer cannot be shared: writes, and
// requests that already carry their own validators or ranges.
func cacheable(req *http.Request) bool {
	if req.Method != http.MethodGet || (req.Body != nil && req.Body != http.NoBody) {
		return false
	}
	for _, h := range []string{"If-None-Match", "If-Modified-Since", "Range", "Cache-Control"} {
		if req.Header.Get(h) != "" {
			return false
		}
	}
	return true
}

func (t *cacheTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !cacheable(req) {
		return t.next.RoundTrip(req)
	}
	// ETags differ by credential and media type, so both are in the key;
	// the API version header changes response shapes too.
	key := t.identity + "\x00" + req.URL.String() + "\x00" + req.Header.Get("Accept") + "\x00" + req.Header.Get("X-GitHub-Api-Version")
	resp, shared, err := t.flights.do(req.Context(), key, func(ctx context.Context) (*response, error) {
		return t.fetch(req.WithContext(ctx), key)
	})
	if shared {
		t.metrics.cacheResult(cacheCoalesced)
	}
	if err != nil {
		return nil, err
	}
	return resp.toHTTP(req), nil
}

// fetch sends one request, conditional when there is a cached response.
func (t *cacheTransport) fetch(req *http.Request, key string) (*response, error) {
	cached, ok := t.cache.get(key)
	r := req
	if ok {
		r = req.Clone(req.Context())
		if etag := cached.header.Get("ETag"); etag != "" {
			r.Header.Set("If-None-Match", etag)
		} else {
			r.Header.Set("If-Modified-Since", cached.header.Get("Last-Modified"))
		}
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if ok && resp.StatusCode == http.StatusNotModified {
		_, _ = io.Copy(io.Discard, resp.Body)
		t.metrics.cacheResult(cacheHit304)
		return revalidated(cached, resp.Header), nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	fresh := &response{status: resp.Status, statusCode: resp.StatusCode, header: resp.Header, body: body}
	t.metrics.cacheResult(cacheMiss)
	if resp.StatusCode == http.StatusOK && int64(len(body)) <= t.maxEntryBytes &&
		(resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != "") {
		t.cache.add(key, fresh)
	}
	return fresh, nil
}

// revalidated is the cached response with the headers of the 304 that
// confirmed it, so callers see current rate-limit figures. Headers that
// describe the body are kept from the cached response, since the 304 has
// none.
func revalidated(cached *response, fresh http.Header) *response {
	h := cached.header.Clone()
	for k, vs := range fresh {
		switch k {
		case "Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding":
			continue
		}
		h[k] = vs
	}
	h.Set("X-From-Cache", "1")
	return &response{status: cached.status, statusCode: cached.statusCode, header: h, body: cached.body}
}

// flightGroup coalesces identical concurrent requests. Unlike
// x/sync/singleflight it runs the shared request under its own context,
// cancelled only when every caller waiting for it has gone, so one caller's
// cancellation does not fail the others.
type flightGroup struct {
	mu    sync.Mutex
	calls map[string]*flight
}

type flight struct {
	done    chan struct{}
	resp    *response
	err     error
	waiters int
	cancel  context.CancelFunc
}

// do runs fn once for all concurrent callers with the same key. shared
// reports whether this caller joined a request another caller started.
func (g *flightGroup) do(ctx context.Context, key string, fn func(context.Context) (*response, error)) (resp *response, shared bool, err error) {
	g.mu.Lock()
	if f, ok := g.calls[key]; ok {
		f.waiters++
		g.mu.Unlock()
		return g.wait(ctx, key, f, true)
	}
	if g.calls == nil {
		g.calls = map[string]*flight{}
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight{done: make(chan struct{}), waiters: 1, cancel: cancel}
	g.calls[key] = f
	g.mu.Unlock()

	go func() {
		defer close(f.done)
		f.resp, f.err = fn(fctx)
		cancel()
		g.mu.Lock()
		if g.calls[key] == f {
			delete(g.calls, key)
		}
		g.mu.Unlock()
	}()
	return g.wait(ctx, key, f, false)
}

func (g *flightGroup) wait(ctx context.Context, key string, f *flight, shared bool) (*response, bool, error) {
	select {
	case <-f.done:
		return f.resp, shared, f.err
	case <-ctx.Done():
		g.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			if g.calls[key] == f {
				// Nobody waits; a new caller must not join a cancelled call.
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		return nil, shared, ctx.Err()
	}
}
