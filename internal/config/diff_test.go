package config

import (
	"reflect"
	"testing"
)

func TestDiff(t *testing.T) {
	old, _, err := loadGeneral(t, []string{"a: {x: 1, y: [1, 2], z: {p: 1.0}}\nt: {A: 1, B: 2, C: 3}\ngone: 1\n"})
	if err != nil {
		t.Fatal(err)
	}
	new, _, err := loadGeneral(t, []string{"a: {x: 1, y: [1, 3], z: {p: 1}, w: {q: 1}}\nt: {B: 2, A: 1, C: 3}\n"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range Diff(old, new) {
		got = append(got, c.Kind+" "+c.String())
	}
	want := []string{
		"changed a.y: [1, 2] -> [1, 3]",
		"added a.w: added {q: 1}",
		"reordered t: {A: 1, B: 2, C: 3} -> {B: 2, A: 1, C: 3}",
		"removed gone: removed (was 1)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	d := Diff(old, new)
	if d[0].Path != "a.y" || !reflect.DeepEqual(d[0].Old, []any{1, 2}) || !reflect.DeepEqual(d[0].New, []any{1, 3}) {
		t.Errorf("first change = %+v", d[0])
	}
	if len(Diff(old, old)) != 0 {
		t.Error("a tree differs from itself")
	}
}
