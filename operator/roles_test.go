package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/scm/webhook"
)

// TestShutdownTimeoutsAgree: the webhook queue drains within
// --hook-grace-period, which must end before --shutdown-timeout stops the
// roles; otherwise events answered 202 are lost at shutdown.
func TestShutdownTimeoutsAgree(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "defaults: 20s drain within 25s"},
		{name: "drain as long as the shutdown", args: []string{"--hook-grace-period=25s"}, wantErr: "--hook-grace-period (25s) must be shorter than --shutdown-timeout (25s)"},
		{name: "a longer shutdown", args: []string{"--hook-grace-period=2m", "--shutdown-timeout=170s"}},
		{name: "no hook role, no drain", args: []string{"--components=jobs", "--hook-grace-period=1m"}},
		{name: "web and hook on one address", args: []string{"--web-addr=:8888"}, wantErr: "--web-addr and --hook-addr are both :8888"},
		{name: "web on its own address", args: []string{"--web-addr=127.0.0.1:9000"}},
		{name: "no prowjob namespace flag: the configuration's", args: []string{"--prowjob-namespace="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &OperatorOptions{}
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestHookRoleDrainsOnShutdown: deliveries accepted (202) but still queued
// when the process is told to stop are handled before the role returns,
// within the grace period.
func TestHookRoleDrainsOnShutdown(t *testing.T) {
	release := make(chan struct{})
	handled := make(chan string, 10)
	slow := &slowPlugin{release: release, handled: handled}
	opts := automation.DefaultOptions()
	opts.Workers = 1
	srv, err := automation.NewServer(opts, automation.Deps{
		Plugins:    []plugin.Plugin{slow},
		Enablement: enabledAll{slow.Name()},
		Secrets:    automation.Secrets{"*": {[]byte("s")}},
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	role := &httpRole{addr: ln.Addr().String(), listen: func(string, string) (net.Listener, error) { return ln, nil },
		handler: srv.Handler(), hook: srv, grace: 20 * time.Second, log: logr.Discard()}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- role.Start(ctx) }()

	body := []byte(`{"action":"created","comment":{"body":"hi"},"issue":{"number":1},"repository":{"name":"r","full_name":"o/r","owner":{"login":"o"}}}`)
	for _, id := range []string{"first", "queued-1", "queued-2"} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+automation.HookPath, bytes.NewReader(body))
		req.Header.Set(webhook.HeaderEvent, "issue_comment")
		req.Header.Set(webhook.HeaderDelivery, id)
		req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte("s"), body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s: %s", id, resp.Status)
		}
	}
	// SIGTERM while one event is being handled and two wait in the queue.
	stop()
	time.AfterFunc(100*time.Millisecond, func() { close(release) })
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the role did not stop")
	}
	close(handled)
	var got []string
	for id := range handled {
		got = append(got, id)
	}
	if strings.Join(got, ",") != "first,queued-1,queued-2" {
		t.Errorf("handled before the role returned: %v", got)
	}
}

type slowPlugin struct {
	release chan struct{}
	handled chan string
}

func (p *slowPlugin) Name() string      { return "slow" }
func (p *slowPlugin) Events() []string  { return []string{"issue_comment"} }
func (p *slowPlugin) Help() plugin.Help { return plugin.Help{} }
func (p *slowPlugin) Handle(ctx context.Context, _ logr.Logger, ev *plugin.Event) error {
	select {
	case <-p.release:
	case <-ctx.Done():
		return errors.New("cut short")
	}
	p.handled <- ev.DeliveryID
	return nil
}

type enabledAll []string

func (e enabledAll) EnabledPlugins(string, string) []string { return e }
func (e enabledAll) Enablement() plugin.Enablement          { return e }
