package forge

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// dispatcher delivers webhooks: one worker and one bounded queue per hook,
// so that a hook sees its events in order and a slow receiver holds up
// only itself. Every attempt goes in the delivery log.
type dispatcher struct {
	f      *Forge
	client *http.Client
	size   int
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	queues  map[int64]chan *delivery
	log     map[int64][]*delivery // hook -> newest last
	nextID  int64
	pending int
	idle    chan struct{} // closed while pending == 0
}

// delivery is one attempt to deliver an event to a hook.
type delivery struct {
	ID          int64
	GUID        string
	HookID      int64
	Event       string
	Action      string
	RepoID      int64
	InstID      int64
	Redelivery  bool
	Body        []byte
	Headers     map[string]string
	target      hookTarget
	Delivered   time.Time
	Duration    time.Duration
	StatusCode  int
	Status      string
	RespHeaders map[string]string
	RespBody    string
}

// maxLog bounds the delivery log per hook.
const maxLog = 500

func newDispatcher(f *Forge, client *http.Client, size int) *dispatcher {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if size <= 0 {
		size = 1000
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &dispatcher{f: f, client: client, size: size, ctx: ctx, cancel: cancel,
		queues: map[int64]chan *delivery{}, log: map[int64][]*delivery{}, idle: idle}
}

// enqueue renders the events' payloads and queues one delivery per target.
func (d *dispatcher) enqueue(events []event) {
	for _, ev := range events {
		body, err := json.Marshal(ev.payload)
		if err != nil {
			d.f.log.Error(err, "Cannot render webhook payload", "event", ev.name)
			continue
		}
		guid := uuid.NewString()
		for _, tg := range ev.targets {
			d.submit(&delivery{GUID: guid, HookID: tg.id, Event: ev.name, Action: ev.action,
				RepoID: ev.repoID, InstID: tg.instID, Body: body, target: tg})
		}
	}
}

func (d *dispatcher) submit(dl *delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.nextID++
	dl.ID = d.nextID
	q := d.queues[dl.HookID]
	if q == nil {
		q = make(chan *delivery, d.size)
		d.queues[dl.HookID] = q
		d.wg.Add(1)
		go d.work(q)
	}
	select {
	case q <- dl:
		if d.pending == 0 {
			d.idle = make(chan struct{})
		}
		d.pending++
	default:
		dl.Delivered = d.f.now()
		dl.Status = "queue full"
		d.record(dl)
	}
}

func (d *dispatcher) work(q chan *delivery) {
	defer d.wg.Done()
	for {
		select {
		case <-d.ctx.Done():
			return
		case dl := <-q:
			d.deliver(dl)
			d.mu.Lock()
			d.record(dl)
			d.pending--
			if d.pending == 0 {
				close(d.idle)
			}
			d.mu.Unlock()
		}
	}
}

// record appends to the delivery log; callers hold d.mu.
func (d *dispatcher) record(dl *delivery) {
	l := append(d.log[dl.HookID], dl)
	if len(l) > maxLog {
		l = l[len(l)-maxLog:]
	}
	d.log[dl.HookID] = l
}

func sign(secret string, body []byte) (sha1Sig, sha256Sig string) {
	m1 := hmac.New(sha1.New, []byte(secret))
	m1.Write(body)
	m256 := hmac.New(sha256.New, []byte(secret))
	m256.Write(body)
	return "sha1=" + hex.EncodeToString(m1.Sum(nil)), "sha256=" + hex.EncodeToString(m256.Sum(nil))
}

func (d *dispatcher) deliver(dl *delivery) {
	body, ctype := dl.Body, "application/json"
	if dl.target.contentType == "form" {
		body = []byte(url.Values{"payload": {string(dl.Body)}}.Encode())
		ctype = "application/x-www-form-urlencoded"
	}
	h := map[string]string{
		"Accept":                                 "*/*",
		"Content-Type":                           ctype,
		"User-Agent":                             "GitHub-Hookshot/bowline-sandbox",
		"X-GitHub-Event":                         dl.Event,
		"X-GitHub-Delivery":                      dl.GUID,
		"X-GitHub-Hook-ID":                       strconv.FormatInt(dl.HookID, 10),
		"X-GitHub-Hook-Installation-Target-Type": dl.target.kind,
		"X-GitHub-Hook-Installation-Target-ID":   strconv.FormatInt(dl.target.targetID, 10),
	}
	if dl.target.secret != "" {
		h["X-Hub-Signature"], h["X-Hub-Signature-256"] = sign(dl.target.secret, body)
	}
	dl.Headers = h
	start := time.Now()
	dl.Delivered = d.f.now()
	defer func() { dl.Duration = time.Since(start) }()
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, dl.target.url, bytes.NewReader(body))
	if err != nil {
		dl.Status = "invalid URL"
		return
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		dl.Status = "failed to connect"
		// The hook URL may carry credentials; log it redacted.
		msg := err.Error()
		if u, perr := url.Parse(dl.target.url); perr == nil {
			msg = strings.ReplaceAll(msg, dl.target.url, u.Redacted())
		}
		d.f.log.Info("Webhook delivery failed", "hook", dl.HookID, "event", dl.Event, "error", msg)
		return
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	dl.StatusCode = resp.StatusCode
	dl.Status = resp.Status
	dl.RespBody = string(respBody)
	dl.RespHeaders = map[string]string{}
	for k := range resp.Header {
		dl.RespHeaders[k] = resp.Header.Get(k)
	}
}

// deliveries lists a hook's log, newest first.
func (d *dispatcher) deliveries(hookID int64) []*delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.log[hookID]
	out := make([]*delivery, len(l))
	for i, dl := range l {
		out[len(l)-1-i] = dl
	}
	return out
}

func (d *dispatcher) find(hookID, id int64) *delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, dl := range d.log[hookID] {
		if dl.ID == id {
			return dl
		}
	}
	return nil
}

// redeliver queues a delivery again with its original GUID, as GitHub does.
func (d *dispatcher) redeliver(old *delivery, target hookTarget) {
	d.submit(&delivery{GUID: old.GUID, HookID: old.HookID, Event: old.Event, Action: old.Action,
		RepoID: old.RepoID, InstID: old.InstID, Body: old.Body, Redelivery: true, target: target})
}

func (d *dispatcher) flush(ctx context.Context) error {
	d.mu.Lock()
	idle := d.idle
	d.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}
