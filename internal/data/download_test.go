package data

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"image/color"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bench-ml/bench/internal/config"
)

// cubArchive is a CUB_200_2011.tgz of 2 classes of 2 images.
func cubArchive(t *testing.T) []byte {
	src := t.TempDir()
	for i, f := range []string{"001.A/a1.jpg", "001.A/a2.jpg", "002.B/b1.jpg", "002.B/b2.jpg"} {
		writeJPEG(t, filepath.Join(src, "CUB_200_2011", "images", filepath.FromSlash(f)), 4, 4, color.RGBA{uint8(50 * i), 0, 0, 255})
	}
	writeFile(t, filepath.Join(src, "attributes.txt"), []byte("as in the real archive\n"))
	return packTGZ(t, os.DirFS(src))
}

// packTGZ packs the files of fsys into a .tgz.
func packTGZ(t *testing.T, fsys fs.FS) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.AddFS(fsys); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Cars196 is an archive and a file beside it: both end up in the dataset
// folder.
func TestDownloadCars196(t *testing.T) {
	src := t.TempDir()
	annos := []carAnnotation{{"car_ims/000001.jpg", 1, 0}, {"car_ims/000002.jpg", 1, 1}, {"car_ims/000003.jpg", 2, 0}, {"car_ims/000004.jpg", 2, 1}}
	writeCarsAnnos(t, src, carNames, annos)
	for i, a := range annos {
		writeJPEG(t, filepath.Join(src, filepath.FromSlash(a.path)), 4, 4, color.RGBA{10, uint8(50 * i), 10, 255})
	}
	mat, err := os.ReadFile(filepath.Join(src, "cars_annos.mat"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(src, "cars_annos.mat")) // the archive holds car_ims/ only
	tgz := packTGZ(t, os.DirFS(src))
	serve(t, map[string][]byte{"car_ims.tgz": tgz, "cars_annos.mat": mat})
	files := []remoteFile{
		{url: "http://example.org/car196/car_ims.tgz", name: "car_ims.tgz", md5: md5Hex(tgz), extract: true},
		{url: "http://example.org/car196/cars_annos.mat", name: "cars_annos.mat", md5: md5Hex(mat)},
	}
	ds, err := openOrDownload("Cars196", filepath.Join(t.TempDir(), "cars196"), true, files, openCars196)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 4 || len(ds.Classes()) != 2 {
		t.Errorf("got %d images of %d classes, want 4 of 2", ds.Len(), len(ds.Classes()))
	}
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// server serves files by name, with HTTP ranges, and records the Range
// headers it was sent; cut, when set, ends a response after that many
// bytes, as a dropped connection does.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	ranges []string
	cut    int
}

func serve(t *testing.T, files map[string][]byte) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[path.Base(r.URL.Path)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		cut := s.cut
		s.mu.Unlock()
		if cut > 0 {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data[:cut])
			return // fewer bytes than announced: the client sees the connection drop
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(s.Close)
	old := fetchURL
	fetchURL = func(u string) string { return s.URL + "/" + path.Base(strings.Split(u, "?")[0]) }
	t.Cleanup(func() { fetchURL = old })
	return s
}

// checkNothingLeft checks that a failed download left no dataset folder
// and no temporary folder beside it.
func checkNothingLeft(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s exists after a failed download", dir)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary folder %s left behind", e.Name())
		}
	}
}

