//go:build linux

package cli

import (
	"bytes"
	"database/sql"
	binenc "encoding/binary"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// crashArgs is a tiny two-fold experiment, every record kind written in
// every epoch, with the untrained check (records of epoch 0).
func crashArgs(root string) []string {
	return []string{"run", "--root_experiment_folder", root, "--root_config_folder", "../configs",
		"--experiment_name", "x", "--config_general", "default", "smoke",
		"--num_epochs_train", "3", "--iterations_per_epoch", "3", "--patience", "10",
		"--dataset", "{Glyphs: {images_per_class: 6, image_size: 16}}",
		"--transforms~OVERRIDE~", "{train: {Resize: {size: 16}}, eval: {Resize: {size: 16}}}",
		"--models~OVERRIDE~", "{trunk: {ConvNet: {channels: [8]}}, embedder: {MLP: {layer_sizes: [16]}}}"}
}

// resumeArgs continue the experiment of crashArgs.
func resumeArgs(root string) []string {
	return []string{"run", "--root_experiment_folder", root, "--experiment_name", "x", "--resume_training", "latest"}
}

// TestKillAnywhere is the crash test of the checkpoints and records: it
// watches every file a run writes and SIGKILLs the run the moment a file
// changes (its first change, and one in the middle of its changes), then
// resumes, and requires results, records and checkpoints identical to an
// uninterrupted run's.
func TestKillAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	ref := t.TempDir()
	counts, order := watchRun(t, ref, nil)
	var targets []change
	for _, path := range order {
		targets = append(targets, change{path, 1})
		if n := counts[path]; n > 1 {
			targets = append(targets, change{path, (n + 2) / 2})
		}
	}
	var killed, finished int
	for _, target := range targets {
		root := t.TempDir()
		aim := target
		if watchRun(t, root, &target); target.n == 0 {
			t.Logf("%s: the run finished first", aim)
			finished++ // the watcher did not see that change this time
		} else {
			killed++
		}
		for attempt := 0; ; attempt++ {
			args := resumeArgs(root)
			if _, err := os.Stat(filepath.Join(root, "x", "configs", "config_general.yaml")); err != nil {
				args = crashArgs(root) // killed before the experiment was saved: start again
			}
			out, err := child(t, args...).CombinedOutput()
			if err == nil {
				break
			}
			if attempt == 2 {
				t.Fatalf("killed at %s: %v after %v\n%s", target, args, err, out)
			}
		}
		if diff := compareExperiments(t, filepath.Join(ref, "x"), filepath.Join(root, "x")); diff != "" {
			t.Errorf("killed at %s, resumed: %s", target, diff)
		}
	}
	t.Logf("%d files watched, %d changes; %d runs killed at a change and resumed, %d not reached (finished)",
		len(order), sum(counts), killed, finished)
	if killed < len(targets)*3/4 {
		t.Errorf("only %d of %d kills landed", killed, len(targets))
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// change is the n-th change of a file of the experiment (a path relative
// to the experiment root).
type change struct {
	path string
	n    int
}

func (c change) String() string { return fmt.Sprintf("change %d of %s", c.n, c.path) }

// watchRun runs crashArgs in root, watching its files. Without a target it
// returns how often each file changed and the files in the order of their
// first change; with one, it kills the run at that change, or sets
// target.n to 0 when the run ends first.
func watchRun(t *testing.T, root string, target *change) (map[string]int, []string) {
	t.Helper()
	w := newWatcher(t, root)
	cmd := child(t, crashArgs(root)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	counts := map[string]int{}
	var order []string
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.read(func(path string) bool {
			mu.Lock()
			defer mu.Unlock()
			if counts[path]++; counts[path] == 1 {
				order = append(order, path)
			}
			if target != nil && *target == (change{path, counts[path]}) {
				cmd.Process.Signal(syscall.SIGKILL)
				return false
			}
			return true
		})
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	w.close()
	<-done
	killed := err != nil && strings.Contains(err.Error(), "killed")
	switch {
	case target == nil && err != nil:
		t.Fatalf("uninterrupted run: %v\n%s", err, out.String())
	case target != nil && !killed && err != nil:
		t.Fatalf("run to kill at %s: %v\n%s", target, err, out.String())
	case target != nil && !killed:
		target.n = 0
	}
	return counts, order
}

// watcher reports the changes of the files below a folder (inotify).
type watcher struct {
	t    *testing.T
	root string
	f    *os.File
	mu   sync.Mutex
	dirs map[int32]string
}

const watchMask = syscall.IN_CREATE | syscall.IN_MODIFY | syscall.IN_MOVED_TO

func newWatcher(t *testing.T, root string) *watcher {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{t: t, root: root, f: os.NewFile(uintptr(fd), "inotify"), dirs: map[int32]string{}}
	w.add(root, nil)
	return w
}

// add watches dir and the folders in it; files already there count as
// changed (they were created before the watch).
func (w *watcher) add(dir string, changed func(string) bool) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // removed meanwhile
		}
		if d.IsDir() {
			wd, err := syscall.InotifyAddWatch(int(w.f.Fd()), path, watchMask)
			if err == nil {
				w.mu.Lock()
				w.dirs[int32(wd)] = path
				w.mu.Unlock()
			}
		} else if changed != nil {
			changed(path)
		}
		return nil
	})
}

