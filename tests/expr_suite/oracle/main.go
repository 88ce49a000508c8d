// The oracle of the Expr-suite extraction (extract.py): Expr v1.17.8 itself, run on one case
// per stdin line, {"expr": SOURCE, "env": {...}}, answering one JSON line per case:
// {"ok": VALUE, "type": GO TYPE} | {"compile_error": MESSAGE} | {"error": MESSAGE} |
// {"unrepresentable": "%v TEXT"}.
//
// It compiles as ../shared/peers/expr-go's exprpeer17 does (a map environment whose names are
// untyped: expr.Env(map[string]any{}) + AllowUndefinedVariables), because a scimap record's
// fields have no static type either. It differs from exprpeer17 in one point: an integral JSON
// number of the environment is a Go int, as in Expr's own test environments (exprpeer17 makes
// every number a float64, as encoding/json does). A time.Duration is written as its String()
// ("1h0m0s"), as scimap writes durations, rather than encoding/json's count of nanoseconds; a
// map with untyped keys that are all strings is written as a JSON object.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr"
)

type input struct {
	Expr string          `json:"expr"`
	Env  json.RawMessage `json:"env"`
}

// ints turns integral json.Numbers into int, the others into float64.
func ints(v any) any {
	switch v := v.(type) {
	case json.Number:
		s := v.String()
		if !strings.ContainsAny(s, ".eE") {
			if i, err := v.Int64(); err == nil {
				return int(i)
			}
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = ints(v[i])
		}
		return v
	case map[string]any:
		for k := range v {
			v[k] = ints(v[k])
		}
		return v
	}
	return v
}

// durations replaces every time.Duration in v (and in its lists and maps) by its String().
func durations(v any) any {
	switch v := v.(type) {
	case time.Duration:
		return v.String()
	case []any:
		if v == nil { // encoded as null, as Expr's nil list is
			return v
		}
		out := make([]any, len(v))
		for i := range v {
			out[i] = durations(v[i])
		}
		return out
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k := range v {
			out[k] = durations(v[k])
		}
		return out
	}
	return stringKeys(v)
}

// stringKeys turns a map with untyped keys (fromPairs's map[any]any, groupBy's map[any][]any)
// whose keys are all strings into a map[string]any, which encoding/json can write; with any
// other key it stays as it is, and is unrepresentable.
func stringKeys(v any) any {
	m := reflect.ValueOf(v)
	if m.Kind() != reflect.Map || m.Type().Key().Kind() != reflect.Interface || m.IsNil() {
		return v
	}
	out := make(map[string]any, m.Len())
	for it := m.MapRange(); it.Next(); {
		k, ok := it.Key().Interface().(string)
		if !ok {
			return v
		}
		out[k] = durations(it.Value().Interface())
	}
	return out
}

func encode(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func answer(in input) (out map[string]any) {
	defer func() {
		if r := recover(); r != nil {
			out = map[string]any{"error": fmt.Sprintf("panic: %v", r)}
		}
	}()
	env := map[string]any{}
	if len(in.Env) > 0 {
		d := json.NewDecoder(bytes.NewReader(in.Env))
		d.UseNumber()
		var raw map[string]any
		if err := d.Decode(&raw); err != nil {
			return map[string]any{"bad_input": err.Error()}
		}
		env = ints(raw).(map[string]any)
	}
	prog, err := expr.Compile(in.Expr, expr.Env(map[string]any{}), expr.AllowUndefinedVariables())
	if err != nil {
		return map[string]any{"compile_error": err.Error()}
	}
	v, err := expr.Run(prog, env)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	text, err := encode(durations(v))
	if err != nil {
		return map[string]any{"unrepresentable": fmt.Sprintf("%v", v)}
	}
	t := "nil"
	if v != nil {
		t = reflect.TypeOf(v).String()
	}
	return map[string]any{"ok": json.RawMessage(text), "type": t}
}

func main() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for sc.Scan() {
		var in input
		var out map[string]any
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			out = map[string]any{"bad_input": err.Error()}
		} else {
			out = answer(in)
		}
		text, err := encode(out)
		if err != nil {
			text = `{"bad_output":` + fmt.Sprintf("%q", err.Error()) + `}`
		}
		w.WriteString(text + "\n")
		w.Flush()
	}
}
