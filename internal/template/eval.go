package template

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Referencer answers reference(): the resource with this ID as a GET of it
// at apiVersion returns it, whole, as JSON. ok is false when the resource
// does not exist.
type Referencer func(id, apiVersion string) (resource []byte, ok bool, err error)

// evaluator evaluates expressions in one place of a template: the loop
// indexes in scope, and whether reference() may be called there.
type evaluator struct {
	p *Plan
	// loops are the copy loops in scope, innermost last.
	loops []loop
	ref   Referencer
	// refs, when set, collects the IDs reference() is asked about instead
	// of calling ref (how implicit dependencies are found).
	refs  *[]string
	depth int
}

type loop struct {
	name  string
	index int64
	// own marks a resource's (or output's) own loop: copyIndex() with no
	// name means it.
	own bool
}

// funcError is an error evaluating a function, in Azure's words; the caller
// says where in the template it happened.
type funcError struct{ msg string }

func (e *funcError) Error() string { return e.msg }

func errorf(format string, args ...any) error {
	return &funcError{msg: fmt.Sprintf(format, args...)}
}

// value evaluates a template value: expressions in strings, property
// copy loops in objects, and everything inside arrays and objects.
func (ev *evaluator) value(v any) (any, error) {
	ev.depth++
	defer func() { ev.depth-- }()
	if ev.depth > maxDepth {
		return nil, errorf("The template nests too deeply.")
	}
	switch t := v.(type) {
	case string:
		if !IsExpression(t) {
			return Unescape(t), nil
		}
		return ev.expression(t[1 : len(t)-1])
	case []any:
		out := make([]any, 0, len(t))
		for _, x := range t {
			y, err := ev.value(x)
			if err != nil {
				return nil, err
			}
			out = append(out, y)
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if strings.EqualFold(k, "copy") {
				if loops, ok := x.([]any); ok {
					if err := ev.propertyCopies(loops, out); err != nil {
						return nil, err
					}
					continue
				}
			}
			y, err := ev.value(x)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	}
	return v, nil
}

// propertyCopies expands "copy": [{"name", "count", "input"}] into arrays
// named by each loop.
func (ev *evaluator) propertyCopies(loops []any, out map[string]any) error {
	for _, l := range loops {
		spec, ok := l.(map[string]any)
		if !ok {
			return errorf("The 'copy' property must be an array of objects with 'name', 'count' and 'input'.")
		}
		name, _ := lookup(spec, "name")
		n, ok := name.(string)
		if !ok || n == "" {
			return errorf("A property copy loop must have a 'name'.")
		}
		count, err := ev.count(spec)
		if err != nil {
			return err
		}
		input, ok := lookup(spec, "input")
		if !ok {
			return errorf("The property copy loop '%s' must have an 'input'.", n)
		}
		arr := make([]any, 0, count)
		for i := int64(0); i < count; i++ {
			inner := *ev
			inner.loops = append(append([]loop(nil), ev.loops...), loop{name: n, index: i})
			v, err := inner.value(input)
			if err != nil {
				return err
			}
			arr = append(arr, v)
		}
		out[n] = arr
	}
	return nil
}

// maxCopies is Azure's limit on a copy loop's count.
const maxCopies = 800

func (ev *evaluator) count(spec map[string]any) (int64, error) {
	raw, ok := lookup(spec, "count")
	if !ok {
		return 0, errorf("A copy loop must have a 'count'.")
	}
	v, err := ev.value(raw)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, errorf("The copy count must be an integer; it is %s.", typeName(v))
	}
	if n < 0 || n > maxCopies {
		return 0, errorf("The copy count must be between 0 and %d; it is %d.", maxCopies, n)
	}
	return n, nil
}

func (ev *evaluator) expression(src string) (any, error) {
	n, err := ParseExpression(src)
	if err != nil {
		return nil, err
	}
	return ev.eval(n)
}

func (ev *evaluator) eval(n node) (any, error) {
	switch t := n.(type) {
	case *literal:
		return t.value, nil
	case *member:
		x, err := ev.eval(t.x)
		if err != nil {
			return nil, err
		}
		obj, ok := x.(map[string]any)
		if !ok {
			return nil, errorf("The language expression property '%s' can't be evaluated, property name must be a string.", t.name)
		}
		v, ok := lookup(obj, t.name)
		if !ok {
			return nil, errorf("The language expression property '%s' doesn't exist, available properties are '%s'.", t.name, strings.Join(keys(obj), ", "))
		}
		return v, nil
	case *index:
		x, err := ev.eval(t.x)
		if err != nil {
			return nil, err
		}
		i, err := ev.eval(t.i)
		if err != nil {
			return nil, err
		}
		switch c := x.(type) {
		case []any:
			k, ok := i.(int64)
			if !ok {
				return nil, errorf("The language expression property array index must be an integer; it is %s.", typeName(i))
			}
			if k < 0 || k >= int64(len(c)) {
				return nil, errorf("The language expression property array index '%d' is out of bounds.", k)
			}
			return c[k], nil
		case map[string]any:
			k, ok := i.(string)
			if !ok {
				return nil, errorf("The language expression property name must be a string; it is %s.", typeName(i))
			}
			v, ok := lookup(c, k)
			if !ok {
				return nil, errorf("The language expression property '%s' doesn't exist, available properties are '%s'.", k, strings.Join(keys(c), ", "))
			}
			return v, nil
		}
		return nil, errorf("The language expression can't index %s.", typeName(x))
	case *call:
		return ev.call(t)
	}
	return nil, errorf("unknown expression")
}