// read calls changed with the normalised path of each change until changed
// returns false or the watcher is closed.
func (w *watcher) read(changed func(path string) bool) {
	report := func(path string) bool { return changed(normalise(w.root, path)) }
	buf := make([]byte, 64<<10)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := string(bytes.TrimRight(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+int(ev.Len)], "\x00"))
			off += syscall.SizeofInotifyEvent + int(ev.Len)
			w.mu.Lock()
			dir := w.dirs[ev.Wd]
			w.mu.Unlock()
			path := filepath.Join(dir, name)
			if ev.Mask&syscall.IN_ISDIR != 0 {
				// A folder renamed into place (the new experiment is
				// made as .<name>.new* and renamed) is watched anew under
				// its name.
				if ev.Mask&(syscall.IN_CREATE|syscall.IN_MOVED_TO) != 0 {
					w.add(path, report)
				}
				continue
			}
			if name != "" && !report(path) {
				return
			}
		}
	}
}

func (w *watcher) close() { w.f.Close() }

var (
	tempName   = regexp.MustCompile(`^\.(.*)\.(tmp|new)\d*$`)
	eventsName = regexp.MustCompile(`^events\.out\.tfevents\..*`)
)

// normalise names a file by what it is: a temporary file by the file it
// becomes, an event file as "events", the database's journal as the
// database.
func normalise(root, path string) string {
	rel, _ := filepath.Rel(root, path)
	parts := strings.Split(rel, string(filepath.Separator))
	for i, name := range parts {
		if m := tempName.FindStringSubmatch(name); m != nil {
			name = m[1]
		}
		name = eventsName.ReplaceAllString(name, "events")
		parts[i] = strings.TrimSuffix(strings.TrimSuffix(name, "-journal"), "-wal")
	}
	return filepath.Join(parts...)
}

// compareExperiments describes how the experiment folder got differs from
// want: its files (but the lock and the provenance), the bytes of each
// file, the rows of the databases and the TensorBoard events, but not what
// records a time or the folder's path. "" when they are the same.
func compareExperiments(t *testing.T, want, got string) string {
	t.Helper()
	wf, gf := experimentFiles(t, want), experimentFiles(t, got)
	if !slices.Equal(slices.Sorted(maps.Keys(wf)), slices.Sorted(maps.Keys(gf))) {
		return fmt.Sprintf("files %v, want %v", slices.Sorted(maps.Keys(gf)), slices.Sorted(maps.Keys(wf)))
	}
	var diffs []string
	for name, wp := range wf {
		gp := gf[name]
		var a, b []byte
		switch {
		case strings.HasSuffix(name, "events"):
			a, b = eventsWithoutTimes(t, wp), eventsWithoutTimes(t, gp)
		case strings.HasSuffix(name, ".db"):
			a, b = dumpDB(t, wp), dumpDB(t, gp)
		default:
			a, b = readBytes(t, wp), readBytes(t, gp)
		}
		if !bytes.Equal(a, b) {
			diffs = append(diffs, name)
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		return fmt.Sprintf("differs in %v", diffs)
	}
	return ""
}

// experimentFiles maps the normalised names of an experiment's files to
// their paths.
func experimentFiles(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		// provenance.json lists the processes that worked on the
		// experiment, with their times: a resumed one has more.
		if !d.IsDir() && d.Name() != ".lock" && d.Name() != "provenance.json" {
			name := normalise(dir, path)
			if _, dup := out[name]; dup {
				name = path // two event files: a difference
			}
			out[name] = path
		}
		return nil
	})
	return out
}

