package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestPlainLines: off a terminal a bar prints one line per Interval and
// one when it ends, each with its counts, rate, status and times.
func TestPlainLines(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := New(&out, false)
	r.now = func() time.Time { return now }
	b := r.Bar("fold 0 epoch 1/2", 100, "img", 32, func() string { return "experiment ETA 01:00" })
	for i := 1; i <= 100; i++ {
		now = now.Add(time.Second) // 100 iterations of a second: a line every 10
		b.SetStatus("loss %.2f", 1/float64(i))
		b.Set(i)
	}
	b.Done()
	b.Done() // a second Done prints nothing
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 11 {
		t.Fatalf("want 10 interval lines and 1 final line, got %d:\n%s", len(lines), out.String())
	}
	for i, want := range map[int]string{
		0:  "fold 0 epoch 1/2 10/100 loss 0.10 [00:10<01:30] 32.0 img/s experiment ETA 01:00",
		10: "fold 0 epoch 1/2 100/100 loss 0.01 [01:40<00:00] 32.0 img/s experiment ETA 01:00",
	} {
		if lines[i] != want {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], want)
		}
	}
	// Log lines pass straight through.
	r.Write([]byte("a log line\n"))
	if !strings.HasSuffix(out.String(), "\na log line\n") {
		t.Errorf("log line not written: %q", out.String())
	}
}

func TestNilReporterShowsNothing(t *testing.T) {
	var r *Reporter
	b := r.Bar("x", 10, "it", 1, nil)
	b.SetStatus("s")
	b.Set(3)
	b.Done()
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "00:00", 61500 * time.Millisecond: "01:02", 3723 * time.Second: "1:02:03"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestLayout: a terminal line keeps the name and counts, then the fields
// that fit in order, shortening the name first and leaving room for a bar.
func TestLayout(t *testing.T) {
	name := "Test50_50_Partitions2_0 epoch 1/4"
	fields := []string{"7/25", "loss 0.8787", "[00:01<00:02]", "915.9 img/s", "experiment ETA 00:09"}
	cases := []struct {
		width      int
		head, tail string
	}{
		{160, name + " 7/25", "loss 0.8787 [00:01<00:02] 915.9 img/s experiment ETA 00:09"},
		{80, name + " 7/25", "loss 0.8787 [00:01<00:02]"},
		{40, "Test50_50_Part… 7/25", "loss 0.8787"},
		{20, "Test50… 7/25", ""}, // mpb truncates what is still too wide
	}
	for _, c := range cases {
		head, tail := layout(name, fields, c.width)
		if head != c.head || tail != c.tail {
			t.Errorf("width %d: got %q + %q, want %q + %q", c.width, head, tail, c.head, c.tail)
		}
		if c.width >= 40 {
			if n := utf8.RuneCountInString(head) + utf8.RuneCountInString(tail) + 2 + minBar; n > c.width {
				t.Errorf("width %d: the line needs %d columns", c.width, n)
			}
		}
	}
}
