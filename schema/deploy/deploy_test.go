package deploy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// load decodes and validates one file as the loader does, and returns the
// problems as file:line:col: message lines.
func load(t *testing.T, doc string) (*Config, []string) {
	t.Helper()
	const name = "config/bowline/deployment.yaml"
	var errs yamlpos.Errors
	c := &Config{}
	yamlpos.NewDecoder().Decode(name, []byte(doc), c, &errs)
	if errs.Len() == 0 {
		c.Validate(&errs)
	}
	errs.Resolve(func(string) ([]byte, bool) { return []byte(doc), true })
	errs.Sort()
	var out []string
	for _, e := range errs.List {
		out = append(out, e.String())
	}
	return c, out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "every role with settings",
			doc: `image: ghcr.io/bowline-ci/bowline:v1.2.3
progressDeadlineSeconds: 120
roles:
  hook:
    replicas: 3
    resources:
      requests: {cpu: 200m, memory: 256Mi}
      limits: {memory: 1Gi}
    flags:
      hook-workers: 64
      hook-dedup-window: 2h
      log-level: debug
  web: {}
  jobs: {replicas: 2, flags: {prowjob-workers: "16"}}
  reporter: {flags: {github-workers: 10}}
  periodic: {}
  merge: {flags: {merge-delay: 10s}}
  orgs: {replicas: 1}
`,
		},
		{
			name: "digest",
			doc:  "image: registry.example.com/ci/bowline@sha256:" + strings.Repeat("a", 64) + "\nroles: {jobs: {}}\n",
		},
		{
			name: "no roles",
			doc:  "image: bowline:v1\nroles: {}\n",
			want: []string{"config/bowline/deployment.yaml:2:8: roles: name the roles to run in Deployments of their own (jobs, reporter, periodic, merge, orgs, hook, web), or remove the file to run every role in the operator's own Deployment"},
		},
		{
			name: "no image",
			doc:  "roles:\n  hook: {}\n",
			want: []string{"config/bowline/deployment.yaml:1:1: image: name the bowline image the roles run, with a tag or digest (registry/bowline:v1.2.3)"},
		},
		{
			name: "image without a version",
			doc:  "image: ghcr.io/bowline-ci/bowline\nroles:\n  hook: {}\n",
			want: []string{`config/bowline/deployment.yaml:1:8: image: "ghcr.io/bowline-ci/bowline" names no tag or digest: name the version to run (ghcr.io/bowline-ci/bowline:v1.2.3), not whatever :latest is at the time`},
		},
		{
			name: "image that is no reference",
			doc:  "image: Bowline:v1\nroles:\n  hook: {}\n",
			want: []string{`config/bowline/deployment.yaml:1:8: image: "Bowline:v1" is not an image reference: invalid reference format: repository name (library/Bowline) must be lowercase`},
		},
		{
			name: "unknown role and config",
			doc:  "image: bowline:v1\nroles:\n  config: {}\n  deck: {}\n",
			want: []string{
				"config/bowline/deployment.yaml:3:3: roles: config runs in the operator `bowline bootstrap` installed, which applies this file; it cannot be deployed by it",
				`config/bowline/deployment.yaml:4:3: roles: unknown role "deck" (want jobs, reporter, periodic, merge, orgs, hook, web)`,
			},
		},
		{
			name: "replicas and deadline out of bounds",
			doc:  "image: bowline:v1\nprogressDeadlineSeconds: 5\nroles:\n  hook:\n    replicas: 0\n  web:\n    replicas: 51\n",
			want: []string{
				"config/bowline/deployment.yaml:2:26: progressDeadlineSeconds: 5 is not between 30 and 3600",
				"config/bowline/deployment.yaml:5:15: roles.hook.replicas: 0 is not between 1 and 50",
				"config/bowline/deployment.yaml:7:15: roles.web.replicas: 51 is not between 1 and 50",
			},
		},
		{
			name: "resources",
			doc: `image: bowline:v1
roles:
  jobs:
    resources:
      requests: {cpu: 2, memory: lots}
      limits: {cpu: 500m, memory: 0}
`,
			want: []string{
				"config/bowline/deployment.yaml:5:23: roles.jobs.resources: the cpu request 2 is above its limit 500m",
				`config/bowline/deployment.yaml:5:34: roles.jobs.resources.requests.memory: "lots" is not a quantity such as 500m, 2 or 512Mi`,
				"config/bowline/deployment.yaml:6:35: roles.jobs.resources.limits.memory: 0 must be positive",
			},
		},
		{
			name: "unknown resource",
			doc:  "image: bowline:v1\nroles:\n  jobs:\n    resources:\n      requests: {nvidia.com/gpu: 1}\n",
			want: []string{`config/bowline/deployment.yaml:5:18: unknown field "nvidia.com/gpu"`},
		},
		{
			name: "flags the file may not set",
			doc: `image: bowline:v1
roles:
  hook:
    flags:
      hmac-secret-file: /tmp/mine
      github-endpoint: https://evil.example.com/
      prowjob-workers: 4
      --hook-workers: 4
`,
			want: []string{
				`config/bowline/deployment.yaml:5:7: roles.hook.flags: hmac-secret-file cannot be set from the config repository; the hook role takes log-level, github-hourly-budget, github-cache-max-bytes, github-rate-limit-reserve, hook-workers, hook-queue-size, hook-max-queued-bytes, hook-max-body-bytes, hook-max-attempts, hook-retry-backoff, hook-max-retry-backoff, hook-handle-timeout, hook-dedup-window, hook-max-unverified-bytes, hook-max-unverified-requests (docs/deploy.md says why the others stay with the install)`,
				`config/bowline/deployment.yaml:6:7: roles.hook.flags: github-endpoint cannot be set from the config repository; the hook role takes log-level, github-hourly-budget, github-cache-max-bytes, github-rate-limit-reserve, hook-workers, hook-queue-size, hook-max-queued-bytes, hook-max-body-bytes, hook-max-attempts, hook-retry-backoff, hook-max-retry-backoff, hook-handle-timeout, hook-dedup-window, hook-max-unverified-bytes, hook-max-unverified-requests (docs/deploy.md says why the others stay with the install)`,
				"config/bowline/deployment.yaml:7:7: roles.hook.flags: prowjob-workers does not apply to the hook role (it does to jobs)",
				`config/bowline/deployment.yaml:8:7: roles.hook.flags: "--hook-workers": name flags without their dashes (hook-workers)`,
			},
		},
		{
			name: "flag values",
			doc: `image: bowline:v1
roles:
  hook:
    flags:
      hook-workers: 0
      hook-dedup-window: soon
      hook-max-body-bytes: 99999999999
      log-level: loud
  jobs:
    flags:
      prowjob-workers: 1.5
      github-hourly-budget: 0
`,
			want: []string{
				"config/bowline/deployment.yaml:5:21: roles.hook.flags.hook-workers: 0 must be positive",
				`config/bowline/deployment.yaml:6:26: roles.hook.flags.hook-dedup-window: "soon" is not a duration such as 30s or 2m`,
				`config/bowline/deployment.yaml:8:18: roles.hook.flags.log-level: "loud" is not a log level (debug, info, error or a verbosity number)`,
				`config/bowline/deployment.yaml:11:24: roles.jobs.flags.prowjob-workers: "1.5" is not a whole number`,
			},
		},
		{
			name: "a flag's value must be a scalar",
			doc:  "image: bowline:v1\nroles:\n  hook:\n    flags:\n      hook-workers: [1]\n",
			want: []string{"config/bowline/deployment.yaml:5:21: expected a value such as 8, 30s or 512Mi"},
		},
		{
			name: "unknown field",
			doc:  "image: bowline:v1\nroles:\n  hook:\n    env: {A: b}\n",
			want: []string{`config/bowline/deployment.yaml:4:5: unknown field "env"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, got := load(t, tt.doc)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultsAndArgs(t *testing.T) {
	c, errs := load(t, "image: bowline:v1\nroles:\n  web: {}\n  hook:\n    flags: {hook-workers: 8, log-level: debug}\n")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := c.Names(); !cmp.Equal(got, []string{"hook", "web"}) {
		t.Errorf("Names() = %v, want the rollout order [hook web]", got)
	}
	if got := c.Roles["web"].ReplicasOrDefault(); got != DefaultReplicas {
		t.Errorf("replicas = %d, want %d", got, DefaultReplicas)
	}
	if got := c.ProgressDeadline(); got != DefaultProgressDeadlineSeconds {
		t.Errorf("progress deadline = %d, want %d", got, DefaultProgressDeadlineSeconds)
	}
	if got, want := c.Roles["hook"].Args(), []string{"--hook-workers=8", "--log-level=debug"}; !cmp.Equal(got, want) {
		t.Errorf("Args() = %v, want %v", got, want)
	}
}

func TestImageAllowed(t *testing.T) {
	tests := []struct {
		image string
		repos []string
		want  bool
	}{
		{"ghcr.io/bowline-ci/bowline:v2", []string{"ghcr.io/bowline-ci/bowline"}, true},
		{"ghcr.io/bowline-ci/bowline@sha256:" + strings.Repeat("b", 64), []string{"ghcr.io/bowline-ci/bowline:v1"}, true},
		{"bowline:v2", []string{"docker.io/library/bowline"}, true},
		{"ghcr.io/evil/bowline:v2", []string{"ghcr.io/bowline-ci/bowline"}, false},
		{"ghcr.io/bowline-ci/bowline-debug:v2", []string{"ghcr.io/bowline-ci/bowline"}, false},
		{"ghcr.io/bowline-ci/bowline:v2", nil, false},
		{"not an image", []string{"not an image"}, false},
	}
	for _, tt := range tests {
		if got := ImageAllowed(tt.image, tt.repos); got != tt.want {
			t.Errorf("ImageAllowed(%q, %v) = %v, want %v", tt.image, tt.repos, got, tt.want)
		}
	}
}
