package template

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/azemu/azemu/internal/catalog"
)

type function func(ev *evaluator, name string, args []any) (any, error)

// functions are the template functions azemu evaluates, by lower-case name
// (if is special: it evaluates one branch only).
var functions map[string]function

func init() {
	functions = map[string]function{
		"parameters":             fnParameters,
		"variables":              fnVariables,
		"resourceid":             fnResourceID,
		"subscriptionresourceid": fnSubscriptionResourceID,
		"extensionresourceid":    fnExtensionResourceID,
		"resourcegroup":          fnResourceGroup,
		"subscription":           fnSubscription,
		"deployment":             fnDeployment,
		"providers":              fnProviders,
		"reference":              fnReference,
		"copyindex":              fnCopyIndex,
		"concat":                 fnConcat,
		"format":                 fnFormat,
		"uniquestring":           hashOf(UniqueString),
		"guid":                   hashOf(GUID),
		"equals":                 fnEquals,
		"empty":                  unary(fnEmpty),
		"tolower":                strFn(strings.ToLower),
		"toupper":                strFn(strings.ToUpper),
		"trim":                   strFn(strings.TrimSpace),
		"union":                  fnUnion,
		"createobject":           fnCreateObject,
		"createarray":            fnCreateArray,
		"array":                  unary(fnArray),
		"length":                 unary(fnLength),
		"not":                    unary(fnNot),
		"and":                    boolFold(true),
		"or":                     boolFold(false),
		"contains":               fnContains,
		"replace":                fnReplace,
		"split":                  fnSplit,
		"substring":              fnSubstring,
		"startswith":             strPredicate(strings.HasPrefix),
		"endswith":               strPredicate(strings.HasSuffix),
		"indexof":                fnIndexOf(false),
		"lastindexof":            fnIndexOf(true),
		"padleft":                fnPadLeft,
		"string":                 unary(fnString),
		"int":                    unary(fnInt),
		"bool":                   unary(fnBool),
		"json":                   fnJSON,
		"base64":                 fnBase64,
		"base64tostring":         fnBase64ToString,
		"first":                  unary(fnFirst),
		"last":                   unary(fnLast),
		"take":                   fnTakeSkip(true),
		"skip":                   fnTakeSkip(false),
		"coalesce":               fnCoalesce,
		"greater":                compare(func(c int) bool { return c > 0 }),
		"greaterorequals":        compare(func(c int) bool { return c >= 0 }),
		"less":                   compare(func(c int) bool { return c < 0 }),
		"lessorequals":           compare(func(c int) bool { return c <= 0 }),
		"add":                    arith(checkedAdd),
		"sub":                    arith(func(a, b int64) (int64, error) { return checkedAdd(a, -b) }),
		"mul":                    arith(checkedMul),
		"div":                    arith(divMod(false)),
		"mod":                    arith(divMod(true)),
		"min":                    minMax(true),
		"max":                    minMax(false),
		"range":                  fnRange,
		"true":                   constant(true),
		"false":                  constant(false),
		"null":                   constant(nil),
	}
}

// Names lists the functions azemu evaluates, for the documentation.
func Names() []string {
	out := []string{"if"}
	for name := range functions {
		out = append(out, name)
	}
	return out
}

func constant(v any) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		if len(args) != 0 {
			return nil, argCount(name, 0)
		}
		return v, nil
	}
}

func wantString(fn string, i int, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", errorf("The template language function '%s' expects its parameter %d to be of type 'String'. The provided value is of type '%s'.", fn, i+1, typeName(v))
	}
	return s, nil
}

func wantInt(fn string, i int, v any) (int64, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, errorf("The template language function '%s' expects its parameter %d to be of type 'Integer'. The provided value is of type '%s'.", fn, i+1, typeName(v))
	}
	return n, nil
}

func wantBool(fn string, i int, v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, errorf("The template language function '%s' expects its parameter %d to be of type 'Boolean'. The provided value is of type '%s'.", fn, i+1, typeName(v))
	}
	return b, nil
}