func TestDownloadCUB200(t *testing.T) {
	archive := cubArchive(t)
	files := []remoteFile{{url: "https://example.org/files/CUB_200_2011.tgz?download=1", name: "CUB_200_2011.tgz", md5: md5Hex(archive), extract: true}}

	t.Run("success", func(t *testing.T) {
		serve(t, map[string][]byte{"CUB_200_2011.tgz": archive})
		dir := filepath.Join(t.TempDir(), "cub2011")
		ds, err := openOrDownload("CUB200", dir, true, files, openCUB200)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != 4 || len(ds.Classes()) != 2 {
			t.Errorf("got %d images of %d classes, want 4 of 2", ds.Len(), len(ds.Classes()))
		}
		if _, err := os.Stat(dir + ".download"); err == nil {
			t.Error("the download folder is kept after extraction")
		}
		// Present now: opened without a request.
		serve(t, nil)
		if _, err := openOrDownload("CUB200", dir, true, files, openCUB200); err != nil {
			t.Errorf("opening the downloaded dataset again: %v", err)
		}
	})

	t.Run("resume after a dropped connection", func(t *testing.T) {
		s := serve(t, map[string][]byte{"CUB_200_2011.tgz": archive})
		dir := filepath.Join(t.TempDir(), "cub2011")
		s.cut = len(archive) / 3
		_, err := openOrDownload("CUB200", dir, true, files, openCUB200)
		if err == nil || !strings.Contains(err.Error(), "run again to resume") {
			t.Fatalf("want a dropped download to say it resumes, got %v", err)
		}
		checkNothingLeft(t, dir)
		part := filepath.Join(dir+".download", "CUB_200_2011.tgz.part")
		if st, err := os.Stat(part); err != nil || st.Size() != int64(s.cut) {
			t.Fatalf("the partial download: %v, %v; want %d bytes", st, err, s.cut)
		}
		s.cut = 0
		if _, err := openOrDownload("CUB200", dir, true, files, openCUB200); err != nil {
			t.Fatal(err)
		}
		if want := "bytes=" + strconv.Itoa(len(archive)/3) + "-"; len(s.ranges) != 2 || s.ranges[1] != want {
			t.Errorf("Range headers %q, want the second to be %q", s.ranges, want)
		}
	})

	t.Run("checksum mismatch", func(t *testing.T) {
		serve(t, map[string][]byte{"CUB_200_2011.tgz": archive})
		dir := filepath.Join(t.TempDir(), "cub2011")
		bad := []remoteFile{files[0]}
		bad[0].md5 = strings.Repeat("0", 32)
		_, err := openOrDownload("CUB200", dir, true, bad, openCUB200)
		if err == nil || !strings.Contains(err.Error(), "checksum mismatch: MD5 "+md5Hex(archive)+", published "+bad[0].md5) {
			t.Fatalf("want a checksum mismatch, got %v", err)
		}
		checkNothingLeft(t, dir)
		if _, err := os.Stat(filepath.Join(dir+".download", "CUB_200_2011.tgz.part")); err == nil {
			t.Error("the corrupt download is kept")
		}
	})

	t.Run("truncated archive", func(t *testing.T) {
		short := archive[:len(archive)*2/3]
		serve(t, map[string][]byte{"CUB_200_2011.tgz": short})
		dir := filepath.Join(t.TempDir(), "cub2011")
		broken := []remoteFile{files[0]}
		broken[0].md5 = md5Hex(short) // a published checksum of a broken archive: extraction fails
		_, err := openOrDownload("CUB200", dir, true, broken, openCUB200)
		if err == nil || !strings.Contains(err.Error(), "unexpected EOF") || !strings.Contains(err.Error(), "nothing was written to "+dir) {
			t.Fatalf("want a truncated archive error, got %v", err)
		}
		checkNothingLeft(t, dir)
	})

	t.Run("an existing incomplete folder is not overwritten", func(t *testing.T) {
		serve(t, map[string][]byte{"CUB_200_2011.tgz": archive})
		dir := filepath.Join(t.TempDir(), "cub2011")
		writeFile(t, filepath.Join(dir, "mine.txt"), []byte("x"))
		_, err := openOrDownload("CUB200", dir, true, files, openCUB200)
		if err == nil || !strings.Contains(err.Error(), "exists, so it was not downloaded") {
			t.Fatalf("got %v", err)
		}
	})
}

// A zip whose paths start with the dataset's folder is unpacked without it
// (StanfordOnlineProducts' layout), whatever the dataset folder's name.
func TestDownloadStripsZipFolder(t *testing.T) {
	src := t.TempDir()
	writeSOP(t, filepath.Join(src, "Stanford_Online_Products"),
		[]string{"1 1 1 bicycle_final/a_0.JPG", "2 1 1 bicycle_final/a_1.JPG"},
		[]string{"3 2 1 bicycle_final/b_0.JPG", "4 2 1 bicycle_final/b_1.JPG"})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := zw.AddFS(os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if w, err := zw.Create("__MACOSX/._junk"); err != nil {
		t.Fatal(err)
	} else {
		w.Write([]byte("x"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	serve(t, map[string][]byte{"Stanford_Online_Products.zip": buf.Bytes()})
	files := []remoteFile{{url: "https://example.org/Stanford_Online_Products.zip", name: "Stanford_Online_Products.zip",
		md5: md5Hex(buf.Bytes()), extract: true, strip: "Stanford_Online_Products/"}}
	dir := filepath.Join(t.TempDir(), "sop")
	ds, err := openOrDownload("StanfordOnlineProducts", dir, true, files, openSOP)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 4 {
		t.Errorf("%d images, want 4", ds.Len())
	}
	if err := fs.WalkDir(os.DirFS(dir), ".", func(p string, _ fs.DirEntry, err error) error {
		if strings.Contains(p, "MACOSX") || strings.HasPrefix(p, "Stanford_Online_Products") {
			t.Errorf("unpacked %s", p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// download: true in a config reaches the download, through fetchURL.
func TestDownloadParam(t *testing.T) {
	serve(t, nil) // every file is missing
	for _, name := range []string{"CUB200", "Cars196", "StanfordOnlineProducts"} {
		var raw any
		if err := yaml.Unmarshal([]byte("{"+name+": {download: true}}"), &raw); err != nil {
			t.Fatal(err)
		}
		c, err := config.ParseComponent(raw, "dataset", "test")
		if err != nil {
			t.Fatal(err)
		}
		open, _, err := Datasets.Build(c)
		if err != nil {
			t.Fatal(err)
		}
		_, err = open(t.TempDir())
		if err == nil || !strings.Contains(err.Error(), name+": downloading ") || !strings.Contains(err.Error(), "404 Not Found") {
			t.Errorf("%s: want a 404, got %v", name, err)
		}
	}
}
