// Package deploy holds bowline's own deployment file, deployment.yaml under
// a ConfigRepository's deploy path: the bowline image, and the roles that
// run in Deployments of their own with their replicas, resources and a
// bounded set of tuning flags, with the checks `bowline check` and the
// ConfigRepository reconciler run on it.
//
// What the file can say is deliberately narrow. The pods it describes run
// with the operator's ServiceAccount and the credentials `bowline bootstrap`
// mounted, so the file names no volume, Secret, environment variable,
// ServiceAccount, command or security setting: those come from the
// operator's own Deployment, which only the cluster's administrators
// change. Flags are an allow-list of tuning knobs (workers, queue sizes,
// delays, log level); anything that names a file, an address, an endpoint
// or a namespace is refused, so that a change to the config repository
// cannot redirect a credential elsewhere. docs/deploy.md and
// docs/security.md describe the boundary.
package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"
	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// FileName is the file read under the deploy path; FileNameAlt is also
// accepted.
const (
	FileName    = "deployment.yaml"
	FileNameAlt = "deployment.yml"
)

// Role names, as `bowline operator --components` spells them.
const (
	RoleJobs     = "jobs"
	RoleReporter = "reporter"
	RolePeriodic = "periodic"
	RoleMerge    = "merge"
	RoleOrgs     = "orgs"
	RoleHook     = "hook"
	RoleWeb      = "web"
	// RoleConfig reads the config repository and applies this file; it
	// always runs in the operator `bowline bootstrap` installed.
	RoleConfig = "config"
)

// Roles are the roles a deployment file can run in Deployments of their
// own, in the order they are rolled out: the controllers, which read what
// the others write, before the webhook server and the web UI, which write
// it.
var Roles = []string{RoleJobs, RoleReporter, RolePeriodic, RoleMerge, RoleOrgs, RoleHook, RoleWeb}

// Elected reports whether a role acts alone: its replicas elect a leader,
// and only the leader works. The others (hook, web) serve on every replica.
func Elected(role string) bool { return role != RoleHook && role != RoleWeb }

// Defaults and bounds.
const (
	// DefaultReplicas is a role's replicas when the file names none: two,
	// so that one can fail (or be rolled) while the other serves or takes
	// over the lease.
	DefaultReplicas = 2
	// MaxReplicas bounds a role's replicas.
	MaxReplicas = 50
	// DefaultProgressDeadlineSeconds is how long a role's rollout may
	// make no progress before it is rolled back.
	DefaultProgressDeadlineSeconds = 300
	// MinProgressDeadlineSeconds and MaxProgressDeadlineSeconds bound it.
	MinProgressDeadlineSeconds = 30
	MaxProgressDeadlineSeconds = 3600
)

// Config is deployment.yaml.
type Config struct {
	// Image is the bowline image every role in the file runs, with a tag or
	// a digest: registry/bowline:v1.2.3 or registry/bowline@sha256:….
	Image Image `json:"image"`
	// ProgressDeadlineSeconds bounds how long one role's rollout may make
	// no progress before it is rolled back; default 300.
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
	// Roles run in Deployments of their own, by role name; a role left out
	// runs in the operator's own Deployment.
	Roles map[string]Role `json:"roles"`

	// Pos is the start of the file.
	Pos yamlpos.Pos `json:"-"`
}

