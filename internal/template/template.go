// Package template evaluates Azure Resource Manager templates: it parses a
// template (parameters, variables, resources with copy loops, conditions
// and dependsOn, outputs), binds the parameter values, evaluates the
// expression language, and returns the resources to deploy with the IDs
// each waits for. It is pure: reference() asks a function the caller
// passes, and nothing here reads a clock or draws a random number.
package template

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
)

// CodeInvalidTemplate is Resource Manager's code for a template it cannot
// evaluate.
const CodeInvalidTemplate = "InvalidTemplate"

// Template is a parsed template.
type Template struct {
	src            []byte
	ends           map[string]int
	schema         string
	contentVersion string
	parameters     map[string]any
	variables      map[string]any
	resources      []any
	outputs        map[string]any
}

// Scope is where a deployment runs and what the scope functions return.
type Scope struct {
	SubscriptionID, SubscriptionName, TenantID string
	ResourceGroup, Location                    string
	GroupTags                                  map[string]string
	DeploymentName                             string
}

// Parse reads a template's JSON.
func Parse(data []byte) (*Template, error) {
	data = Relaxed(data)
	v, ends, err := decodeJSON(data)
	if err != nil {
		return nil, invalid("The template is not valid JSON: %v.", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, invalid("The template must be a JSON object.")
	}
	t := &Template{src: data, ends: ends}
	t.schema, _ = sectionString(root, "$schema")
	t.contentVersion, _ = sectionString(root, "contentVersion")
	if t.contentVersion == "" {
		return nil, invalid("Required property 'contentVersion' not found in JSON. Path '', line 1, position 1.")
	}
	for _, s := range []struct {
		name string
		dst  *map[string]any
	}{{"parameters", &t.parameters}, {"variables", &t.variables}, {"outputs", &t.outputs}} {
		raw, present := lookup(root, s.name)
		if !present || raw == nil {
			*s.dst = map[string]any{}
			continue
		}
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, invalid("The template section '%s' must be an object.", s.name)
		}
		*s.dst = m
	}
	if raw, present := lookup(root, "resources"); present {
		arr, ok := raw.([]any)
		if !ok {
			if _, isObj := raw.(map[string]any); isObj {
				return nil, invalid("The template uses symbolic resource names (languageVersion 2.0), which azemu does not evaluate; compile the Bicep file without them or list 'resources' as an array.")
			}
			return nil, invalid("The template section 'resources' must be an array.")
		}
		t.resources = arr
	}
	for name, decl := range t.parameters {
		if _, ok := decl.(map[string]any); !ok {
			return nil, invalid("The template parameter '%s' must be an object with a 'type'.", name)
		}
	}
	return t, nil
}

func sectionString(root map[string]any, name string) (string, bool) {
	v, ok := lookup(root, name)
	s, _ := v.(string)
	return s, ok
}

// invalid is a template validation failure, in Azure's words.
func invalid(format string, args ...any) *armerror.Error {
	return &armerror.Error{Code: CodeInvalidTemplate, Status: 400,
		Message: "Deployment template validation failed: '" + fmt.Sprintf(format, args...) + "'."}
}

// at is " at line 'L' and column 'C'" for a template path, when known.
func (t *Template) at(path string) string {
	off, ok := t.ends[path]
	if !ok {
		return ""
	}
	line, col := lineCol(t.src, off)
	return fmt.Sprintf(" at line '%d' and column '%d'", line, col)
}

// Load parses a template and binds a deployment's parameters object to it
// in a scope: Parse, ParameterValues and Expand in one.
func Load(template, parameters json.RawMessage, scope Scope) (*Plan, error) {
	t, err := Parse(template)
	if err != nil {
		return nil, err
	}
	values, err := ParameterValues(parameters)
	if err != nil {
		return nil, err
	}
	return t.Expand(scope, values)
}

