package data

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bench-ml/bench/internal/progress"
)

// A remoteFile is one file of a dataset's release, as powerful_benchmarker
// downloaded it, with the MD5 checksum it published.
type remoteFile struct {
	url, name, md5 string
	// extract says the file is an archive (.tgz or .zip) to unpack into the
	// dataset folder, after removing strip from the front of its paths; a
	// file that is not an archive is copied in as it is.
	extract bool
	strip   string
}

// The releases that `download: true` fetches. The checksums are those
// powerful_benchmarker checked; where its URL is gone or is not HTTP, the
// URL is that of the same archive elsewhere (see datasets/README.md).
var (
	cub200Files = []remoteFile{{
		url:  "https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz?download=1",
		name: "CUB_200_2011.tgz", md5: "97eceeb196236b17998738112f37df78", extract: true,
	}}
	cars196Files = []remoteFile{
		{url: "http://imagenet.stanford.edu/internal/car196/car_ims.tgz", name: "car_ims.tgz",
			md5: "d5c8f0aa497503f355e17dc7886c3f14", extract: true},
		{url: "http://imagenet.stanford.edu/internal/car196/cars_annos.mat", name: "cars_annos.mat",
			md5: "b407c6086d669747186bd1d764ff9dbc"},
	}
	sopFiles = []remoteFile{{
		url:  "https://drive.usercontent.google.com/download?id=1TclrpQOF_ullUP99wk_gjGN8pKvtErG8&export=download&authuser=0&confirm=t",
		name: "Stanford_Online_Products.zip", md5: "7f73d41a2f44250d4779881525aea32e", extract: true,
		strip: "Stanford_Online_Products/",
	}}
)

// fetchURL is the URL a file is fetched from: its own, or a local server's
// in tests.
var fetchURL = func(u string) string { return u }

// DownloadProgress shows the downloads; nil shows nothing.
var DownloadProgress *progress.Reporter

// openOrDownload opens the dataset in dir, downloading it first when asked
// to and dir does not exist. Downloaded archives are kept as .part files in
// <dir>.download while they arrive, so that an interrupted download resumes;
// the dataset is unpacked into a temporary folder beside dir and renamed
// into place, so that dir is either complete or absent.
func openOrDownload(where, dir string, download bool, files []remoteFile, open func(string) (Dataset, error)) (Dataset, error) {
	if !download {
		return open(dir)
	}
	if _, err := os.Stat(dir); err == nil {
		ds, err := open(dir)
		if err != nil {
			return nil, fmt.Errorf("%w (%s exists, so it was not downloaded: remove it to download the dataset again)", err, dir)
		}
		return ds, nil
	}
	if err := fetchDataset(where, dir, files); err != nil {
		return nil, err
	}
	return open(dir)
}

func fetchDataset(where, dir string, files []remoteFile) error {
	cache := dir + ".download"
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp*")
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	defer os.RemoveAll(tmp) // gone after the rename; what is left of a failure
	for _, f := range files {
		archive := filepath.Join(cache, f.name)
		if err := fetch(where, f, archive); err != nil {
			return err
		}
		if err := unpack(f, archive, tmp); err != nil {
			return fmt.Errorf("%s: %s: %w (nothing was written to %s)", where, archive, err, dir)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return os.RemoveAll(cache)
}

// fetch downloads f to path unless path already holds it, resuming from
// path.part, and checks its checksum.
func fetch(where string, f remoteFile, path string) error {
	if sum, err := md5File(path); err == nil && sum == f.md5 {
		return nil
	}
	part := path + ".part"
	if err := download(where, fetchURL(f.url), part); err != nil {
		return err
	}
	sum, err := md5File(part)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if sum != f.md5 {
		os.Remove(part) // resuming a corrupt file cannot mend it
		return fmt.Errorf("%s: %s: checksum mismatch: MD5 %s, published %s; the download was removed, run again to fetch it anew", where, f.url, sum, f.md5)
	}
	return os.Rename(part, path)
}

// download appends to part what it lacks of the file at url, asking the
// server for the rest with an HTTP Range; a server that sends the whole file
// instead has it written from the start.
func download(where, url, part string) error {
	out, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	defer out.Close()
	have, err := out.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: downloading: %w", where, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusRequestedRangeNotSatisfiable:
		return nil // part holds the whole file already: the checksum will tell
	case http.StatusOK:
		if have, err = 0, out.Truncate(0); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if _, err := out.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	default:
		return fmt.Errorf("%s: downloading %s: %s", where, url, resp.Status)
	}
	total := have + resp.ContentLength
	bar := DownloadProgress.Bar("downloading "+path.Base(part), int(total), "MB", 1e-6, nil)
	defer bar.Done()
	counted := &countingWriter{w: out, n: have, bar: bar}
	if _, err := io.Copy(counted, resp.Body); err != nil {
		return fmt.Errorf("%s: downloading %s: %w after %d of %d bytes; run again to resume", where, url, err, counted.n, total)
	}
	return nil
}

// countingWriter moves a bar as bytes are written.
type countingWriter struct {
	w   io.Writer
	n   int64
	bar *progress.Bar
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.bar.Set(int(c.n))
	return n, err
}

func md5File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// unpack puts the file into dir: extracted if it is an archive, else as it
// is.
func unpack(f remoteFile, archive, dir string) error {
	if !f.extract {
		in, err := os.Open(archive)
		if err != nil {
			return err
		}
		defer in.Close()
		return extractFile(filepath.Join(dir, f.name), in, 0o644)
	}
	if strings.HasSuffix(f.name, ".zip") {
		return unzip(archive, dir, f.strip)
	}
	return untgz(archive, dir, f.strip)
}

func untgz(archive, dir, strip string) error {
	in, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer in.Close()
	gz, err := gzip.NewReader(in)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		target, ok := inside(dir, h.Name, strip)
		if !ok {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := extractFile(target, tr, 0o644); err != nil {
				return err
			}
		}
	}
}

func unzip(archive, dir, strip string) error {
	z, err := zip.OpenReader(archive)
	if err != nil {
		return err
	}
	defer z.Close()
	for _, f := range z.File {
		target, ok := inside(dir, f.Name, strip)
		if !ok || f.FileInfo().IsDir() {
			continue
		}
		r, err := f.Open()
		if err != nil {
			return err
		}
		err = extractFile(target, r, 0o644)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// inside maps an archive path, less its strip prefix, into dir (a path
// with .. stays in dir); ok is false for the entries to skip: those outside
// the prefix, the prefix itself, and macOS metadata.
func inside(dir, name, strip string) (string, bool) {
	name = path.Clean("/" + name)[1:]
	if strip != "" {
		rest, ok := strings.CutPrefix(name+"/", strip)
		if !ok {
			return "", false
		}
		name = strings.TrimSuffix(rest, "/")
	}
	if name == "" || strings.HasPrefix(name, "__MACOSX") {
		return "", false
	}
	return filepath.Join(dir, filepath.FromSlash(name)), true
}

func extractFile(path string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