func readBytes(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// eventsWithoutTimes is the events of an event file, sorted, with the wall
// time of each (its first field, a double) zeroed: what TensorBoard shows,
// as it plots each tag by step whatever the order of the events.
func eventsWithoutTimes(t *testing.T, path string) []byte {
	data := readBytes(t, path)
	var events [][]byte
	for len(data) >= 12 {
		n := binenc.LittleEndian.Uint64(data)
		if uint64(len(data)) < 12+n+4 || n < 9 || data[12] != 0x09 {
			t.Fatalf("%s: not an event record", path)
		}
		msg := bytes.Clone(data[12 : 12+n])
		clear(msg[1:9])
		// An HParams session records when it started.
		if !bytes.Contains(msg, []byte("_hparams_/")) {
			events = append(events, msg)
		}
		data = data[12+n+4:]
	}
	if len(data) != 0 {
		t.Fatalf("%s: torn record at the end", path)
	}
	slices.SortFunc(events, bytes.Compare)
	return bytes.Join(events, []byte{0})
}

// dumpDB prints every row of every table of a SQLite database.
func dumpDB(t *testing.T, path string) []byte {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out bytes.Buffer
	tables, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var name string
		tables.Scan(&name)
		names = append(names, name)
	}
	tables.Close()
	for _, name := range names {
		query := `SELECT * FROM "` + name + `"`
		if name == "experiments" {
			query = "SELECT experiment, embedding_size FROM experiments" // not its path and time
		}
		rows, err := db.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintln(&out, name, cols)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			fmt.Fprintln(&out, vals...)
		}
		rows.Close()
	}
	return out.Bytes()
}

// TestConcurrentRunsAndResumes starts two runs of one new experiment at
// once, then, with the run killed in its first fold, two resumes at once:
// each time one process works and the other stops at once with one line
// naming the holder, and the experiment ends as an uninterrupted run's.
func TestConcurrentRunsAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end runs")
	}
	ref := t.TempDir()
	watchRun(t, ref, nil)
	both := func(args []string) {
		t.Helper()
		var outs [2][]byte
		var errs [2]error
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[i], errs[i] = child(t, args...).CombinedOutput()
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("%v twice at once: errors %v and %v; want one to fail\n%s\n%s", args, errs[0], errs[1], outs[0], outs[1])
		}
		lost := outs[0]
		if errs[0] == nil {
			lost = outs[1]
		}
		if msg := strings.TrimSpace(string(lost)); strings.Count(msg, "\n") != 0 ||
			!strings.Contains(msg, "is in use by process") && !strings.Contains(msg, "already exists and is not empty") {
			t.Errorf("the second process said %q; want one line naming the holder", msg)
		}
	}
	root := t.TempDir()
	both(crashArgs(root))
	if diff := compareExperiments(t, filepath.Join(ref, "x"), filepath.Join(root, "x")); diff != "" {
		t.Errorf("two runs at once: %s", diff)
	}
	root = t.TempDir()
	target := change{filepath.Join("x", "Test50_50_Partitions2_0", "saved_models", "latest.safetensors"), 1}
	if watchRun(t, root, &target); target.n == 0 {
		t.Fatal("the run was not killed")
	}
	both(resumeArgs(root))
	if diff := compareExperiments(t, filepath.Join(ref, "x"), filepath.Join(root, "x")); diff != "" {
		t.Errorf("two resumes at once: %s", diff)
	}
}
