package redisstore

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The key table of docs/ARCHITECTURE.md is checked against keys.go, both ways.
//
// The mapping:
//
//   - A key builder is every function or method declared in keys.go (exported
//     or not) whose one result is a string, and every string constant
//     declared there. newKeys, which returns the keys struct, is not one.
//   - Its pattern is the name it builds under the default prefix "parley:",
//     with each parameter written as its name in upper case: Room(id) builds
//     "parley:room:{ID}", Typing(id, side) "parley:room:{ID}:typing:SIDE".
//     The pattern is computed from the AST (string literals, parameters, the
//     prefix-derived fields of newKeys, constants, joined with +), so a
//     builder must stay a plain concatenation; for exported methods it is
//     cross-checked by calling the method.
//   - The key table is the first Markdown table after the heading
//     "## Redis keys". Each row's first column holds exactly one builder
//     name in backticks; its second column starts with the pattern in
//     backticks. Every builder has exactly one row with its pattern, and
//     every row names a builder of keys.go.
const (
	keysFile     = "keys.go"
	archDocPath  = "../../docs/ARCHITECTURE.md"
	keysHeading  = "## Redis keys"
	docKeyPrefix = "parley:"
)

func TestKeysDocTable(t *testing.T) {
	builders := keyBuilders(t)
	rows := keyTableRows(t)

	names := make([]string, 0, len(builders))
	for name := range builders {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		pattern := builders[name]
		got, ok := rows[name]
		switch {
		case !ok:
			t.Errorf("%s: the key table has no row for %s of keys.go (want a row \"| `%s` | `%s` | type | TTL | written by | holds |\")",
				archDocPath, name, name, pattern)
		case got != pattern:
			t.Errorf("%s: the key table gives %s the pattern %q; keys.go builds %q", archDocPath, name, got, pattern)
		}
	}
	for name := range rows {
		if _, ok := builders[name]; !ok {
			t.Errorf("%s: the key table has a row for %s, which keys.go does not declare (renamed or removed?)", archDocPath, name)
		}
	}
}

// keyBuilders parses keys.go and returns each builder's pattern by name.
func keyBuilders(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, keysFile, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", keysFile, err)
	}
	ev := &keyEval{consts: map[string]ast.Expr{}, fields: map[string]ast.Expr{}}

	// Constants first (any builder may use them), and the fields newKeys
	// sets, each an expression over the prefix.
	var constNames []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i < len(vs.Values) {
					ev.consts[n.Name] = vs.Values[i]
					constNames = append(constNames, n.Name)
				}
			}
		}
	}
	var funcs []*ast.FuncDecl
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		if fd.Name.Name == "newKeys" {
			ev.readFields(t, fd)
			continue
		}
		funcs = append(funcs, fd)
	}
	if len(ev.fields) == 0 {
		t.Fatalf("%s: found no newKeys composite literal to read the key prefixes from", keysFile)
	}

	out := map[string]string{}
	for _, name := range constNames {
		v, err := ev.eval(ev.consts[name], nil)
		if err != nil {
			continue // not a string constant: not a key
		}
		out[name] = v
	}
	for _, fd := range funcs {
		if !returnsOneString(fd) {
			continue
		}
		params := map[string]string{}
		var args []string
		for _, field := range fd.Type.Params.List {
			for _, n := range field.Names {
				params[n.Name] = strings.ToUpper(n.Name)
				args = append(args, strings.ToUpper(n.Name))
			}
		}
		body := fd.Body.List
		ret, ok := body[len(body)-1].(*ast.ReturnStmt)
		if len(body) != 1 || !ok || len(ret.Results) != 1 {
			t.Errorf("%s: %s is not a single return of a concatenation; keep key builders simple or teach keysdoc_test.go", keysFile, fd.Name.Name)
			continue
		}
		v, err := ev.eval(ret.Results[0], params)
		if err != nil {
			t.Errorf("%s: %s: %v", keysFile, fd.Name.Name, err)
			continue
		}
		if _, dup := out[fd.Name.Name]; dup {
			t.Errorf("%s: %s is declared twice", keysFile, fd.Name.Name)
		}
		out[fd.Name.Name] = v
		if fd.Recv != nil && fd.Name.IsExported() {
			checkByCall(t, fd.Name.Name, args, v)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: found no key builders", keysFile)
	}
	return out
}

