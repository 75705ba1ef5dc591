package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bench-ml/bench/internal/config"
)

// sopHeader is the first line of Ebay_train.txt and Ebay_test.txt.
const sopHeader = "image_id class_id super_class_id path"

// openSOP reads Stanford Online Products: dir/Ebay_train.txt and
// dir/Ebay_test.txt, pooled, each line "image_id class_id super_class_id
// path" with path relative to dir.
func openSOP(dir string) (Dataset, error) {
	const where = "StanfordOnlineProducts"
	var items []item
	var ids, superIDs []int
	for _, part := range []string{"train", "test"} {
		more, moreIDs, moreSuper, err := readSOPList(dir, filepath.Join(dir, "Ebay_"+part+".txt"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		for i := range more {
			more[i].part = part
		}
		items, ids, superIDs = append(items, more...), append(ids, moreIDs...), append(superIDs, moreSuper...)
	}
	// Class ids zero-padded to one width, so that sorted names keep the ids'
	// order (classes 1-11318 are the usual train half); the super-class id
	// is the label of level 1.
	idWidth, superWidth := digits(ids), digits(superIDs)
	for i := range items {
		items[i].class = fmt.Sprintf("%0*d", idWidth, ids[i])
		items[i].parents = []string{fmt.Sprintf("%0*d", superWidth, superIDs[i])}
	}
	return newFileDataset(where, items)
}

// digits is the number of digits of the largest of ids (1 when empty).
func digits(ids []int) int {
	if len(ids) == 0 {
		return 1
	}
	return len(strconv.Itoa(slices.Max(ids)))
}

// readSOPList reads one list file: its items' sources, their class ids and
// their super-class ids.
func readSOPList(dir, list string) ([]item, []int, []int, error) {
	f, err := os.Open(list)
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close()
	var items []item
	var ids, superIDs []int
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			if strings.Join(strings.Fields(text), " ") != sopHeader {
				return nil, nil, nil, fmt.Errorf("%s:1: header %q, want %q", list, text, sopHeader)
			}
			continue
		}
		if text == "" {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 4 {
			return nil, nil, nil, fmt.Errorf("%s:%d: %q: want 4 fields (%s)", list, line, text, sopHeader)
		}
		id, err := strconv.Atoi(fields[1])
		if err != nil || id < 0 {
			return nil, nil, nil, fmt.Errorf("%s:%d: class_id %q is not a non-negative integer", list, line, fields[1])
		}
		super, err := strconv.Atoi(fields[2])
		if err != nil || super < 0 {
			return nil, nil, nil, fmt.Errorf("%s:%d: super_class_id %q is not a non-negative integer", list, line, fields[2])
		}
		items = append(items, item{source: filepath.Join(dir, filepath.FromSlash(fields[3]))})
		ids, superIDs = append(ids, id), append(superIDs, super)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", list, err)
	}
	if line == 0 {
		return nil, nil, nil, fmt.Errorf("%s: empty, want the header %q", list, sopHeader)
	}
	return items, ids, superIDs, nil
}

func newSOP(p *config.Params) Opener {
	dir := p.String("root", "Stanford_Online_Products")
	download := p.Bool("download", false)
	return func(datasetRoot string) (Dataset, error) {
		return openOrDownload("StanfordOnlineProducts", underRoot(datasetRoot, dir), download, sopFiles, openSOP)
	}
}
