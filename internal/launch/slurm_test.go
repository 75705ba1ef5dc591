package launch

import (
	"reflect"
	"testing"
)

func TestParseJobLine(t *testing.T) {
	for _, c := range []struct {
		line string
		want []JobState
	}{
		{"JobId=7 JobName=bench:x:aggregate UserId=root(0) JobState=PENDING Reason=Dependency Dependency=afterok:5_*(unfulfilled) Restarts=0 BatchFlag=1",
			[]JobState{{ID: "7", State: "PENDING", Reason: "Dependency"}}},
		{"JobId=6 ArrayJobId=5 ArrayTaskId=1 JobName=bench:x JobState=RUNNING Reason=None Restarts=2",
			[]JobState{{ID: "5_1", State: "RUNNING", Reason: "None", Restarts: 2}}},
		{"JobId=5 ArrayJobId=5 ArrayTaskId=0-2,4%2 ArrayTaskThrottle=2 JobName=bench:x JobState=PENDING Reason=JobArrayTaskLimit Restarts=0",
			[]JobState{{ID: "5_0", State: "PENDING", Reason: "JobArrayTaskLimit"}, {ID: "5_1", State: "PENDING", Reason: "JobArrayTaskLimit"},
				{ID: "5_2", State: "PENDING", Reason: "JobArrayTaskLimit"}, {ID: "5_4", State: "PENDING", Reason: "JobArrayTaskLimit"}}},
	} {
		if got := parseJobLine(c.line); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", c.line, got, c.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"/a/b-c_d.e": "/a/b-c_d.e", "a b": "'a b'", "it's": `'it'\''s'`, "": "''", "{x: 1}": "'{x: 1}'"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