// unary is a function of one argument.
func unary(f func(name string, v any) (any, error)) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		if len(args) != 1 {
			return nil, argCount(name, 1)
		}
		return f(name, args[0])
	}
}

// leadingString is the first argument of a function of lo to hi
// arguments, the first a string.
func leadingString(name string, args []any, lo, hi int) (string, error) {
	if len(args) < lo || len(args) > hi {
		return "", errorf("The template language function '%s' must have %d to %d parameters.", name, lo, hi)
	}
	return wantString(name, 0, args[0])
}

// oneString is the argument of a function of one string.
func oneString(name string, args []any) (string, error) {
	if len(args) != 1 {
		return "", argCount(name, 1)
	}
	return wantString(name, 0, args[0])
}

// twoInts are the arguments of a function of two integers.
func twoInts(name string, args []any) (a, b int64, err error) {
	if len(args) != 2 {
		return 0, 0, argCount(name, 2)
	}
	if a, err = wantInt(name, 0, args[0]); err != nil {
		return 0, 0, err
	}
	b, err = wantInt(name, 1, args[1])
	return a, b, err
}

// stringsN are the arguments of a function of n strings.
func stringsN(name string, args []any, n int) ([]string, error) {
	if len(args) != n {
		return nil, argCount(name, n)
	}
	return strings1(name, args)
}

