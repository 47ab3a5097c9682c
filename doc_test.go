package socketio_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	sbparser "github.com/switchboard-go/socketio/parser"
)

// go doc does not list the methods an embedded type from another package
// brings, so Event declares the methods of Args again. This test fails when
// Args gains a method that the Event types of the server and of the client
// do not declare.
func TestEventDocListsArgsMethods(t *testing.T) {
	argsType := reflect.TypeFor[sbparser.Args]()
	for _, dir := range []string{".", "sioclient"} {
		fset := token.NewFileSet()
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		var files []*ast.File
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		pkg, err := doc.NewFromFiles(fset, files, "example.com/"+dir)
		if err != nil {
			t.Fatal(err)
		}
		methods := map[string]bool{}
		for _, typ := range pkg.Types {
			if typ.Name == "Event" {
				for _, m := range typ.Methods {
					methods[m.Name] = true
				}
			}
		}
		if len(methods) == 0 {
			t.Fatalf("%s: no Event type with methods found", dir)
		}
		for m := range argsType.Methods() {
			if !methods[m.Name] {
				t.Errorf("%s: go doc Event does not list %s (a method of parser.Args)", dir, m.Name)
			}
		}
	}
}
