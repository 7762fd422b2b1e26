package template

// Relaxed turns the JSON dialect Resource Manager reads (JSON with
// comments, property names without quotes, trailing commas) into strict
// JSON. The Azure CLI sends a deployment's template as the file's own text
// under an unquoted "template" name, and template files may carry comments.
// Comments become spaces, so lines and columns stay where they were.
func Relaxed(data []byte) []byte {
	out := make([]byte, 0, len(data)+16)
	var stack []byte  // '{' and '[' open around the current position
	lastSig := -1     // index in out of the last byte that is not space
	inString := false // inside a quoted string
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(data) {
					i++
					out = append(out, data[i])
				}
			case '"':
				inString = false
				lastSig = len(out) - 1
			}
			continue
		}
		switch {
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				out = append(out, ' ')
				i++
			}
			if i < len(data) {
				out = append(out, '\n')
			}
			continue
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			out = append(out, ' ', ' ')
			i += 2
			for i < len(data) && !(data[i] == '*' && i+1 < len(data) && data[i+1] == '/') {
				if data[i] == '\n' {
					out = append(out, '\n')
				} else {
					out = append(out, ' ')
				}
				i++
			}
			if i < len(data) {
				out = append(out, ' ', ' ')
				i++
			}
			continue
		case c == '"':
			inString = true
			out = append(out, c)
			continue
		case c == '{' || c == '[':
			stack = append(stack, c)
		case c == '}' || c == ']':
			if lastSig >= 0 && out[lastSig] == ',' {
				out[lastSig] = ' '
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case isIdentStart(c) && len(stack) > 0 && stack[len(stack)-1] == '{' && lastSig >= 0 && (out[lastSig] == '{' || out[lastSig] == ','):
			j := i
			for j < len(data) && (isIdentStart(data[j]) || (data[j] >= '0' && data[j] <= '9')) {
				j++
			}
			out = append(out, '"')
			out = append(out, data[i:j]...)
			out = append(out, '"')
			lastSig = len(out) - 1
			i = j - 1
			continue
		}
		out = append(out, c)
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			lastSig = len(out) - 1
		}
	}
	return out
}
