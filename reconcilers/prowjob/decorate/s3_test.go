package decorate

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils/initupload"
	"github.com/bowline-ci/bowline/podutils/sidecar"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestProwS3CredentialsSecret: a job whose s3_credentials_secret is in
// Prow's format (service-account.json with endpoint, region and keys, as
// MinIO installs of Prow have it) gets it mounted where Prow mounts it, and
// the uploaders' options reach the store it names with its keys.
func TestProwS3CredentialsSecret(t *testing.T) {
	var signed atomic.Bool
	s3 := gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Authorization"), "Credential=prow-ak/") {
			http.Error(w, "denied", http.StatusForbidden)
			return
		}
		signed.Store(true)
		s3.ServeHTTP(w, r)
	}))
	defer srv.Close()

	pj := prowJob(func(pj *v1alpha1.ProwJob) {
		pj.Spec.DecorationConfig = &v1alpha1.DecorationConfig{
			GCSConfiguration:    &v1alpha1.GCSConfiguration{Bucket: "s3://prow-logs", PathStrategy: "explicit"},
			S3CredentialsSecret: "s3-credentials",
		}
	})
	pod, err := Pod(pj, Options{Image: "bowline:test"})
	if err != nil {
		t.Fatal(err)
	}
	var vol *corev1.Volume
	for i := range pod.Spec.Volumes {
		if s := pod.Spec.Volumes[i].Secret; s != nil && s.SecretName == "s3-credentials" {
			vol = &pod.Spec.Volumes[i]
		}
	}
	if vol == nil {
		t.Fatal("the S3 credentials Secret is not a volume")
	}
	// The Secret's keys, where the kubelet puts them.
	secrets := t.TempDir()
	creds := `{"region":"minio","endpoint":"` + strings.TrimPrefix(srv.URL, "http://") + `","insecure":true,"s3_force_path_style":true,"access_key":"prow-ak","secret_key":"prow-sk"}`
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		var raw string
		var storage *artifacts.Config
		var iopts initupload.Options
		var sopts sidecar.Options
		for _, e := range c.Env {
			switch e.Name {
			case initupload.OptionsEnv:
				raw, storage = e.Value, &iopts.Storage
				if err := json.Unmarshal([]byte(raw), &iopts); err != nil {
					t.Fatal(err)
				}
			case sidecar.OptionsEnv:
				raw, storage = e.Value, &sopts.Storage
				if err := json.Unmarshal([]byte(raw), &sopts); err != nil {
					t.Fatal(err)
				}
			}
		}
		if storage == nil {
			continue
		}
		mounted := false
		for _, m := range c.VolumeMounts {
			if m.Name == vol.Name && m.MountPath == "/secrets/s3-storage" {
				mounted = true
				if storage.S3CredentialsFile != path.Join(m.MountPath, artifacts.S3CredentialsKey) {
					t.Errorf("%s: credentials file %q is not the Secret's service-account.json", c.Name, storage.S3CredentialsFile)
				}
			}
		}
		if !mounted {
			t.Fatalf("%s uploads without the S3 credentials mounted at /secrets/s3-storage, as Prow mounts them", c.Name)
		}
		file := filepath.Join(secrets, c.Name, artifacts.S3CredentialsKey)
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(creds), 0o600); err != nil {
			t.Fatal(err)
		}
		storage.S3CredentialsFile = file
		store, err := storage.Open(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if err := store.WriteFile(context.Background(), c.Name+".txt", []byte("ok")); err != nil {
			t.Errorf("%s: upload with Prow's S3 credentials: %v", c.Name, err)
		}
		store.Close()
	}
	if !signed.Load() {
		t.Error("no upload was signed with the Secret's keys")
	}
}