// Role is how one role runs.
type Role struct {
	// Replicas of the role's Deployment; default 2.
	Replicas *int32 `json:"replicas,omitempty"`
	// Resources of the role's container; default the operator's own.
	Resources *Resources `json:"resources,omitempty"`
	// Flags are extra flags of the role's process, by name without the
	// leading dashes, from the allow-list (Flags).
	Flags map[string]Scalar `json:"flags,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Resources are a container's requests and limits.
type Resources struct {
	Requests *Amounts `json:"requests,omitempty"`
	Limits   *Amounts `json:"limits,omitempty"`
}

// Amounts are CPU and memory, as Kubernetes quantities (500m, 1, 512Mi).
type Amounts struct {
	CPU    Scalar `json:"cpu,omitempty"`
	Memory Scalar `json:"memory,omitempty"`
}

// Image is an image reference with where it was written, so that a check
// made after loading (the install's allowed repositories) can point at it.
// It is a plain string in JSON.
type Image struct {
	Ref string
	// Line and Column locate it in its file; zero when unknown.
	Line, Column int
}

// UnmarshalYAMLNode takes a string and its position.
func (i *Image) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return fmt.Errorf("expected an image reference such as registry/bowline:v1.2.3")
	}
	*i = Image{Ref: n.Value, Line: n.Line, Column: n.Column}
	return nil
}

// MarshalJSON writes the reference alone.
func (i Image) MarshalJSON() ([]byte, error) { return json.Marshal(i.Ref) }

// String is the reference.
func (i Image) String() string { return i.Ref }

// Scalar is a YAML scalar kept as its text, whether it was written as a
// number or a string: flag values and quantities are read by what reads
// them (a flag parser, resource.ParseQuantity), not by YAML.
type Scalar string

// UnmarshalYAMLNode takes any scalar.
func (s *Scalar) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return fmt.Errorf("expected a value such as 8, 30s or 512Mi")
	}
	*s = Scalar(n.Value)
	return nil
}

// ReplicasOrDefault is the role's replicas.
func (r Role) ReplicasOrDefault() int32 {
	if r.Replicas == nil {
		return DefaultReplicas
	}
	return *r.Replicas
}

// ProgressDeadline is the file's progress deadline in seconds.
func (c *Config) ProgressDeadline() int32 {
	if c.ProgressDeadlineSeconds == nil {
		return DefaultProgressDeadlineSeconds
	}
	return *c.ProgressDeadlineSeconds
}

// Names lists the roles the file deploys, in rollout order.
func (c *Config) Names() []string {
	var out []string
	for _, r := range Roles {
		if _, ok := c.Roles[r]; ok {
			out = append(out, r)
		}
	}
	return out
}

// Validate checks the file: a role name bowline knows (never config), an
// image with a tag or digest, replicas and the progress deadline within
// bounds, quantities that parse with requests within limits, and flags from
// the role's allow-list with values of the flag's type.
func (c *Config) Validate(errs *yamlpos.Errors) {
	if len(c.Roles) == 0 {
		errs.AddAt(c.Pos, yamlpos.At("roles"), "roles: name the roles to run in Deployments of their own (%s), or remove the file to run every role in the operator's own Deployment", strings.Join(Roles, ", "))
	}
	if msg := checkImage(c.Image.Ref); msg != "" {
		errs.AddAt(c.Pos, yamlpos.At("image"), "image: %s", msg)
	}
	if d := c.ProgressDeadlineSeconds; d != nil && (*d < MinProgressDeadlineSeconds || *d > MaxProgressDeadlineSeconds) {
		errs.AddAt(c.Pos, yamlpos.At("progressDeadlineSeconds"), "progressDeadlineSeconds: %d is not between %d and %d", *d, MinProgressDeadlineSeconds, MaxProgressDeadlineSeconds)
	}
	names := make([]string, 0, len(c.Roles))
	for name := range c.Roles {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case name == RoleConfig:
			errs.AddAt(c.Pos, yamlpos.At("roles").Name(name), "roles: config runs in the operator `bowline bootstrap` installed, which applies this file; it cannot be deployed by it")
			continue
		case !slices.Contains(Roles, name):
			errs.AddAt(c.Pos, yamlpos.At("roles").Name(name), "roles: unknown role %q (want %s)", name, strings.Join(Roles, ", "))
			continue
		}
		c.Roles[name].validate(name, errs)
	}
}

func (r Role) validate(name string, errs *yamlpos.Errors) {
	if n := r.Replicas; n != nil && (*n < 1 || *n > MaxReplicas) {
		errs.AddAt(r.Pos, yamlpos.At("replicas"), "roles.%s.replicas: %d is not between 1 and %d", name, *n, MaxReplicas)
	}
	if res := r.Resources; res != nil {
		req := res.Requests.parse(r.Pos, yamlpos.At("resources", "requests"), name+".resources.requests", errs)
		lim := res.Limits.parse(r.Pos, yamlpos.At("resources", "limits"), name+".resources.limits", errs)
		for _, k := range []string{"cpu", "memory"} {
			rq, okr := req[k]
			lq, okl := lim[k]
			if okr && okl && rq.Cmp(lq) > 0 {
				errs.AddAt(r.Pos, yamlpos.At("resources", "requests", k), "roles.%s.resources: the %s request %s is above its limit %s", name, k, rq.String(), lq.String())
			}
		}
	}
	flags := make([]string, 0, len(r.Flags))
	for f := range r.Flags {
		flags = append(flags, f)
	}
	slices.Sort(flags)
	for _, f := range flags {
		spec, ok := FlagFor(name, f)
		if !ok {
			errs.AddAt(r.Pos, yamlpos.At("flags").Name(f), "roles.%s.flags: %s", name, refusedFlag(name, f))
			continue
		}
		if msg := spec.check(string(r.Flags[f])); msg != "" {
			errs.AddAt(r.Pos, yamlpos.At("flags", f), "roles.%s.flags.%s: %s", name, f, msg)
		}
	}
}

// parse reads the quantities of a, reporting those that do not parse or
// are not positive.
func (a *Amounts) parse(pos yamlpos.Pos, at yamlpos.Path, where string, errs *yamlpos.Errors) map[string]resource.Quantity {
	out := map[string]resource.Quantity{}
	if a == nil {
		return out
	}
	for k, v := range map[string]Scalar{"cpu": a.CPU, "memory": a.Memory} {
		if v == "" {
			continue
		}
		q, err := resource.ParseQuantity(string(v))
		switch {
		case err != nil:
			errs.AddAt(pos, at.Key(k), "roles.%s.%s: %q is not a quantity such as 500m, 2 or 512Mi", where, k, string(v))
		case q.Sign() <= 0:
			errs.AddAt(pos, at.Key(k), "roles.%s.%s: %s must be positive", where, k, string(v))
		default:
			out[k] = q
		}
	}
	return out
}

// checkImage says what is wrong with an image reference, or "".
func checkImage(image string) string {
	if image == "" {
		return "name the bowline image the roles run, with a tag or digest (registry/bowline:v1.2.3)"
	}
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return fmt.Sprintf("%q is not an image reference: %v", image, err)
	}
	_, tagged := ref.(reference.Tagged)
	_, digested := ref.(reference.Digested)
	if !tagged && !digested {
		return fmt.Sprintf("%q names no tag or digest: name the version to run (%s:v1.2.3), not whatever :latest is at the time", image, image)
	}
	return ""
}

// CheckRepository reports, at the image, when the file's image is not in
// one of repos: the repositories the install allows (`bowline operator
// --deploy-image-repositories`), since every role runs with the operator's
// credentials.
func (c *Config) CheckRepository(repos []string, errs *yamlpos.Errors) {
	if c.Image.Ref == "" || ImageAllowed(c.Image.Ref, repos) {
		return
	}
	where := "is empty: the operator was started without --deploy-image-repositories"
	if len(repos) > 0 {
		where = "is " + strings.Join(repos, ", ")
	}
	line, col := c.Image.Line, c.Image.Column
	if line == 0 {
		line, col = c.Pos.Line, c.Pos.Column
	}
	errs.Add(c.Pos.File, line, col, "image: %s is not in a repository this install allows (the list %s): the roles run with the operator's credentials, so the image's repository is chosen when bowline is installed (bowline bootstrap --deploy-image-repository)", c.Image.Ref, where)
}

// LeaseName is the name of the Lease a role's leader holds. The config
// role keeps the name of the single lease earlier versions held for every
// role, so that an operator of an earlier version and this one never lead
// at once during an upgrade.
func LeaseName(role string) string {
	if role == RoleConfig {
		return "bowline-operator.bowline.dev"
	}
	return "bowline-" + role + ".bowline.dev"
}

// Repository is the repository an image reference names, normalized
// (docker.io/library/… for short names); "" when it does not parse.
func Repository(image string) string {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return ""
	}
	return ref.Name()
}

