package stash

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/minimi-go/minimi/internal/suggest"
)

// Transform keywords. MiniMi applies them to the top-level properties of a
// schema, where they are written, and nowhere else.
const (
	keyLowercase = "x-lowercase"
	keyHash      = "x-hash"
	keyHidden    = "x-hidden"
)

var transformKeys = []string{keyHash, keyHidden, keyLowercase}

// readTransforms reads the transform keywords of the top-level properties
// and returns the set of property names. A transform keyword that MiniMi
// would not apply is an error: one that is not true or false, one on id or
// an _ field, x-hash or x-lowercase on a property not of type string, one
// anywhere but on a top-level property, and a $ref that reuses a schema
// holding one. The error lists every such keyword with its JSON pointer, in
// pointer order.
func (sc *Schema) readTransforms(obj map[string]any) (map[string]bool, error) {
	sc.lower, sc.hash, sc.hidden = map[string]bool{}, map[string]bool{}, map[string]bool{}
	sets := map[string]map[string]bool{keyLowercase: sc.lower, keyHash: sc.hash, keyHidden: sc.hidden}
	var errs []string
	props := map[string]bool{}
	pm, _ := obj["properties"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(pm)) {
		props[name] = true
		ps, _ := pm[name].(map[string]any)
		ptr := "/schema/properties/" + escapePointer(name)
		for _, kw := range transformKeys {
			v, ok := ps[kw]
			on, isBool := v.(bool)
			switch {
			case !ok || isBool && !on:
			case !isBool:
				errs = append(errs, fmt.Sprintf("%s: %s must be true or false", ptr, kw))
			case name == FieldID || strings.HasPrefix(name, "_"):
				errs = append(errs, fmt.Sprintf("%s: %s applies only to the record's own fields, not to id and the _ fields", ptr, kw))
			case kw != keyHidden && !stringTyped(ps):
				errs = append(errs, fmt.Sprintf(`%s: %s needs "type": "string"`, ptr, kw))
			default:
				sets[kw][name] = true
			}
		}
	}
	strayTransforms(obj, "/schema", false, &errs)
	errs = append(errs, sc.reusedTransforms(sets)...)
	if len(errs) > 0 {
		slices.Sort(errs)
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return props, nil
}

// stringTyped reports whether a property schema says "type": "string", or
// lists types that hold "string" and otherwise only "null".
func stringTyped(ps map[string]any) bool {
	switch t := ps["type"].(type) {
	case string:
		return t == "string"
	case []any:
		str := false
		for _, v := range t {
			switch v {
			case "string":
				str = true
			case "null":
			default:
				return false
			}
		}
		return str
	}
	return false
}

// nameKeyed are the keywords whose members are named by the schema's author
// (a property named "x-hash" is no keyword); their values are schemas or,
// for dependencies, lists of names.
var nameKeyed = map[string]bool{
	"properties": true, "patternProperties": true, "dependentSchemas": true,
	"$defs": true, "definitions": true, "dependencies": true,
}

// dataKeywords hold JSON values or names, not schemas.
var dataKeywords = map[string]bool{
	"const": true, "enum": true, "default": true, "examples": true,
	"required": true, "dependentRequired": true, "$vocabulary": true,
}

// strayTransforms appends an error for each transform keyword in the schema
// node at ptr and below, except those of a top-level property (top). Every
// member of a keyword not known to hold data counts as a schema, so that a
// keyword is found under an unknown keyword too.
func strayTransforms(node any, ptr string, top bool, errs *[]string) {
	switch n := node.(type) {
	case []any:
		for i, v := range n {
			strayTransforms(v, ptr+"/"+strconv.Itoa(i), false, errs)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(n)) {
			at := ptr + "/" + escapePointer(k)
			switch {
			case slices.Contains(transformKeys, k):
				if !top {
					*errs = append(*errs, fmt.Sprintf("%s: %s applies to top-level properties only", ptr, k))
				}
			case nearTransform(k) != "":
				*errs = append(*errs, fmt.Sprintf("%s: unknown keyword %q; did you mean %q?", ptr, k, nearTransform(k)))
			case dataKeywords[k]:
			case nameKeyed[k]:
				members, _ := n[k].(map[string]any)
				for _, name := range slices.Sorted(maps.Keys(members)) {
					strayTransforms(members[name], at+"/"+escapePointer(name), ptr == "/schema" && k == "properties", errs)
				}
			default:
				strayTransforms(n[k], at, false, errs)
			}
		}
	}
}

// nearTransform returns the transform keyword that k, a keyword no JSON
// Schema vocabulary knows, was most likely meant to be ("x-hiden",
// "X-Hidden", "x_hash"): a misspelt x-hidden would leave the field it marks
// served to every client. Other keywords, "x-" ones included, stay
// annotations, as JSON Schema and OpenAPI let them be.
func nearTransform(k string) string {
	if slices.Contains(transformKeys, k) {
		return ""
	}
	norm := strings.ReplaceAll(strings.ToLower(k), "_", "-")
	if !strings.HasPrefix(norm, "x") {
		return ""
	}
	if slices.Contains(transformKeys, norm) {
		return norm
	}
	return suggest.Closest(norm, transformKeys, 2)
}

// reusedTransforms returns an error for each reference to a schema whose
// transforms apply only where it stands: a top-level property with a
// transform, or the whole schema if it has one. Reached through $ref (or
// $dynamicRef, $recursiveRef) the schema validates, but nothing is hashed,
// folded or hidden.
func (sc *Schema) reusedTransforms(sets map[string]map[string]bool) []string {
	root := sc.compiled
	holds := map[*jsonschema.Schema][]string{} // target -> its transform keywords
	for _, kw := range transformKeys {
		for _, name := range sortedKeys(sets[kw]) {
			holds[root.Properties[name]] = append(holds[root.Properties[name]], kw)
		}
		if len(sets[kw]) > 0 {
			holds[root] = append(holds[root], kw)
		}
	}
	if len(holds) == 0 {
		return nil
	}
	var errs []string
	seen := map[*jsonschema.Schema]bool{}
	var visit func(s *jsonschema.Schema)
	visit = func(s *jsonschema.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		for t, kws := range holds {
			if refersTo(s, t) {
				errs = append(errs, fmt.Sprintf("%s: $ref to %s, which holds %s: transform keywords apply to top-level properties only",
					schemaPointer(s), schemaPointer(t), strings.Join(kws, ", ")))
			}
		}
		for _, c := range subschemas(s) {
			visit(c)
		}
	}
	visit(root)
	return errs
}

// refersTo reports whether s refers to t by $ref, $recursiveRef or
// $dynamicRef, statically or through t's $dynamicAnchor.
func refersTo(s, t *jsonschema.Schema) bool {
	if s.Ref == t || s.RecursiveRef == t {
		return true
	}
	d := s.DynamicRef
	return d != nil && (d.Ref == t || d.Anchor != "" && d.Anchor == t.DynamicAnchor)
}

// schemaPointer is the JSON pointer of a compiled schema in its file.
func schemaPointer(s *jsonschema.Schema) string {
	frag, ok := strings.CutPrefix(s.Location, schemaURL+"#")
	if !ok {
		return s.Location
	}
	return "/schema" + frag
}

// subschemas returns every schema s holds or refers to.
func subschemas(s *jsonschema.Schema) []*jsonschema.Schema {
	out := []*jsonschema.Schema{s.Ref, s.RecursiveRef, s.Not, s.If, s.Then, s.Else, s.PropertyNames,
		s.UnevaluatedProperties, s.Contains, s.Items2020, s.UnevaluatedItems, s.ContentSchema}
	if s.DynamicRef != nil {
		out = append(out, s.DynamicRef.Ref)
	}
	out = append(out, s.AllOf...)
	out = append(out, s.AnyOf...)
	out = append(out, s.OneOf...)
	out = append(out, s.PrefixItems...)
	out = slices.AppendSeq(out, maps.Values(s.Properties))
	out = slices.AppendSeq(out, maps.Values(s.PatternProperties))
	out = slices.AppendSeq(out, maps.Values(s.DependentSchemas))
	for _, v := range []any{s.AdditionalProperties, s.Items, s.AdditionalItems} {
		switch v := v.(type) {
		case *jsonschema.Schema:
			out = append(out, v)
		case []*jsonschema.Schema:
			out = append(out, v...)
		}
	}
	for _, v := range s.Dependencies {
		if d, ok := v.(*jsonschema.Schema); ok {
			out = append(out, d)
		}
	}
	return out
}
