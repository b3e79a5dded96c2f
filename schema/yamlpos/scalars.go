package yamlpos

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

func isNull(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if n.Tag == "" && n.Style == 0 {
		// What yaml.v3 resolves to null, without resolving every scalar.
		switch n.Value {
		case "", "~", "null", "Null", "NULL":
			return true
		}
		return false
	}
	return n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return strconv.Quote(v)
}

func parseBool(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode {
		return false, false
	}
	if n.ShortTag() == "!!str" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return false, false
	}
	switch n.Value {
	case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON":
		return true, true
	case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF":
		return false, true
	}
	return false, false
}

func parseInt(n *yaml.Node, bits int) (int64, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, fmt.Errorf("expected an integer, got %s", describe(n))
	}
	text := strings.ReplaceAll(n.Value, "_", "")
	i, err := strconv.ParseInt(text, 0, bits)
	if err != nil {
		return 0, fmt.Errorf("integer %s out of range", describe(n))
	}
	return i, nil
}

func parseFloat(n *yaml.Node) (float64, error) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!int":
			i, err := parseInt(n, 64)
			return float64(i), err
		case "!!float":
			switch strings.ToLower(n.Value) {
			case ".inf", "+.inf":
				return math.Inf(1), nil
			case "-.inf":
				return math.Inf(-1), nil
			case ".nan":
				return math.NaN(), nil
			}
			if f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil {
				return f, nil
			}
		}
	}
	return 0, fmt.Errorf("expected a number, got %s", describe(n))
}

// suggest names the known field closest to an unknown one, if any is close.
func suggest(name string, ti *typeInfo) string {
	if exact, ok := ti.lower[strings.ToLower(name)]; ok {
		return fmt.Sprintf(", did you mean %q?", exact)
	}
	best, bestDist := "", 3
	if len(name) > 64 {
		return ""
	}
	for _, cand := range ti.names {
		if d := distance(name, cand, bestDist); d < bestDist {
			best, bestDist = cand, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(", did you mean %q?", best)
}

// distance is the Levenshtein distance of a and b, or limit when it is at
// least limit.
func distance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

func cleanJSONError(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	return msg
}