func (ev *evaluator) call(c *call) (any, error) {
	name := strings.ToLower(c.name)
	// if evaluates only the branch it takes, as Azure's does.
	if name == "if" {
		if len(c.args) != 3 {
			return nil, argCount(c.name, 3)
		}
		cond, err := ev.eval(c.args[0])
		if err != nil {
			return nil, err
		}
		b, ok := cond.(bool)
		if !ok {
			return nil, errorf("The template language function 'if' expects its first parameter to be of type 'Boolean'. The provided value is of type '%s'.", typeName(cond))
		}
		if b {
			return ev.eval(c.args[1])
		}
		return ev.eval(c.args[2])
	}
	if refused, ok := refusedFuncs(name, c.name); ok {
		return nil, errorf("%s", refused)
	}
	fn, ok := functions[name]
	if !ok {
		return nil, errorf("The template function '%s' is not valid. Please see https://aka.ms/arm-functions for usage details.", c.name)
	}
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := ev.eval(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	v, err := fn(ev, c.name, args)
	if s, ok := v.(string); ok && len(s) > maxString {
		return nil, errorf("The result of the template function '%s' is longer than %d characters.", c.name, maxString)
	}
	return v, err
}

// maxString bounds a string a function returns, so that nested calls
// cannot grow one without limit.
const maxString = 1 << 20

// refusedFuncs names the functions azemu knows but will not run.
func refusedFuncs(name, written string) (string, bool) {
	if strings.HasPrefix(name, "list") && name != "list" {
		return fmt.Sprintf("The template function '%s' is not supported by azemu: it keeps no keys, secrets or connection strings of resources.", written), true
	}
	switch name {
	case "newguid", "utcnow":
		return fmt.Sprintf("The template function '%s' is not supported by azemu: a deployment here evaluates the same way every time.", written), true
	case "pickzones", "environment", "managementgroup", "managementgroupresourceid", "tenantresourceid", "tenant":
		return fmt.Sprintf("The template function '%s' is not supported by azemu.", written), true
	}
	return "", false
}

func argCount(fn string, n int) error {
	return errorf("The template language function '%s' must have %d parameter(s). Please see https://aka.ms/arm-functions for usage details.", fn, n)
}

// lookup finds a key case-insensitively, preferring an exact match, as
// Azure's property access does.
func lookup(obj map[string]any, key string) (any, bool) {
	k, ok := foldKey(obj, key)
	return obj[k], ok
}

// foldKey is the key of obj that equals key case-insensitively, the exact
// one first.
func foldKey(obj map[string]any, key string) (string, bool) {
	if _, ok := obj[key]; ok {
		return key, true
	}
	for k := range obj {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

func keys(obj map[string]any) []string {
	out := make([]string, 0, len(obj))
	for k := range obj {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// typeName is a value's type as Azure's messages name it.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "Null"
	case string:
		return "String"
	case int64:
		return "Integer"
	case float64:
		return "Float"
	case bool:
		return "Boolean"
	case []any:
		return "Array"
	case map[string]any:
		return "Object"
	}
	return fmt.Sprintf("%T", v)
}

// toJSONString renders a value as compact JSON, as string() does for
// arrays and objects.
func toJSONString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// deepEqual compares template values: strings case-sensitively, objects
// by keys case-insensitively.
func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := lookup(y, k)
			if !ok || !deepEqual(v, w) {
				return false
			}
		}
		return true
	case float64:
		if y, ok := b.(int64); ok {
			return x == float64(y)
		}
	case int64:
		if y, ok := b.(float64); ok {
			return float64(x) == y
		}
	}
	return a == b
}

func checkedAdd(a, b int64) (int64, error) {
	c := a + b
	if (c > a) != (b > 0) {
		return 0, errorf("The result of the arithmetic function overflows a 64-bit integer.")
	}
	return c, nil
}

func checkedMul(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, errorf("The result of the arithmetic function overflows a 64-bit integer.")
	}
	return c, nil
}
