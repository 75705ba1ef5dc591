// Package download fetches a published file (model weights) into place:
// over HTTP(S), checked against its published SHA-256 digest, with a
// progress line, written atomically so that an interrupted or corrupt
// download never leaves a file under the final name.
package download

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bench-ml/bench/internal/record"
)

// File downloads url to dst. digest is the file's SHA-256 in hex, or a
// prefix of it (torch.hub's file names carry the first 8 or more digits);
// "" skips the check. Progress goes to progress (nil: none).
func File(ctx context.Context, client *http.Client, url, dst, digest string, progress io.Writer) error {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return record.WriteAtomic(dst, func(f *os.File) error {
		h := sha256.New()
		var body io.Reader = resp.Body
		if progress != nil {
			bar := &bar{w: progress, name: filepath.Base(dst), total: resp.ContentLength}
			defer bar.done()
			body = io.TeeReader(body, bar)
		}
		n, err := io.Copy(io.MultiWriter(f, h), body)
		if err != nil {
			return fmt.Errorf("%s: %w", url, err)
		}
		if resp.ContentLength >= 0 && n != resp.ContentLength {
			return fmt.Errorf("%s: got %d bytes; the server announced %d", url, n, resp.ContentLength)
		}
		got := hex.EncodeToString(h.Sum(nil))
		if digest != "" && !strings.HasPrefix(got, strings.ToLower(digest)) {
			return fmt.Errorf("%s: SHA-256 %s does not match the published %s: the file is corrupt or not the published one", url, got, digest)
		}
		return nil
	})
}

// bar is a one-line progress display, redrawn at most ten times a second.
type bar struct {
	w     io.Writer
	name  string
	total int64 // -1 when unknown
	n     int64
	last  time.Time
}

func (b *bar) Write(p []byte) (int, error) {
	b.n += int64(len(p))
	if now := time.Now(); now.Sub(b.last) >= 100*time.Millisecond {
		b.last = now
		b.draw()
	}
	return len(p), nil
}

func (b *bar) draw() {
	const mb = 1 << 20
	if b.total <= 0 {
		fmt.Fprintf(b.w, "\r%s %.1f MB", b.name, float64(b.n)/mb)
		return
	}
	const width = 30
	done := int(width * b.n / b.total)
	fmt.Fprintf(b.w, "\r%s [%s%s] %.1f/%.1f MB %3d%%", b.name, strings.Repeat("=", done), strings.Repeat(" ", width-done),
		float64(b.n)/mb, float64(b.total)/mb, 100*b.n/b.total)
}

func (b *bar) done() {
	b.draw()
	fmt.Fprintln(b.w)
}
