package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Duration is a Go duration written as a string ("90s", "2h") or, as
// Prow's Duration type also takes, a number of nanoseconds
// (7200000000000 for 2h).
type Duration struct{ time.Duration }

// UnmarshalYAMLNode parses the duration.
func (d *Duration) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a duration such as 90s or 2h")
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
		switch n.ShortTag() {
		case "!!int", "!!float":
			v, err := nanoseconds(n.Value)
			if err != nil {
				return fmt.Errorf("invalid duration %s: %v", n.Value, err)
			}
			d.Duration = v
			return nil
		}
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("invalid duration %q: expected a duration such as 90s or 2h, or a number of nanoseconds", n.Value)
	}
	d.Duration = v
	return nil
}

// nanoseconds reads a number of nanoseconds the way Prow's JSON decoding
// does: as a float64, truncated.
func nanoseconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err == nil && (math.IsNaN(f) || math.Abs(f) > math.MaxInt64) {
		err = errors.New("out of range")
	}
	if err != nil {
		if i, ierr := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64); ierr == nil {
			return time.Duration(i), nil
		}
		return 0, errors.New("not a number of nanoseconds")
	}
	return time.Duration(f), nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case float64:
		d.Duration = time.Duration(x)
		return nil
	case string:
		p, err := time.ParseDuration(x)
		if err != nil {
			return err
		}
		d.Duration = p
		return nil
	}
	return fmt.Errorf("invalid duration %s", b)
}

// DecorationConfig configures the pod utilities that wrap a decorated job:
// cloning, log and artifact upload, timeouts.
type DecorationConfig struct {
	Timeout                     *Duration          `json:"timeout,omitempty"`
	GracePeriod                 *Duration          `json:"grace_period,omitempty"`
	UtilityImages               *UtilityImages     `json:"utility_images,omitempty"`
	Resources                   *Resources         `json:"resources,omitempty"`
	GCSConfiguration            *GCSConfiguration  `json:"gcs_configuration,omitempty"`
	GCSCredentialsSecret        *string            `json:"gcs_credentials_secret,omitempty"`
	S3CredentialsSecret         *string            `json:"s3_credentials_secret,omitempty"`
	DefaultServiceAccountName   *string            `json:"default_service_account_name,omitempty"`
	SSHKeySecrets               []string           `json:"ssh_key_secrets,omitempty"`
	SSHHostFingerprints         []string           `json:"ssh_host_fingerprints,omitempty"`
	BloblessFetch               *bool              `json:"blobless_fetch,omitempty"`
	SparseCheckoutFiles         []string           `json:"sparse_checkout_files,omitempty"`
	SkipCloning                 *bool              `json:"skip_cloning,omitempty"`
	CookiefileSecret            *string            `json:"cookiefile_secret,omitempty"`
	OauthTokenSecret            *SecretKey         `json:"oauth_token_secret,omitempty"`
	GitHubAPIEndpoints          []string           `json:"github_api_endpoints,omitempty"`
	GitHubAppID                 string             `json:"github_app_id,omitempty"`
	GitHubAppPrivateKeySecret   *SecretKey         `json:"github_app_private_key_secret,omitempty"`
	CensorSecrets               *bool              `json:"censor_secrets,omitempty"`
	CensoringOptions            *CensoringOptions  `json:"censoring_options,omitempty"`
	UploadIgnoresInterrupts     *bool              `json:"upload_ignores_interrupts,omitempty"`
	SetLimitEqualsMemoryRequest *bool              `json:"set_limit_equals_memory_request,omitempty"`
	DefaultMemoryRequest        *resource.Quantity `json:"default_memory_request,omitempty"`
	SchedulingOptions           *SchedulingOptions `json:"scheduling_options,omitempty"`
	PodPendingTimeout           *Duration          `json:"pod_pending_timeout,omitempty"`
	PodRunningTimeout           *Duration          `json:"pod_running_timeout,omitempty"`
	PodUnscheduledTimeout       *Duration          `json:"pod_unscheduled_timeout,omitempty"`
	RunAsUser                   *int64             `json:"run_as_user,omitempty"`
	RunAsGroup                  *int64             `json:"run_as_group,omitempty"`
	FsGroup                     *int64             `json:"fs_group,omitempty"`
}