func strings1(fn string, args []any) ([]string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		s, err := wantString(fn, i, a)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func fnParameters(ev *evaluator, name string, args []any) (any, error) {
	key, err := oneString(name, args)
	if err != nil {
		return nil, err
	}
	return ev.p.param(key)
}

func fnVariables(ev *evaluator, name string, args []any) (any, error) {
	key, err := oneString(name, args)
	if err != nil {
		return nil, err
	}
	return ev.p.variable(key)
}

// resourceID builds an ID from a type ("Microsoft.Network/virtualNetworks/subnets")
// and its names, one per segment after the namespace.
func resourceID(fn, prefix, typ string, names []string) (string, error) {
	segs := strings.Split(typ, "/")
	if len(segs) < 2 || segs[0] == "" {
		return "", errorf("The template language function '%s' expects a resource type of the form 'Namespace/type'; '%s' is not.", fn, typ)
	}
	if len(names) != len(segs)-1 {
		return "", errorf("Unable to evaluate template language function '%s': the type '%s' requires '%d' resource name argument(s).", fn, typ, len(segs)-1)
	}
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString("/providers/")
	b.WriteString(segs[0])
	for i, t := range segs[1:] {
		b.WriteString("/")
		b.WriteString(t)
		b.WriteString("/")
		b.WriteString(strings.Trim(names[i], "/"))
	}
	return b.String(), nil
}

// typeArg is the index of the argument that is a resource type: the
// first with a '/' in it (subscription IDs and group names have none).
func typeArg(args []string) int {
	for i, a := range args {
		if strings.Contains(a, "/") {
			return i
		}
	}
	return -1
}

// scopedArgs are the string arguments of a function that takes up to
// scopes leading scope names (subscription, group), then a resource type
// and its names; t is the type's index.
func scopedArgs(name string, args []any, scopes int) (ss []string, t int, err error) {
	if ss, err = strings1(name, args); err != nil {
		return nil, 0, err
	}
	if t = typeArg(ss); t < 0 || t > scopes {
		return nil, 0, errorf("Unable to evaluate template language function '%s': no resource type among its arguments. Please see https://aka.ms/arm-resourceid for usage details.", name)
	}
	return ss, t, nil
}

func fnResourceID(ev *evaluator, name string, args []any) (any, error) {
	ss, t, err := scopedArgs(name, args, 2)
	if err != nil {
		return nil, err
	}
	sub, rg := ev.p.scope.SubscriptionID, ev.p.scope.ResourceGroup
	switch t {
	case 1:
		rg = ss[0]
	case 2:
		sub, rg = ss[0], ss[1]
	}
	return resourceID(name, "/subscriptions/"+sub+"/resourceGroups/"+rg, ss[t], ss[t+1:])
}

func fnSubscriptionResourceID(ev *evaluator, name string, args []any) (any, error) {
	ss, t, err := scopedArgs(name, args, 1)
	if err != nil {
		return nil, err
	}
	sub := ev.p.scope.SubscriptionID
	if t == 1 {
		sub = ss[0]
	}
	return resourceID(name, "/subscriptions/"+sub, ss[t], ss[t+1:])
}

func fnExtensionResourceID(_ *evaluator, name string, args []any) (any, error) {
	ss, err := strings1(name, args)
	if err != nil {
		return nil, err
	}
	if len(ss) < 3 {
		return nil, errorf("The template language function '%s' must have at least 3 parameters.", name)
	}
	return resourceID(name, strings.TrimRight(ss[0], "/"), ss[1], ss[2:])
}

func fnResourceGroup(ev *evaluator, name string, args []any) (any, error) {
	if len(args) != 0 {
		return nil, argCount(name, 0)
	}
	s := ev.p.scope
	g := map[string]any{
		"id":         "/subscriptions/" + s.SubscriptionID + "/resourceGroups/" + s.ResourceGroup,
		"name":       s.ResourceGroup,
		"type":       "Microsoft.Resources/resourceGroups",
		"location":   s.Location,
		"properties": map[string]any{"provisioningState": "Succeeded"},
	}
	if len(s.GroupTags) > 0 {
		tags := map[string]any{}
		for k, v := range s.GroupTags {
			tags[k] = v
		}
		g["tags"] = tags
	}
	return g, nil
}

func fnSubscription(ev *evaluator, name string, args []any) (any, error) {
	if len(args) != 0 {
		return nil, argCount(name, 0)
	}
	s := ev.p.scope
	return map[string]any{
		"id":             "/subscriptions/" + s.SubscriptionID,
		"subscriptionId": s.SubscriptionID,
		"tenantId":       s.TenantID,
		"displayName":    s.SubscriptionName,
	}, nil
}

// fnProviders is providers(namespace, [resourceType]): a resource type's
// regions and api-versions (newest first), or every type of the namespace,
// as the provider's metadata lists them. az vmss create's outputs read the
// scale set through reference(..., providers(...).apiVersions[0]).
func fnProviders(ev *evaluator, name string, args []any) (any, error) {
	ns, err := leadingString(name, args, 1, 2)
	if err != nil {
		return nil, err
	}
	p, ok := catalog.FindProvider(ns)
	if !ok {
		return nil, errorf("The resource namespace '%s' is invalid. Please see https://aka.ms/arm-functions#providers for usage details.", ns)
	}
	typeBody := func(t catalog.ResourceType) map[string]any {
		locations := []any{}
		if t.Regional {
			for _, l := range catalog.LocationDisplayNames() {
				locations = append(locations, l)
			}
		}
		versions := make([]any, 0, len(t.APIVersions))
		for _, v := range t.APIVersions {
			versions = append(versions, v)
		}
		return map[string]any{"namespace": p.Namespace, "resourceType": t.Type, "locations": locations, "apiVersions": versions}
	}
	if len(args) == 1 {
		types := make([]any, 0, len(p.Types))
		for _, t := range p.Types {
			types = append(types, typeBody(t))
		}
		return map[string]any{"namespace": p.Namespace, "resourceTypes": types}, nil
	}
	typ, err := wantString(name, 1, args[1])
	if err != nil {
		return nil, err
	}
	for _, t := range p.Types {
		if strings.EqualFold(t.Type, typ) {
			return typeBody(t), nil
		}
	}
	return nil, errorf("The resource type '%s' could not be found in the namespace '%s'. Please see https://aka.ms/arm-functions#providers for usage details.", typ, p.Namespace)
}

func fnDeployment(ev *evaluator, name string, args []any) (any, error) {
	if len(args) != 0 {
		return nil, argCount(name, 0)
	}
	tmpl := map[string]any{"contentVersion": ev.p.t.contentVersion}
	if ev.p.t.schema != "" {
		tmpl["$schema"] = ev.p.t.schema
	}
	return map[string]any{
		"name": ev.p.scope.DeploymentName,
		"properties": map[string]any{
			"template":          tmpl,
			"mode":              "Incremental",
			"provisioningState": "Accepted",
		},
	}, nil
}

func fnReference(ev *evaluator, name string, args []any) (any, error) {
	target, err := leadingString(name, args, 1, 3)
	if err != nil {
		return nil, err
	}
	apiVersion, full := "", false
	if len(args) > 1 {
		if apiVersion, err = wantString(name, 1, args[1]); err != nil {
			return nil, err
		}
	}
	if len(args) > 2 {
		mode, err := wantString(name, 2, args[2])
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(mode, "full") {
			return nil, errorf("The template language function 'reference' expects its third parameter to be 'Full'; it is '%s'.", mode)
		}
		full = true
	}
	id, inTemplate := ev.p.resolve(target)
	if id == "" {
		return nil, errorf("The template reference '%s' is not valid: could not find template resource or resource copy with this name. Please see https://aka.ms/arm-function-reference for usage details.", target)
	}
	if ev.refs != nil {
		*ev.refs = append(*ev.refs, id)
		return map[string]any{}, nil
	}
	if ev.ref == nil {
		return nil, errorf("The template function 'reference' is not expected at this location. Please see https://aka.ms/arm-function-reference for usage details.")
	}
	if apiVersion == "" && inTemplate != nil {
		apiVersion = inTemplate.APIVersion
	}
	if apiVersion == "" {
		return nil, errorf("The template reference '%s' needs an api-version: the resource is not deployed by this template.", target)
	}
	raw, ok, err := ev.ref(id, apiVersion)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &notFoundError{id: id}
	}
	v, _, err := decodeJSON(raw)
	res, isObj := v.(map[string]any)
	if err != nil || !isObj {
		return nil, errorf("The resource '%s' did not answer a JSON object.", id)
	}
	if full {
		if _, ok := lookup(res, "apiVersion"); !ok {
			out := make(map[string]any, len(res)+1)
			for k, v := range res {
				out[k] = v
			}
			out["apiVersion"] = apiVersion
			res = out
		}
		return res, nil
	}
	props, ok := lookup(res, "properties")
	if !ok {
		return map[string]any{}, nil
	}
	return props, nil
}