// ImageAllowed reports whether image is in one of repos (compared
// normalized, so that "bowline" and "docker.io/library/bowline" are one).
func ImageAllowed(image string, repos []string) bool {
	repo := Repository(image)
	if repo == "" {
		return false
	}
	for _, r := range repos {
		if Repository(r) == repo || r == repo {
			return true
		}
	}
	return false
}

// Kinds of flag values.
type flagKind int

const (
	// kindCount is a non-negative whole number.
	kindCount flagKind = iota
	// kindPositive is a whole number above zero.
	kindPositive
	// kindBytes is a number of bytes above zero (a 64-bit flag).
	kindBytes
	// kindDuration is a Go duration above zero (30s, 2m).
	kindDuration
	// kindLevel is a log level: debug, info, error or a verbosity number.
	kindLevel
)

// FlagSpec is one flag a deployment file may set.
type FlagSpec struct {
	// Name is the flag without its dashes.
	Name string
	// Roles are the roles it applies to; nil means every role.
	Roles []string
	kind  flagKind
}

// Kind names the flag's value type as the operator's flag set declares it:
// int, int64, duration or string.
func (f FlagSpec) Kind() string {
	switch f.kind {
	case kindDuration:
		return "duration"
	case kindLevel:
		return "string"
	case kindBytes:
		return "int64"
	}
	return "int"
}

