// Command azemu-prices generates azemu's embedded default price sheet
// (internal/billing/prices/default.json) from the Retail Prices API exports
// kept in internal/billing/prices/sources, so that no row of the sheet is
// typed by hand:
//
//	go run ./cmd/azemu-prices                       # regenerate the sheet
//	go run ./cmd/azemu-prices -check                # fail if the sheet is stale
//	go run ./cmd/azemu-prices import-karpenter -out FILE GEN...
//	go run ./cmd/azemu-prices select -format FORMAT -out FILE PUBLISHED
//
// import-karpenter turns generations of the Karpenter provider's price
// table (oldest first) into a source page; see karpenter.go. select keeps,
// of a published price file in one of the formats of formats.go, the
// entries the sheet can use, verbatim, for the sources folder.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "azemu-prices:", err)
		os.Exit(1)
	}
}

const (
	defaultSources = "internal/billing/prices/sources"
	defaultSheet   = "internal/billing/prices/default.json"
)

func run(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "import-karpenter" {
		return runImport(args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "select" {
		return runSelect(args[1:], stdout)
	}
	fs := flag.NewFlagSet("azemu-prices", flag.ContinueOnError)
	sources := fs.String("sources", defaultSources, "the folder of source exports and its manifest.json")
	out := fs.String("out", defaultSheet, "the sheet to write")
	check := fs.Bool("check", false, "compare the sheet with what the sources generate instead of writing it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sheet, err := generate(*sources)
	if err != nil {
		return err
	}
	if *check {
		old, err := os.ReadFile(*out)
		if err != nil {
			return err
		}
		if !bytes.Equal(old, sheet) {
			return fmt.Errorf("%s is not what %s generates: run go run ./cmd/azemu-prices", *out, *sources)
		}
		return nil
	}
	if err := os.WriteFile(*out, sheet, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", *out, len(sheet))
	return nil
}

// generate reads the sources folder and builds the sheet.
func generate(dir string) ([]byte, error) {
	mb, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(mb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	files := map[string][]byte{}
	for _, s := range m.Sources {
		if filepath.Base(s.File) != s.File {
			return nil, fmt.Errorf("manifest.json: %q is not a file of the sources folder", s.File)
		}
		if files[s.File], err = os.ReadFile(filepath.Join(dir, s.File)); err != nil {
			return nil, err
		}
	}
	return build(m, files)
}

func runImport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import-karpenter", flag.ContinueOnError)
	out := fs.String("out", "", "the source page to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return errors.New("usage: azemu-prices import-karpenter -out FILE GENERATION.go... (oldest first)")
	}
	var gens []table
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		t, err := parseTable(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		gens = append(gens, t)
	}
	page, err := importKarpenter(gens)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, page, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s from %d generations\n", *out, len(gens))
	return nil
}

func runSelect(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("select", flag.ContinueOnError)
	format := fs.String("format", "", "the published file's format: "+formatRadar+" or "+formatFlexeraDisks)
	out := fs.String("out", "", "the source file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		return errors.New("usage: azemu-prices select -format FORMAT -out FILE PUBLISHED")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	sel, err := selectSource(*format, data)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if err := os.WriteFile(*out, sel, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}
