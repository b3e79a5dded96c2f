package artifacts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob/s3blob"
)

// S3CredentialsKey is the key of Prow's S3 credentials in a decoration
// config's s3_credentials_secret: a JSON file in S3Credentials' format.
const S3CredentialsKey = "service-account.json"

// S3Credentials is Prow's S3 credentials file, as its pod utilities and
// crier read it: where an S3 or S3-compatible store (MinIO, say) is and the
// keys to it. Unset keys mean the AWS SDK's usual credential sources.
type S3Credentials struct {
	Region string `json:"region"`
	// Endpoint is host[:port] of an S3-compatible store; empty means AWS.
	Endpoint string `json:"endpoint"`
	// Insecure reaches Endpoint over plain HTTP.
	Insecure bool `json:"insecure"`
	// S3ForcePathStyle addresses buckets by path, as MinIO needs.
	S3ForcePathStyle bool   `json:"s3_force_path_style"`
	AccessKey        string `json:"access_key"`
	SecretKey        string `json:"secret_key"`
}

// Open opens c's bucket. When c names an S3 credentials file in Prow's
// format (S3CredentialsFile) and the file exists, an s3:// bucket is reached
// with its endpoint, region and keys; otherwise the bucket is opened as the
// package's Open does (bowline's own format: an AWS shared credentials
// file through AWS_SHARED_CREDENTIALS_FILE, or the environment).
func (c Config) Open(ctx context.Context) (*Store, error) {
	if c.S3CredentialsFile == "" || !strings.HasPrefix(c.Bucket, "s3://") {
		return Open(ctx, c.Bucket)
	}
	raw, err := os.ReadFile(c.S3CredentialsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Open(ctx, c.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("read S3 credentials: %w", err)
	}
	var creds S3Credentials
	if err := json.Unmarshal(raw, &creds); err != nil {
		// Never quote the file: it holds keys.
		return nil, fmt.Errorf("S3 credentials %s are not Prow's JSON format (region, endpoint, insecure, s3_force_path_style, access_key, secret_key)", c.S3CredentialsFile)
	}
	return openS3(ctx, c.Bucket, creds)
}

// openS3 opens an s3://bucket URL with Prow-format credentials. The URL's
// own region and endpoint parameters win over the file's.
func openS3(ctx context.Context, location string, creds S3Credentials) (*Store, error) {
	u, err := url.Parse(location)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("open bucket %s: not an s3://bucket URL", redact(location))
	}
	q := u.Query()
	region := creds.Region
	if r := q.Get("region"); r != "" {
		region = r
	}
	if region == "" {
		region = "us-east-1"
	}
	var loadOpts []func(*awsconfig.LoadOptions) error
	loadOpts = append(loadOpts, awsconfig.WithRegion(region))
	if creds.AccessKey != "" || creds.SecretKey != "" {
		loadOpts = append(loadOpts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(creds.AccessKey, creds.SecretKey, "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", redact(location), err)
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" && creds.Endpoint != "" {
		endpoint = creds.Endpoint
		if !strings.Contains(endpoint, "://") {
			scheme := "https://"
			if creds.Insecure {
				scheme = "http://"
			}
			endpoint = scheme + endpoint
		}
	}
	pathStyle := creds.S3ForcePathStyle || q.Get("use_path_style") == "true"
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle
	})
	b, err := s3blob.OpenBucket(ctx, client, u.Host, nil)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", redact(location), err)
	}
	return &Store{bucket: b, where: redact(location)}, nil
}