// UtilityImages are the images of Prow's pod utilities. bowline loads them
// but does not run them: its own image holds all four utilities, and the
// loader warns where utility_images are set.
type UtilityImages struct {
	CloneRefs  string `json:"clonerefs,omitempty"`
	InitUpload string `json:"initupload,omitempty"`
	Entrypoint string `json:"entrypoint,omitempty"`
	Sidecar    string `json:"sidecar,omitempty"`

	// Pos is where they are set, for the warning.
	Pos yamlpos.Pos `json:"-"`
}

// Resources are the resources of the pod utilities' containers.
type Resources struct {
	CloneRefs       *corev1.ResourceRequirements `json:"clonerefs,omitempty"`
	InitUpload      *corev1.ResourceRequirements `json:"initupload,omitempty"`
	PlaceEntrypoint *corev1.ResourceRequirements `json:"place_entrypoint,omitempty"`
	Sidecar         *corev1.ResourceRequirements `json:"sidecar,omitempty"`
}

// GCSConfiguration says where logs and artifacts are uploaded.
type GCSConfiguration struct {
	// Bucket is gs://name, s3://name, or a bare name (GCS).
	Bucket            string            `json:"bucket,omitempty"`
	PathPrefix        string            `json:"path_prefix,omitempty"`
	PathStrategy      string            `json:"path_strategy,omitempty"`
	DefaultOrg        string            `json:"default_org,omitempty"`
	DefaultRepo       string            `json:"default_repo,omitempty"`
	MediaTypes        map[string]string `json:"mediaTypes,omitempty"`
	JobURLPrefix      string            `json:"job_url_prefix,omitempty"`
	LocalOutputDir    string            `json:"local_output_dir,omitempty"`
	CompressFileTypes []string          `json:"compress_file_types,omitempty"`
}

// Path strategies of GCSConfiguration.
const (
	PathStrategyLegacy   = "legacy"
	PathStrategySingle   = "single"
	PathStrategyExplicit = "explicit"
)

// SecretKey names a key of a Kubernetes Secret.
type SecretKey struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// CensoringOptions tune how secrets are censored from logs and artifacts.
type CensoringOptions struct {
	CensoringConcurrency *int64   `json:"censoring_concurrency,omitempty"`
	CensoringBufferSize  *int     `json:"censoring_buffer_size,omitempty"`
	IncludeDirectories   []string `json:"include_directories,omitempty"`
	ExcludeDirectories   []string `json:"exclude_directories,omitempty"`
	MinimumSecretLength  *int     `json:"minimum_secret_length,omitempty"`
}

// SchedulingOptions add affinity and tolerations to job pods.
type SchedulingOptions struct {
	Affinity    *corev1.Affinity    `json:"affinity,omitempty"`
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
}

// ApplyDefault returns a copy of d in which every field d leaves unset is
// taken from def. Nested settings (images, resources, upload location) are
// merged field by field; lists and Kubernetes types are taken whole.
func (d *DecorationConfig) ApplyDefault(def *DecorationConfig) *DecorationConfig {
	if d == nil && def == nil {
		return nil
	}
	out := &DecorationConfig{}
	if d != nil {
		*out = *d
	}
	if def != nil {
		fillUnset(reflect.ValueOf(out).Elem(), reflect.ValueOf(def).Elem())
	}
	return out
}

var ownPkg = reflect.TypeFor[DecorationConfig]().PkgPath()

// fillUnset sets each zero field of dst to src's value, recursing into this
// package's structs so that partial overrides keep the other defaults.
// Pointers to this package's structs are copied before they are changed,
// so the default is never modified.
func fillUnset(dst, src reflect.Value) {
	for i := range dst.NumField() {
		df, sf := dst.Field(i), src.Field(i)
		if sf.IsZero() {
			continue
		}
		if df.IsZero() {
			df.Set(sf)
			continue
		}
		t := df.Type()
		if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && t.Elem().PkgPath() == ownPkg {
			cp := reflect.New(t.Elem())
			cp.Elem().Set(df.Elem())
			fillUnset(cp.Elem(), sf.Elem())
			df.Set(cp)
		}
	}
}