// checkByCall calls the method on real keys, proving the evaluator right.
func checkByCall(t *testing.T, name string, args []string, want string) {
	t.Helper()
	m := reflect.ValueOf(newKeys(docKeyPrefix)).MethodByName(name)
	if !m.IsValid() {
		return // a method of another type
	}
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		in[i] = reflect.ValueOf(a)
	}
	if got := m.Call(in)[0].String(); got != want {
		t.Errorf("keysdoc_test.go evaluates %s to %q but calling it gives %q: fix the evaluator", name, want, got)
	}
}

func returnsOneString(fd *ast.FuncDecl) bool {
	r := fd.Type.Results
	if r == nil || len(r.List) != 1 || len(r.List[0].Names) > 1 {
		return false
	}
	id, ok := r.List[0].Type.(*ast.Ident)
	return ok && id.Name == "string"
}

// keyEval evaluates the string expressions of keys.go.
type keyEval struct {
	consts map[string]ast.Expr
	fields map[string]ast.Expr // keys struct field → its value in newKeys
}

// readFields takes the field values of the keys{...} literal newKeys returns.
func (ev *keyEval) readFields(t *testing.T, fd *ast.FuncDecl) {
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		cl, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if id, ok := cl.Type.(*ast.Ident); !ok || id.Name != "keys" {
			return true
		}
		for _, e := range cl.Elts {
			kv, ok := e.(*ast.KeyValueExpr)
			if !ok {
				t.Errorf("%s: newKeys: keys{...} must use field: value", keysFile)
				continue
			}
			if k, ok := kv.Key.(*ast.Ident); ok {
				ev.fields[k.Name] = kv.Value
			}
		}
		return false
	})
}

// eval evaluates e: string literals, + of strings, parameters (params),
// constants, newKeys's parameter "prefix", and selectors k.field.
func (ev *keyEval) eval(e ast.Expr, params map[string]string) (string, error) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return ev.eval(e.X, params)
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", fmt.Errorf("%s is not a string", e.Value)
		}
		return strconv.Unquote(e.Value)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", fmt.Errorf("operator %s", e.Op)
		}
		x, err := ev.eval(e.X, params)
		if err != nil {
			return "", err
		}
		y, err := ev.eval(e.Y, params)
		return x + y, err
	case *ast.Ident:
		if v, ok := params[e.Name]; ok {
			return v, nil
		}
		if e.Name == "prefix" {
			return docKeyPrefix, nil
		}
		if c, ok := ev.consts[e.Name]; ok {
			return ev.eval(c, nil)
		}
		return "", fmt.Errorf("unknown name %s", e.Name)
	case *ast.SelectorExpr:
		if e.Sel.Name == "prefix" {
			return docKeyPrefix, nil
		}
		if f, ok := ev.fields[e.Sel.Name]; ok {
			return ev.eval(f, map[string]string{})
		}
		return "", fmt.Errorf("unknown field %s", e.Sel.Name)
	}
	return "", fmt.Errorf("unsupported expression %T", e)
}

var (
	tableBuilder = regexp.MustCompile("^`([A-Za-z_][A-Za-z0-9_]*)`$")
	tablePattern = regexp.MustCompile("^`([^`]+)`")
)

// keyTableRows reads the key table of ARCHITECTURE.md: builder → pattern.
func keyTableRows(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(archDocPath)
	if err != nil {
		t.Fatalf("open %s: %v", archDocPath, err)
	}
	defer f.Close()
	rows := map[string]string{}
	inSection, inTable, done := false, false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() && !done {
		line := strings.TrimSpace(sc.Text())
		switch {
		case !inSection:
			inSection = line == keysHeading
		case strings.HasPrefix(line, "|"):
			if !inTable { // the header row
				inTable = true
				continue
			}
			cells := strings.Split(strings.Trim(line, "|"), "|")
			if len(cells) < 2 || strings.Trim(strings.TrimSpace(cells[0]), "-: ") == "" {
				continue // the separator row
			}
			b := tableBuilder.FindStringSubmatch(strings.TrimSpace(cells[0]))
			p := tablePattern.FindStringSubmatch(strings.TrimSpace(cells[1]))
			if b == nil || p == nil {
				t.Errorf("%s: key table row %q: want \"| `Builder` | `pattern` | …\"", archDocPath, line)
				continue
			}
			if _, dup := rows[b[1]]; dup {
				t.Errorf("%s: the key table has two rows for %s", archDocPath, b[1])
			}
			rows[b[1]] = p[1]
		case inTable:
			done = true // the line after the table
		case strings.HasPrefix(line, "#"):
			t.Fatalf("%s: no table under %q", archDocPath, keysHeading)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !inSection {
		t.Fatalf("%s has no heading %q", archDocPath, keysHeading)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: the key table under %q has no rows", archDocPath, keysHeading)
	}
	return rows
}