// notFoundError is a reference() to a resource that does not exist: Azure
// answers it with ResourceNotFound.
type notFoundError struct{ id string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("The Resource '%s' was not found.", e.id)
}

func fnCopyIndex(ev *evaluator, name string, args []any) (any, error) {
	var loopName string
	var offset int64
	switch len(args) {
	case 0:
	case 1:
		switch a := args[0].(type) {
		case int64:
			offset = a
		case string:
			loopName = a
		default:
			return nil, errorf("The template language function 'copyIndex' expects a loop name or an offset.")
		}
	case 2:
		var err error
		if loopName, err = wantString(name, 0, args[0]); err != nil {
			return nil, err
		}
		if offset, err = wantInt(name, 1, args[1]); err != nil {
			return nil, err
		}
	default:
		return nil, errorf("The template language function 'copyIndex' must have at most 2 parameters.")
	}
	for i := len(ev.loops) - 1; i >= 0; i-- {
		l := ev.loops[i]
		if (loopName == "" && l.own) || (loopName != "" && strings.EqualFold(l.name, loopName)) {
			return l.index + offset, nil
		}
	}
	if loopName == "" && len(ev.loops) > 0 {
		// In a property or variable loop, copyIndex() names the innermost.
		return ev.loops[len(ev.loops)-1].index + offset, nil
	}
	if loopName != "" {
		return nil, errorf("The template function 'copyIndex' has an invalid copy name '%s'.", loopName)
	}
	return nil, errorf("The template function 'copyIndex' is not expected at this location. The function can only be used in a resource with copy specified.")
}

