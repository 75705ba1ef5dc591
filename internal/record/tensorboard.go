package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// TensorBoard reads event files: TFRecords (length, masked CRC-32C of the
// length, data, masked CRC-32C of the data) each holding one Event protocol
// buffer. The few fields written here are encoded by hand:
//
//	Event   {double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5}
//	Summary {repeated Value value = 1}
//	Value   {string tag = 1; float simple_value = 2}
const (
	eventWallTime    = 1
	eventStep        = 2
	eventFileVersion = 3
	eventSummary     = 5
	summaryValue     = 1
	valueTag         = 1
	valueSimple      = 2

	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is the checksum TFRecord stores: CRC-32C rotated and offset, so
// that a CRC of data holding CRCs stays well distributed.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// appendRecord appends data to buf as one TFRecord.
func appendRecord(buf, data []byte) []byte {
	n := binary.LittleEndian.AppendUint64(nil, uint64(len(data)))
	buf = append(buf, n...)
	buf = binary.LittleEndian.AppendUint32(buf, maskedCRC(n))
	buf = append(buf, data...)
	return binary.LittleEndian.AppendUint32(buf, maskedCRC(data))
}

func appendKey(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wire))
}

func appendBytes(b []byte, field int, v []byte) []byte {
	b = appendKey(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// appendEventHead starts an Event with its time and step.
func appendEventHead(b []byte, wall float64, step int64) []byte {
	b = appendKey(b, eventWallTime, wireFixed64)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(wall))
	b = appendKey(b, eventStep, wireVarint)
	return binary.AppendUvarint(b, uint64(step))
}

// fileVersionEvent is the first event of every file.
func fileVersionEvent(wall float64) []byte {
	return appendBytes(appendEventHead(nil, wall, 0), eventFileVersion, []byte("brain.Event:2"))
}

// scalar is one value of a summary.
type scalar struct {
	tag   string
	value float32
}

// scalarsEvent holds the values of one step.
func scalarsEvent(wall float64, step int64, values []scalar) []byte {
	var summary []byte
	for _, s := range values {
		v := appendBytes(nil, valueTag, []byte(s.tag))
		v = appendKey(v, valueSimple, wireFixed32)
		v = binary.LittleEndian.AppendUint32(v, math.Float32bits(s.value))
		summary = appendBytes(summary, summaryValue, v)
	}
	return appendBytes(appendEventHead(nil, wall, step), eventSummary, summary)
}

// eventFilePrefix begins the name of every event file.
const eventFilePrefix = "events.out.tfevents."

// createEventFile creates a new event file in dir, named as TensorBoard
// expects, holding the file version event; a name taken by an earlier run in
// the same second gets a suffix that sorts after it, as TensorBoard reads a
// folder's files in name order.
func createEventFile(dir string, wall float64) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	base := filepath.Join(dir, fmt.Sprintf("%s%d.%s", eventFilePrefix, time.Now().Unix(), host))
	for n := 0; ; n++ {
		path := base
		if n > 0 {
			path += "." + strconv.Itoa(n)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		f.Close() // empty: appendFile writes and syncs the first event
		return path, appendFile(path, appendRecord(nil, fileVersionEvent(wall)))
	}
}

// appendFile appends data to path and syncs it. A kill during the write
// can only tear the last record, which TensorBoard's reader skips.
func appendFile(path string, data []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}
