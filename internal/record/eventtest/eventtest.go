// Package eventtest reads TensorBoard event files for tests, written
// independently of bench's writer: it checks the TFRecord framing and both
// masked CRC-32C checksums of every record, decodes the protocol buffers by
// hand, and fails on any field the writer should not produce.
package eventtest

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"testing"
)

// Event is what the reader decodes of an Event.
type Event struct {
	WallTime    float64
	Step        int64
	FileVersion string
	Values      map[string]float32 // simple values by tag
	// Plugins are the values with plugin metadata, by tag.
	Plugins map[string]Plugin
}

// Plugin is a summary value's plugin data.
type Plugin struct {
	Name    string
	Content []byte // the plugin's own protocol buffer
}

// Read reads every event of the file at path.
func Read(t testing.TB, path string) []Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	table := crc32.MakeTable(crc32.Castagnoli)
	mask := func(b []byte) uint32 {
		c := crc32.Checksum(b, table)
		return ((c >> 15) | (c << 17)) + 0xa282ead8
	}
	var out []Event
	for len(data) > 0 {
		if len(data) < 12 {
			t.Fatalf("%s: torn record header", path)
		}
		n := binary.LittleEndian.Uint64(data)
		if mask(data[:8]) != binary.LittleEndian.Uint32(data[8:]) {
			t.Fatalf("%s: bad length checksum", path)
		}
		if uint64(len(data)) < 12+n+4 {
			t.Fatalf("%s: record of %d bytes overruns the file", path, n)
		}
		msg := data[12 : 12+n]
		if mask(msg) != binary.LittleEndian.Uint32(data[12+n:]) {
			t.Fatalf("%s: bad data checksum", path)
		}
		data = data[12+n+4:]
		out = append(out, decodeEvent(t, msg))
	}
	return out
}

func decodeEvent(t testing.TB, msg []byte) Event {
	e := Event{Values: map[string]float32{}, Plugins: map[string]Plugin{}}
	for _, f := range Fields(t, msg) {
		switch f.Num {
		case 1:
			e.WallTime = math.Float64frombits(f.Fixed)
		case 2:
			e.Step = int64(f.Varint)
		case 3:
			e.FileVersion = string(f.Bytes)
		case 5:
			for _, v := range Fields(t, f.Bytes) {
				if v.Num != 1 {
					t.Fatalf("Summary field %d", v.Num)
				}
				decodeValue(t, v.Bytes, &e)
			}
		default:
			t.Fatalf("Event field %d", f.Num)
		}
	}
	return e
}

// decodeValue reads Summary.Value {tag = 1; simple_value = 2; metadata = 9}
// with SummaryMetadata {plugin_data = 1} and PluginData {plugin_name = 1;
// content = 2}.
func decodeValue(t testing.TB, b []byte, e *Event) {
	var tag string
	var value *float32
	var plugin *Plugin
	for _, x := range Fields(t, b) {
		switch x.Num {
		case 1:
			tag = string(x.Bytes)
		case 2:
			v := math.Float32frombits(uint32(x.Fixed))
			value = &v
		case 9:
			for _, m := range Fields(t, x.Bytes) {
				if m.Num != 1 {
					t.Fatalf("SummaryMetadata field %d", m.Num)
				}
				plugin = &Plugin{}
				for _, p := range Fields(t, m.Bytes) {
					switch p.Num {
					case 1:
						plugin.Name = string(p.Bytes)
					case 2:
						plugin.Content = p.Bytes
					default:
						t.Fatalf("PluginData field %d", p.Num)
					}
				}
			}
		default:
			t.Fatalf("Value field %d", x.Num)
		}
	}
	switch {
	case value != nil && plugin == nil:
		e.Values[tag] = *value
	case value == nil && plugin != nil:
		e.Plugins[tag] = *plugin
	default:
		t.Fatalf("value %q has neither a simple value nor plugin data, or both", tag)
	}
}

// HParams reads the HParams plugin's HParamsPluginData back: the session start's
// hyperparameters and group name, or the session end's status.
func HParams(t testing.TB, content []byte) (hparams map[string]any, group string, status uint64) {
	t.Helper()
	for _, f := range Fields(t, content) {
		switch f.Num {
		case 1:
			if f.Varint != 0 {
				t.Errorf("plugin data version %d", f.Varint)
			}
		case 3:
			hparams = map[string]any{}
			for _, s := range Fields(t, f.Bytes) {
				switch s.Num {
				case 1:
					kv := Fields(t, s.Bytes)
					if len(kv) != 2 || kv[0].Num != 1 || kv[1].Num != 2 {
						t.Fatalf("hparams map entry %v", kv)
					}
					v := Fields(t, kv[1].Bytes)
					if len(v) != 1 {
						t.Fatalf("Value with %d fields", len(v))
					}
					switch v[0].Num {
					case 2:
						hparams[string(kv[0].Bytes)] = math.Float64frombits(v[0].Fixed)
					case 3:
						hparams[string(kv[0].Bytes)] = string(v[0].Bytes)
					case 4:
						hparams[string(kv[0].Bytes)] = v[0].Varint == 1
					default:
						t.Fatalf("Value field %d", v[0].Num)
					}
				case 4:
					group = string(s.Bytes)
				case 5:
					if math.Float64frombits(s.Fixed) < 1e9 {
						t.Errorf("start time %v", math.Float64frombits(s.Fixed))
					}
				default:
					t.Fatalf("SessionStartInfo field %d", s.Num)
				}
			}
		case 4:
			for _, s := range Fields(t, f.Bytes) {
				if s.Num == 1 {
					status = s.Varint
				}
			}
		default:
			t.Fatalf("HParamsPluginData field %d", f.Num)
		}
	}
	return hparams, group, status
}

// Field is one field of a protocol buffer: its number and its varint,
// fixed-width or length-delimited payload.
type Field struct {
	Num    int
	Varint uint64
	Fixed  uint64
	Bytes  []byte
}

// Fields splits a protocol buffer message into its fields.
func Fields(t testing.TB, b []byte) []Field {
	t.Helper()
	varint := func() uint64 {
		var v uint64
		for shift := 0; ; shift += 7 {
			if len(b) == 0 || shift > 63 {
				t.Fatal("bad varint")
			}
			c := b[0]
			b = b[1:]
			v |= uint64(c&0x7f) << shift
			if c < 0x80 {
				return v
			}
		}
	}
	take := func(n uint64) []byte {
		if uint64(len(b)) < n {
			t.Fatal("field overruns its message")
		}
		out := b[:n]
		b = b[n:]
		return out
	}
	var out []Field
	for len(b) > 0 {
		key := varint()
		f := Field{Num: int(key >> 3)}
		switch key & 7 {
		case 0:
			f.Varint = varint()
		case 1:
			f.Fixed = binary.LittleEndian.Uint64(take(8))
		case 2:
			f.Bytes = take(varint())
		case 5:
			f.Fixed = uint64(binary.LittleEndian.Uint32(take(4)))
		default:
			t.Fatalf("wire type %d", key&7)
		}
		out = append(out, f)
	}
	return out
}
