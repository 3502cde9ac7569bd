package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names an S3-compatible bucket.
type S3Config struct {
	Endpoint  string // host:port
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	// Insecure speaks plain HTTP to the endpoint (a store on loopback or
	// a private network).
	Insecure bool
	// SpoolDir holds a blob of unknown size while it is read, so that it
	// goes to the store in one PUT of known length and never whole in
	// memory; "" is the system's temporary directory.
	SpoolDir string
}

// ParseS3URL reads s3://KEY:SECRET@host:port/bucket?region=…&insecure=1.
func ParseS3URL(raw string) (S3Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return S3Config{}, errors.New("want s3://KEY:SECRET@host:port/bucket?region=…")
	}
	c := S3Config{Endpoint: u.Host, Bucket: strings.Trim(u.Path, "/"), Region: u.Query().Get("region")}
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
	}
	switch u.Query().Get("insecure") {
	case "", "0", "false":
	case "1", "true":
		c.Insecure = true
	default:
		return S3Config{}, errors.New("insecure must be 0 or 1")
	}
	return c, c.Validate()
}

// Validate reports what is missing.
func (c S3Config) Validate() error {
	switch {
	case c.Endpoint == "":
		return errors.New("no endpoint")
	case c.Bucket == "" || strings.Contains(c.Bucket, "/"):
		return errors.New("want one bucket name")
	case c.AccessKey == "" || c.SecretKey == "":
		return errors.New("want an access key and a secret key")
	}
	return nil
}

// S3 stores blobs as objects of one bucket.
type S3 struct {
	c      *minio.Client
	bucket string
	spool  string
}

// NewS3 returns an S3 store; it does not reach the endpoint (see Check).
func NewS3(cfg S3Config) (*S3, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("blob: s3: %w", err)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: !cfg.Insecure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3: %w", err)
	}
	return &S3{c: c, bucket: cfg.Bucket, spool: cfg.SpoolDir}, nil
}

// Check reports whether the bucket exists and answers.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: s3: %w", err)
	}
	if !ok {
		return fmt.Errorf("blob: s3: bucket %q does not exist", s.bucket)
	}
	return nil
}

// Put implements Store. A reader of unknown size is spooled to a temporary
// file first: minio-go would otherwise buffer a whole part in memory.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	if size < 0 {
		f, err := os.CreateTemp(s.spool, ".parley-spool-*")
		if err != nil {
			return 0, fmt.Errorf("blob: put: %w", err)
		}
		defer func() { _ = f.Close(); _ = os.Remove(f.Name()) }()
		if size, err = io.Copy(f, ctxReader{ctx, r}); err != nil {
			return 0, fmt.Errorf("blob: put: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, fmt.Errorf("blob: put: %w", err)
		}
		r = f
	}
	info, err := s.c.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return 0, fmt.Errorf("blob: put: %w", err)
	}
	return info.Size, nil
}

// Open implements Store.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	if err := CheckKey(key); err != nil {
		return nil, 0, err
	}
	o, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("blob: open: %w", err)
	}
	st, err := o.Stat()
	if err != nil {
		_ = o.Close()
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, 0, ErrNotFound
		}
		return nil, 0, fmt.Errorf("blob: open: %w", err)
	}
	return o, st.Size, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil
		}
		return fmt.Errorf("blob: delete: %w", err)
	}
	return nil
}

// DeletePrefix implements Store.
func (s *S3) DeletePrefix(ctx context.Context, prefix string) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return fmt.Errorf("blob: delete prefix: %w", o.Err)
		}
		if err := s.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}
