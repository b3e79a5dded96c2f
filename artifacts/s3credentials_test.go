package artifacts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fakeS3 is an S3-compatible store on plain HTTP that counts the requests
// signed with the access key ak (and refuses the others).
func fakeS3(t *testing.T, ak string) (host string, signed *atomic.Int32) {
	t.Helper()
	s3 := gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server()
	signed = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Authorization"), "Credential="+ak+"/") {
			http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
			return
		}
		signed.Add(1)
		s3.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), signed
}

// TestProwS3Credentials: an s3_credentials_secret in Prow's format (its
// service-account.json key: endpoint, region, insecure, path style and
// keys, as MinIO installs of Prow use) reaches the store it names.
func TestProwS3Credentials(t *testing.T) {
	host, signed := fakeS3(t, "minio-ak")
	dir := t.TempDir()
	prow := filepath.Join(dir, S3CredentialsKey)
	if err := os.WriteFile(prow, []byte(`{"region":"minio","endpoint":"`+host+`","insecure":true,"s3_force_path_style":true,"access_key":"minio-ak","secret_key":"minio-sk"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := Config{Bucket: "s3://ci-logs", S3CredentialsFile: prow}
	store, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.WriteFile(ctx, "logs/job/1/started.json", []byte(`{"timestamp":1}`)); err != nil {
		t.Fatal(err)
	}
	got, err := store.ReadFile(ctx, "logs/job/1/started.json")
	if err != nil || string(got) != `{"timestamp":1}` {
		t.Fatalf("read back %q, %v", got, err)
	}
	if signed.Load() == 0 {
		t.Error("no request was signed with the file's access key")
	}

	// Not Prow's format: an error that does not quote the file.
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("[default]\naws_secret_access_key = s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (Config{Bucket: "s3://ci-logs", S3CredentialsFile: bad}).Open(ctx); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("a file in another format: %v", err)
	}

	// No such file: bowline's own way (the environment), here a local
	// directory bucket to show the fallback is taken.
	local := Config{Bucket: filepath.Join(dir, "bucket"), S3CredentialsFile: filepath.Join(dir, "missing.json")}
	if s, err := local.Open(ctx); err != nil || !s.local {
		t.Errorf("fallback: %v", err)
	}
	missing := Config{Bucket: "s3://ci-logs?endpoint=http://" + host + "&use_path_style=true&region=minio", S3CredentialsFile: filepath.Join(dir, "missing.json")}
	t.Setenv("AWS_ACCESS_KEY_ID", "minio-ak")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "minio-sk")
	s, err := missing.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.ReadFile(ctx, "logs/job/1/started.json"); err != nil || len(got) == 0 {
		t.Errorf("bowline's format (environment credentials) reads %q, %v", got, err)
	}
}