func fnConcat(_ *evaluator, name string, args []any) (any, error) {
	if len(args) == 0 {
		return nil, errorf("The template language function '%s' must have at least one parameter.", name)
	}
	if _, ok := args[0].([]any); ok {
		out := []any{}
		for i, a := range args {
			arr, ok := a.([]any)
			if !ok {
				return nil, errorf("The template language function '%s' expects all of its parameters to be arrays or all to be strings; parameter %d is of type '%s'.", name, i+1, typeName(a))
			}
			out = append(out, arr...)
		}
		return out, nil
	}
	var b strings.Builder
	for i, a := range args {
		switch t := a.(type) {
		case string:
			b.WriteString(t)
		case int64, bool, nil:
			b.WriteString(scalarString(t))
		default:
			return nil, errorf("The template language function '%s' expects all of its parameters to be arrays or all to be strings; parameter %d is of type '%s'.", name, i+1, typeName(a))
		}
	}
	return b.String(), nil
}

func scalarString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		if t {
			return "True"
		}
		return "False"
	case nil:
		return ""
	}
	return toJSONString(v)
}

// fnFormat is .NET's composite formatting, as Azure's format() is: {0},
// {1:D3} (zero-padded integers), {0:N0} is not modelled beyond the index.
func fnFormat(_ *evaluator, name string, args []any) (any, error) {
	if len(args) == 0 {
		return nil, errorf("The template language function '%s' must have at least one parameter.", name)
	}
	f, err := wantString(name, 0, args[0])
	if err != nil {
		return nil, err
	}
	vals := args[1:]
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '{' && i+1 < len(f) && f[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(f) && f[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(f[i:], '}')
			if end < 0 {
				return nil, errorf("The format string '%s' of the template function 'format' is not valid.", f)
			}
			spec := f[i+1 : i+end]
			idx, layout, _ := strings.Cut(spec, ":")
			n, err := strconv.Atoi(strings.TrimSpace(idx))
			if err != nil || n < 0 || n >= len(vals) {
				return nil, errorf("The format string '%s' of the template function 'format' refers to an argument that is not given.", f)
			}
			b.WriteString(formatOne(vals[n], layout))
			i += end
		case c == '}':
			return nil, errorf("The format string '%s' of the template function 'format' is not valid.", f)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func formatOne(v any, layout string) string {
	if n, ok := v.(int64); ok && len(layout) > 1 && (layout[0] == 'D' || layout[0] == 'd') {
		if width, err := strconv.Atoi(layout[1:]); err == nil && width < 100 {
			s := strconv.FormatInt(abs(n), 10)
			for len(s) < width {
				s = "0" + s
			}
			if n < 0 {
				s = "-" + s
			}
			return s
		}
	}
	return scalarString(v)
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// hashOf is uniqueString() and guid(): a hash of one or more strings.
func hashOf(hash func(...string) string) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		if len(args) == 0 {
			return nil, errorf("The template language function '%s' must have at least one parameter.", name)
		}
		ss, err := strings1(name, args)
		if err != nil {
			return nil, err
		}
		return hash(ss...), nil
	}
}

func fnEquals(_ *evaluator, name string, args []any) (any, error) {
	if len(args) != 2 {
		return nil, argCount(name, 2)
	}
	return deepEqual(args[0], args[1]), nil
}

func fnEmpty(name string, v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return true, nil
	case string:
		return t == "", nil
	case []any:
		return len(t) == 0, nil
	case map[string]any:
		return len(t) == 0, nil
	}
	return nil, errorf("The template language function 'empty' expects a string, an array or an object; the value is of type '%s'.", typeName(v))
}

func strFn(f func(string) string) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		s, err := oneString(name, args)
		if err != nil {
			return nil, err
		}
		return f(s), nil
	}
}

func strPredicate(f func(s, x string) bool) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		ss, err := stringsN(name, args, 2)
		if err != nil {
			return nil, err
		}
		return f(strings.ToLower(ss[0]), strings.ToLower(ss[1])), nil
	}
}

func fnIndexOf(last bool) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		ss, err := stringsN(name, args, 2)
		if err != nil {
			return nil, err
		}
		s, x := strings.ToLower(ss[0]), strings.ToLower(ss[1])
		if last {
			return int64(strings.LastIndex(s, x)), nil
		}
		return int64(strings.Index(s, x)), nil
	}
}