// ParameterValues reads a deployment's parameters object
// ({"name": {"value": ...}}) into plain values.
func ParameterValues(raw json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, &armerror.Error{Code: armerror.CodeInvalidRequestContent, Status: 400,
			Message: fmt.Sprintf("The request content was invalid and could not be deserialized: 'parameters: %v'.", err)}
	}
	for name, body := range in {
		v, _, err := decodeJSON(body)
		if err != nil {
			return nil, &armerror.Error{Code: armerror.CodeInvalidRequestContent, Status: 400,
				Message: fmt.Sprintf("The request content was invalid and could not be deserialized: 'parameters.%s: %v'.", name, err)}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, invalid("The value of the deployment parameter '%s' must be an object with a 'value'.", name)
		}
		if _, isRef := lookup(obj, "reference"); isRef {
			return nil, invalid("The deployment parameter '%s' is a Key Vault reference, which azemu does not resolve: it keeps no secrets.", name)
		}
		val, ok := lookup(obj, "value")
		if !ok {
			return nil, invalid("The value of the deployment parameter '%s' is null. Please see https://aka.ms/resource-manager-parameter-files for details.", name)
		}
		out[name] = val
	}
	return out, nil
}

// Plan is a template bound to its parameters in a scope: the resources to
// deploy, in template order, each with what it waits for.
type Plan struct {
	t     *Template
	scope Scope
	// params holds the bound values; values and declared are what binding
	// draws on.
	params   map[string]any
	values   map[string]any
	paramVia map[string]int
	vars     map[string]any
	varState map[string]int
	// Resources are the resources whose condition holds.
	Resources []*Resource
	// skipped are the IDs of resources whose condition is false: a
	// dependency on one is met.
	skipped map[string]bool
	byID    map[string]*Resource
}

// Resource is one resource to deploy (one instance of a copy loop).
type Resource struct {
	Name, Type, APIVersion string
	// ID is the ARM ID the resource is PUT at.
	ID string
	// DependsOn are the IDs of the template's resources that must finish
	// first, explicit and implied (references, serial copies, parents).
	DependsOn []string
	// Loop is the resource's copy loop, if any, and its index there.
	Loop      string
	LoopIndex int
	path      string
	raw       map[string]any
	loops     []loop
}

// Parameters are the bound parameter values (secure ones included: the
// caller decides what to show).
func (p *Plan) Parameters() map[string]any { return p.params }

// ParameterType is the declared type of a parameter ("string",
// "securestring", ...), lower-cased.
func (p *Plan) ParameterType(name string) string {
	decl, _ := lookup(p.t.parameters, name)
	m, _ := decl.(map[string]any)
	typ, _ := lookup(m, "type")
	s, _ := typ.(string)
	return strings.ToLower(s)
}

const (
	visiting = 1
	done     = 2
)

// Expand binds parameter values to the template in a scope and expands
// its resources. values are the deployment's parameters, plain.
func (t *Template) Expand(scope Scope, values map[string]any) (*Plan, error) {
	p := &Plan{t: t, scope: scope, params: map[string]any{}, values: values, paramVia: map[string]int{},
		vars: map[string]any{}, varState: map[string]int{}, skipped: map[string]bool{}, byID: map[string]*Resource{}}
	for name := range values {
		if _, ok := lookup(t.parameters, name); !ok {
			return nil, invalid("The template parameters '%s' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '%s'. Please see https://aka.ms/arm-pass-parameter-values for usage details.",
				name, strings.Join(keys(t.parameters), ", "))
		}
	}
	for _, name := range keys(t.parameters) {
		if _, err := p.param(name); err != nil {
			return nil, err
		}
	}
	for _, name := range keys(t.variables) {
		if strings.EqualFold(name, "copy") {
			continue
		}
		if _, err := p.variable(name); err != nil {
			return nil, err
		}
	}
	if err := p.copyVariables(); err != nil {
		return nil, err
	}
	for i, raw := range t.resources {
		if err := p.expandResource(raw, fmt.Sprintf("resources[%d]", i), nil, nil); err != nil {
			return nil, err
		}
	}
	if err := p.link(); err != nil {
		return nil, err
	}
	return p, nil
}

