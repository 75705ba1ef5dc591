package download

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestFile(t *testing.T) {
	body := bytes.Repeat([]byte("weights"), 50000)
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok.pth":
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
		case "/short.pth": // announces more than it sends
			w.Header().Set("Content-Length", "1000")
			w.Write(body[:10])
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()

	var progress bytes.Buffer
	dst := filepath.Join(dir, "hub", "checkpoints", "ok.pth")
	if err := File(context.Background(), srv.Client(), srv.URL+"/ok.pth", dst, digest[:8], &progress); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("downloaded %d bytes, %v", len(got), err)
	}
	if p := progress.String(); !strings.Contains(p, "ok.pth [") || !strings.Contains(p, "100%") || !strings.HasSuffix(p, "\n") {
		t.Errorf("progress %q", p)
	}

	for _, tc := range []struct{ path, digest, want string }{
		{"/ok.pth", "0000", "does not match the published 0000"},
		{"/short.pth", "", "unexpected EOF"},
		{"/missing.pth", "", "404"},
	} {
		dst := filepath.Join(dir, "bad"+strings.TrimPrefix(tc.path, "/"))
		err := File(context.Background(), srv.Client(), srv.URL+tc.path, dst, tc.digest, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want %q", tc.path, err, tc.want)
		}
		if _, err := os.Stat(dst); !os.IsNotExist(err) {
			t.Errorf("%s: a file was left at %s", tc.path, dst)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