func fnPadLeft(_ *evaluator, name string, args []any) (any, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, errorf("The template language function '%s' must have 2 or 3 parameters.", name)
	}
	s := scalarString(args[0])
	width, err := wantInt(name, 1, args[1])
	if err != nil {
		return nil, err
	}
	if width > 16*1024 {
		return nil, errorf("The template language function '%s' pads to at most 16384 characters.", name)
	}
	pad := " "
	if len(args) == 3 {
		if pad, err = wantString(name, 2, args[2]); err != nil {
			return nil, err
		}
		if len([]rune(pad)) != 1 {
			return nil, errorf("The template language function '%s' expects a single padding character.", name)
		}
	}
	for int64(len([]rune(s))) < width {
		s = pad + s
	}
	return s, nil
}

// union merges objects (later values win; nested objects merge) or joins
// arrays without repeats.
func fnUnion(_ *evaluator, name string, args []any) (any, error) {
	if len(args) == 0 {
		return nil, errorf("The template language function '%s' must have at least one parameter.", name)
	}
	switch args[0].(type) {
	case map[string]any:
		out := map[string]any{}
		for i, a := range args {
			obj, ok := a.(map[string]any)
			if !ok {
				return nil, errorf("The template language function '%s' expects its parameters to be all objects or all arrays; parameter %d is of type '%s'.", name, i+1, typeName(a))
			}
			mergeInto(out, obj)
		}
		return out, nil
	case []any:
		var out []any
		for i, a := range args {
			arr, ok := a.([]any)
			if !ok {
				return nil, errorf("The template language function '%s' expects its parameters to be all objects or all arrays; parameter %d is of type '%s'.", name, i+1, typeName(a))
			}
			for _, x := range arr {
				if !containsValue(out, x) {
					out = append(out, x)
				}
			}
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
	return nil, errorf("The template language function '%s' expects objects or arrays; parameter 1 is of type '%s'.", name, typeName(args[0]))
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		existing, found := foldKey(dst, k)
		if !found {
			existing = k
		}
		if a, ok := dst[existing].(map[string]any); ok {
			if b, ok := v.(map[string]any); ok {
				merged := map[string]any{}
				mergeInto(merged, a)
				mergeInto(merged, b)
				dst[existing] = merged
				continue
			}
		}
		if existing != k {
			delete(dst, existing)
		}
		dst[k] = v
	}
}

func containsValue(arr []any, x any) bool {
	for _, y := range arr {
		if deepEqual(x, y) {
			return true
		}
	}
	return false
}

func fnCreateObject(_ *evaluator, name string, args []any) (any, error) {
	if len(args)%2 != 0 {
		return nil, errorf("The template language function '%s' must have an even number of parameters: names and values.", name)
	}
	out := map[string]any{}
	for i := 0; i < len(args); i += 2 {
		k, err := wantString(name, i, args[i])
		if err != nil {
			return nil, err
		}
		out[k] = args[i+1]
	}
	return out, nil
}

func fnCreateArray(_ *evaluator, _ string, args []any) (any, error) {
	return append([]any{}, args...), nil
}

func fnArray(name string, v any) (any, error) {
	if arr, ok := v.([]any); ok {
		return arr, nil
	}
	return []any{v}, nil
}

func fnLength(name string, v any) (any, error) {
	switch t := v.(type) {
	case string:
		return int64(len([]rune(t))), nil
	case []any:
		return int64(len(t)), nil
	case map[string]any:
		return int64(len(t)), nil
	}
	return nil, errorf("The template language function 'length' expects a string, an array or an object; the value is of type '%s'.", typeName(v))
}

func fnNot(name string, v any) (any, error) {
	b, err := wantBool(name, 0, v)
	return !b, err
}

func boolFold(and bool) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		if len(args) < 2 {
			return nil, errorf("The template language function '%s' must have at least 2 parameters.", name)
		}
		acc := and
		for i, a := range args {
			b, err := wantBool(name, i, a)
			if err != nil {
				return nil, err
			}
			if and {
				acc = acc && b
			} else {
				acc = acc || b
			}
		}
		return acc, nil
	}
}

