package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// decodeJSON reads a JSON document into plain values (map[string]any,
// []any, string, int64, float64, bool, nil) and records where each object
// and array ends, by its path ("resources[2]"), so that errors can name a
// line and column as Azure's do.
func decodeJSON(data []byte) (any, map[string]int, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	ends := map[string]int{}
	v, err := decodeValue(d, "", ends, 0)
	if err != nil {
		return nil, nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, nil, errors.New("unexpected data after the top-level value")
	}
	return v, ends, nil
}

func decodeValue(d *json.Decoder, path string, ends map[string]int, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("the document nests too deeply")
	}
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := map[string]any{}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				v, err := decodeValue(d, join(path, key), ends, depth+1)
				if err != nil {
					return nil, err
				}
				obj[key] = v
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			ends[path] = int(d.InputOffset())
			return obj, nil
		case '[':
			arr := []any{}
			for i := 0; d.More(); i++ {
				v, err := decodeValue(d, fmt.Sprintf("%s[%d]", path, i), ends, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			ends[path] = int(d.InputOffset())
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected '%v'", t)
	case json.Number:
		return number(t), nil
	default:
		return t, nil
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// number is an integer when the JSON number is one, else a float.
func number(n json.Number) any {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		return string(n)
	}
	return f
}

// normalize turns values decoded by encoding/json (float64 numbers) into
// the evaluator's (int64 for whole numbers).
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = normalize(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = normalize(x)
		}
		return out
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t)
		}
		return t
	case int:
		return int64(t)
	case json.Number:
		return number(t)
	}
	return v
}

// lineCol is the 1-based line and column of a byte offset.
func lineCol(data []byte, off int) (line, col int) {
	if off > len(data) {
		off = len(data)
	}
	line, col = 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
