// Package progress shows how far long work has come, as users of tqdm
// expect: on a terminal, bars redrawn in place at any width (drawn by
// github.com/vbauerster/mpb); elsewhere (a pipe, a CI log), one plain line
// per bar every Interval and when it ends.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Interval is how often a bar prints a plain line when not on a terminal.
const Interval = 10 * time.Second

// A Reporter makes bars that write to one stream, stderr in bench, and
// carries the log lines written meanwhile above the bars.
type Reporter struct {
	w        io.Writer
	terminal bool
	interval time.Duration
	now      func() time.Time

	mu     sync.Mutex
	p      *mpb.Progress // the bars being drawn, on a terminal
	active int           // bars of p not yet done
}

// New returns a Reporter writing to w; terminal says whether w is one.
// A nil Reporter shows nothing.
func New(w io.Writer, terminal bool) *Reporter {
	return &Reporter{w: w, terminal: terminal, interval: Interval, now: time.Now}
}

// Write writes log lines: above the bars while a bar is drawn on a
// terminal, else straight to the stream.
func (r *Reporter) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		return r.p.Write(b)
	}
	return r.w.Write(b)
}

// A Bar is the progress of one piece of work of known size.
type Bar struct {
	r     *Reporter
	name  string
	total int
	unit  string  // what Add counts, for the rate: "it", "img"
	scale float64 // units per step, for the rate: images per iteration
	start time.Time
	bar   *mpb.Bar

	mu      sync.Mutex
	done    int
	status  string // set by SetStatus: loss, ...
	suffix  func() string
	printed time.Time
	ended   bool
}

// Bar starts a bar of total steps. Its rate counts unitsPerStep units of
// unit per step (images per iteration, say); its line ends with suffix(),
// which may be nil (the ETA of a whole experiment, say).
func (r *Reporter) Bar(name string, total int, unit string, unitsPerStep float64, suffix func() string) *Bar {
	if r == nil {
		return nil
	}
	b := &Bar{r: r, name: name, total: max(total, 1), unit: unit, scale: unitsPerStep, start: r.now(), suffix: suffix}
	b.printed = b.start
	if !r.terminal {
		return b
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		r.p = mpb.New(mpb.WithOutput(r.w), mpb.WithWidth(80), mpb.WithRefreshRate(150*time.Millisecond))
	}
	r.active++
	// mpb renders the prepend decorators first, with the terminal's width:
	// the layout is decided there and its tail kept for the append one.
	var tail string
	b.bar = r.p.AddBar(int64(b.total),
		mpb.PrependDecorators(decor.Any(func(s decor.Statistics) string {
			var head string
			head, tail = layout(b.name, b.fields(), s.AvailableWidth)
			return head
		})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return tail })),
	)
	return b
}

// Widths of a bar line on a terminal: the least of its name (truncated
// beyond) and of the bar itself.
const minName, minBar = 8, 6

// layout fits a bar line into width columns: the name and the counts
// (fields[0]) before the bar, then the other fields in order as long as
// they fit. The next two fields come before the full name, which is
// shortened for them down to minName; the later ones only fit beside the
// full name.
func layout(name string, fields []string, width int) (head, tail string) {
	nameLen := utf8.RuneCountInString(name)
	used := minName + 1 + utf8.RuneCountInString(fields[0]) + 2 + minBar // name, counts, the bar and its spaces
	var kept []string
	for i, f := range fields[1:] {
		n := 1 + utf8.RuneCountInString(f)
		reserve := 0
		if i >= 2 {
			reserve = max(nameLen-minName, 0)
		}
		if used+n+reserve <= width {
			kept, used = append(kept, f), used+n
		}
	}
	if room := minName + width - used; nameLen > room {
		name = string([]rune(name)[:max(room-1, 0)]) + "…"
	}
	return name + " " + fields[0], strings.Join(kept, " ")
}

// SetStatus sets what the bar shows after its counts, such as the loss.
func (b *Bar) SetStatus(format string, args ...any) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.status = fmt.Sprintf(format, args...)
	b.mu.Unlock()
}

// Set records that done steps are finished; a plain line is printed when
// Interval has passed since the last.
func (b *Bar) Set(done int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.done = done
	due := b.r.now().Sub(b.printed) >= b.r.interval
	if due && b.bar == nil {
		b.printed = b.r.now()
	}
	b.mu.Unlock()
	if b.bar != nil {
		b.bar.SetCurrent(int64(done))
	} else if due {
		b.r.Write([]byte(b.line() + "\n"))
	}
}

// Done ends the bar, complete or not: its last state stays on the screen,
// or is printed as a plain line.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.ended {
		b.mu.Unlock()
		return
	}
	b.ended = true
	b.mu.Unlock()
	if b.bar == nil {
		b.r.Write([]byte(b.line() + "\n"))
		return
	}
	if !b.bar.Completed() {
		b.bar.Abort(false)
	}
	b.bar.Wait()
	r := b.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active--; r.active == 0 {
		p := r.p
		r.p = nil
		p.Wait()
	}
}

// fields are the parts of the bar's state, most important first: counts,
// status, elapsed and remaining time, rate, and the suffix.
func (b *Bar) fields() []string {
	b.mu.Lock()
	done, status := b.done, b.status
	b.mu.Unlock()
	elapsed := b.r.now().Sub(b.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) * b.scale / s
	}
	eta := "?"
	if done > 0 {
		eta = Duration(time.Duration(float64(elapsed) / float64(done) * float64(b.total-done)))
	}
	fields := []string{fmt.Sprintf("%d/%d", done, b.total)}
	if status != "" {
		fields = append(fields, status)
	}
	fields = append(fields, fmt.Sprintf("[%s<%s]", Duration(elapsed), eta), fmt.Sprintf("%.1f %s/s", rate, b.unit))
	if b.suffix != nil {
		if s := b.suffix(); s != "" {
			fields = append(fields, s)
		}
	}
	return fields
}

// line is the bar's state as a plain line.
func (b *Bar) line() string {
	return b.name + " " + strings.Join(b.fields(), " ")
}

// Duration formats d as tqdm does: mm:ss, or h:mm:ss from an hour.
func Duration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