func fnContains(_ *evaluator, name string, args []any) (any, error) {
	if len(args) != 2 {
		return nil, argCount(name, 2)
	}
	switch c := args[0].(type) {
	case string:
		return strings.Contains(c, scalarString(args[1])), nil
	case []any:
		return containsValue(c, args[1]), nil
	case map[string]any:
		k, err := wantString(name, 1, args[1])
		if err != nil {
			return nil, err
		}
		_, ok := lookup(c, k)
		return ok, nil
	}
	return nil, errorf("The template language function 'contains' expects a string, an array or an object; the value is of type '%s'.", typeName(args[0]))
}

func fnReplace(_ *evaluator, name string, args []any) (any, error) {
	ss, err := stringsN(name, args, 3)
	if err != nil {
		return nil, err
	}
	if ss[1] == "" {
		return nil, errorf("The template language function 'replace' expects a non-empty string to replace.")
	}
	return strings.ReplaceAll(ss[0], ss[1], ss[2]), nil
}

func fnSplit(_ *evaluator, name string, args []any) (any, error) {
	s, err := leadingString(name, args, 2, 2)
	if err != nil {
		return nil, err
	}
	var seps []string
	switch d := args[1].(type) {
	case string:
		seps = []string{d}
	case []any:
		for i, x := range d {
			sep, err := wantString(name, i+1, x)
			if err != nil {
				return nil, err
			}
			seps = append(seps, sep)
		}
	default:
		return nil, errorf("The template language function 'split' expects a string or an array of strings as its delimiter.")
	}
	parts := []string{s}
	for _, sep := range seps {
		if sep == "" {
			continue
		}
		var next []string
		for _, p := range parts {
			next = append(next, strings.Split(p, sep)...)
		}
		parts = next
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func fnSubstring(_ *evaluator, name string, args []any) (any, error) {
	s, err := leadingString(name, args, 1, 3)
	if err != nil {
		return nil, err
	}
	r := []rune(s)
	start, length := int64(0), int64(len(r))
	if len(args) > 1 {
		if start, err = wantInt(name, 1, args[1]); err != nil {
			return nil, err
		}
		length = int64(len(r)) - start
	}
	if len(args) > 2 {
		if length, err = wantInt(name, 2, args[2]); err != nil {
			return nil, err
		}
	}
	if start < 0 || start > int64(len(r)) {
		return nil, errorf("The index parameter of the template language function 'substring' cannot be less than zero or greater than the length of the string: '%d'.", start)
	}
	if length < 0 || start+length > int64(len(r)) {
		return nil, errorf("The length parameter of the template language function 'substring' cannot be negative or reach past the end of the string: '%d'.", length)
	}
	return string(r[start : start+length]), nil
}

func fnString(name string, v any) (any, error) {
	return scalarString(v), nil
}

func fnInt(name string, v any) (any, error) {
	switch t := v.(type) {
	case int64:
		return t, nil
	case float64:
		return int64(t), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		if err != nil {
			return nil, errorf("The template language function 'int' cannot convert '%s' to an integer.", t)
		}
		return n, nil
	}
	return nil, errorf("The template language function 'int' expects a string or an integer; the value is of type '%s'.", typeName(v))
}

func fnBool(name string, v any) (any, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case int64:
		return t != 0, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, errorf("The template language function 'bool' cannot convert '%s' to a boolean.", t)
	}
	return nil, errorf("The template language function 'bool' expects a string, an integer or a boolean; the value is of type '%s'.", typeName(v))
}

func fnJSON(_ *evaluator, name string, args []any) (any, error) {
	s, err := oneString(name, args)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, errorf("The template language function 'json' cannot parse its parameter as JSON: %v.", err)
	}
	return normalize(v), nil
}

func fnBase64(_ *evaluator, name string, args []any) (any, error) {
	s, err := oneString(name, args)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64ToString(_ *evaluator, name string, args []any) (any, error) {
	s, err := oneString(name, args)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errorf("The template language function 'base64ToString' was given a value that is not base64: %v.", err)
	}
	return string(b), nil
}