// param binds one parameter: its value or default, checked against its
// declaration.
func (p *Plan) param(name string) (any, error) {
	if v, ok := lookup(p.params, name); ok {
		return v, nil
	}
	declName := name
	var decl map[string]any
	for k, d := range p.t.parameters {
		if strings.EqualFold(k, name) {
			declName, decl = k, d.(map[string]any)
		}
	}
	if decl == nil {
		return nil, errorf("The template parameter '%s' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details.", name)
	}
	key := strings.ToLower(declName)
	if p.paramVia[key] == visiting {
		return nil, invalid("The template parameter '%s' refers to itself through its default value.", declName)
	}
	p.paramVia[key] = visiting
	where := "parameters." + declName
	v, given := lookup(p.values, declName)
	if !given {
		def, hasDefault := lookup(decl, "defaultValue")
		if !hasDefault {
			return nil, invalid("The value for the template parameter '%s'%s is not provided. Please see https://aka.ms/arm-deploy/#parameter-file for usage details.", declName, p.t.at(where))
		}
		ev := &evaluator{p: p}
		var err error
		if v, err = ev.value(def); err != nil {
			return nil, p.located(err, "parameter", declName, where, true)
		}
	}
	v, err := checkParameter(declName, decl, v)
	if err != nil {
		return nil, err
	}
	p.params[declName] = v
	p.paramVia[key] = done
	return v, nil
}

// variable evaluates one variable, once.
func (p *Plan) variable(name string) (any, error) {
	for k, v := range p.vars {
		if strings.EqualFold(k, name) {
			return v, nil
		}
	}
	declName := ""
	var raw any
	for k, v := range p.t.variables {
		if strings.EqualFold(k, name) && !strings.EqualFold(k, "copy") {
			declName, raw = k, v
		}
	}
	if declName == "" {
		if v, ok, err := p.copyVariable(name); ok || err != nil {
			return v, err
		}
		return nil, errorf("The template variable '%s' is not found. Please see https://aka.ms/arm-syntax-variables for usage details.", name)
	}
	key := strings.ToLower(declName)
	if p.varState[key] == visiting {
		return nil, errorf("The template variable '%s' refers to itself.", declName)
	}
	p.varState[key] = visiting
	ev := &evaluator{p: p}
	v, err := ev.value(raw)
	if err != nil {
		delete(p.varState, key)
		return nil, p.located(err, "variable", declName, "variables."+declName, true)
	}
	p.vars[declName] = v
	p.varState[key] = done
	return v, nil
}

