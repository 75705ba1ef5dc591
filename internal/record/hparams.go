package record

import (
	"encoding/binary"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"time"
)

// ExperimentEvents is the event file of an experiment as a whole, in
// <experiment>/tensorboard/: rewritten whole after testing, so one file
// always holds one session.
const ExperimentEvents = "events.out.tfevents.experiment"

// The HParams plugin's summaries (tensorboard/plugins/hparams/
// plugin_data.proto and api.proto). Each run holding a session start is a
// session; without an "experiment" summary TensorBoard infers the columns
// of its HParams tab from every session's hyperparameters and scalar tags,
// so experiments with different configs compare in one table.
//
//	Value            {... SummaryMetadata metadata = 9}
//	SummaryMetadata  {PluginData plugin_data = 1}
//	PluginData       {string plugin_name = 1; bytes content = 2}
//	HParamsPluginData{int32 version = 1; SessionStartInfo session_start_info = 3; SessionEndInfo session_end_info = 4}
//	SessionStartInfo {map<string, google.protobuf.Value> hparams = 1; string group_name = 4; double start_time_secs = 5}
//	SessionEndInfo   {Status status = 1; double end_time_secs = 2}
//	google.protobuf.Value {double number_value = 2; string string_value = 3; bool bool_value = 4}
const (
	valueMetadata         = 9
	metadataPluginData    = 1
	pluginName            = 1
	pluginContent         = 2
	hparamsSessionStart   = 3
	hparamsSessionEnd     = 4
	startHParams          = 1
	startGroupName        = 4
	startTimeSecs         = 5
	endStatus             = 1
	endTimeSecs           = 2
	statusSuccess         = 1
	mapKey, mapValue      = 1, 2
	protoNumber           = 2
	protoString           = 3
	protoBool             = 4
	sessionStartTag       = "_hparams_/session_start_info"
	sessionEndTag         = "_hparams_/session_end_info"
	hparamsPluginName     = "hparams"
	hparamsPluginDataVers = 0
)

// Scalar is one point of a scalar curve.
type Scalar struct {
	Tag   string
	Step  int64
	Value float64
}

// WriteExperimentEvents writes dir/ExperimentEvents, atomically: a
// TensorBoard session named name with the resolved config hparams as its
// hyperparameters, the scalars (its curves and final metrics, which the
// HParams tab shows as metric columns), then the session's end.
func WriteExperimentEvents(dir, name string, hparams map[string]any, scalars []Scalar) error {
	now := time.Now()
	wall := float64(now.UnixNano()) / 1e9
	var start []byte
	for _, k := range slices.Sorted(maps.Keys(hparams)) {
		entry := appendBytes(nil, mapKey, []byte(k))
		entry = appendBytes(entry, mapValue, protoValue(hparams[k]))
		start = appendBytes(start, startHParams, entry)
	}
	start = appendBytes(start, startGroupName, []byte(name))
	start = appendDouble(start, startTimeSecs, wall)
	end := appendKey(nil, endStatus, wireVarint)
	end = binary.AppendUvarint(end, statusSuccess)
	end = appendDouble(end, endTimeSecs, wall)

	buf := appendRecord(nil, fileVersionEvent(wall))
	buf = appendRecord(buf, pluginEvent(wall, sessionStartTag, appendBytes(hparamsVersion(), hparamsSessionStart, start)))
	for _, s := range scalars {
		buf = appendRecord(buf, scalarsEvent(wall, s.Step, []scalar{{s.Tag, float32(s.Value)}}))
	}
	buf = appendRecord(buf, pluginEvent(wall, sessionEndTag, appendBytes(hparamsVersion(), hparamsSessionEnd, end)))
	return WriteFileAtomic(filepath.Join(dir, ExperimentEvents), buf)
}

func hparamsVersion() []byte {
	b := appendKey(nil, 1, wireVarint)
	return binary.AppendUvarint(b, hparamsPluginDataVers)
}

// pluginEvent is an event of one summary value carrying the HParams
// plugin's content and no value of its own.
func pluginEvent(wall float64, tag string, content []byte) []byte {
	plugin := appendBytes(nil, pluginName, []byte(hparamsPluginName))
	plugin = appendBytes(plugin, pluginContent, content)
	v := appendBytes(nil, valueTag, []byte(tag))
	v = appendBytes(v, valueMetadata, appendBytes(nil, metadataPluginData, plugin))
	return appendBytes(appendEventHead(nil, wall, 0), eventSummary, appendBytes(nil, summaryValue, v))
}

// protoValue encodes a config value as a google.protobuf.Value: numbers
// as numbers, booleans as booleans, anything else (text, null) as text.
func protoValue(v any) []byte {
	switch v := v.(type) {
	case int:
		return appendDouble(nil, protoNumber, float64(v))
	case float64:
		return appendDouble(nil, protoNumber, v)
	case bool:
		b := appendKey(nil, protoBool, wireVarint)
		return binary.AppendUvarint(b, map[bool]uint64{false: 0, true: 1}[v])
	case string:
		return appendBytes(nil, protoString, []byte(v))
	}
	return appendBytes(nil, protoString, []byte("null"))
}

func appendDouble(b []byte, field int, v float64) []byte {
	b = appendKey(b, field, wireFixed64)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}