func fnFirst(name string, v any) (any, error) {
	switch t := v.(type) {
	case string:
		if t == "" {
			return "", nil
		}
		return string([]rune(t)[:1]), nil
	case []any:
		if len(t) == 0 {
			return nil, nil
		}
		return t[0], nil
	}
	return nil, errorf("The template language function 'first' expects a string or an array; the value is of type '%s'.", typeName(v))
}

func fnLast(name string, v any) (any, error) {
	switch t := v.(type) {
	case string:
		r := []rune(t)
		if len(r) == 0 {
			return "", nil
		}
		return string(r[len(r)-1:]), nil
	case []any:
		if len(t) == 0 {
			return nil, nil
		}
		return t[len(t)-1], nil
	}
	return nil, errorf("The template language function 'last' expects a string or an array; the value is of type '%s'.", typeName(v))
}

func fnTakeSkip(take bool) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		if len(args) != 2 {
			return nil, argCount(name, 2)
		}
		n, err := wantInt(name, 1, args[1])
		if err != nil {
			return nil, err
		}
		cut := func(l int) int { return int(min(max(n, 0), int64(l))) }
		switch t := args[0].(type) {
		case string:
			r := []rune(t)
			if take {
				return string(r[:cut(len(r))]), nil
			}
			return string(r[cut(len(r)):]), nil
		case []any:
			if take {
				return append([]any{}, t[:cut(len(t))]...), nil
			}
			return append([]any{}, t[cut(len(t)):]...), nil
		}
		return nil, errorf("The template language function '%s' expects a string or an array; the value is of type '%s'.", name, typeName(args[0]))
	}
}

func fnCoalesce(_ *evaluator, _ string, args []any) (any, error) {
	for _, a := range args {
		if a != nil {
			return a, nil
		}
	}
	return nil, nil
}

func compare(ok func(int) bool) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		if len(args) != 2 {
			return nil, argCount(name, 2)
		}
		switch a := args[0].(type) {
		case int64:
			b, err := wantInt(name, 1, args[1])
			if err != nil {
				return nil, err
			}
			c := 0
			if a < b {
				c = -1
			} else if a > b {
				c = 1
			}
			return ok(c), nil
		case string:
			b, err := wantString(name, 1, args[1])
			if err != nil {
				return nil, err
			}
			return ok(strings.Compare(a, b)), nil
		}
		return nil, errorf("The template language function '%s' expects integers or strings; the value is of type '%s'.", name, typeName(args[0]))
	}
}

func arith(op func(a, b int64) (int64, error)) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		a, b, err := twoInts(name, args)
		if err != nil {
			return nil, err
		}
		return op(a, b)
	}
}

func divMod(mod bool) func(a, b int64) (int64, error) {
	return func(a, b int64) (int64, error) {
		if b == 0 {
			return 0, errorf("The template language function cannot divide by zero.")
		}
		if b == -1 {
			if mod {
				return 0, nil
			}
			return checkedMul(a, -1)
		}
		if mod {
			return a % b, nil
		}
		return a / b, nil
	}
}

func minMax(isMin bool) function {
	return func(_ *evaluator, name string, args []any) (any, error) {
		vals := args
		if len(args) == 1 {
			if arr, ok := args[0].([]any); ok {
				vals = arr
			}
		}
		if len(vals) == 0 {
			return nil, errorf("The template language function '%s' must have at least one value.", name)
		}
		var best int64
		for i, v := range vals {
			n, err := wantInt(name, i, v)
			if err != nil {
				return nil, err
			}
			if i == 0 || (isMin && n < best) || (!isMin && n > best) {
				best = n
			}
		}
		return best, nil
	}
}

func fnRange(_ *evaluator, name string, args []any) (any, error) {
	start, count, err := twoInts(name, args)
	if err != nil {
		return nil, err
	}
	if count < 0 || count > 10000 {
		return nil, errorf("The template language function 'range' expects a count from 0 to 10000; it is %d.", count)
	}
	if _, err := checkedAdd(start, count); err != nil {
		return nil, err
	}
	out := make([]any, count)
	for i := range out {
		out[i] = start + int64(i)
	}
	return out, nil
}