// copyVariables evaluates the variables "copy" declares.
func (p *Plan) copyVariables() error {
	raw, ok := lookup(p.t.variables, "copy")
	if !ok {
		return nil
	}
	loops, ok := raw.([]any)
	if !ok {
		return invalid("The template variable 'copy' must be an array of loops with 'name', 'count' and 'input'.")
	}
	for _, l := range loops {
		spec, _ := l.(map[string]any)
		name, _ := lookup(spec, "name")
		if s, ok := name.(string); ok {
			if _, _, err := p.copyVariable(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyVariable evaluates the variable named name if a loop in "copy"
// declares it.
func (p *Plan) copyVariable(name string) (any, bool, error) {
	raw, ok := lookup(p.t.variables, "copy")
	if !ok {
		return nil, false, nil
	}
	loops, _ := raw.([]any)
	for i, l := range loops {
		spec, _ := l.(map[string]any)
		n, _ := lookup(spec, "name")
		s, _ := n.(string)
		if !strings.EqualFold(s, name) {
			continue
		}
		key := strings.ToLower(s)
		if p.varState[key] == visiting {
			return nil, true, errorf("The template variable '%s' refers to itself.", s)
		}
		p.varState[key] = visiting
		out := map[string]any{}
		ev := &evaluator{p: p}
		if err := ev.propertyCopies([]any{spec}, out); err != nil {
			delete(p.varState, key)
			return nil, true, p.located(err, "variable", s, fmt.Sprintf("variables.copy[%d]", i), true)
		}
		p.vars[s] = out[s]
		p.varState[key] = done
		return out[s], true, nil
	}
	return nil, false, nil
}

// located turns an evaluation error into Azure's InvalidTemplate naming
// the part of the template it happened in.
func (p *Plan) located(err error, what, name, path string, validating bool) error {
	var fe *funcError
	var se *SyntaxError
	var nf *notFoundError
	switch {
	case asErr(err, &nf):
		return &armerror.Error{Code: armerror.CodeResourceNotFound, Status: 404, Message: nf.Error()}
	case asErr(err, &fe), asErr(err, &se):
	default:
		if ae, ok := err.(*armerror.Error); ok {
			return ae
		}
	}
	detail := strings.TrimSuffix(err.Error(), ".") + "."
	if !strings.Contains(detail, "https://aka.ms/") {
		detail += " Please see https://aka.ms/arm-functions for usage details."
	}
	msg := fmt.Sprintf("The template %s '%s'%s is not valid: %s", what, name, p.t.at(path), detail)
	if validating {
		return &armerror.Error{Code: CodeInvalidTemplate, Status: 400, Message: "Deployment template validation failed: '" + msg + "'."}
	}
	return &armerror.Error{Code: CodeInvalidTemplate, Status: 400, Message: msg}
}

func asErr[T error](err error, target *T) bool {
	t, ok := err.(T)
	if ok {
		*target = t
	}
	return ok
}

// templateOnly are a resource's keys that say how to deploy it, not what
// it is: they are not sent to the resource provider.
var templateOnly = map[string]bool{"copy": true, "condition": true, "dependson": true, "comments": true,
	"apiversion": true, "resources": true, "name": true, "type": true, "scope": true}

// expandResource expands one entry of a resources array (and its nested
// child resources) into its instances.
func (p *Plan) expandResource(raw any, path string, parent *Resource, outer []loop) error {
	obj, ok := raw.(map[string]any)
	if !ok {
		return invalid("The template resource at '%s' must be an object.", path)
	}
	label := path
	if n, ok := lookup(obj, "name"); ok {
		if s, ok := n.(string); ok {
			label = s
		}
	}
	fail := func(err error) error { return p.located(err, "resource", label, path, true) }
	for _, k := range []string{"resourceGroup", "subscriptionId"} {
		if _, ok := lookup(obj, k); ok {
			return fail(errorf("The resource property '%s' deploys to another scope, which azemu does not do: a deployment deploys into its own resource group.", k))
		}
	}
	loops := outer
	count, loopName, serial, batch := int64(1), "", false, int64(0)
	if c, ok := lookup(obj, "copy"); ok {
		spec, ok := c.(map[string]any)
		if !ok {
			return fail(errorf("The resource 'copy' property must be an object with 'name' and 'count'."))
		}
		n, _ := lookup(spec, "name")
		loopName, _ = n.(string)
		if loopName == "" {
			return fail(errorf("The resource copy loop must have a 'name'."))
		}
		var err error
		if count, err = (&evaluator{p: p, loops: outer}).count(spec); err != nil {
			return fail(err)
		}
		if m, ok := lookup(spec, "mode"); ok {
			v, err := (&evaluator{p: p, loops: outer}).value(m)
			if err != nil {
				return fail(err)
			}
			mode, _ := v.(string)
			switch strings.ToLower(mode) {
			case "serial":
				serial, batch = true, 1
			case "parallel":
			default:
				return fail(errorf("The copy mode '%v' is not valid: it is 'Serial' or 'Parallel'.", v))
			}
		}
		if b, ok := lookup(spec, "batchSize"); ok && serial {
			v, err := (&evaluator{p: p, loops: outer}).value(b)
			if err != nil {
				return fail(err)
			}
			if n, ok := v.(int64); !ok || n < 1 {
				return fail(errorf("The copy batchSize must be a positive integer."))
			} else {
				batch = n
			}
		}
	}
	var instances []*Resource
	for i := int64(0); i < count; i++ {
		ls := loops
		if loopName != "" {
			ls = append(append([]loop(nil), outer...), loop{name: loopName, index: i, own: true})
		}
		ev := &evaluator{p: p, loops: ls}
		r, keep, err := p.instance(ev, obj, parent)
		if err != nil {
			return fail(err)
		}
		r.path, r.raw, r.loops, r.Loop, r.LoopIndex = path, obj, ls, loopName, int(i)
		if !keep {
			p.skipped[armid.Key(r.ID)] = true
			continue
		}
		if _, dup := p.byID[armid.Key(r.ID)]; dup {
			return invalid("The resource '%s' is defined multiple times in a template. Please see https://aka.ms/arm-syntax-resources for usage details.", r.ID)
		}
		p.byID[armid.Key(r.ID)] = r
		p.Resources = append(p.Resources, r)
		instances = append(instances, r)
		if children, ok := lookup(obj, "resources"); ok {
			arr, ok := children.([]any)
			if !ok {
				return fail(errorf("The nested 'resources' property must be an array."))
			}
			for j, c := range arr {
				if err := p.expandResource(c, fmt.Sprintf("%s.resources[%d]", path, j), r, ls); err != nil {
					return err
				}
			}
		}
	}
	// A serial loop's batch waits for the one before it.
	if serial {
		for i, r := range instances {
			if prev := int64(i) - batch; prev >= 0 {
				start := (int64(i)/batch - 1) * batch
				for j := start; j < start+batch && j < int64(len(instances)); j++ {
					r.DependsOn = append(r.DependsOn, instances[j].ID)
				}
			}
		}
	}
	return nil
}

// instance evaluates a resource's name, type, api-version and condition.
func (p *Plan) instance(ev *evaluator, obj map[string]any, parent *Resource) (*Resource, bool, error) {
	str := func(key string) (string, error) {
		raw, ok := lookup(obj, key)
		if !ok {
			return "", errorf("The resource must have a '%s'.", key)
		}
		v, err := ev.value(raw)
		if err != nil {
			return "", err
		}
		s, ok := v.(string)
		if !ok || s == "" {
			return "", errorf("The resource '%s' must be a non-empty string.", key)
		}
		return s, nil
	}
	name, err := str("name")
	if err != nil {
		return nil, false, err
	}
	typ, err := str("type")
	if err != nil {
		return nil, false, err
	}
	apiVersion, err := str("apiVersion")
	if err != nil {
		return nil, false, err
	}
	if parent != nil {
		// A nested child names itself relative to its parent.
		if !strings.Contains(typ, "/") || !strings.EqualFold(strings.SplitN(typ, "/", 2)[0], strings.SplitN(parent.Type, "/", 2)[0]) {
			typ = parent.Type + "/" + typ
		}
		if strings.Count(name, "/") < strings.Count(typ, "/")-1 {
			name = parent.Name + "/" + name
		}
	}
	names := strings.Split(name, "/")
	id, err := resourceID("resource", "/subscriptions/"+p.scope.SubscriptionID+"/resourceGroups/"+p.scope.ResourceGroup, typ, names)
	if err != nil {
		return nil, false, errorf("The resource name '%s' does not fit its type '%s': a type with %d segments needs %d names separated by '/'.", name, typ, strings.Count(typ, "/")+1, strings.Count(typ, "/"))
	}
	r := &Resource{Name: name, Type: typ, APIVersion: apiVersion, ID: id}
	if parent != nil {
		r.DependsOn = append(r.DependsOn, parent.ID)
	}
	keep := true
	if c, ok := lookup(obj, "condition"); ok {
		v, err := ev.value(c)
		if err != nil {
			return nil, false, err
		}
		b, ok := v.(bool)
		if !ok {
			return nil, false, errorf("The resource 'condition' must be a boolean; it is %s.", typeName(v))
		}
		keep = b
	}
	return r, keep, nil
}

// resolve finds what a dependsOn entry or a reference() names: a resource
// ID, a template resource's name, "type/name", or a copy loop's name. It
// returns the ID and the template resource when it is one.
func (p *Plan) resolve(target string) (string, *Resource) {
	if strings.HasPrefix(target, "/") {
		r := p.byID[armid.Key(target)]
		return target, r
	}
	for _, r := range p.Resources {
		if strings.EqualFold(r.Name, target) || strings.EqualFold(r.Type+"/"+r.Name, target) {
			return r.ID, r
		}
	}
	return "", nil
}

// dependencies resolves one dependsOn entry to the IDs it names, none
// when it names only skipped resources.
func (p *Plan) dependencies(target string) ([]string, bool) {
	if strings.HasPrefix(target, "/") {
		if p.skipped[armid.Key(target)] {
			return nil, true
		}
		_, ok := p.byID[armid.Key(target)]
		return []string{target}, ok
	}
	var out []string
	found := false
	for _, r := range p.Resources {
		if strings.EqualFold(r.Loop, target) || strings.EqualFold(r.Name, target) || strings.EqualFold(r.Type+"/"+r.Name, target) {
			out = append(out, r.ID)
			found = true
		}
	}
	if !found {
		for id := range p.skipped {
			if strings.HasSuffix(id, "/"+armid.Fold(target)) {
				return nil, true
			}
		}
		// A loop whose resources are all skipped is met too.
		for _, raw := range p.t.resources {
			obj, _ := raw.(map[string]any)
			if c, ok := lookup(obj, "copy"); ok {
				spec, _ := c.(map[string]any)
				n, _ := lookup(spec, "name")
				if s, _ := n.(string); strings.EqualFold(s, target) {
					return nil, true
				}
			}
		}
	}
	return out, found
}

// link resolves every resource's dependsOn and the references in its
// body, and refuses a circular dependency.
func (p *Plan) link() error {
	for _, r := range p.Resources {
		ev := &evaluator{p: p, loops: r.loops}
		fail := func(err error) error { return p.located(err, "resource", r.Name, r.path, true) }
		if raw, ok := lookup(r.raw, "dependsOn"); ok {
			v, err := ev.value(raw)
			if err != nil {
				return fail(err)
			}
			arr, ok := v.([]any)
			if !ok {
				return fail(errorf("The resource 'dependsOn' must be an array."))
			}
			for _, d := range arr {
				s, ok := d.(string)
				if !ok {
					return fail(errorf("A 'dependsOn' entry must be a string; it is %s.", typeName(d)))
				}
				ids, ok := p.dependencies(s)
				if !ok {
					return invalid("The resource '%s' is not defined in the template. Please see https://aka.ms/arm-syntax for usage details.", s)
				}
				r.DependsOn = append(r.DependsOn, ids...)
			}
		}
		// reference() to a resource of this template waits for it.
		var refs []string
		scan := &evaluator{p: p, loops: r.loops, refs: &refs}
		_, _ = scan.value(bodyOf(r.raw))
		for _, id := range refs {
			if _, ok := p.byID[armid.Key(id)]; ok && !armid.Equal(id, r.ID) {
				r.DependsOn = append(r.DependsOn, id)
			}
		}
		r.DependsOn = dedupe(r.DependsOn, r.ID)
	}
	return p.checkCycles()
}

func dedupe(ids []string, self string) []string {
	seen := map[string]bool{armid.Key(self): true}
	var out []string
	for _, id := range ids {
		if k := armid.Key(id); !seen[k] {
			seen[k] = true
			out = append(out, id)
		}
	}
	return out
}

func (p *Plan) checkCycles() error {
	state := map[string]int{}
	var visit func(r *Resource) error
	visit = func(r *Resource) error {
		k := armid.Key(r.ID)
		switch state[k] {
		case visiting:
			return invalid("Circular dependency detected on resource: '%s'. Please see https://aka.ms/arm-syntax-resources for usage details.", r.ID)
		case done:
			return nil
		}
		state[k] = visiting
		for _, d := range r.DependsOn {
			if dep := p.byID[armid.Key(d)]; dep != nil {
				if err := visit(dep); err != nil {
					return err
				}
			}
		}
		state[k] = done
		return nil
	}
	for _, r := range p.Resources {
		if err := visit(r); err != nil {
			return err
		}
	}
	return nil
}

func bodyOf(raw map[string]any) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		if !templateOnly[strings.ToLower(k)] {
			out[k] = v
		}
	}
	return out
}

// Body is the request body to PUT the resource with: everything but the
// template's own keys, evaluated. ref answers reference().
func (p *Plan) Body(r *Resource, ref Referencer) (map[string]any, error) {
	ev := &evaluator{p: p, loops: r.loops, ref: ref}
	v, err := ev.value(bodyOf(r.raw))
	if err != nil {
		return nil, p.located(err, "resource", r.Name, r.path, false)
	}
	return v.(map[string]any), nil
}

// Output is one evaluated output: its type as Azure shows it, and value.
type Output struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

var outputTypes = map[string]string{"string": "String", "securestring": "SecureString", "int": "Int", "bool": "Bool",
	"object": "Object", "secureobject": "SecureObject", "array": "Array"}

// Outputs evaluates the template's outputs once its resources are
// deployed; ref answers reference().
func (p *Plan) Outputs(ref Referencer) (map[string]Output, error) {
	out := map[string]Output{}
	names := keys(p.t.outputs)
	sort.Strings(names)
	for _, name := range names {
		decl, ok := p.t.outputs[name].(map[string]any)
		path := "outputs." + name
		if !ok {
			return nil, invalid("The template output '%s' must be an object with a 'type' and a 'value'.", name)
		}
		ev := &evaluator{p: p, ref: ref}
		if c, ok := lookup(decl, "condition"); ok {
			v, err := ev.value(c)
			if err != nil {
				return nil, p.located(err, "output", name, path, false)
			}
			if b, _ := v.(bool); !b {
				continue
			}
		}
		t, _ := lookup(decl, "type")
		ts, _ := t.(string)
		typ, ok := outputTypes[strings.ToLower(ts)]
		if !ok {
			return nil, invalid("The template output '%s'%s has the type '%v', which is not one of 'string', 'securestring', 'int', 'bool', 'object', 'secureobject', 'array'.", name, p.t.at(path), t)
		}
		var val any
		if c, ok := lookup(decl, "copy"); ok {
			spec, _ := c.(map[string]any)
			input, _ := lookup(spec, "input")
			count, err := ev.count(spec)
			if err != nil {
				return nil, p.located(err, "output", name, path, false)
			}
			arr := make([]any, 0, count)
			for i := int64(0); i < count; i++ {
				inner := &evaluator{p: p, ref: ref, loops: []loop{{index: i, own: true}}}
				v, err := inner.value(input)
				if err != nil {
					return nil, p.located(err, "output", name, path, false)
				}
				arr = append(arr, v)
			}
			val = arr
		} else {
			raw, _ := lookup(decl, "value")
			v, err := ev.value(raw)
			if err != nil {
				return nil, p.located(err, "output", name, path, false)
			}
			val = v
		}
		if err := checkType(typ, val); err != nil {
			return nil, invalid("The template output '%s' is not valid: %s.", name, err.Error())
		}
		out[name] = Output{Type: typ, Value: val}
	}
	return out, nil
}

func checkType(typ string, v any) error {
	ok := true
	switch strings.ToLower(typ) {
	case "string", "securestring":
		_, ok = v.(string)
	case "int":
		_, ok = v.(int64)
	case "bool":
		_, ok = v.(bool)
	case "object", "secureobject":
		_, ok = v.(map[string]any)
	case "array":
		_, ok = v.([]any)
	}
	if !ok {
		return fmt.Errorf("expected a value of type '%s', but received a value of type '%s'", typ, typeName(v))
	}
	return nil
}

// checkParameter checks a parameter value against its declaration: type,
// allowed values, and length or value bounds.
func checkParameter(name string, decl map[string]any, v any) (any, error) {
	t, _ := lookup(decl, "type")
	ts, _ := t.(string)
	typ := strings.ToLower(ts)
	if _, ok := outputTypes[typ]; !ok {
		return nil, invalid("The template parameter '%s' has the type '%v', which is not one of 'string', 'securestring', 'int', 'bool', 'object', 'secureobject', 'array'.", name, t)
	}
	// Values from a parameters file arrive as JSON: a string "3" for an int
	// is refused as Azure refuses it; an integral float is an integer.
	if f, ok := v.(float64); ok && typ == "int" && f == float64(int64(f)) {
		v = int64(f)
	}
	if err := checkType(outputTypes[typ], v); err != nil {
		return nil, invalid("The provided value for the template parameter '%s' is not valid. Expected a value of type '%s', but received a value of type '%s'. Please see https://aka.ms/resource-manager-parameter-files for details.", name, outputTypes[typ], typeName(v))
	}
	if raw, ok := lookup(decl, "allowedValues"); ok {
		allowed, _ := raw.([]any)
		if !allowedValue(allowed, v) {
			parts := make([]string, len(allowed))
			for i, a := range allowed {
				parts[i] = scalarString(a)
			}
			return nil, invalid("The provided value '%s' for the template parameter '%s' is not valid. The parameter value is not part of the allowed value(s): '%s'.", scalarString(v), name, strings.Join(parts, ","))
		}
	}
	bound := func(key string) (int64, bool) {
		raw, ok := lookup(decl, key)
		n, isInt := raw.(int64)
		return n, ok && isInt
	}
	length := int64(-1)
	switch x := v.(type) {
	case string:
		length = int64(len([]rune(x)))
	case []any:
		length = int64(len(x))
	}
	if n, ok := bound("minLength"); ok && length >= 0 && length < n {
		return nil, invalid("The provided value for the template parameter '%s' is not valid. Length of the value should be greater than or equal to '%d'.", name, n)
	}
	if n, ok := bound("maxLength"); ok && length >= 0 && length > n {
		return nil, invalid("The provided value for the template parameter '%s' is not valid. Length of the value should be less than or equal to '%d'.", name, n)
	}
	if x, isInt := v.(int64); isInt {
		if n, ok := bound("minValue"); ok && x < n {
			return nil, invalid("The provided value for the template parameter '%s' is not valid. The value should be greater than or equal to '%d'.", name, n)
		}
		if n, ok := bound("maxValue"); ok && x > n {
			return nil, invalid("The provided value for the template parameter '%s' is not valid. The value should be less than or equal to '%d'.", name, n)
		}
	}
	return v, nil
}

// allowedValue is Azure's check: a value is allowed when it equals one of
// the list (strings case-insensitively), or, for an array, when each of
// its elements does.
func allowedValue(allowed []any, v any) bool {
	match := func(x any) bool {
		for _, a := range allowed {
			if s, ok := x.(string); ok {
				if as, ok := a.(string); ok && strings.EqualFold(s, as) {
					return true
				}
			}
			if deepEqual(a, x) {
				return true
			}
		}
		return false
	}
	if arr, ok := v.([]any); ok {
		for _, x := range arr {
			if !match(x) {
				return false
			}
		}
		return true
	}
	return match(v)
}
