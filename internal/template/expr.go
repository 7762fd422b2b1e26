package template

import (
	"fmt"
	"strconv"
	"strings"
)

// An expression is the text of a template string between '[' and ']':
// function calls, string literals in single quotes (” escapes one),
// integers, and property ('.name') or index ('[expr]') access after any of
// them.

// node is one parsed expression.
type node interface{ pos() int }

type (
	// literal is a string or integer constant.
	literal struct {
		at    int
		value any
	}
	// call is a function call, name as written.
	call struct {
		at   int
		name string
		args []node
	}
	// member is x.name.
	member struct {
		at   int
		x    node
		name string
	}
	// index is x[i].
	index struct {
		at int
		x  node
		i  node
	}
)

func (n *literal) pos() int { return n.at }
func (n *call) pos() int    { return n.at }
func (n *member) pos() int  { return n.at }
func (n *index) pos() int   { return n.at }

// maxDepth bounds how deeply calls and accesses nest, so that hostile input
// cannot exhaust the stack.
const maxDepth = 200

// SyntaxError is an expression that does not parse: where, and why.
type SyntaxError struct {
	Expr   string
	Offset int
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("The language expression '%s' is not valid: %s at position '%d'.", e.Expr, e.Reason, e.Offset)
}

// IsExpression reports whether a template string is an expression: it
// starts with '[' (but not '[[') and ends with ']'.
func IsExpression(s string) bool {
	return len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' && s[1] != '['
}

// Unescape is the literal a template string stands for when it is not an
// expression: a leading '[[' stands for '['.
func Unescape(s string) string {
	if strings.HasPrefix(s, "[[") {
		return s[1:]
	}
	return s
}

// ParseExpression parses the text between the brackets of an expression.
func ParseExpression(src string) (node, error) {
	p := &parser{src: src}
	p.skipSpace()
	n, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(p.src) {
		return nil, p.fail("unexpected '%c'", p.src[p.i])
	}
	return n, nil
}

type parser struct {
	src string
	i   int
}

func (p *parser) fail(format string, args ...any) error {
	return &SyntaxError{Expr: p.src, Offset: p.i, Reason: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t' || p.src[p.i] == '\n' || p.src[p.i] == '\r') {
		p.i++
	}
}

func (p *parser) expr(depth int) (node, error) {
	if depth > maxDepth {
		return nil, p.fail("the expression nests too deeply")
	}
	p.skipSpace()
	if p.i >= len(p.src) {
		return nil, p.fail("the expression ends unexpectedly")
	}
	var n node
	var err error
	start := p.i
	switch c := p.src[p.i]; {
	case c == '\'':
		n, err = p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		n, err = p.number()
	case isIdentStart(c):
		n, err = p.call(depth)
	default:
		return nil, p.fail("unexpected '%c'", c)
	}
	if err != nil {
		return nil, err
	}
	// Accesses may follow any value.
	for {
		p.skipSpace()
		if p.i >= len(p.src) {
			return n, nil
		}
		switch p.src[p.i] {
		case '.':
			p.i++
			p.skipSpace()
			name := p.ident()
			if name == "" {
				return nil, p.fail("a property name must follow '.'")
			}
			n = &member{at: start, x: n, name: name}
		case '[':
			p.i++
			i, err := p.expr(depth + 1)
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			if p.i >= len(p.src) || p.src[p.i] != ']' {
				return nil, p.fail("expected ']'")
			}
			p.i++
			n = &index{at: start, x: n, i: i}
		default:
			return n, nil
		}
	}
}

func (p *parser) str() (node, error) {
	start := p.i
	p.i++ // the opening quote
	var b strings.Builder
	for p.i < len(p.src) {
		c := p.src[p.i]
		if c == '\'' {
			if p.i+1 < len(p.src) && p.src[p.i+1] == '\'' {
				b.WriteByte('\'')
				p.i += 2
				continue
			}
			p.i++
			return &literal{at: start, value: b.String()}, nil
		}
		b.WriteByte(c)
		p.i++
	}
	p.i = start
	return nil, p.fail("the string literal is not terminated")
}

func (p *parser) number() (node, error) {
	start := p.i
	if p.src[p.i] == '-' {
		p.i++
	}
	for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
		p.i++
	}
	n, err := strconv.ParseInt(p.src[start:p.i], 10, 64)
	if err != nil {
		p.i = start
		return nil, p.fail("'%s' is not an integer", p.src[start:max(p.i, start+1)])
	}
	return &literal{at: start, value: n}, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func (p *parser) ident() string {
	start := p.i
	if p.i < len(p.src) && isIdentStart(p.src[p.i]) {
		p.i++
		for p.i < len(p.src) && (isIdentStart(p.src[p.i]) || (p.src[p.i] >= '0' && p.src[p.i] <= '9')) {
			p.i++
		}
	}
	return p.src[start:p.i]
}

func (p *parser) call(depth int) (node, error) {
	start := p.i
	name := p.ident()
	// Namespaced user functions (ns.fn) are not supported; the dot then
	// reads as a property access and the call below fails clearly.
	p.skipSpace()
	if p.i >= len(p.src) || p.src[p.i] != '(' {
		return nil, p.fail("expected '(' after the function name '%s'", name)
	}
	p.i++
	c := &call{at: start, name: name}
	p.skipSpace()
	if p.i < len(p.src) && p.src[p.i] == ')' {
		p.i++
		return c, nil
	}
	for {
		arg, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, arg)
		p.skipSpace()
		if p.i >= len(p.src) {
			return nil, p.fail("expected ')'")
		}
		switch p.src[p.i] {
		case ',':
			p.i++
		case ')':
			p.i++
			return c, nil
		default:
			return nil, p.fail("expected ',' or ')'")
		}
	}
}