func (f FlagSpec) check(v string) string {
	switch f.kind {
	case kindCount, kindPositive, kindBytes:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Sprintf("%q is not a whole number", v)
		}
		switch {
		case n < 0 && f.kind == kindCount:
			return fmt.Sprintf("%d must be zero or more", n)
		case n <= 0 && f.kind != kindCount:
			return fmt.Sprintf("%d must be positive", n)
		}
		if f.kind != kindBytes && n > 1<<31-1 {
			return fmt.Sprintf("%d is too large", n)
		}
	case kindDuration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Sprintf("%q is not a duration such as 30s or 2m", v)
		}
		if d <= 0 {
			return fmt.Sprintf("%s must be positive", v)
		}
	case kindLevel:
		switch v {
		case "debug", "info", "error":
			return ""
		}
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return fmt.Sprintf("%q is not a log level (debug, info, error or a verbosity number)", v)
		}
	}
	return ""
}

// Flags are the flags a deployment file may set: tuning knobs only.
// Nothing that names a file, an address, an endpoint, a namespace, an image
// or the leader election: those decide where credentials go and what runs
// with them, and stay with whoever installed bowline.
var Flags = []FlagSpec{
	{Name: "log-level", kind: kindLevel},
	{Name: "github-hourly-budget", kind: kindCount},
	{Name: "github-cache-max-bytes", kind: kindBytes},
	{Name: "github-rate-limit-reserve", kind: kindCount},
	{Name: "prowjob-workers", Roles: []string{RoleJobs}, kind: kindPositive},
	{Name: "github-workers", Roles: []string{RoleReporter}, kind: kindPositive},
	{Name: "slack-workers", Roles: []string{RoleReporter}, kind: kindPositive},
	{Name: "merge-workers", Roles: []string{RoleMerge}, kind: kindPositive},
	{Name: "merge-delay", Roles: []string{RoleMerge}, kind: kindDuration},
	{Name: "merge-retry-delay", Roles: []string{RoleMerge}, kind: kindDuration},
	{Name: "orgs-workers", Roles: []string{RoleOrgs}, kind: kindPositive},
	{Name: "hook-workers", Roles: []string{RoleHook}, kind: kindPositive},
	{Name: "hook-queue-size", Roles: []string{RoleHook}, kind: kindPositive},
	{Name: "hook-max-queued-bytes", Roles: []string{RoleHook}, kind: kindBytes},
	{Name: "hook-max-body-bytes", Roles: []string{RoleHook}, kind: kindBytes},
	{Name: "hook-max-attempts", Roles: []string{RoleHook}, kind: kindPositive},
	{Name: "hook-retry-backoff", Roles: []string{RoleHook}, kind: kindDuration},
	{Name: "hook-max-retry-backoff", Roles: []string{RoleHook}, kind: kindDuration},
	{Name: "hook-handle-timeout", Roles: []string{RoleHook}, kind: kindDuration},
	{Name: "hook-dedup-window", Roles: []string{RoleHook}, kind: kindDuration},
	{Name: "hook-max-unverified-bytes", Roles: []string{RoleHook}, kind: kindBytes},
	{Name: "hook-max-unverified-requests", Roles: []string{RoleHook}, kind: kindPositive},
}

// FlagFor returns the spec of flag name for role, if the file may set it.
func FlagFor(role, name string) (FlagSpec, bool) {
	for _, f := range Flags {
		if f.Name == name && (f.Roles == nil || slices.Contains(f.Roles, role)) {
			return f, true
		}
	}
	return FlagSpec{}, false
}

// refusedFlag explains why a flag is refused.
func refusedFlag(role, name string) string {
	if strings.HasPrefix(name, "-") {
		return fmt.Sprintf("%q: name flags without their dashes (%s)", name, strings.TrimLeft(name, "-"))
	}
	for _, f := range Flags {
		if f.Name == name {
			return fmt.Sprintf("%s does not apply to the %s role (it does to %s)", name, role, strings.Join(f.Roles, ", "))
		}
	}
	var allowed []string
	for _, f := range Flags {
		if f.Roles == nil || slices.Contains(f.Roles, role) {
			allowed = append(allowed, f.Name)
		}
	}
	return fmt.Sprintf("%s cannot be set from the config repository; the %s role takes %s (docs/deploy.md says why the others stay with the install)", name, role, strings.Join(allowed, ", "))
}

// Args are the role's flags as arguments, --name=value, sorted by name.
func (r Role) Args() []string {
	names := make([]string, 0, len(r.Flags))
	for f := range r.Flags {
		names = append(names, f)
	}
	slices.Sort(names)
	out := make([]string, 0, len(names))
	for _, f := range names {
		out = append(out, "--"+f+"="+string(r.Flags[f]))
	}
	return out
}
